<?cs # backtests/compare.cs — two finished backtests side by side: every metric in two columns and
   # both equity curves, as % of their starting balance, on one chart. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.backtests.compare ?></h1>
  <?cs set:page.tab = "backtests" ?><?cs include:"trading/tabs.cs" ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th></th><th><a href="/backtests/<?cs var:data.a.id ?>"><?cs var:data.a.name ?></a></th><th><a href="/backtests/<?cs var:data.b.id ?>"><?cs var:data.b.name ?></a></th></tr></thead>
    <tbody>
      <tr><th><?cs var:Lang.backtests.strategy ?></th><td><?cs var:data.a.strategy_label ?></td><td><?cs var:data.b.strategy_label ?></td></tr>
      <tr><th><?cs var:Lang.backtests.symbols ?></th><td><?cs var:data.a.symbols_text ?> · <?cs var:data.a.timeframe ?></td><td><?cs var:data.b.symbols_text ?> · <?cs var:data.b.timeframe ?></td></tr>
      <?cs each:r = data.rows ?><tr><th><?cs var:r.label ?></th><td class="<?cs if:r.better == "a" ?>pos<?cs /if ?>"><?cs var:r.a ?></td><td class="<?cs if:r.better == "b" ?>pos<?cs /if ?>"><?cs var:r.b ?></td></tr><?cs /each ?>
    </tbody>
  </table></div>
</section>
<section class="card chart"><h2><?cs var:Lang.backtests.equity_curve ?> (%)</h2><?cs uvar:data.equity_svg ?></section>
<?cs include:"layout/foot.cs" ?>
