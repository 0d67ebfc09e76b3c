<?cs # models/index.cs — the tenant's ML models: name and version, market, status with progress, and the
   # test AUC and log-loss against the naive baseline once trained. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs if:data.live ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:Lang.models.title ?></h1>
  <?cs set:page.tab = "models" ?><?cs include:"trading/tabs.cs" ?>
  <p class="muted"><?cs var:Lang.models.explain ?></p>
  <p><a class="button" href="/models/new"><?cs var:Lang.models.new ?></a></p>
  <?cs if:subcount(data.models) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col"><?cs var:Lang.models.name ?></th><th scope="col"><?cs var:Lang.models.version ?></th><th scope="col"><?cs var:Lang.models.kind ?></th><th scope="col"><?cs var:Lang.models.market ?></th><th scope="col"><?cs var:Lang.models.status ?></th><th scope="col"><?cs var:Lang.models.test_auc ?></th><th scope="col"><?cs var:Lang.models.test_logloss ?></th><th scope="col"><?cs var:Lang.models.baseline_logloss ?></th><th scope="col"><?cs var:Lang.models.verdict_title ?></th><th scope="col"><?cs var:Lang.models.created ?></th></tr></thead>
    <tbody>
    <?cs each:m = data.models ?>
      <tr>
        <td><a href="/models/<?cs var:m.id ?>"><?cs var:m.name ?></a></td>
        <td>v<?cs var:m.version ?></td>
        <td><?cs var:Lang.models.kinds[m.kind] ?></td>
        <td><?cs var:m.exchange ?> · <?cs var:m.symbol ?> · <?cs var:m.timeframe ?></td>
        <td><?cs with:b = m ?><?cs include:"backtests/status.cs" ?><?cs /with ?></td>
        <td><?cs var:m.test_auc_text ?></td>
        <td><?cs var:m.test_logloss_text ?></td>
        <td><?cs var:m.baseline_test_logloss_text ?></td>
        <td><?cs if:m.verdict ?><span class="verdict <?cs var:m.verdict ?>"><?cs var:Lang.models.verdict[m.verdict] ?></span><?cs /if ?></td>
        <td><?cs var:m.created ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs else ?>
  <p><?cs var:Lang.models.empty ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
