<?cs # financeiro/index.cs — the revenue dashboard: MRR, ARR, churn, ARPU, LTV and payment success over
   the chosen period, revenue per plan and MRR over time as SVG charts. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.financeiro.title ?></h1>
  <?cs include:"financeiro/nav.cs" ?>
  <p class="muted"><?cs var:Lang.financeiro.explain ?></p>
  <form method="get" action="/financeiro" class="form filters">
    <label><?cs var:Lang.financeiro.period ?><input type="number" name="days" min="1" max="366" value="<?cs var:data.days ?>"></label>
    <button type="submit"><?cs var:Lang.financeiro.show ?></button>
  </form>
  <dl class="kpis">
    <div><dt><?cs var:Lang.financeiro.mrr ?></dt><dd id="kpi-mrr"><?cs var:data.mrr ?></dd></div>
    <div><dt><?cs var:Lang.financeiro.arr ?></dt><dd id="kpi-arr"><?cs var:data.arr ?></dd></div>
    <div><dt><?cs var:Lang.financeiro.churn ?></dt><dd id="kpi-churn"><?cs var:data.churn_text ?> <small class="muted"><?cs var:data.canceled_in_period ?>/<?cs var:data.active_at_start ?> <?cs var:Lang.financeiro.churn_detail ?></small></dd></div>
    <div><dt><?cs var:Lang.financeiro.arpu ?></dt><dd id="kpi-arpu"><?cs var:data.arpu ?></dd></div>
    <div><dt><?cs var:Lang.financeiro.ltv ?></dt><dd id="kpi-ltv"><?cs var:data.ltv ?></dd></div>
    <div><dt><?cs var:Lang.financeiro.payment_success ?></dt><dd id="kpi-payments"><?cs var:data.payments.rate_text ?> <small class="muted"><?cs var:data.payments.paid ?> / <?cs var:data.payments.failed ?> <?cs var:Lang.financeiro.payments_detail ?></small></dd></div>
    <div><dt><?cs var:Lang.financeiro.paying ?></dt><dd id="kpi-paying"><?cs var:data.paying_subscriptions ?> <small class="muted">(<?cs var:data.paying_tenants ?> <?cs var:Lang.financeiro.tenants ?>)</small></dd></div>
  </dl>
</section>
<section class="card">
  <h2><?cs var:Lang.financeiro.per_plan ?></h2>
  <?cs if:subcount(data.per_plan) > 0 ?>
  <div class="table-wrap"><table class="table per-plan">
    <thead><tr><th><?cs var:Lang.financeiro.plan ?></th><th><?cs var:Lang.financeiro.subscriptions ?></th><th><?cs var:Lang.financeiro.mrr ?></th></tr></thead>
    <tbody><?cs each:p = data.per_plan ?><tr data-plan="<?cs var:p.plan ?>"><th scope="row"><?cs var:p.name ?></th><td><?cs var:p.subscriptions ?></td><td><?cs var:p.mrr ?></td></tr><?cs /each ?></tbody>
  </table></div>
  <?cs /if ?>
  <div class="chart"><?cs uvar:data.plans_chart_svg ?></div>
</section>
<section class="card chart"><h2><?cs var:Lang.financeiro.chart_mrr ?></h2><?cs uvar:data.mrr_chart_svg ?></section>
<?cs include:"layout/foot.cs" ?>
