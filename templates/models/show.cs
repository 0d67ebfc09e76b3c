<?cs # models/show.cs — one model: status while it trains (the page reloads itself), then the metrics
   # of the model and the naive baseline with a plain verdict, the training curve, the split, the
   # options, the other versions of the name, its prediction runs, and a backtest with ml_signal. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs if:data.live ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:data.model.name ?> v<?cs var:data.model.version ?></h1>
  <?cs set:page.tab = "models" ?><?cs include:"trading/tabs.cs" ?>
  <p><?cs var:Lang.models.kinds[data.model.kind] ?> · <?cs var:data.model.exchange ?> · <?cs var:data.model.symbol ?> · <?cs var:data.model.timeframe ?> · <?cs var:data.model.from ?> → <?cs var:data.model.to ?></p>
  <p><?cs var:Lang.models.status ?>: <?cs with:b = data.model ?><?cs include:"backtests/status.cs" ?><?cs /with ?>
    <?cs if:data.model.job_id ?> · <a href="/jobs/<?cs var:data.model.job_id ?>"><?cs var:Lang.models.job ?> #<?cs var:data.model.job_id ?></a><?cs /if ?>
    <?cs if:data.model.backend ?> · <?cs var:Lang.models.backend ?>: <?cs var:data.model.backend ?><?cs /if ?>
    <?cs if:data.model.finished ?> · <?cs var:Lang.models.finished ?>: <?cs var:data.model.finished ?> UTC<?cs /if ?></p>
  <?cs if:data.model.status != "done" && data.model.error ?><p class="alert" role="alert"><?cs var:data.model.error ?></p><?cs /if ?>
  <div class="actions">
    <?cs if:data.model.status == "done" ?><a class="button" href="<?cs var:data.backtest_url ?>"><?cs var:Lang.models.backtest ?></a><?cs /if ?>
    <form method="post" action="/models/<?cs var:data.model.id ?>/delete"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.models.delete ?></button></form>
  </div>
</section>
<?cs if:subcount(data.metric_rows) ?>
<section class="card">
  <h2><?cs var:Lang.models.metrics ?></h2>
  <p class="verdict <?cs var:data.model.verdict ?>"><strong><?cs var:Lang.models.verdict_text[data.model.verdict] ?></strong>
    <?cs var:Lang.models.test_logloss ?> <?cs var:data.model.test_logloss_text ?> · <?cs var:Lang.models.baseline_logloss ?> <?cs var:data.model.baseline_test_logloss_text ?> (<?cs var:data.model.logloss_gain_text ?>) · <?cs var:Lang.models.test_auc ?> <?cs var:data.model.test_auc_text ?></p>
  <div class="table-wrap"><table class="table">
    <thead>
      <tr><th scope="col" rowspan="2"><?cs var:Lang.models.measure ?></th><th scope="colgroup" colspan="2"><?cs var:Lang.models.set.val ?></th><th scope="colgroup" colspan="2"><?cs var:Lang.models.set.test ?></th></tr>
      <tr><th scope="col"><?cs var:Lang.models.model_col ?></th><th scope="col"><?cs var:Lang.models.baseline_col ?></th><th scope="col"><?cs var:Lang.models.model_col ?></th><th scope="col"><?cs var:Lang.models.baseline_col ?></th></tr>
    </thead>
    <tbody><?cs each:m = data.metric_rows ?><tr><th scope="row"><?cs var:Lang.models.metric[m.key] ?></th><td<?cs if:m.val_better ?> class="pos"<?cs /if ?>><?cs var:m.val ?></td><td><?cs var:m.baseline_val ?></td><td<?cs if:m.test_better ?> class="pos"<?cs /if ?>><?cs var:m.test ?></td><td><?cs var:m.baseline_test ?></td></tr><?cs /each ?></tbody>
  </table></div>
  <p class="muted"><?cs var:Lang.models.baseline_explain ?></p>
</section>
<section class="card chart epochs">
  <h2><?cs var:Lang.models.curve ?></h2>
  <?cs uvar:data.curve_svg ?>
  <p class="muted"><?cs var:Lang.models.epochs ?>: 1 → <?cs var:data.model.report.epochs_run ?> · <?cs var:Lang.models.best_epoch ?>: <?cs var:data.model.report.curve.best_epoch ?>. <?cs var:Lang.models.curve_explain ?></p>
</section>
<section class="card">
  <h2><?cs var:Lang.models.split ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col"><?cs var:Lang.models.set_col ?></th><th scope="col"><?cs var:Lang.models.candles ?></th><th scope="col"><?cs var:Lang.models.rows ?></th><th scope="col"><?cs var:Lang.models.first_candle ?></th><th scope="col"><?cs var:Lang.models.last_candle ?></th></tr></thead>
    <tbody><?cs each:s = data.split_rows ?><tr><th scope="row"><?cs var:Lang.models.set[s.set] ?></th><td><?cs var:s.first ?> – <?cs var:s.last ?></td><td><?cs var:s.rows ?></td><td><?cs var:s.from ?></td><td><?cs var:s.to ?></td></tr><?cs /each ?></tbody>
  </table></div>
  <p class="muted"><?cs var:Lang.models.split_explain ?></p>
