<?cs # bots/show.cs — one bot: state, controls, result, the cumulative profit curve, open positions,
   # trade history and (live bots) the exchange orders behind its decisions. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:data.bot.name ?></h1>
  <?cs set:page.tab = "bots" ?><?cs include:"trading/tabs.cs" ?>
  <?cs if:data.halted ?><p class="alert" role="alert"><?cs var:Lang.bots.halted ?></p><?cs /if ?>
  <?cs if:data.bot.error ?><p class="alert" role="alert"><?cs var:data.bot.error ?></p><?cs /if ?>
  <dl class="stats">
    <dt><?cs var:Lang.bots.status ?></dt><dd><span class="status status-<?cs var:data.bot.status ?>"><?cs if:data.bot.status == "running" ?><?cs var:Lang.bots.status_running ?><?cs elif:data.bot.status == "error" ?><?cs var:Lang.bots.status_error ?><?cs else ?><?cs var:Lang.bots.status_stopped ?><?cs /if ?></span></dd>
    <dt><?cs var:Lang.bots.market ?></dt><dd><?cs var:data.bot.exchange ?> · <?cs var:data.bot.symbol ?> · <?cs var:data.bot.timeframe ?></dd>
    <dt><?cs var:Lang.bots.strategy ?></dt><dd><?cs var:data.bot.strategy_label ?></dd>
    <dt><?cs var:Lang.bots.mode ?></dt><dd><?cs if:data.bot.mode == "live" ?><?cs var:Lang.bots.mode_live ?> (<?cs var:data.bot.credential ?>)<?cs else ?><?cs var:Lang.bots.mode_paper ?><?cs /if ?></dd>
    <dt><?cs var:Lang.bots.initial_balance ?></dt><dd><?cs var:data.bot.initial_balance_text ?></dd>
    <dt><?cs var:Lang.bots.equity ?></dt><dd><?cs var:data.bot.equity_text ?></dd>
    <dt><?cs var:Lang.bots.pnl ?></dt><dd class="<?cs if:data.bot.pnl_sign < 0 ?>neg<?cs elif:data.bot.pnl_sign > 0 ?>pos<?cs /if ?>"><?cs var:data.bot.pnl_text ?></dd>
    <dt><?cs var:Lang.bots.trades ?></dt><dd><?cs var:data.bot.closed_trades ?></dd>
    <dt><?cs var:Lang.bots.last_candle ?></dt><dd><?cs if:data.bot.last_candle ?><?cs var:data.bot.last_candle ?> UTC<?cs else ?><?cs var:Lang.bots.none ?><?cs /if ?></dd>
  </dl>
  <div class="actions">
  <?cs if:data.bot.status == "running" ?>
    <form method="post" action="/bots/<?cs var:data.bot.id ?>/stop"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.bots.stop ?></button></form>
  <?cs else ?>
    <form method="post" action="/bots/<?cs var:data.bot.id ?>/start"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="primary"><?cs var:Lang.bots.start ?></button></form>
    <a class="button" href="/bots/<?cs var:data.bot.id ?>/edit"><?cs var:Lang.bots.edit ?></a>
    <form method="post" action="/bots/<?cs var:data.bot.id ?>/delete"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.bots.delete ?></button></form>
  <?cs /if ?>
  </div>
</section>
<?cs if:data.pnl_svg ?><section class="card chart"><h2><?cs var:Lang.bots.pnl ?></h2><?cs uvar:data.pnl_svg ?></section><?cs /if ?>
<?cs if:subcount(data.open_trades) ?>
<section class="card">
  <h2><?cs var:Lang.bots.open_trades ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.bots.time ?></th><th><?cs var:Lang.bots.symbol ?></th><th><?cs var:Lang.bots.price ?></th><th><?cs var:Lang.bots.qty ?></th><th><?cs var:Lang.bots.fee ?></th></tr></thead>
    <tbody><?cs each:t = data.open_trades ?><tr><td><?cs var:t.time ?></td><td><?cs var:t.symbol ?></td><td><?cs var:t.price ?></td><td><?cs var:t.qty ?></td><td><?cs var:t.fee ?></td></tr><?cs /each ?></tbody>
  </table></div>
</section>
<?cs /if ?>
<section class="card">
  <h2><?cs var:Lang.bots.history ?></h2>
  <?cs if:subcount(data.trades) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.bots.time ?></th><th></th><th><?cs var:Lang.bots.price ?></th><th><?cs var:Lang.bots.qty ?></th><th><?cs var:Lang.bots.fee ?></th><th><?cs var:Lang.bots.pnl ?></th><th><?cs var:Lang.bots.reason ?></th></tr></thead>
    <tbody><?cs each:t = data.trades ?><tr>
      <td><?cs var:t.time ?></td>
      <td><?cs if:t.kind == "open" ?><?cs var:Lang.bots.kind_open ?><?cs else ?><?cs var:Lang.bots.kind_close ?><?cs /if ?></td>
      <td><?cs var:t.price ?></td><td><?cs var:t.qty ?></td><td><?cs var:t.fee ?></td>
      <td class="<?cs if:t.pnl_sign < 0 ?>neg<?cs elif:t.pnl_sign > 0 ?>pos<?cs /if ?>"><?cs var:t.pnl ?></td>
      <td><?cs if:t.reason ?><?cs var:Lang.bots.reasons[t.reason] ?><?cs /if ?></td>
    </tr><?cs /each ?></tbody>
  </table></div>
  <?cs else ?><p><?cs var:Lang.bots.none ?></p><?cs /if ?>
</section>
<?cs if:subcount(data.orders) ?>
<section class="card">
  <h2><?cs var:Lang.bots.orders ?></h2>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.bots.time ?></th><th></th><th><?cs var:Lang.bots.qty ?></th><th><?cs var:Lang.bots.price ?></th><th><?cs var:Lang.bots.status ?></th></tr></thead>
    <tbody><?cs each:o = data.orders ?><tr><td><?cs var:o.created ?></td><td><?cs var:o.side ?></td><td><?cs var:o.qty ?></td><td><?cs var:o.fill_price ?></td><td><?cs var:o.status ?><?cs if:o.error ?>: <?cs var:o.error ?><?cs /if ?></td></tr><?cs /each ?></tbody>
  </table></div>
</section>
<?cs /if ?>
<?cs include:"layout/foot.cs" ?>
