<?cs # mfa/verify.cs — step-up: a fresh 2FA code before a sensitive action (withdrawals, credentials, 2FA). ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.mfa.verify_title ?></h1>
  <p><?cs var:Lang.auth.mfa_hint ?></p>
  <form method="post" action="/account/2fa/verify" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="next" value="<?cs var:data.next ?>">
    <label><?cs var:Lang.auth.code ?><input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="20" autofocus></label>
    <button type="submit" class="primary"><?cs var:Lang.auth.mfa_submit ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
