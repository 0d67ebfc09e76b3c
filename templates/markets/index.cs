<?cs # markets/index.cs — every market with its candle series (timeframe, count, first and last candle,
   last close), each linking to its chart; the import link for those who may import. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.markets.title ?></h1>
  <p class="muted"><?cs var:Lang.markets.explain ?></p>
  <?cs if:data.can_import ?><p><a href="/markets/import"><?cs var:Lang.markets.import_link ?></a></p><?cs /if ?>
  <?cs if:subcount(data.markets) == 0 ?>
  <p><?cs var:Lang.markets.empty ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table markets">
    <thead><tr><th><?cs var:Lang.markets.exchange ?></th><th><?cs var:Lang.markets.symbol ?></th><th><?cs var:Lang.markets.pair ?></th><th><?cs var:Lang.markets.timeframe ?></th><th><?cs var:Lang.markets.candles ?></th><th><?cs var:Lang.markets.first ?></th><th><?cs var:Lang.markets.last ?></th><th><?cs var:Lang.markets.last_close ?></th></tr></thead>
    <tbody>
    <?cs each:m = data.markets ?>
      <?cs if:subcount(m.series) == 0 ?>
      <tr class="market"><td><?cs var:m.exchange ?></td><td><a href="<?cs var:m.url ?>"><?cs var:m.symbol ?></a></td><td><?cs var:m.base ?>/<?cs var:m.quote ?></td><td colspan="5" class="muted"><?cs var:Lang.markets.none ?></td></tr>
      <?cs else ?><?cs each:s = m.series ?>
      <tr class="series"><td><?cs var:m.exchange ?></td><td><a href="<?cs var:m.url ?>?tf=<?cs var:s.timeframe ?>"><?cs var:m.symbol ?></a></td><td><?cs var:m.base ?>/<?cs var:m.quote ?></td><td><?cs var:s.timeframe ?></td><td><?cs var:s.candles ?></td><td><?cs var:s.first ?></td><td><?cs var:s.last ?></td><td><?cs var:s.last_close_text ?></td></tr>
      <?cs /each ?><?cs /if ?>
    <?cs /each ?>
    </tbody>
  </table></div>
  <p class="muted"><?cs var:Lang.markets.times_utc ?></p>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
