<?cs # walkforward/index.cs — the user's walk-forward analyses: status with a progress bar while the
   # job runs, and the verdict once done. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs each:o = data.optimizations ?><?cs if:o.status == "queued" || o.status == "running" ?><?cs set:page.live = 1 ?><?cs /if ?><?cs /each ?><?cs if:page.live ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:Lang.walkforward.title ?></h1>
  <?cs set:page.tab = "walkforward" ?><?cs include:"trading/tabs.cs" ?>
  <p class="muted"><?cs var:Lang.walkforward.explain ?></p>
  <p><a class="button" href="/walk-forward/new"><?cs var:Lang.walkforward.new ?></a></p>
  <?cs if:subcount(data.optimizations) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.optimizations.name ?></th><th><?cs var:Lang.optimizations.strategy ?></th><th><?cs var:Lang.optimizations.market ?></th><th><?cs var:Lang.optimizations.objective ?></th><th><?cs var:Lang.walkforward.windows ?></th><th><?cs var:Lang.optimizations.status ?></th><th><?cs var:Lang.walkforward.verdict ?></th><th><?cs var:Lang.optimizations.created ?></th></tr></thead>
    <tbody>
    <?cs each:b = data.optimizations ?>
      <tr>
        <td><a href="/walk-forward/<?cs var:b.id ?>"><?cs var:b.name ?></a></td>
        <td><?cs var:b.strategy_label ?></td>
        <td><?cs var:b.exchange ?> · <?cs var:b.symbol ?> · <?cs var:b.timeframe ?></td>
        <td><?cs var:b.objective_label ?></td>
        <td><?cs var:b.total ?></td>
        <td><?cs include:"backtests/status.cs" ?></td>
        <td><?cs if:b.status == "done" ?><span class="verdict <?cs var:b.verdict ?>"><?cs var:b.verdict_label ?></span><?cs else ?>—<?cs /if ?></td>
        <td><?cs var:b.created ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs else ?>
  <p><?cs var:Lang.walkforward.empty ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
