<?cs # layout/head.cs — document head, top bar with language switch and user menu, and the
   module navigation. Every page includes it first and layout/foot.cs last. ?><!doctype html>
<html lang="<?cs var:req.lang ?>">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title><?cs var:page.title ?> · BotCriptoFy</title>
<link rel="stylesheet" href="/static/css/app.css">
<script src="/static/js/app.js" defer></script>
</head>
<body>
<header class="topbar">
  <a class="brand" href="/">BotCriptoFy</a>
  <?cs if:user.logged_in ?><button class="nav-toggle" type="button" aria-controls="sidenav" aria-expanded="false"><?cs var:Lang.layout.menu ?></button><?cs /if ?>
  <div class="topbar-right">
    <form class="lang-switch" method="post" action="/lang">
      <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
      <input type="hidden" name="next" value="<?cs var:req.path ?>">
      <input type="hidden" name="lang" value="<?cs var:req.other_lang ?>">
      <button type="submit" title="<?cs var:Lang.layout.switch_lang ?>"><?cs var:Lang.layout.other_lang ?></button>
    </form>
    <?cs if:user.logged_in ?>
    <a class="bell" href="/notificacoes" aria-label="<?cs var:Lang.layout.notifications ?><?cs if:user.unread ?> (<?cs var:user.unread ?>)<?cs /if ?>" title="<?cs var:Lang.layout.notifications ?>"><svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z"/></svg><?cs if:user.unread ?><span class="badge" data-unread="<?cs var:user.unread ?>"><?cs var:user.unread ?></span><?cs /if ?></a>
    <details class="user-menu">
      <summary><?cs var:user.name ?></summary>
      <div class="menu">
        <span class="muted"><?cs var:user.email ?></span>
        <a href="/account"><?cs var:Lang.nav.account ?></a>
        <form method="post" action="/logout">
          <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
          <button type="submit"><?cs var:Lang.layout.logout ?></button>
        </form>
      </div>
    </details>
    <?cs /if ?>
  </div>
</header>
<div class="shell">
<?cs if:user.logged_in ?>
<nav id="sidenav" class="sidenav" aria-label="<?cs var:Lang.layout.modules ?>">
  <ul>
  <?cs each:item = Nav ?>
    <?cs if:item.perm && !user.perms[item.perm] ?>
    <?cs elif:item.path ?>
    <li><a href="<?cs var:item.path ?>"<?cs if:item.path == req.path ?> aria-current="page"<?cs /if ?>><?cs var:item.label ?></a></li>
    <?cs else ?>
    <li><span class="soon" title="<?cs var:Lang.layout.soon ?>"><?cs var:item.label ?></span></li>
    <?cs /if ?>
  <?cs /each ?>
  </ul>
</nav>
<?cs /if ?>
<main class="content">
