<?cs # banco/index.cs — the tenant's money: balances per currency (wallet and pockets), transfers between them,
   # pockets, deposits and withdrawals (each form carries a fresh idempotency key), the balance history. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.banco.title ?></h1>
  <p class="muted"><?cs var:Lang.banco.explain ?></p>
  <?cs if:user.perms["financeiro.manage"] ?><p><a href="/banco/pedidos"><?cs var:Lang.banco.staff_link ?></a></p><?cs /if ?>
  <?cs each:c = data.currencies ?>
  <h2><?cs var:c.currency ?> <small class="muted"><?cs var:Lang.banco.total ?>: <?cs var:c.available ?></small></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.banco.account ?></th><th>#</th><th><?cs var:Lang.banco.available ?></th><th><?cs var:Lang.banco.posted ?></th><th><?cs var:Lang.banco.pending_in ?></th><th><?cs var:Lang.banco.pending_out ?></th></tr></thead>
    <tbody>
    <?cs each:a = data.accounts ?><?cs if:a.currency == c.currency ?>
      <tr data-account="<?cs var:a.id ?>"><td><?cs var:a.name ?></td><td><?cs var:a.id ?></td><td class="amount"><?cs var:a.available ?></td><td class="amount"><?cs var:a.posted ?></td><td class="amount"><?cs var:a.pending_in ?></td><td class="amount"><?cs var:a.pending_out ?></td></tr>
    <?cs /if ?><?cs /each ?>
    </tbody>
  </table></div>
  <?cs /each ?>
</section>
<section class="card">
  <h2><?cs var:Lang.banco.transfer_title ?></h2>
  <form method="post" action="/banco/transferencias" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="key" value="<?cs var:data.key ?>">
    <label><?cs var:Lang.banco.from ?><select name="from" required><?cs each:a = data.accounts ?><option value="<?cs var:a.id ?>"><?cs var:a.currency ?> — <?cs var:a.name ?> (<?cs var:a.available ?>)</option><?cs /each ?></select></label>
    <label><?cs var:Lang.banco.to ?><select name="to" required><?cs each:a = data.accounts ?><option value="<?cs var:a.id ?>"><?cs var:a.currency ?> — <?cs var:a.name ?></option><?cs /each ?></select></label>
    <label><?cs var:Lang.banco.amount ?><input type="text" name="amount" inputmode="decimal" required maxlength="24"></label>
    <button type="submit" class="primary"><?cs var:Lang.banco.transfer ?></button>
  </form>
  <h3><?cs var:Lang.banco.new_pocket ?></h3>
  <form method="post" action="/banco/caixinhas" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.banco.pocket_name ?><input type="text" name="name" required maxlength="60"></label>
    <label><?cs var:Lang.banco.currency ?><select name="currency"><option>BRL</option><option>USDT</option><option>BTC</option></select></label>
    <button type="submit"><?cs var:Lang.banco.create ?></button>
  </form>
</section>
<section class="card">
  <h2><?cs var:Lang.banco.deposit_title ?></h2>
  <p class="muted"><?cs var:Lang.banco.deposit_explain ?></p>
  <form method="post" action="/banco/depositos" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="key" value="dep-<?cs var:data.key ?>">
    <label><?cs var:Lang.banco.currency ?><select name="currency"><option>BRL</option><option>USDT</option><option>BTC</option></select></label>
    <label><?cs var:Lang.banco.amount ?><input type="text" name="amount" inputmode="decimal" required maxlength="24"></label>
    <button type="submit" class="primary"><?cs var:Lang.banco.deposit ?></button>
  </form>
  <h2><?cs var:Lang.banco.withdraw_title ?></h2>
  <p class="muted"><?cs var:Lang.banco.withdraw_explain ?></p>
  <?cs if:!data.mfa_enrolled ?>
    <p class="alert" role="alert"><?cs var:Lang.banco.need_mfa ?> <a href="/account/2fa"><?cs var:Lang.banco.mfa_link ?></a></p>
  <?cs elif:!data.stepup_recent ?>
    <p class="notice" role="status"><?cs var:Lang.banco.need_stepup ?> <a href="/account/2fa/verify?next=/banco"><?cs var:Lang.banco.stepup_link ?></a></p>
  <?cs /if ?>
  <form method="post" action="/banco/saques" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="key" value="saq-<?cs var:data.key ?>">
    <label><?cs var:Lang.banco.currency ?><select name="currency"><option>BRL</option><option>USDT</option><option>BTC</option></select></label>
    <label><?cs var:Lang.banco.amount ?><input type="text" name="amount" inputmode="decimal" required maxlength="24"></label>
    <label><?cs var:Lang.banco.destination ?><input type="text" name="destination" required maxlength="120"></label>
    <button type="submit" class="primary"><?cs var:Lang.banco.withdraw ?></button>
  </form>
</section>
<section class="card">
  <h2><?cs var:Lang.banco.requests ?></h2>
  <?cs if:subcount(data.requests) == 0 ?><p class="muted"><?cs var:Lang.banco.no_requests ?></p><?cs else ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.banco.kind ?></th><th><?cs var:Lang.banco.amount ?></th><th><?cs var:Lang.banco.reference ?></th><th><?cs var:Lang.banco.status_col ?></th><th><?cs var:Lang.banco.created ?></th><th><?cs var:Lang.banco.expires ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:q = data.requests ?>
      <tr data-request="<?cs var:q.id ?>"><td><?cs var:Lang.banco.kinds[q.kind] ?></td><td class="amount"><?cs var:q.amount ?></td><td><code><?cs var:q.reference ?></code><?cs if:q.destination ?> <small class="muted"><?cs var:q.destination ?></small><?cs /if ?></td><td><?cs var:q.status_label ?></td><td><?cs var:q.created ?> UTC</td><td><?cs if:q.expires ?><?cs var:q.expires ?> UTC<?cs /if ?></td>
        <td><?cs if:q.cancelable ?><form method="post" action="/banco/saques/<?cs var:q.id ?>/cancelar"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.banco.cancel ?></button></form><?cs /if ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
</section>
<section class="card">
  <h2><?cs var:Lang.banco.history ?></h2>
  <?cs if:subcount(data.entries) == 0 ?><p class="muted"><?cs var:Lang.banco.empty_history ?></p><?cs else ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.banco.at ?></th><th><?cs var:Lang.banco.account ?></th><th><?cs var:Lang.banco.change ?></th><th><?cs var:Lang.banco.pending_out ?></th><th><?cs var:Lang.banco.balance_after ?></th><th>#</th></tr></thead>
    <tbody>
    <?cs each:e = data.entries ?>
      <tr><td><?cs var:e.at ?> UTC</td><td><?cs var:e.currency ?> — <?cs var:e.account ?></td><td class="amount"><?cs var:e.change ?></td><td class="amount"><?cs var:e.pending_change ?></td><td class="amount"><?cs var:e.balance_after ?></td><td><?cs var:e.transfer_id ?> <small class="muted"><?cs var:e.kind ?> <?cs var:e.code ?></small></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
