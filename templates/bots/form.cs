<?cs # bots/form.cs — create or edit a bot: first the strategy (a GET choice, so no script is needed),
   # then market, mode, balance and the strategy's typed parameters and risk controls. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs if:data.edit_id ?><?cs var:Lang.bots.edit ?><?cs else ?><?cs var:Lang.bots.new ?><?cs /if ?></h1>
  <?cs set:page.tab = "bots" ?><?cs include:"trading/tabs.cs" ?>
  <form method="get" action="<?cs if:data.edit_id ?>/bots/<?cs var:data.edit_id ?>/edit<?cs else ?>/bots/new<?cs /if ?>" class="filters">
    <label><?cs var:Lang.bots.strategy ?>
      <select name="strategy"><?cs each:s = data.strategies ?><option value="<?cs var:s.key ?>"<?cs if:s.key == data.strategy ?> selected<?cs /if ?>><?cs var:s.label ?></option><?cs /each ?></select></label>
    <button type="submit"><?cs var:Lang.bots.choose_strategy ?></button>
  </form>
  <?cs if:subcount(data.errors) ?><p class="alert" role="alert"><?cs var:Lang.bots.invalid ?><?cs if:data.errors.config ?>: <?cs var:data.errors.config ?><?cs /if ?></p><?cs /if ?>
  <form method="post" action="<?cs if:data.edit_id ?>/bots/<?cs var:data.edit_id ?><?cs else ?>/bots<?cs /if ?>" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="strategy" value="<?cs var:data.strategy ?>">
    <label><?cs var:Lang.bots.name ?><input type="text" name="name" required maxlength="80" value="<?cs var:data.form.name ?>"></label>
    <?cs if:data.errors.name ?><p class="alert"><?cs var:data.errors.name ?></p><?cs /if ?>
    <label><?cs var:Lang.bots.market ?>
      <select name="market"><?cs each:m = data.markets ?><option value="<?cs var:m.key ?>"<?cs if:m.key == data.form.market ?> selected<?cs /if ?>><?cs var:m.exchange ?> · <?cs var:m.symbol ?> · <?cs var:m.timeframe ?></option><?cs /each ?></select></label>
    <?cs if:data.errors.market ?><p class="alert"><?cs var:data.errors.market ?></p><?cs /if ?>
    <label><?cs var:Lang.bots.mode ?>
      <select name="mode">
        <option value="paper"<?cs if:data.form.mode != "live" ?> selected<?cs /if ?>><?cs var:Lang.bots.mode_paper ?></option>
        <option value="live"<?cs if:data.form.mode == "live" ?> selected<?cs /if ?>><?cs var:Lang.bots.mode_live ?></option>
      </select></label>
    <?cs if:data.errors.mode ?><p class="alert"><?cs var:data.errors.mode ?></p><?cs /if ?>
    <?cs if:data.errors.live_plan ?><p class="alert"><?cs var:data.errors.live_plan ?></p><?cs /if ?>
    <label><?cs var:Lang.bots.credential ?>
      <select name="credential_id"><option value=""></option><?cs each:c = data.credentials ?><option value="<?cs var:c.id ?>"<?cs if:c.id == data.form.credential_id ?> selected<?cs /if ?>><?cs var:c.exchange ?> · <?cs var:c.label ?> (<?cs var:c.key_mask ?>)</option><?cs /each ?></select></label>
    <?cs if:!subcount(data.credentials) ?><p class="muted"><?cs var:Lang.bots.no_credential ?></p><?cs /if ?>
    <?cs if:data.errors.credential_id ?><p class="alert"><?cs var:data.errors.credential_id ?></p><?cs /if ?>
    <label><?cs var:Lang.bots.initial_balance ?><input type="number" name="initial_balance" min="1" max="1000000000" step="any" required value="<?cs var:data.form.initial_balance ?>"></label>
    <?cs if:data.errors.initial_balance ?><p class="alert"><?cs var:data.errors.initial_balance ?></p><?cs /if ?>
    <?cs include:"trading/params.cs" ?>
    <button type="submit" class="primary"><?cs var:Lang.bots.save ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
