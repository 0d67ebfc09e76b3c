<?cs # privacy/delete.cs — account deletion: what is erased and what the law makes us keep, then the
   password and the confirmation word. The session ends when the deletion succeeds. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.privacy.delete_title ?></h1>
  <?cs if:data.error ?><p class="alert" role="alert"><?cs var:data.error ?></p><?cs /if ?>
  <p><?cs var:Lang.privacy.delete_what ?></p>
  <p><?cs var:Lang.privacy.delete_kept ?></p>
  <p><a href="/privacy/export.json" download><?cs var:Lang.privacy.export_first ?></a></p>
  <form method="post" action="/privacy/delete" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.privacy.password ?><input type="password" name="password" autocomplete="current-password" required></label>
    <label><?cs var:Lang.privacy.type_word ?> <strong><?cs var:data.confirm_word ?></strong><input type="text" name="confirm" autocomplete="off" required></label>
    <button type="submit" class="danger"><?cs var:Lang.privacy.delete_button ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
