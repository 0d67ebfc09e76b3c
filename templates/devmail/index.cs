<?cs # devmail/index.cs — development only: the e-mails captured in mail.capture_dir, newest first,
   each linking to its decoded text. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.devmail.title ?></h1>
  <p class="muted"><?cs var:Lang.devmail.explain ?></p>
  <?cs if:subcount(data.messages) ?>
  <table class="table">
    <thead><tr><th><?cs var:Lang.devmail.date ?></th><th><?cs var:Lang.devmail.to ?></th><th><?cs var:Lang.devmail.subject ?></th></tr></thead>
    <tbody>
    <?cs each:m = data.messages ?>
      <tr><td><?cs var:m.date ?></td><td><?cs var:m.to ?></td><td><a href="/dev/mail/<?cs var:m.name ?>"><?cs var:m.subject ?></a></td></tr>
    <?cs /each ?>
    </tbody>
  </table>
  <?cs else ?>
  <p><?cs var:Lang.devmail.empty ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
