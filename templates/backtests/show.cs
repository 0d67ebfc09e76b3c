<?cs # backtests/show.cs — one backtest: its status while queued or running, then the report:
   # metrics, equity and drawdown curves (inline SVG), exit reasons, months, trades, configuration. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:data.backtest.name ?></h1>
  <?cs set:page.tab = "backtests" ?><?cs include:"trading/tabs.cs" ?>
  <p><?cs var:data.backtest.strategy_label ?> · <?cs var:data.backtest.exchange ?> · <?cs var:data.backtest.symbols_text ?> · <?cs var:data.backtest.timeframe ?> · <?cs var:data.backtest.from ?> → <?cs var:data.backtest.to ?></p>
  <p><?cs var:Lang.backtests.status ?>: <?cs with:b = data.backtest ?><?cs include:"backtests/status.cs" ?><?cs /with ?>
    <?cs if:data.backtest.job_id ?> · <a href="/jobs/<?cs var:data.backtest.job_id ?>"><?cs var:Lang.backtests.job ?> #<?cs var:data.backtest.job_id ?></a><?cs /if ?></p>
  <?cs if:data.backtest.error ?><p class="alert" role="alert"><?cs var:data.backtest.error ?></p><?cs /if ?>
  <?cs if:data.backtest.status != "done" && data.backtest.status != "failed" && data.backtest.status != "dead" && data.backtest.status != "cancelled" ?><p class="muted" data-auto-refresh="3"><?cs var:Lang.backtests.queued ?>…</p><?cs /if ?>
  <form method="post" action="/backtests/<?cs var:data.backtest.id ?>/delete"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.backtests.delete ?></button></form>
</section>
<?cs if:subcount(data.metric_rows) ?>
<section class="card">
  <h2><?cs var:Lang.backtests.summary ?></h2>
  <dl class="stats"><?cs each:m = data.metric_rows ?><dt><?cs var:m.label ?></dt><dd><?cs var:m.text ?></dd><?cs /each ?></dl>
</section>
<section class="card chart"><h2><?cs var:Lang.backtests.equity_curve ?></h2><?cs uvar:data.equity_svg ?></section>
<section class="card chart"><h2><?cs var:Lang.backtests.drawdown_curve ?></h2><?cs uvar:data.drawdown_svg ?></section>
<section class="card">
  <h2><?cs var:Lang.backtests.exit_reasons ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.backtests.reason ?></th><th><?cs var:Lang.backtests.trades ?></th><th><?cs var:Lang.backtests.wins ?></th><th><?cs var:Lang.backtests.losses ?></th><th><?cs var:Lang.backtests.pnl ?></th></tr></thead>
    <tbody><?cs each:r = data.reason_rows ?><tr><td><?cs var:Lang.bots.reasons[r.reason] ?></td><td><?cs var:r.trades ?></td><td><?cs var:r.wins ?></td><td><?cs var:r.losses ?></td><td><?cs var:r.pnl ?></td></tr><?cs /each ?></tbody>
  </table></div>
</section>
<section class="card">
  <h2><?cs var:Lang.backtests.monthly ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.backtests.month ?></th><th><?cs var:Lang.backtests.trades ?></th><th><?cs var:Lang.backtests.pnl ?></th><th><?cs var:Lang.backtests.return ?></th></tr></thead>
    <tbody><?cs each:m = data.month_rows ?><tr><td><?cs var:m.month ?></td><td><?cs var:m.trades ?></td><td><?cs var:m.pnl ?></td><td class="<?cs if:m.sign < 0 ?>neg<?cs elif:m.sign > 0 ?>pos<?cs /if ?>"><?cs var:m.return ?></td></tr><?cs /each ?></tbody>
  </table></div>
</section>
<section class="card">
  <h2><?cs var:Lang.backtests.trades ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.backtests.symbol ?></th><th><?cs var:Lang.backtests.entry ?></th><th><?cs var:Lang.backtests.exit ?></th><th><?cs var:Lang.bots.price ?></th><th><?cs var:Lang.backtests.pnl ?></th><th><?cs var:Lang.backtests.reason ?></th></tr></thead>
    <tbody><?cs each:t = data.trade_rows ?><tr><td><?cs var:t.symbol ?></td><td><?cs var:t.entry ?></td><td><?cs var:t.exit ?></td><td><?cs var:t.prices ?></td><td class="<?cs if:t.sign < 0 ?>neg<?cs elif:t.sign > 0 ?>pos<?cs /if ?>"><?cs var:t.pnl ?></td><td><?cs var:Lang.bots.reasons[t.reason] ?></td></tr><?cs /each ?></tbody>
  </table></div>
  <?cs if:data.more_trades ?><p class="muted"><?cs var:Lang.backtests.more_trades ?></p><?cs /if ?>
</section>
<?cs /if ?>
<?cs include:"layout/foot.cs" ?>
