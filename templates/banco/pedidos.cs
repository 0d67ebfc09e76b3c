<?cs # banco/pedidos.cs — Finance's queue of every tenant's deposits and withdrawals, pending first, with the
   # confirm / approve / reject buttons (each a POST behind CSRF and a recent 2FA check). ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.banco.staff_title ?></h1>
  <p class="muted"><?cs var:Lang.banco.staff_explain ?></p>
  <?cs if:subcount(data.requests) == 0 ?><p class="muted"><?cs var:Lang.banco.no_requests ?></p><?cs else ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th>#</th><th><?cs var:Lang.banco.tenant ?></th><th><?cs var:Lang.banco.kind ?></th><th><?cs var:Lang.banco.amount ?></th><th><?cs var:Lang.banco.reference ?></th><th><?cs var:Lang.banco.status_col ?></th><th><?cs var:Lang.banco.created ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:q = data.requests ?>
      <tr data-request="<?cs var:q.id ?>"><td><?cs var:q.id ?></td><td><?cs var:q.tenant ?> <small class="muted"><?cs var:q.email ?></small></td><td><?cs var:Lang.banco.kinds[q.kind] ?></td><td class="amount"><?cs var:q.amount ?></td>
        <td><code><?cs var:q.reference ?></code><?cs if:q.destination ?> <small class="muted"><?cs var:q.destination ?></small><?cs /if ?></td><td><?cs var:q.status_label ?></td><td><?cs var:q.created ?> UTC</td>
        <td><?cs if:q.pending || q.credit_missing ?>
          <?cs if:q.kind == "deposit" ?><form method="post" action="/banco/pedidos/<?cs var:q.id ?>/confirmar"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="primary"><?cs if:q.credit_missing ?><?cs var:Lang.banco.finish_credit ?><?cs else ?><?cs var:Lang.banco.confirm ?><?cs /if ?></button></form>
          <?cs else ?><form method="post" action="/banco/pedidos/<?cs var:q.id ?>/aprovar"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="primary"><?cs var:Lang.banco.approve ?></button></form><?cs /if ?>
          <?cs if:q.pending ?><form method="post" action="/banco/pedidos/<?cs var:q.id ?>/rejeitar"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.banco.reject ?></button></form><?cs /if ?>
        <?cs /if ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