</section>
<?cs /if ?>
<section class="card">
  <h2><?cs var:Lang.models.options ?></h2>
  <dl class="stats"><?cs each:o = data.option_rows ?><dt><?cs var:Lang.models.opt[o.key] ?></dt><dd><?cs var:o.value ?></dd><?cs /each ?></dl>
</section>
<section class="card">
  <h2><?cs var:Lang.models.versions ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col"><?cs var:Lang.models.version ?></th><th scope="col"><?cs var:Lang.models.status ?></th><th scope="col"><?cs var:Lang.models.test_auc ?></th><th scope="col"><?cs var:Lang.models.test_logloss ?></th><th scope="col"><?cs var:Lang.models.baseline_logloss ?></th><th scope="col"><?cs var:Lang.models.created ?></th></tr></thead>
    <tbody><?cs each:v = data.versions ?><tr><td><?cs if:v.current ?><strong>v<?cs var:v.version ?></strong><?cs else ?><a href="/models/<?cs var:v.id ?>">v<?cs var:v.version ?></a><?cs /if ?></td><td><?cs with:b = v ?><?cs include:"backtests/status.cs" ?><?cs /with ?></td><td><?cs var:v.test_auc_text ?></td><td><?cs var:v.test_logloss_text ?></td><td><?cs var:v.baseline_test_logloss_text ?></td><td><?cs var:v.created ?></td></tr><?cs /each ?></tbody>
  </table></div>
</section>
<section class="card">
  <h2><?cs var:Lang.models.predictions ?></h2>
  <p class="muted"><?cs var:Lang.models.predictions_explain ?></p>
  <?cs if:subcount(data.prediction_runs) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th scope="col"><?cs var:Lang.models.market ?></th><th scope="col"><?cs var:Lang.models.period_from ?></th><th scope="col"><?cs var:Lang.models.period_to ?></th><th scope="col"><?cs var:Lang.models.status ?></th><th scope="col"><?cs var:Lang.models.predicted ?></th><th scope="col"><?cs var:Lang.models.created ?></th><th scope="col"></th></tr></thead>
    <tbody><?cs each:r = data.prediction_runs ?><tr><td><?cs var:r.exchange ?> · <?cs var:r.symbol ?> · <?cs var:r.timeframe ?></td><td><?cs var:r.from ?></td><td><?cs var:r.to ?></td><td><?cs with:b = r ?><?cs include:"backtests/status.cs" ?><?cs /with ?><?cs if:r.status != "done" && r.error ?> <span class="alert"><?cs var:r.error ?></span><?cs /if ?></td><td><?cs var:r.predictions ?></td><td><?cs var:r.created ?></td><td><?cs if:r.backtest_url ?><a href="<?cs var:r.backtest_url ?>"><?cs var:Lang.models.backtest_run ?></a><?cs /if ?></td></tr><?cs /each ?></tbody>
  </table></div>
  <?cs else ?>
  <p><?cs var:Lang.models.no_predictions ?></p>
  <?cs /if ?>
  <?cs if:data.model.status == "done" ?>
  <h3><?cs var:Lang.models.predict ?></h3>
  <?cs if:subcount(data.predict_errors) ?><p class="alert" role="alert"><?cs var:Lang.models.invalid ?></p><?cs /if ?>
  <form method="post" action="/models/<?cs var:data.model.id ?>/predict" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.models.market ?>
      <select name="market" required><?cs each:m = data.markets ?><option value="<?cs var:m.key ?>"<?cs if:m.selected ?> selected<?cs /if ?>><?cs var:m.exchange ?> · <?cs var:m.symbol ?> · <?cs var:m.timeframe ?> (<?cs var:m.first ?> → <?cs var:m.last ?>)</option><?cs /each ?></select></label>
    <?cs if:data.predict_errors.market ?><p class="alert"><?cs var:data.predict_errors.market ?></p><?cs /if ?>
    <label><?cs var:Lang.models.from ?><input type="text" name="from" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.predict_form.from ?>"></label>
    <label><?cs var:Lang.models.to ?><input type="text" name="to" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.predict_form.to ?>"></label>
    <?cs if:data.predict_errors.range ?><p class="alert"><?cs var:data.predict_errors.range ?></p><?cs /if ?>
    <?cs if:data.predict_errors.model ?><p class="alert"><?cs var:data.predict_errors.model ?></p><?cs /if ?>
    <p class="muted hint"><?cs var:Lang.models.predict_hint ?></p>
    <button type="submit" class="primary"><?cs var:Lang.models.predict_run ?></button>
  </form>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
