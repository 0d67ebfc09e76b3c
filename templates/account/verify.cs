<?cs # account/verify.cs — the result of an e-mail verification link; when it failed, a form to ask
   for a new link. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.account.verify_title ?></h1>
  <?cs if:data.verified ?>
  <p class="notice" role="status"><?cs var:Lang.account.verified ?></p>
  <p class="auth-links"><a href="/login"><?cs var:Lang.account.go_login ?></a></p>
  <?cs else ?>
  <?cs if:data.error ?><p class="alert" role="alert"><?cs var:data.error ?></p><?cs /if ?>
  <p><?cs var:Lang.account.resend_explain ?></p>
  <form method="post" action="/verify/resend" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.account.email ?><input type="email" name="email" autocomplete="username" required maxlength="254"></label>
    <?cs if:data.resend_error ?><p class="alert" role="alert" data-field="email"><?cs var:data.resend_error ?></p><?cs /if ?>
    <button type="submit" class="primary"><?cs var:Lang.account.resend_submit ?></button>
  </form>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
