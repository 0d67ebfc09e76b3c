<?cs # backtests/index.cs — the user's backtests with status and headline results, and the choice
   # of two to compare side by side (a GET form: no script needed). ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.backtests.title ?></h1>
  <?cs set:page.tab = "backtests" ?><?cs include:"trading/tabs.cs" ?>
  <p class="muted"><?cs var:Lang.backtests.explain ?></p>
  <p><a class="button" href="/backtests/new"><?cs var:Lang.backtests.new ?></a></p>
  <?cs if:subcount(data.backtests) ?>
  <form method="get" action="/backtests/compare">
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.backtests.compare ?></th><th><?cs var:Lang.backtests.name ?></th><th><?cs var:Lang.backtests.strategy ?></th><th><?cs var:Lang.backtests.symbols ?></th><th><?cs var:Lang.backtests.status ?></th><th><?cs var:Lang.backtests.m.profit_pct ?></th><th><?cs var:Lang.backtests.m.max_drawdown_pct ?></th><th><?cs var:Lang.backtests.m.trades ?></th><th><?cs var:Lang.backtests.created ?></th></tr></thead>
    <tbody>
    <?cs each:b = data.backtests ?>
      <tr>
        <td><?cs if:b.status == "done" ?><input type="checkbox" name="id" value="<?cs var:b.id ?>" aria-label="<?cs var:Lang.backtests.compare ?> <?cs var:b.name ?>"><?cs /if ?></td>
        <td><a href="/backtests/<?cs var:b.id ?>"><?cs var:b.name ?></a></td>
        <td><?cs var:b.strategy_label ?></td>
        <td><?cs var:b.exchange ?> · <?cs var:b.symbols_text ?> · <?cs var:b.timeframe ?></td>
        <td><?cs include:"backtests/status.cs" ?></td>
        <td><?cs var:b.profit_pct_text ?></td>
        <td><?cs var:b.max_drawdown_pct_text ?></td>
        <td><?cs var:b.trades ?></td>
        <td><?cs var:b.created ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <p class="muted"><?cs var:Lang.backtests.compare_pick ?></p>
  <button type="submit"><?cs var:Lang.backtests.compare ?></button>
  </form>
  <?cs else ?>
  <p><?cs var:Lang.backtests.empty ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
