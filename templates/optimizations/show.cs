<?cs # optimizations/show.cs — one search: its request and progress while the job runs (the page
   # reloads itself), then the best results (sortable by any column through links), the heatmap of a
   # two-parameter grid, and per result a backtest or a paper bot in one click. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs if:data.optimization.status == "queued" || data.optimization.status == "running" ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:data.optimization.name ?></h1>
  <?cs set:page.tab = "optimizations" ?><?cs include:"trading/tabs.cs" ?>
  <p><?cs var:data.optimization.strategy_label ?> · <?cs var:data.optimization.exchange ?> · <?cs var:data.optimization.symbol ?> · <?cs var:data.optimization.timeframe ?> · <?cs var:data.optimization.from ?> → <?cs var:data.optimization.to ?></p>
  <p><?cs var:Lang.optimizations.method ?>: <?cs var:data.method_label ?> · <?cs var:Lang.optimizations.objective ?>: <?cs var:data.objective_label ?> · <?cs var:Lang.optimizations.sets ?>: <?cs var:data.optimization.total ?></p>
  <p><?cs var:Lang.optimizations.status ?>: <?cs with:b = data.optimization ?><?cs include:"backtests/status.cs" ?><?cs /with ?>
    <?cs if:data.optimization.job_id ?> · <a href="/jobs/<?cs var:data.optimization.job_id ?>"><?cs var:Lang.optimizations.job ?> #<?cs var:data.optimization.job_id ?></a><?cs /if ?>
    <?cs if:data.optimization.backend ?> · <?cs var:Lang.optimizations.backend ?>: <?cs var:data.optimization.backend ?><?cs /if ?></p>
  <p><label><?cs var:Lang.optimizations.progress ?> <progress max="<?cs var:data.progress.total ?>" value="<?cs var:data.progress.done ?>"><?cs var:data.progress.done ?> / <?cs var:data.progress.total ?></progress></label>
    <?cs var:Lang.optimizations.evaluated ?>: <?cs var:data.progress.done ?> / <?cs var:data.progress.total ?>
    · <?cs var:Lang.optimizations.feasible ?>: <?cs var:data.progress.feasible ?>
    <?cs if:data.progress.invalid ?> · <?cs var:Lang.optimizations.skipped ?>: <?cs var:data.progress.invalid ?><?cs /if ?></p>
  <?cs if:data.optimization.error ?><p class="alert" role="alert"><?cs var:data.optimization.error ?></p><?cs /if ?>
  <div class="actions">
    <?cs if:data.optimization.can_cancel ?><form method="post" action="/optimizations/<?cs var:data.optimization.id ?>/cancel"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.optimizations.cancel ?></button></form><?cs /if ?>
    <form method="post" action="/optimizations/<?cs var:data.optimization.id ?>/delete"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.optimizations.delete ?></button></form>
  </div>
</section>
<section class="card">
  <h2><?cs var:Lang.optimizations.results ?></h2>
  <?cs if:subcount(data.table) ?>
  <p class="muted"><?cs var:Lang.optimizations.sort_hint ?></p>
  <div class="table-wrap"><table class="table results">
    <thead><tr>
      <th scope="col"><a href="/optimizations/<?cs var:data.optimization.id ?>"><?cs var:Lang.optimizations.rank ?></a></th>
      <?cs each:d = data.dims ?><th scope="col"><?cs var:d.label ?></th><?cs /each ?>
      <?cs each:c = data.columns ?><th scope="col"<?cs if:c.sorted ?> aria-sort="<?cs var:c.sorted ?>"<?cs /if ?>><a href="<?cs var:c.href ?>"><?cs var:c.label ?><?cs if:c.sorted == "descending" ?> ↓<?cs elif:c.sorted == "ascending" ?> ↑<?cs /if ?></a></th><?cs /each ?>
      <th scope="col"><?cs var:Lang.optimizations.actions ?></th>
    </tr></thead>
    <tbody><?cs each:r = data.table ?>
      <tr><td><?cs var:r.rank ?></td>
        <?cs each:v = r.values ?><td><?cs var:v ?></td><?cs /each ?>
        <?cs each:v = r.cells ?><td><?cs var:v ?></td><?cs /each ?>
        <td class="actions">
          <form method="post" action="/optimizations/<?cs var:data.optimization.id ?>/backtest"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="rank" value="<?cs var:r.rank ?>"><button type="submit"><?cs var:Lang.optimizations.backtest_this ?></button></form>
          <form method="post" action="/optimizations/<?cs var:data.optimization.id ?>/deploy"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="rank" value="<?cs var:r.rank ?>"><button type="submit"><?cs var:Lang.optimizations.deploy ?></button></form>
        </td></tr>
    <?cs /each ?></tbody>
  </table></div>
  <?cs else ?>
  <p><?cs var:Lang.optimizations.results_empty ?></p>
  <?cs /if ?>
</section>
<?cs if:data.heatmap_svg ?>
<section class="card chart">
  <h2><?cs var:Lang.optimizations.heatmap ?></h2>
  <p class="muted"><?cs var:Lang.optimizations.heatmap_explain ?></p>
  <?cs uvar:data.heatmap_svg ?>
</section>
<?cs /if ?>
<?cs include:"layout/foot.cs" ?>
