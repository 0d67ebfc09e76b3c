<?cs # optimizations/request_fields.cs — what the optimization and walk-forward forms share before the
   # search: name, one market, period, balance, and the base strategy (trading/params.cs). ?><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="strategy" value="<?cs var:data.strategy ?>">
    <label><?cs var:Lang.optimizations.name ?><input type="text" name="name" required maxlength="80" value="<?cs var:data.form.name ?>"></label>
    <?cs if:data.errors.name ?><p class="alert"><?cs var:data.errors.name ?></p><?cs /if ?>
    <label><?cs var:Lang.optimizations.market ?>
      <select name="market" required><?cs each:m = data.markets ?><option value="<?cs var:m.key ?>"<?cs if:m.selected ?> selected<?cs /if ?>><?cs var:m.exchange ?> · <?cs var:m.symbol ?> · <?cs var:m.timeframe ?> (<?cs var:m.first ?> → <?cs var:m.last ?>)</option><?cs /each ?></select></label>
    <?cs if:data.errors.market ?><p class="alert"><?cs var:data.errors.market ?></p><?cs /if ?>
    <label><?cs var:Lang.optimizations.from ?><input type="text" name="from" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.form.from ?>"></label>
    <label><?cs var:Lang.optimizations.to ?><input type="text" name="to" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.form.to ?>"></label>
    <?cs if:data.errors.range ?><p class="alert"><?cs var:data.errors.range ?></p><?cs /if ?>
    <label><?cs var:Lang.optimizations.initial_balance ?><input type="number" name="initial_balance" min="1" max="1000000000" step="any" required value="<?cs var:data.form.initial_balance ?>"></label>
    <?cs if:data.errors.initial_balance ?><p class="alert"><?cs var:data.errors.initial_balance ?></p><?cs /if ?>
    <h2><?cs var:Lang.optimizations.base_strategy ?>: <?cs each:s = data.strategies ?><?cs if:s.key == data.strategy ?><?cs var:s.label ?><?cs /if ?><?cs /each ?></h2>
    <p class="muted"><?cs var:Lang.optimizations.base_explain ?></p>
    <?cs include:"trading/params.cs" ?>
