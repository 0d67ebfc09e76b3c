<?cs # admin/entregas.cs — Configurações: notification and bot messages the worker gave up on, with the last error. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.entregas.title ?></h1>
  <p><?cs var:Lang.entregas.intro ?></p>
  <?cs if:subcount(data.failed) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.entregas.when ?></th><th><?cs var:Lang.entregas.channel ?></th><th><?cs var:Lang.entregas.what ?></th><th><?cs var:Lang.entregas.to ?></th><th><?cs var:Lang.entregas.attempts ?></th><th><?cs var:Lang.entregas.error ?></th></tr></thead>
    <tbody>
    <?cs each:d = data.failed ?>
      <tr data-source="<?cs var:d.source ?>" data-id="<?cs var:d.id ?>"><td><?cs var:d.created_at ?></td><td><?cs var:d.channel ?></td><td><?cs var:d.what ?></td>
      <td><?cs if:d.user_id ?><?cs var:Lang.entregas.user ?> <?cs var:d.user_id ?><?cs else ?>chat <?cs var:d.chat_id ?><?cs /if ?></td>
      <td><?cs var:d.attempts ?></td><td><?cs var:d.last_error ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs else ?>
  <p class="empty"><?cs var:Lang.entregas.none ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
