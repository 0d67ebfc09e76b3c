<?cs # walkforward/new.cs — the walk-forward form: the search form's fields (strategy first, market,
   # period, balance, base strategy, search) and the windows' sizes in candles. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.walkforward.new ?></h1>
  <?cs set:page.tab = "walkforward" ?><?cs include:"trading/tabs.cs" ?>
  <p class="muted"><?cs var:Lang.walkforward.explain ?></p>
  <form method="get" action="/walk-forward/new" class="filters">
    <label><?cs var:Lang.optimizations.strategy ?>
      <select name="strategy"><?cs each:s = data.strategies ?><option value="<?cs var:s.key ?>"<?cs if:s.key == data.strategy ?> selected<?cs /if ?>><?cs var:s.label ?></option><?cs /each ?></select></label>
    <button type="submit"><?cs var:Lang.bots.choose_strategy ?></button>
  </form>
  <?cs if:subcount(data.errors) ?><p class="alert" role="alert"><?cs var:Lang.optimizations.invalid ?><?cs if:data.errors.config ?>: <?cs var:data.errors.config ?><?cs /if ?></p><?cs /if ?>
  <form method="post" action="/walk-forward" class="form">
    <?cs include:"optimizations/request_fields.cs" ?>
    <fieldset>
      <legend><?cs var:Lang.walkforward.windows_settings ?></legend>
      <p class="muted"><?cs var:Lang.walkforward.windows_explain ?></p>
      <label><?cs var:Lang.walkforward.in_sample_candles ?><input type="number" name="in_sample" min="50" step="1" required value="<?cs var:data.form.in_sample ?>"></label>
      <label><?cs var:Lang.walkforward.out_of_sample_candles ?><input type="number" name="out_of_sample" min="10" step="1" required value="<?cs var:data.form.out_of_sample ?>"></label>
      <label><?cs var:Lang.walkforward.step_candles ?><input type="number" name="step" min="1" step="1" value="<?cs var:data.form.step ?>"></label>
      <label class="check"><input type="checkbox" name="anchored" value="1"<?cs if:data.form.anchored == "1" ?> checked<?cs /if ?>><?cs var:Lang.walkforward.anchored ?></label>
    </fieldset>
    <?cs include:"optimizations/search_fields.cs" ?>
    <button type="submit" class="primary"><?cs var:Lang.walkforward.run ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
