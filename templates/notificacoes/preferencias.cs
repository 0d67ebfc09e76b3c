<?cs # notificacoes/preferencias.cs — which categories reach the user on which channel, and quiet hours. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.notificacoes.prefs_title ?></h1>
  <p><?cs var:Lang.notificacoes.prefs_explain ?></p>
  <?cs if:!data.telegram_linked ?><p class="muted"><?cs var:Lang.notificacoes.telegram_unlinked ?></p><?cs /if ?>
  <form method="post" action="/notificacoes/preferencias" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="form" value="matrix">
    <table class="table">
      <thead><tr><th><?cs var:Lang.notificacoes.category ?></th><th><?cs var:Lang.notificacoes.ch.in_app ?></th><th><?cs var:Lang.notificacoes.ch.telegram ?></th><th><?cs var:Lang.notificacoes.ch.email ?></th></tr></thead>
      <tbody>
      <?cs each:p = data.preferences ?>
        <tr><td><?cs var:Lang.notificacoes.cat[p.category] ?></td>
          <td><input type="checkbox" name="pref.<?cs var:p.category ?>.in_app" value="1"<?cs if:p.in_app ?> checked<?cs /if ?>></td>
          <td><input type="checkbox" name="pref.<?cs var:p.category ?>.telegram" value="1"<?cs if:p.telegram ?> checked<?cs /if ?>></td>
          <td><input type="checkbox" name="pref.<?cs var:p.category ?>.email" value="1"<?cs if:p.email ?> checked<?cs /if ?>></td></tr>
      <?cs /each ?>
      </tbody>
    </table>
    <fieldset>
      <legend><?cs var:Lang.notificacoes.quiet_title ?></legend>
      <p class="muted"><?cs var:Lang.notificacoes.quiet_explain ?></p>
      <label><input type="checkbox" name="quiet_enabled" value="1"<?cs if:data.quiet_hours.enabled ?> checked<?cs /if ?>> <?cs var:Lang.notificacoes.quiet_on ?></label>
      <label><?cs var:Lang.notificacoes.quiet_start ?><input type="time" name="quiet_start" value="<?cs var:data.quiet_hours.start ?>"></label>
      <label><?cs var:Lang.notificacoes.quiet_end ?><input type="time" name="quiet_end" value="<?cs var:data.quiet_hours.end ?>"></label>
      <label><?cs var:Lang.notificacoes.time_zone ?><input type="text" name="time_zone" maxlength="64" value="<?cs var:data.quiet_hours.time_zone ?>"></label>
    </fieldset>
    <button type="submit" class="primary"><?cs var:Lang.notificacoes.save ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
