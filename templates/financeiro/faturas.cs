<?cs # financeiro/faturas.cs — subscription invoices, newest first, each in its latest state with the
   link to its Stripe-hosted page. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.financeiro.faturas ?></h1>
  <?cs include:"financeiro/nav.cs" ?>
  <p class="muted"><?cs var:Lang.financeiro.faturas_explain ?></p>
  <?cs if:subcount(data.invoices) == 0 ?>
  <p class="muted"><?cs var:Lang.financeiro.no_invoices ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table invoices">
    <thead><tr><th><?cs var:Lang.financeiro.invoice_id ?></th><th><?cs var:Lang.financeiro.at ?></th><th><?cs var:Lang.financeiro.tenant ?></th><th><?cs var:Lang.financeiro.customer ?></th><th><?cs var:Lang.financeiro.status ?></th><th><?cs var:Lang.financeiro.amount ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:i = data.invoices ?>
      <tr data-id="<?cs var:i.id ?>" data-status="<?cs var:i.status ?>">
        <td><code><?cs var:i.id ?></code></td>
        <td><?cs var:i.at ?></td>
        <td><?cs if:i.tenant_id ?><?cs var:i.tenant_id ?><?cs else ?>—<?cs /if ?></td>
        <td><code><?cs var:i.customer ?></code></td>
        <td><?cs var:i.status_label ?></td>
        <td class="amount"><?cs var:i.amount ?></td>
        <td><?cs if:i.url ?><a href="<?cs var:i.url ?>" rel="noopener noreferrer" target="_blank"><?cs var:Lang.financeiro.open ?></a><?cs /if ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
