<?cs # account/reset.cs — the new-password form reached from a reset link (the token rides in a hidden
   field); an invalid or used link shows why and where to ask for another. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.account.reset_title ?></h1>
  <?cs if:data.invalid ?>
  <p class="alert" role="alert"><?cs var:data.invalid ?></p>
  <p class="auth-links"><a href="/password/forgot"><?cs var:Lang.account.reset_again ?></a></p>
  <?cs else ?>
  <form method="post" action="/password/reset" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="token" value="<?cs var:data.token ?>">
    <label><?cs var:Lang.account.new_password ?><input type="password" name="password" autocomplete="new-password" required minlength="10"></label>
    <?cs if:data.errors.password ?><p class="alert" role="alert" data-field="password"><?cs var:data.errors.password ?></p><?cs /if ?>
    <label><?cs var:Lang.account.password_confirm ?><input type="password" name="password_confirm" autocomplete="new-password" required></label>
    <?cs if:data.errors.password_confirm ?><p class="alert" role="alert" data-field="password_confirm"><?cs var:data.errors.password_confirm ?></p><?cs /if ?>
    <button type="submit" class="primary"><?cs var:Lang.account.reset_submit ?></button>
  </form>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
