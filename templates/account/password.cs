<?cs # account/password.cs — the password change form: current password, the new one twice.
   Attempts share the sign-in rate limit; success ends every other session. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.account.password_title ?></h1>
  <p><?cs var:Lang.account.password_explain ?></p>
  <form method="post" action="/account/password" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.account.current_password ?><input type="password" name="current_password" autocomplete="current-password" required></label>
    <?cs if:data.errors.current_password ?><p class="alert" role="alert" data-field="current_password"><?cs var:data.errors.current_password ?></p><?cs /if ?>
    <label><?cs var:Lang.account.new_password ?><input type="password" name="password" autocomplete="new-password" required minlength="10"></label>
    <?cs if:data.errors.password ?><p class="alert" role="alert" data-field="password"><?cs var:data.errors.password ?></p><?cs /if ?>
    <label><?cs var:Lang.account.password_confirm ?><input type="password" name="password_confirm" autocomplete="new-password" required></label>
    <?cs if:data.errors.password_confirm ?><p class="alert" role="alert" data-field="password_confirm"><?cs var:data.errors.password_confirm ?></p><?cs /if ?>
    <button type="submit" class="primary"><?cs var:Lang.account.password_submit ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
