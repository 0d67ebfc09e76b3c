<?cs # backtests/new.cs — the backtest form: strategy first (a GET choice), then markets, period,
   # balance and the strategy's typed parameters and risk controls (trading/params.cs). ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.backtests.new ?></h1>
  <?cs set:page.tab = "backtests" ?><?cs include:"trading/tabs.cs" ?>
  <form method="get" action="/backtests/new" class="filters">
    <label><?cs var:Lang.backtests.strategy ?>
      <select name="strategy"><?cs each:s = data.strategies ?><option value="<?cs var:s.key ?>"<?cs if:s.key == data.strategy ?> selected<?cs /if ?>><?cs var:s.label ?></option><?cs /each ?></select></label>
    <button type="submit"><?cs var:Lang.bots.choose_strategy ?></button>
  </form>
  <?cs if:subcount(data.errors) ?><p class="alert" role="alert"><?cs var:Lang.backtests.invalid ?><?cs if:data.errors.config ?>: <?cs var:data.errors.config ?><?cs /if ?></p><?cs /if ?>
  <form method="post" action="/backtests" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="strategy" value="<?cs var:data.strategy ?>">
    <label><?cs var:Lang.backtests.name ?><input type="text" name="name" required maxlength="80" value="<?cs var:data.form.name ?>"></label>
    <?cs if:data.errors.name ?><p class="alert"><?cs var:data.errors.name ?></p><?cs /if ?>
    <label><?cs var:Lang.backtests.symbols ?>
      <select name="market" multiple size="6" required><?cs each:m = data.markets ?><option value="<?cs var:m.key ?>"<?cs if:m.selected ?> selected<?cs /if ?>><?cs var:m.exchange ?> · <?cs var:m.symbol ?> · <?cs var:m.timeframe ?> (<?cs var:m.first ?> → <?cs var:m.last ?>)</option><?cs /each ?></select></label>
    <?cs if:data.errors.market ?><p class="alert"><?cs var:data.errors.market ?></p><?cs /if ?>
    <label><?cs var:Lang.backtests.from ?><input type="text" name="from" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.form.from ?>"></label>
    <label><?cs var:Lang.backtests.to ?><input type="text" name="to" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.form.to ?>"></label>
    <?cs if:data.errors.range ?><p class="alert"><?cs var:data.errors.range ?></p><?cs /if ?>
    <label><?cs var:Lang.backtests.initial_balance ?><input type="number" name="initial_balance" min="1" max="1000000000" step="any" required value="<?cs var:data.form.initial_balance ?>"></label>
    <?cs if:data.errors.initial_balance ?><p class="alert"><?cs var:data.errors.initial_balance ?></p><?cs /if ?>
    <?cs include:"trading/params.cs" ?>
    <button type="submit" class="primary"><?cs var:Lang.backtests.run ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
