<?cs # walkforward/show.cs — one walk-forward analysis: progress while the job runs (windows appear as
   # they finish), the summary with its verdict explained, in- against out-of-sample scores as a
   # chart, and the windows with the values each in-sample search chose. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs if:data.optimization.status == "queued" || data.optimization.status == "running" ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:data.optimization.name ?></h1>
  <?cs set:page.tab = "walkforward" ?><?cs include:"trading/tabs.cs" ?>
  <p><?cs var:data.optimization.strategy_label ?> · <?cs var:data.optimization.exchange ?> · <?cs var:data.optimization.symbol ?> · <?cs var:data.optimization.timeframe ?> · <?cs var:data.optimization.from ?> → <?cs var:data.optimization.to ?></p>
  <p><?cs var:Lang.walkforward.in_sample_candles ?>: <?cs var:data.spec.in_sample ?> · <?cs var:Lang.walkforward.out_of_sample_candles ?>: <?cs var:data.spec.out_of_sample ?><?cs if:data.spec.step ?> · <?cs var:Lang.walkforward.step_candles ?>: <?cs var:data.spec.step ?><?cs /if ?><?cs if:data.spec.anchored == "1" ?> · <?cs var:Lang.walkforward.anchored ?><?cs /if ?></p>
  <p><?cs var:Lang.optimizations.status ?>: <?cs with:b = data.optimization ?><?cs include:"backtests/status.cs" ?><?cs /with ?>
    <?cs if:data.optimization.job_id ?> · <a href="/jobs/<?cs var:data.optimization.job_id ?>"><?cs var:Lang.optimizations.job ?> #<?cs var:data.optimization.job_id ?></a><?cs /if ?>
    <?cs if:data.optimization.backend ?> · <?cs var:Lang.optimizations.backend ?>: <?cs var:data.optimization.backend ?><?cs /if ?></p>
  <?cs if:data.optimization.error ?><p class="alert" role="alert"><?cs var:data.optimization.error ?></p><?cs /if ?>
  <?cs if:data.optimization.status != "done" && subcount(data.window_rows) ?><p class="muted"><?cs var:Lang.walkforward.partial ?></p><?cs /if ?>
  <div class="actions">
    <?cs if:data.optimization.can_cancel ?><form method="post" action="/walk-forward/<?cs var:data.optimization.id ?>/cancel"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.optimizations.cancel ?></button></form><?cs /if ?>
    <form method="post" action="/walk-forward/<?cs var:data.optimization.id ?>/delete"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.optimizations.delete ?></button></form>
  </div>
</section>
<?cs if:data.summary_view.verdict ?>
<section class="card">
  <h2><?cs var:Lang.walkforward.summary ?></h2>
  <p class="verdict <?cs var:data.summary_view.verdict ?>"><strong><?cs var:Lang.walkforward.verdict ?>: <?cs var:data.summary_view.verdict_label ?></strong></p>
  <p><?cs var:data.summary_view.verdict_text ?></p>
  <dl class="stats">
    <dt><?cs var:Lang.walkforward.objective ?></dt><dd><?cs var:data.objective_label ?></dd>
    <dt><?cs var:Lang.walkforward.windows ?></dt><dd><?cs var:data.summary_view.windows ?></dd>
    <dt><?cs var:Lang.walkforward.windows_found ?></dt><dd><?cs var:data.summary_view.windows_found ?></dd>
    <dt><?cs var:Lang.walkforward.profitable_windows ?></dt><dd><?cs var:data.summary_view.profitable_windows ?></dd>
    <dt><?cs var:Lang.walkforward.is_mean ?></dt><dd><?cs var:data.summary_view.is_mean ?></dd>
    <dt><?cs var:Lang.walkforward.oos_mean ?></dt><dd><?cs var:data.summary_view.oos_mean ?></dd>
    <dt><?cs var:Lang.walkforward.oos_total ?></dt><dd><?cs var:data.summary_view.oos_return ?></dd>
    <dt><?cs var:Lang.walkforward.efficiency ?></dt><dd><?cs var:data.summary_view.efficiency ?></dd>
  </dl>
</section>
<?cs /if ?>
<section class="card chart"><h2><?cs var:Lang.walkforward.chart ?></h2><?cs uvar:data.chart_svg ?></section>
<section class="card">
  <h2><?cs var:Lang.walkforward.windows ?></h2>
  <div class="table-wrap"><table class="table windows">
    <thead><tr><th scope="col"><?cs var:Lang.walkforward.window ?></th><th scope="col"><?cs var:Lang.walkforward.is_period ?></th><th scope="col"><?cs var:Lang.walkforward.oos_period ?></th><th scope="col"><?cs var:Lang.walkforward.values ?></th><th scope="col"><?cs var:Lang.walkforward.is_score ?></th><th scope="col"><?cs var:Lang.walkforward.oos_score ?></th><th scope="col"><?cs var:Lang.walkforward.is_return ?></th><th scope="col"><?cs var:Lang.walkforward.oos_return ?></th><th scope="col"><?cs var:Lang.walkforward.trades ?></th></tr></thead>
    <tbody><?cs each:w = data.window_rows ?>
      <tr><td>W<?cs var:w.n ?></td><td><?cs var:w.is_from ?> → <?cs var:w.is_to ?></td><td><?cs var:w.is_to ?> → <?cs var:w.oos_to ?></td>
        <?cs if:w.found ?><td><?cs var:w.values ?></td><td><?cs var:w.is_score ?></td><td><?cs var:w.oos_score ?></td><td><?cs var:w.is_return ?></td><td class="<?cs if:w.oos_sign < 0 ?>neg<?cs elif:w.oos_sign > 0 ?>pos<?cs /if ?>"><?cs var:w.oos_return ?></td><td><?cs var:w.is_trades ?> / <?cs var:w.oos_trades ?></td>
        <?cs else ?><td colspan="6" class="muted"><?cs var:Lang.walkforward.no_set ?></td><?cs /if ?></tr>
    <?cs /each ?></tbody>
  </table></div>
</section>
<?cs include:"layout/foot.cs" ?>
