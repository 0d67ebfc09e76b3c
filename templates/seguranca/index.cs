<?cs # seguranca/index.cs — Segurança: open anomaly alerts (with acknowledge), event counts of the last 24 h,
   and the filtered security event log, newest first, 50 per page. ?><?cs include:"layout/head.cs" ?>
<h1><?cs var:Lang.seguranca.title ?></h1>
<section class="card">
  <h2><?cs var:Lang.seguranca.alerts ?></h2>
  <?cs if:subcount(data.alerts) == 0 ?>
  <p class="muted"><?cs var:Lang.seguranca.no_alerts ?></p>
  <?cs else ?>
  <table class="table alerts">
    <thead><tr><th><?cs var:Lang.seguranca.at ?></th><th><?cs var:Lang.seguranca.rule ?></th><th><?cs var:Lang.seguranca.subject ?></th><th><?cs var:Lang.seguranca.observed ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:a = data.alerts ?>
      <tr data-alert="<?cs var:a.id ?>">
        <td><?cs var:a.at ?> UTC</td>
        <td><?cs alt:Lang.seguranca.rules[a.rule] ?><?cs var:a.rule ?><?cs /alt ?></td>
        <td><?cs if:a.subject ?><code><?cs var:a.subject ?></code><?cs else ?><?cs var:Lang.seguranca.platform ?><?cs /if ?></td>
        <td><?cs var:a.observed ?> / <?cs var:Lang.seguranca.minute ?> (<?cs var:Lang.seguranca.threshold ?> <?cs var:a.threshold ?>)</td>
        <td><?cs if:data.can_manage ?><form method="post" action="/seguranca/alerts/<?cs var:a.id ?>/ack"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.seguranca.ack ?></button></form><?cs /if ?></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table>
  <?cs /if ?>
</section>
<section class="card">
  <h2><?cs var:Lang.seguranca.last_24h ?></h2>
  <?cs if:subcount(data.counts) == 0 ?>
  <p class="muted"><?cs var:Lang.seguranca.no_events ?></p>
  <?cs else ?>
  <dl class="stats">
  <?cs each:c = data.counts ?>
    <dt><?cs alt:Lang.seguranca.kinds[c.kind] ?><?cs var:c.kind ?><?cs /alt ?></dt><dd><?cs var:c.count ?></dd>
  <?cs /each ?>
  </dl>
  <?cs /if ?>
</section>
<section class="card">
  <h2><?cs var:Lang.seguranca.events ?></h2>
  <form method="get" action="/seguranca" class="form filters">
    <label><?cs var:Lang.seguranca.kind ?><select name="kind">
      <option value=""><?cs var:Lang.seguranca.all ?></option>
      <?cs each:k = Lang.seguranca.kinds ?><option value="<?cs name:k ?>"<?cs if:data.filter.kind == name(k) ?> selected<?cs /if ?>><?cs var:k ?></option><?cs /each ?>
    </select></label>
    <label><?cs var:Lang.seguranca.user ?><input type="text" name="user" inputmode="numeric" pattern="[0-9]*" maxlength="18" value="<?cs var:data.filter.user ?>"></label>
    <label><?cs var:Lang.seguranca.ip ?><input type="text" name="ip" maxlength="45" value="<?cs var:data.filter.ip ?>"></label>
    <label><?cs var:Lang.seguranca.from ?><input type="date" name="from" value="<?cs var:data.filter.from ?>"></label>
    <label><?cs var:Lang.seguranca.to ?><input type="date" name="to" value="<?cs var:data.filter.to ?>"></label>
    <button type="submit"><?cs var:Lang.seguranca.filter ?></button>
  </form>
  <?cs if:subcount(data.events) == 0 ?>
  <p class="muted"><?cs var:Lang.seguranca.no_events ?></p>
  <?cs else ?>
  <div class="table-wrap"><table class="table events">
    <thead><tr><th><?cs var:Lang.seguranca.at ?></th><th><?cs var:Lang.seguranca.kind ?></th><th><?cs var:Lang.seguranca.severity ?></th><th><?cs var:Lang.seguranca.user ?></th><th><?cs var:Lang.seguranca.ip ?></th><th><?cs var:Lang.seguranca.details ?></th></tr></thead>
    <tbody>
    <?cs each:e = data.events ?>
      <tr data-event="<?cs var:e.id ?>" data-kind="<?cs var:e.kind ?>">
        <td><?cs var:e.at ?> UTC</td>
        <td><?cs alt:Lang.seguranca.kinds[e.kind] ?><?cs var:e.kind ?><?cs /alt ?></td>
        <td><?cs alt:Lang.seguranca.severities[e.severity] ?><?cs var:e.severity ?><?cs /alt ?></td>
        <td><?cs if:e.user_email ?><?cs var:e.user_email ?> (#<?cs var:e.user_id ?>)<?cs elif:e.user_id ?>#<?cs var:e.user_id ?><?cs else ?>—<?cs /if ?></td>
        <td><?cs var:e.ip ?></td>
        <td><code><?cs var:e.details_text ?></code></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table></div>
  <?cs if:data.next_before ?><?cs # the filter values are validated to URL-safe characters, so they go into the link as they are ?>
  <p><a rel="next" href="/seguranca?before=<?cs var:data.next_before ?>&amp;kind=<?cs var:data.filter.kind ?>&amp;user=<?cs var:data.filter.user ?>&amp;ip=<?cs var:data.filter.ip ?>&amp;from=<?cs var:data.filter.from ?>&amp;to=<?cs var:data.filter.to ?>"><?cs var:Lang.seguranca.older ?></a></p>
  <?cs /if ?>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
