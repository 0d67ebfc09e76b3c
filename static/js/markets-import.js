// markets-import.js — the candle CSV upload: sends the chosen file as the raw request body
// (Content-Type text/csv, the form's fields in the query string, the CSRF token in X-CSRF-Token)
// so a <progress> element can follow the upload. Without a file, or without this script, the
// form posts the pasted CSV as usual. Texts come from the form's data-msg-* attributes.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('import-form');
  var box = document.getElementById('import-file-box');
  if (!form || !box || !window.XMLHttpRequest || !window.URLSearchParams) return;
  var file = form.querySelector('input[type=file]');
  var progress = document.getElementById('import-progress');
  var status = document.getElementById('import-status');
  var lines = document.getElementById('import-lines');
  var button = form.querySelector('button[type=submit]');
  box.hidden = false;

  function msg(name) {
    return form.getAttribute('data-msg-' + name) || '';
  }

  // DOM nodes and textContent only: nothing the server or the file says becomes markup
  function show(text, link) {
    status.textContent = text;
    if (link) {
      var a = document.createElement('a');
      a.href = link;
      a.textContent = ' ' + msg('chart');
      status.appendChild(a);
    }
  }

  function listLines(list) {
    while (lines.firstChild) lines.removeChild(lines.firstChild);
    (list || []).forEach(function (l) {
      var li = document.createElement('li');
      li.textContent = msg('line') + ' ' + l.line + ': ' + l.reason;
      lines.appendChild(li);
    });
  }

  form.addEventListener('submit', function (ev) {
    if (!file.files || file.files.length === 0) return; // pasted text: the plain form post
    ev.preventDefault();
    var f = file.files[0];
    var max = Number(form.getAttribute('data-max-bytes'));
    listLines([]);
    if (max && f.size > max) {
      show(msg('too-large'));
      return;
    }
    var q = new URLSearchParams();
    ['exchange', 'symbol', 'timeframe', 'format', 'base', 'quote'].forEach(function (k) {
      var el = form.elements[k];
      if (el && el.value) q.set(k, el.value);
    });
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/markets/import?' + q.toString());
    xhr.setRequestHeader('Content-Type', 'text/csv');
    xhr.setRequestHeader('X-CSRF-Token', form.elements._csrf.value);
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) return;
      progress.max = e.total;
      progress.value = e.loaded;
    });
    xhr.addEventListener('load', function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      button.disabled = false;
      if (xhr.status === 200 && body && body.imported) {
        progress.value = progress.max;
        show(msg('done').replace('{rows}', body.imported.rows).replace('{new}', body.imported.new), body.imported.chart);
        return;
      }
      var err = body && body.error ? body.error : null;
      show(err && err.message ? err.message : msg('failed') + ' (' + xhr.status + ')');
      listLines(err && err.lines);
    });
    xhr.addEventListener('error', function () {
      button.disabled = false;
      show(msg('failed'));
    });
    progress.hidden = false;
    progress.value = 0;
    button.disabled = true;
    show(msg('uploading'));
    xhr.send(f);
  });
});
