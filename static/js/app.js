// app.js — the portal's only script (CSP forbids inline script): opens and closes the side
// navigation on small screens, and reloads pages with work in progress. Pages work without it.
document.addEventListener('DOMContentLoaded', function () {
  var toggle = document.querySelector('.nav-toggle');
  var nav = document.getElementById('sidenav');
  if (!toggle || !nav) return;
  toggle.addEventListener('click', function () {
    var open = nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  });
});

// Pages with work in progress (data-auto-refresh="seconds", e.g. the jobs pages while a job is
// queued or running) reload themselves, unless the user is typing in a form.
document.addEventListener('DOMContentLoaded', function () {
  var el = document.querySelector('[data-auto-refresh]');
  if (!el) return;
  var s = parseInt(el.getAttribute('data-auto-refresh'), 10);
  if (!(s >= 1)) return;
  setInterval(function () {
    var a = document.activeElement;
    if (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return;
    window.location.reload();
  }, s * 1000);
});
