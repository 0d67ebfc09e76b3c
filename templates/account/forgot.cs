<?cs # account/forgot.cs — asks for the account's e-mail to send a password-reset link.
   The anonymous CSRF cookie guards it like the sign-in form. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.account.forgot_title ?></h1>
  <p><?cs var:Lang.account.forgot_explain ?></p>
  <?cs if:data.error ?><p class="alert" role="alert" data-field="email"><?cs var:data.error ?></p><?cs /if ?>
  <form method="post" action="/password/forgot" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.account.email ?><input type="email" name="email" autocomplete="username" required maxlength="254" value="<?cs var:data.email ?>"></label>
    <button type="submit" class="primary"><?cs var:Lang.account.forgot_submit ?></button>
  </form>
  <p class="auth-links"><a href="/login"><?cs var:Lang.account.go_login ?></a></p>
</section>
<?cs include:"layout/foot.cs" ?>
