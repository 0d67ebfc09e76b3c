<?cs # bots/index.cs — the user's bots with status, mode and result; the emergency stop of all of
   # them; for staff who may, the platform-wide trading halt. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.bots.title ?></h1>
  <?cs set:page.tab = "bots" ?><?cs include:"trading/tabs.cs" ?>
  <?cs if:data.halted ?><p class="alert" role="alert"><?cs var:Lang.bots.halted ?><?cs if:data.halt_reason ?> (<?cs var:data.halt_reason ?>)<?cs /if ?></p><?cs /if ?>
  <?cs if:data.stopped_count ?><p class="notice" role="status"><?cs var:Lang.bots.stopped_all ?> <?cs var:data.stopped_count ?></p><?cs /if ?>
  <p class="muted"><?cs var:Lang.bots.explain ?></p>
  <p><a class="button" href="/bots/new"><?cs var:Lang.bots.new ?></a></p>
  <?cs if:subcount(data.bots) ?>
  <div class="table-wrap"><table class="table">
    <thead><tr><th><?cs var:Lang.bots.name ?></th><th><?cs var:Lang.bots.market ?></th><th><?cs var:Lang.bots.strategy ?></th><th><?cs var:Lang.bots.mode ?></th><th><?cs var:Lang.bots.status ?></th><th><?cs var:Lang.bots.equity ?></th><th><?cs var:Lang.bots.pnl ?></th><th><?cs var:Lang.bots.trades ?></th></tr></thead>
    <tbody>
    <?cs each:b = data.bots ?>
      <tr>
        <td><a href="/bots/<?cs var:b.id ?>"><?cs var:b.name ?></a></td>
        <td><?cs var:b.exchange ?> · <?cs var:b.symbol ?> · <?cs var:b.timeframe ?></td>
        <td><?cs var:Lang.strategy.kind[b.strategy] ?></td>
        <td><?cs if:b.mode == "live" ?><?cs var:Lang.bots.mode_live ?><?cs else ?><?cs var:Lang.bots.mode_paper ?><?cs /if ?></td>
        <td><span class="status status-<?cs var:b.status ?>"><?cs if:b.status == "running" ?><?cs var:Lang.bots.status_running ?><?cs elif:b.status == "error" ?><?cs var:Lang.bots.status_error ?><?cs else ?><?cs var:Lang.bots.status_stopped ?><?cs /if ?></span></td>
        <td><?cs var:b.equity_text ?></td>
        <td class="<?cs if:b.pnl_sign < 0 ?>neg<?cs elif:b.pnl_sign > 0 ?>pos<?cs /if ?>"><?cs var:b.pnl_text ?></td>
        <td><?cs var:b.trades ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs else ?>
  <p><?cs var:Lang.bots.empty ?></p>
  <?cs /if ?>
</section>
<?cs if:data.running_count ?>
<section class="card">
  <h2><?cs var:Lang.bots.stop_all ?></h2>
  <p class="muted"><?cs var:Lang.bots.stop_all_explain ?></p>
  <form method="post" action="/bots/stop-all"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="confirm" value="1"><button type="submit" class="danger"><?cs var:Lang.bots.stop_all ?></button></form>
</section>
<?cs /if ?>
<?cs if:data.can_halt ?>
<section class="card">
  <h2><?cs if:data.halted ?><?cs var:Lang.bots.resume ?><?cs else ?><?cs var:Lang.bots.halt ?><?cs /if ?></h2>
  <form method="post" action="/trading/<?cs if:data.halted ?>resume<?cs else ?>halt<?cs /if ?>" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <?cs if:!data.halted ?><label><?cs var:Lang.bots.halt_reason ?><input type="text" name="reason" maxlength="200" required></label><?cs /if ?>
    <button type="submit" class="danger"><?cs if:data.halted ?><?cs var:Lang.bots.resume ?><?cs else ?><?cs var:Lang.bots.halt ?><?cs /if ?></button>
  </form>
</section>
<?cs /if ?>
<?cs include:"layout/foot.cs" ?>
