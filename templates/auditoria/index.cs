<?cs # auditoria/index.cs — the platform's audit trail, newest first: a filter form (GET), the rows
   with their before/after summaries, the next-page link and the CSV export of the same filters. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.auditoria.title ?></h1>
  <p class="muted"><?cs var:Lang.auditoria.explain ?></p>
  <form method="get" action="/auditoria" class="form filters">
    <label><?cs var:Lang.auditoria.action ?><input type="text" name="action" maxlength="100" placeholder="account." value="<?cs var:data.filters.action ?>"></label>
    <label><?cs var:Lang.auditoria.actor ?><input type="text" name="actor" inputmode="numeric" maxlength="18" value="<?cs var:data.filters.actor ?>"></label>
    <label><?cs var:Lang.auditoria.tenant ?><input type="text" name="tenant" inputmode="numeric" maxlength="18" value="<?cs var:data.filters.tenant ?>"></label>
    <label><?cs var:Lang.auditoria.object_type ?><input type="text" name="object_type" maxlength="100" value="<?cs var:data.filters.object_type ?>"></label>
    <label><?cs var:Lang.auditoria.from ?><input type="date" name="from" value="<?cs var:data.filters.from ?>"></label>
    <label><?cs var:Lang.auditoria.to ?><input type="date" name="to" value="<?cs var:data.filters.to ?>"></label>
    <button type="submit" class="primary"><?cs var:Lang.auditoria.filter ?></button>
    <a href="/auditoria"><?cs var:Lang.auditoria.clear ?></a>
  </form>
  <?cs if:data.can_export ?>
  <p><a class="export" href="/auditoria/export.csv<?cs if:data.query ?>?<?cs var:data.query ?><?cs /if ?>" download><?cs var:Lang.auditoria.export ?></a></p>
  <?cs /if ?>
  <?cs if:subcount(data.rows) == 0 ?>
  <p class="muted"><?cs var:Lang.auditoria.empty ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table audit">
    <thead><tr><th>#</th><th><?cs var:Lang.auditoria.at ?></th><th><?cs var:Lang.auditoria.tenant ?></th><th><?cs var:Lang.auditoria.actor ?></th><th><?cs var:Lang.auditoria.action ?></th><th><?cs var:Lang.auditoria.object ?></th><th><?cs var:Lang.auditoria.before ?></th><th><?cs var:Lang.auditoria.after ?></th><th><?cs var:Lang.auditoria.ip ?></th><th><?cs var:Lang.auditoria.request_id ?></th></tr></thead>
    <tbody>
    <?cs each:r = data.rows ?>
      <tr>
        <td><?cs var:r.id ?></td>
        <td><time datetime="<?cs var:r.at ?>"><?cs var:r.at ?></time></td>
        <td><?cs if:r.tenant_id ?><?cs var:r.tenant_id ?><?cs else ?>—<?cs /if ?></td>
        <td><?cs if:r.actor_email ?><?cs var:r.actor_email ?> <small class="muted">(<?cs var:r.actor_id ?>)</small><?cs elif:r.actor_id ?><?cs var:r.actor_id ?><?cs else ?><?cs var:Lang.auditoria.system ?><?cs /if ?></td>
        <td><code><?cs var:r.action ?></code></td>
        <td><?cs var:r.object_type ?><?cs if:r.object_id ?> <code><?cs var:r.object_id ?></code><?cs /if ?></td>
        <td><?cs if:r.before ?><code class="json"><?cs var:r.before ?></code><?cs /if ?></td>
        <td><?cs if:r.after ?><code class="json"><?cs var:r.after ?></code><?cs /if ?></td>
        <td><?cs var:r.ip ?></td>
        <td><code><?cs var:r.request_id ?></code></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
  <?cs include:"layout/pager.cs" ?>
</section>
<?cs include:"layout/foot.cs" ?>
