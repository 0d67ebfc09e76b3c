<?cs # optimizations/new.cs — the search form: strategy first (a GET choice, since the parameters
   # depend on it), then market, period, balance, the base strategy and the search. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.optimizations.new ?></h1>
  <?cs set:page.tab = "optimizations" ?><?cs include:"trading/tabs.cs" ?>
  <form method="get" action="/optimizations/new" class="filters">
    <label><?cs var:Lang.optimizations.strategy ?>
      <select name="strategy"><?cs each:s = data.strategies ?><option value="<?cs var:s.key ?>"<?cs if:s.key == data.strategy ?> selected<?cs /if ?>><?cs var:s.label ?></option><?cs /each ?></select></label>
    <button type="submit"><?cs var:Lang.bots.choose_strategy ?></button>
  </form>
  <?cs if:subcount(data.errors) ?><p class="alert" role="alert"><?cs var:Lang.optimizations.invalid ?><?cs if:data.errors.config ?>: <?cs var:data.errors.config ?><?cs /if ?></p><?cs /if ?>
  <form method="post" action="/optimizations" class="form">
    <?cs include:"optimizations/request_fields.cs" ?>
    <?cs include:"optimizations/search_fields.cs" ?>
    <button type="submit" class="primary"><?cs var:Lang.optimizations.run ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
