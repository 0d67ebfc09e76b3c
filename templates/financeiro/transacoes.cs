<?cs # financeiro/transacoes.cs — the ledger's transfers newest first: filters (GET), the rows with exact
   amounts, the next-page link and the CSV export of the same filters. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.financeiro.transacoes ?></h1>
  <?cs include:"financeiro/nav.cs" ?>
  <p class="muted"><?cs var:Lang.financeiro.transacoes_explain ?></p>
  <form method="get" action="/financeiro/transacoes" class="form filters">
    <label><?cs var:Lang.financeiro.from ?><input type="date" name="from" value="<?cs var:data.filters.from ?>"></label>
    <label><?cs var:Lang.financeiro.to ?><input type="date" name="to" value="<?cs var:data.filters.to ?>"></label>
    <label><?cs var:Lang.financeiro.currency ?><select name="currency"><option value=""><?cs var:Lang.financeiro.any ?></option><option<?cs if:data.filters.currency == "BRL" ?> selected<?cs /if ?>>BRL</option><option<?cs if:data.filters.currency == "USDT" ?> selected<?cs /if ?>>USDT</option><option<?cs if:data.filters.currency == "BTC" ?> selected<?cs /if ?>>BTC</option></select></label>
    <label><?cs var:Lang.financeiro.account ?><input type="text" name="account" maxlength="64" value="<?cs var:data.filters.account ?>"></label>
    <label><?cs var:Lang.financeiro.kind ?><select name="kind"><option value=""><?cs var:Lang.financeiro.any ?></option><option<?cs if:data.filters.kind == "single" ?> selected<?cs /if ?>>single</option><option<?cs if:data.filters.kind == "pending" ?> selected<?cs /if ?>>pending</option><option<?cs if:data.filters.kind == "post" ?> selected<?cs /if ?>>post</option><option<?cs if:data.filters.kind == "void" ?> selected<?cs /if ?>>void</option><option<?cs if:data.filters.kind == "expire" ?> selected<?cs /if ?>>expire</option></select></label>
    <label><?cs var:Lang.financeiro.tenant ?><input type="text" name="tenant" inputmode="numeric" maxlength="18" value="<?cs var:data.filters.tenant ?>"></label>
    <button type="submit" class="primary"><?cs var:Lang.financeiro.filter ?></button>
    <a href="/financeiro/transacoes"><?cs var:Lang.financeiro.clear ?></a>
  </form>
  <p><a class="export" href="<?cs var:data.csv_url ?>" download><?cs var:Lang.financeiro.export ?></a></p>
  <?cs if:subcount(data.rows) == 0 ?>
  <p class="muted"><?cs var:Lang.financeiro.empty ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table transfers">
    <thead><tr><th>#</th><th><?cs var:Lang.financeiro.at ?></th><th><?cs var:Lang.financeiro.kind ?></th><th><?cs var:Lang.financeiro.amount ?></th><th><?cs var:Lang.financeiro.debit ?></th><th><?cs var:Lang.financeiro.credit ?></th><th><?cs var:Lang.financeiro.code ?></th><th><?cs var:Lang.financeiro.key ?></th></tr></thead>
    <tbody>
    <?cs each:r = data.rows ?>
      <tr data-id="<?cs var:r.id ?>">
        <td><?cs var:r.id ?></td>
        <td><time datetime="<?cs var:r.at ?>"><?cs var:r.at ?></time></td>
        <td><?cs var:r.kind ?><?cs if:r.pending_id ?> <small class="muted">(#<?cs var:r.pending_id ?>)</small><?cs /if ?></td>
        <td class="amount"><?cs var:r.amount ?></td>
        <td><?cs var:r.debit_tenant_id ?>:<code><?cs var:r.debit_account ?></code></td>
        <td><?cs var:r.credit_tenant_id ?>:<code><?cs var:r.credit_account ?></code></td>
        <td><code><?cs var:r.code ?></code></td>
        <td><code><?cs var:r.idempotency_key ?></code></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
  <?cs include:"layout/pager.cs" ?>
</section>
<?cs include:"layout/foot.cs" ?>
