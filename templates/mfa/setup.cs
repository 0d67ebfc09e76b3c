<?cs # mfa/setup.cs — enrolment: the QR code (inline SVG made by lib/qr.c), the secret as text, and the first code. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.mfa.title ?></h1>
  <p><?cs var:Lang.mfa.scan ?></p>
  <?cs # the SVG is built by our own code from the otpauth URI: no user markup reaches it ?>
  <div class="qr-box"><?cs uvar:data.qr_svg ?></div>
  <p><?cs var:Lang.mfa.or_type ?> <code class="secret"><?cs var:data.secret ?></code></p>
  <form method="post" action="/account/2fa/enable" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.auth.code ?><input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8"></label>
    <button type="submit" class="primary"><?cs var:Lang.mfa.enable ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
