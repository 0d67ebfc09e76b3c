<?cs # markets/show.cs — one market's candlestick chart (inline SVG drawn by lib/trading/svg.c, every text in it
   escaped there), the GET form that changes timeframe, range and indicators, and the last values. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:data.market.symbol ?> <small class="muted"><?cs var:data.market.base ?>/<?cs var:data.market.quote ?> · <?cs var:data.market.exchange ?></small></h1>
  <form method="get" action="<?cs var:data.market.url ?>" class="form filters chart-form">
    <label><?cs var:Lang.markets.tf ?>
      <select name="tf">
      <?cs each:t = data.timeframes ?><option value="<?cs var:t.timeframe ?>"<?cs if:t.current ?> selected<?cs /if ?>><?cs var:t.timeframe ?> (<?cs var:t.candles ?>)</option><?cs /each ?>
      </select></label>
    <label><?cs var:Lang.markets.from ?><input type="text" name="from" maxlength="30" placeholder="2024-01-01" value="<?cs var:data.params.from ?>"></label>
    <label><?cs var:Lang.markets.to ?><input type="text" name="to" maxlength="30" placeholder="2024-01-31" value="<?cs var:data.params.to ?>"></label>
    <label><?cs var:Lang.markets.limit ?><input type="number" name="limit" min="1" max="<?cs var:data.max_candles ?>" value="<?cs var:data.params.limit ?>"></label>
    <label><?cs var:Lang.markets.overlay ?><input type="text" name="overlay" maxlength="200" placeholder="sma:20,ema:50,bb:20:2" value="<?cs var:data.params.overlay ?>"></label>
    <label><?cs var:Lang.markets.panel ?>
      <select name="panel">
        <option value="none"<?cs if:!data.params.panel ?> selected<?cs /if ?>><?cs var:Lang.markets.panel_none ?></option>
        <option value="rsi:14"<?cs if:data.params.panel == "rsi:14" ?> selected<?cs /if ?>><?cs var:Lang.markets.panel_rsi ?></option>
        <option value="macd:12:26:9"<?cs if:data.params.panel == "macd:12:26:9" ?> selected<?cs /if ?>><?cs var:Lang.markets.panel_macd ?></option>
        <option value="volume"<?cs if:data.params.panel == "volume" ?> selected<?cs /if ?>><?cs var:Lang.markets.panel_volume ?></option>
        <?cs if:data.params.panel && data.params.panel != "rsi:14" && data.params.panel != "macd:12:26:9" && data.params.panel != "volume" ?><option value="<?cs var:data.params.panel ?>" selected><?cs var:data.params.panel ?></option><?cs /if ?>
      </select></label>
    <button type="submit" class="primary"><?cs var:Lang.markets.show ?></button>
  </form>
  <p class="muted hint"><?cs var:Lang.markets.overlay_hint ?> <?cs var:Lang.markets.time_hint ?></p>
  <div class="chart-box"><?cs uvar:data.chart_svg ?></div>
  <?cs if:#data.count > 0 ?>
  <p class="muted"><?cs var:data.count ?> <?cs var:Lang.markets.shown ?> <?cs var:data.first ?> <?cs var:Lang.markets.to_word ?> <?cs var:data.last ?> UTC<?cs if:#data.warmup > 0 ?> · <?cs var:data.warmup ?> <?cs var:Lang.markets.warmup ?><?cs /if ?></p>
  <?cs /if ?>
  <p class="pager"><?cs if:data.earlier ?><a href="<?cs var:data.earlier ?>" rel="prev">← <?cs var:Lang.markets.earlier ?></a><?cs /if ?> <?cs if:data.later ?><a href="<?cs var:data.later ?>" rel="next"><?cs var:Lang.markets.later ?> →</a><?cs /if ?></p>
</section>
<?cs if:subcount(data.last_values) ?>
<section class="card">
  <h2><?cs var:Lang.markets.last_values ?> · <?cs var:data.last ?> UTC</h2>
  <table class="table last-values">
    <thead><tr><th><?cs var:Lang.markets.name ?></th><th><?cs var:Lang.markets.value ?></th></tr></thead>
    <tbody>
    <?cs each:v = data.last_values ?><tr><td><?cs var:v.name ?></td><td><?cs var:v.text ?></td></tr><?cs /each ?>
    </tbody>
  </table>
</section>
<?cs /if ?>
<?cs include:"layout/foot.cs" ?>
