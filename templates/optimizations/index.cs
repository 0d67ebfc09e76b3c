<?cs # optimizations/index.cs — the user's parameter searches: status with a progress bar while the
   # job runs, and the best score found. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs each:o = data.optimizations ?><?cs if:o.status == "queued" || o.status == "running" ?><?cs set:page.live = 1 ?><?cs /if ?><?cs /each ?><?cs if:page.live ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:Lang.optimizations.title ?></h1>
  <?cs set:page.tab = "optimizations" ?><?cs include:"trading/tabs.cs" ?>
  <p class="muted"><?cs var:Lang.optimizations.explain ?></p>
  <p><a class="button" href="/optimizations/new"><?cs var:Lang.optimizations.new ?></a></p>
  <?cs if:subcount(data.optimizations) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.optimizations.name ?></th><th><?cs var:Lang.optimizations.strategy ?></th><th><?cs var:Lang.optimizations.market ?></th><th><?cs var:Lang.optimizations.method ?></th><th><?cs var:Lang.optimizations.objective ?></th><th><?cs var:Lang.optimizations.status ?></th><th><?cs var:Lang.optimizations.best_score ?></th><th><?cs var:Lang.optimizations.created ?></th></tr></thead>
    <tbody>
    <?cs each:b = data.optimizations ?>
      <tr>
        <td><a href="/optimizations/<?cs var:b.id ?>"><?cs var:b.name ?></a></td>
        <td><?cs var:b.strategy_label ?></td>
        <td><?cs var:b.exchange ?> · <?cs var:b.symbol ?> · <?cs var:b.timeframe ?></td>
        <td><?cs var:b.method_label ?> (<?cs var:b.total ?>)</td>
        <td><?cs var:b.objective_label ?></td>
        <td><?cs include:"backtests/status.cs" ?></td>
        <td><?cs var:b.best_score_text ?></td>
        <td><?cs var:b.created ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs else ?>
  <p><?cs var:Lang.optimizations.empty ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
