<?cs # financeiro/comissoes.cs — commissions owed per beneficiary, past payout runs, and the payout form
   (its run key made when the page rendered, so a second submit pays nobody twice). ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.comissoes.title ?></h1>
  <?cs include:"financeiro/nav.cs" ?>
  <p class="muted"><?cs var:Lang.comissoes.explain ?></p>
  <?cs if:data.done_run ?><p class="notice"><?cs var:Lang.comissoes.done ?> <code><?cs var:data.done_run ?></code></p><?cs /if ?>
  <h2><?cs var:Lang.comissoes.balances ?></h2>
  <?cs if:subcount(data.balances) == 0 ?>
  <p class="muted"><?cs var:Lang.comissoes.no_balances ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table commissions">
    <thead><tr><th><?cs var:Lang.comissoes.beneficiary ?></th><th><?cs var:Lang.comissoes.currency ?></th><th><?cs var:Lang.comissoes.balance ?></th><th><?cs var:Lang.comissoes.unpaid ?></th></tr></thead>
    <tbody>
    <?cs each:b = data.balances ?>
      <tr data-tenant="<?cs var:b.tenant_id ?>"><td><?cs var:b.tenant_id ?> — <?cs var:b.tenant_name ?></td><td><?cs var:b.currency ?></td><td class="amount"><?cs var:b.balance ?></td><td><?cs var:b.unpaid_commissions ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
  <?cs if:data.can_pay ?>
  <h2><?cs var:Lang.comissoes.run ?></h2>
  <form method="post" action="/financeiro/comissoes/payout" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="run_key" value="<?cs var:data.run_key ?>">
    <label><?cs var:Lang.comissoes.currency ?><select name="currency"><option>BRL</option><option>USDT</option><option>BTC</option></select></label>
    <label><?cs var:Lang.comissoes.minimum ?><input type="number" name="minimum_minor" min="0" step="1" value="0" required></label>
    <button type="submit" class="primary"><?cs var:Lang.comissoes.pay ?></button>
  </form>
  <?cs /if ?>
  <h2><?cs var:Lang.comissoes.runs ?></h2>
  <?cs if:subcount(data.runs) == 0 ?>
  <p class="muted"><?cs var:Lang.comissoes.no_runs ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table payout-runs">
    <thead><tr><th><?cs var:Lang.comissoes.run_key ?></th><th><?cs var:Lang.comissoes.started ?></th><th><?cs var:Lang.comissoes.by ?></th><th><?cs var:Lang.comissoes.currency ?></th><th><?cs var:Lang.comissoes.minimum ?></th><th><?cs var:Lang.comissoes.paid ?></th><th><?cs var:Lang.comissoes.total ?></th></tr></thead>
    <tbody>
    <?cs each:r = data.runs ?>
      <tr><td><code><?cs var:r.run_key ?></code></td><td><time datetime="<?cs var:r.started_at ?>"><?cs var:r.started_at ?></time></td><td><?cs var:r.started_by ?></td><td><?cs var:r.currency ?></td><td class="amount"><?cs var:r.minimum ?></td><td><?cs var:r.beneficiaries ?></td><td class="amount"><?cs var:r.total ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
