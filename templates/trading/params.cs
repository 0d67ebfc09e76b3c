<?cs # trading/params.cs — the typed inputs of a strategy's parameters and of the risk controls,
   # from the engine's parameter specs (data.params, data.risk); used by the bot and backtest forms. ?><fieldset>
  <legend><?cs var:Lang.bots.params ?></legend>
  <?cs each:p = data.params ?>
  <?cs if:p.type == "bool" ?>
  <label class="check"><input type="checkbox" name="p.<?cs var:p.name ?>" value="1"<?cs if:p.value == "1" || p.value == "true" ?> checked<?cs /if ?>><?cs var:p.label ?></label>
  <?cs else ?>
  <label><?cs var:p.label ?><input type="number" name="p.<?cs var:p.name ?>" min="<?cs var:p.min ?>" max="<?cs var:p.max ?>" step="<?cs if:p.type == "int" ?>1<?cs else ?>any<?cs /if ?>" value="<?cs var:p.value ?>"></label>
  <?cs /if ?>
  <?cs if:p.error ?><p class="alert"><?cs var:p.error ?></p><?cs /if ?>
  <?cs /each ?>
</fieldset>
<fieldset>
  <legend><?cs var:Lang.bots.risk ?></legend>
  <?cs each:p = data.risk ?>
  <?cs if:p.type == "bool" ?>
  <label class="check"><input type="checkbox" name="r.<?cs var:p.name ?>" value="1"<?cs if:p.value == "1" || p.value == "true" ?> checked<?cs /if ?>><?cs var:p.label ?></label>
  <?cs elif:p.type == "text" ?>
  <label><?cs var:p.label ?><input type="text" name="r.<?cs var:p.name ?>" maxlength="200" value="<?cs var:p.value ?>"><?cs if:p.hint ?><small class="muted"><?cs var:p.hint ?></small><?cs /if ?></label>
  <?cs else ?>
  <label><?cs var:p.label ?><input type="number" name="r.<?cs var:p.name ?>" min="<?cs var:p.min ?>" max="<?cs var:p.max ?>" step="<?cs if:p.type == "int" ?>1<?cs else ?>any<?cs /if ?>" value="<?cs var:p.value ?>"></label>
  <?cs /if ?>
  <?cs if:p.error ?><p class="alert"><?cs var:p.error ?></p><?cs /if ?>
  <?cs /each ?>
</fieldset>
