<?cs # notificacoes/index.cs — the user's notifications, newest first: category filter, mark one or all read. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.notificacoes.title ?></h1>
  <p><a href="/notificacoes/preferencias"><?cs var:Lang.notificacoes.prefs_title ?></a></p>
  <form method="get" action="/notificacoes" class="form">
    <label><?cs var:Lang.notificacoes.category ?>
      <select name="category">
        <option value=""><?cs var:Lang.notificacoes.all ?></option>
        <?cs each:c = data.categories ?><option value="<?cs var:c ?>"<?cs if:c == data.category ?> selected<?cs /if ?>><?cs var:Lang.notificacoes.cat[c] ?></option><?cs /each ?>
      </select>
    </label>
    <button type="submit"><?cs var:Lang.notificacoes.filter ?></button>
  </form>
  <p><?cs var:Lang.notificacoes.unread ?>: <strong class="unread-count"><?cs var:data.unread ?></strong></p>
  <?cs if:data.unread > 0 ?>
  <form method="post" action="/notificacoes/read-all" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="category" value="<?cs var:data.category ?>">
    <button type="submit"><?cs var:Lang.notificacoes.read_all ?></button>
  </form>
  <?cs /if ?>
  <?cs if:subcount(data.notifications) == 0 ?><p class="muted"><?cs var:Lang.notificacoes.none ?></p><?cs /if ?>
  <ul class="notifications">
  <?cs each:n = data.notifications ?>
    <li class="notification<?cs if:!n.read ?> unread<?cs /if ?> priority-<?cs var:n.priority ?>">
      <strong><?cs var:n.title ?></strong> <span class="muted"><?cs var:Lang.notificacoes.cat[n.category] ?> · <?cs var:n.created ?> UTC</span>
      <p><?cs var:n.body ?></p>
      <?cs if:!n.read ?><form method="post" action="/notificacoes/<?cs var:n.id ?>/read">
        <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
        <input type="hidden" name="next" value="/notificacoes">
        <button type="submit"><?cs var:Lang.notificacoes.mark_read ?></button>
      </form><?cs /if ?>
    </li>
  <?cs /each ?>
  </ul>
</section>
<?cs include:"layout/foot.cs" ?>
