<?cs # auth/login_2fa.cs — the second step of a sign-in: the TOTP (or recovery) code for the pending login. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.auth.mfa_title ?></h1>
  <p><?cs var:Lang.auth.mfa_hint ?></p>
  <?cs if:data.error ?><p class="alert" role="alert"><?cs var:data.error ?></p><?cs /if ?>
  <form method="post" action="/login/2fa" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="mfa_token" value="<?cs var:data.mfa_token ?>">
    <input type="hidden" name="next" value="<?cs var:data.next ?>">
    <label><?cs var:Lang.auth.code ?><input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="20" autofocus></label>
    <button type="submit" class="primary"><?cs var:Lang.auth.mfa_submit ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
