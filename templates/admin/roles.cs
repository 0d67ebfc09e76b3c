<?cs # admin/roles.cs — Configurações: the permission matrix and the employees' roles, with grant/revoke forms. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.admin.title ?></h1>
  <h2><?cs var:Lang.admin.matrix ?></h2>
  <div class="table-wrap"><table class="table matrix">
    <thead><tr><th><?cs var:Lang.admin.role ?></th><?cs each:p = data.permissions ?><th title="<?cs var:p.description ?>"><?cs var:p.key ?></th><?cs /each ?></tr></thead>
    <tbody>
    <?cs each:r = data.roles ?>
      <tr><th scope="row"><?cs var:r.name ?> <small>(<?cs var:r.key ?>)</small></th>
      <?cs each:c = r.cells ?><td><?cs if:c ?>✔<?cs /if ?></td><?cs /each ?></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <h2><?cs var:Lang.admin.employees ?></h2>
  <table class="table">
    <thead><tr><th><?cs var:Lang.admin.name ?></th><th>E-mail</th><th><?cs var:Lang.admin.roles ?></th><th>2FA</th></tr></thead>
    <tbody>
    <?cs each:e = data.employees ?>
      <tr><td><?cs var:e.name ?></td><td><?cs var:e.email ?></td><td><?cs var:e.roles ?></td><td><?cs if:e.mfa ?>✔<?cs else ?>—<?cs /if ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table>
  <?cs if:data.can_assign ?>
  <h2><?cs var:Lang.admin.change ?></h2>
  <form method="post" action="/configuracoes/roles" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.admin.employee ?><select name="user_id"><?cs each:e = data.employees ?><option value="<?cs var:e.id ?>"><?cs var:e.email ?></option><?cs /each ?></select></label>
    <label><?cs var:Lang.admin.role ?><select name="role"><?cs each:r = data.roles ?><?cs if:r.staff ?><option value="<?cs var:r.key ?>"><?cs var:r.name ?></option><?cs /if ?><?cs /each ?></select></label>
    <label><?cs var:Lang.admin.action ?><select name="action"><option value="grant"><?cs var:Lang.admin.grant ?></option><option value="revoke"><?cs var:Lang.admin.revoke ?></option></select></label>
    <button type="submit" class="primary"><?cs var:Lang.admin.apply ?></button>
  </form>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
