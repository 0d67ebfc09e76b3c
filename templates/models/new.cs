<?cs # models/new.cs — the training form: the kind first (a GET choice, since the GRU has options
   # logistic regression has not), then name, market, period, horizon, split and hyperparameters,
   # each filled with the kind's default. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.models.new ?></h1>
  <?cs set:page.tab = "models" ?><?cs include:"trading/tabs.cs" ?>
  <p class="muted"><?cs var:Lang.models.form_explain ?></p>
  <form method="get" action="/models/new" class="filters">
    <label><?cs var:Lang.models.kind ?>
      <select name="kind"><?cs each:k = data.kinds ?><option value="<?cs var:k ?>"<?cs if:k == data.kind ?> selected<?cs /if ?>><?cs var:Lang.models.kinds[k] ?></option><?cs /each ?></select></label>
    <button type="submit"><?cs var:Lang.models.choose_kind ?></button>
  </form>
  <?cs if:subcount(data.errors) ?><p class="alert" role="alert"><?cs var:Lang.models.invalid ?><?cs if:data.errors.options ?>: <?cs var:data.errors.options ?><?cs /if ?></p><?cs /if ?>
  <form method="post" action="/models" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="kind" value="<?cs var:data.kind ?>">
    <label><?cs var:Lang.models.name ?><input type="text" name="name" required maxlength="80" value="<?cs var:data.form.name ?>"></label>
    <p class="muted hint"><?cs var:Lang.models.name_hint ?></p>
    <?cs if:data.errors.name ?><p class="alert"><?cs var:data.errors.name ?></p><?cs /if ?>
    <label><?cs var:Lang.models.market ?>
      <select name="market" required><?cs each:m = data.markets ?><option value="<?cs var:m.key ?>"<?cs if:m.selected ?> selected<?cs /if ?>><?cs var:m.exchange ?> · <?cs var:m.symbol ?> · <?cs var:m.timeframe ?> (<?cs var:m.first ?> → <?cs var:m.last ?>)</option><?cs /each ?></select></label>
    <?cs if:data.errors.market ?><p class="alert"><?cs var:data.errors.market ?></p><?cs /if ?>
    <label><?cs var:Lang.models.from ?><input type="text" name="from" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.form.from ?>"></label>
    <label><?cs var:Lang.models.to ?><input type="text" name="to" required pattern="\d{4}-\d{2}-\d{2}.*" value="<?cs var:data.form.to ?>"></label>
    <?cs if:data.errors.range ?><p class="alert"><?cs var:data.errors.range ?></p><?cs /if ?>
    <h2><?cs var:Lang.models.options ?>: <?cs var:Lang.models.kinds[data.kind] ?></h2>
    <?cs each:f = data.fields ?>
    <label><?cs var:Lang.models.opt[f.key] ?><input type="number" name="<?cs var:f.name ?>" step="<?cs var:f.step ?>" value="<?cs var:f.value ?>"></label>
    <p class="muted hint"><?cs var:Lang.models.opt_hint[f.key] ?> <?cs var:Lang.models.default ?>: <?cs var:f.default ?></p>
    <?cs /each ?>
    <button type="submit" class="primary"><?cs var:Lang.models.train ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
