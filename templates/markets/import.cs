<?cs # markets/import.cs — the candle CSV import: a form that posts pasted CSV (works without script), and,
   with static/js/markets-import.js, a file sent as the raw body with its upload progress shown. The result,
   or the refusal with its bad lines, is shown above the form. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.markets.import_title ?></h1>
  <p class="muted"><?cs var:Lang.markets.import_explain ?> <?cs var:Lang.markets.limit_text ?> <?cs var:data.max_mib ?>.</p>
  <?cs if:data.imported.rows ?>
  <p class="notice" role="status"><?cs var:Lang.markets.imported ?>: <?cs var:data.imported.rows ?> <?cs var:Lang.markets.candles_word ?> (<?cs var:data.imported.new ?> <?cs var:Lang.markets.new_word ?>), <?cs var:data.imported.first ?> – <?cs var:data.imported.last ?> UTC. <a href="<?cs var:data.imported.chart ?>"><?cs var:Lang.markets.see_chart ?></a></p>
  <?cs /if ?>
  <?cs if:data.error ?>
  <div class="alert" role="alert">
    <p><?cs var:data.error ?></p>
    <?cs if:subcount(data.lines) ?>
    <ul class="bad-lines"><?cs each:l = data.lines ?><li><?cs var:Lang.markets.line ?> <?cs var:l.line ?>: <?cs var:l.reason ?></li><?cs /each ?></ul>
    <?cs if:#data.bad_lines > subcount(data.lines) ?><p><?cs var:#data.bad_lines - subcount(data.lines) ?> <?cs var:Lang.markets.more_lines ?></p><?cs /if ?>
    <?cs /if ?>
  </div>
  <?cs /if ?>
  <form id="import-form" method="post" action="/markets/import" class="form" data-max-bytes="<?cs var:data.max_bytes ?>"
        data-msg-uploading="<?cs var:Lang.markets.uploading ?>" data-msg-done="<?cs var:Lang.markets.done ?>"
        data-msg-failed="<?cs var:Lang.markets.failed ?>" data-msg-too-large="<?cs var:Lang.markets.too_large ?>"
        data-msg-line="<?cs var:Lang.markets.line ?>" data-msg-chart="<?cs var:Lang.markets.see_chart ?>">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.markets.exchange ?><input type="text" name="exchange" required maxlength="32" pattern="[a-z0-9_]{1,32}" value="<?cs var:data.form.exchange ?>"></label>
    <?cs if:data.fields.exchange ?><p class="alert"><?cs var:data.fields.exchange ?></p><?cs /if ?>
    <label><?cs var:Lang.markets.symbol ?><input type="text" name="symbol" required maxlength="32" pattern="[A-Z0-9]{2,32}" placeholder="BTCUSDT" value="<?cs var:data.form.symbol ?>"></label>
    <?cs if:data.fields.symbol ?><p class="alert"><?cs var:data.fields.symbol ?></p><?cs /if ?>
    <label><?cs var:Lang.markets.base ?><input type="text" name="base" maxlength="16" pattern="[A-Z0-9]{1,16}" value="<?cs var:data.form.base ?>"></label>
    <label><?cs var:Lang.markets.quote ?><input type="text" name="quote" maxlength="16" pattern="[A-Z0-9]{1,16}" value="<?cs var:data.form.quote ?>"></label>
    <p class="muted"><?cs var:Lang.markets.assets_hint ?></p>
    <?cs if:data.fields.assets ?><p class="alert"><?cs var:data.fields.assets ?></p><?cs /if ?>
    <label><?cs var:Lang.markets.timeframe ?>
      <select name="timeframe">
      <?cs each:t = data.timeframes ?><option value="<?cs var:t ?>"<?cs if:t == data.form.timeframe ?> selected<?cs /if ?>><?cs var:t ?></option><?cs /each ?>
      </select></label>
    <?cs if:data.fields.timeframe ?><p class="alert"><?cs var:data.fields.timeframe ?></p><?cs /if ?>
    <label><?cs var:Lang.markets.format ?>
      <select name="format">
        <option value="binance"<?cs if:data.form.format != "generic" ?> selected<?cs /if ?>><?cs var:Lang.markets.format_binance ?></option>
        <option value="generic"<?cs if:data.form.format == "generic" ?> selected<?cs /if ?>><?cs var:Lang.markets.format_generic ?></option>
      </select></label>
    <?cs if:data.fields.format ?><p class="alert"><?cs var:data.fields.format ?></p><?cs /if ?>
    <div id="import-file-box" class="upload" hidden>
      <label><?cs var:Lang.markets.file ?><input type="file" name="file" accept=".csv,text/csv"></label>
      <progress id="import-progress" max="1" value="0" hidden></progress>
      <p id="import-status" role="status"></p>
      <ul id="import-lines" class="bad-lines"></ul>
    </div>
    <label><?cs var:Lang.markets.csv ?><textarea name="csv" rows="8" spellcheck="false" placeholder="timestamp,open,high,low,close,volume"><?cs var:data.form.csv ?></textarea></label>
    <?cs if:data.fields.csv ?><p class="alert"><?cs var:data.fields.csv ?></p><?cs /if ?>
    <button type="submit" class="primary"><?cs var:Lang.markets.submit ?></button>
  </form>
</section>
<script src="/static/js/markets-import.js" defer></script>
<?cs include:"layout/foot.cs" ?>
