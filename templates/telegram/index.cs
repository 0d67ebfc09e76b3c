<?cs # telegram/index.cs — linking the user's Telegram chat: a one-time code as a deep link, and unlinking. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.telegram.title ?></h1>
  <p><?cs var:Lang.telegram.explain ?></p>
  <?cs if:data.linked ?>
  <p><?cs var:Lang.telegram.linked_since ?> <?cs var:data.linked_at ?> UTC</p>
  <form method="post" action="/telegram/unlink" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <button type="submit"><?cs var:Lang.telegram.unlink_button ?></button>
  </form>
  <?cs else ?>
  <p class="muted"><?cs var:Lang.telegram.not_linked_page ?></p>
  <?cs /if ?>
  <?cs if:data.deep_link ?>
  <p><a href="<?cs var:data.deep_link ?>" rel="noopener"><?cs var:data.deep_link ?></a></p>
  <?cs /if ?>
  <form method="post" action="/telegram/code" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <button type="submit"><?cs var:Lang.telegram.new_code ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
