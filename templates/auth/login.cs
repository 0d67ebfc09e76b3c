<?cs # auth/login.cs — the sign-in form; the CSRF token is the anonymous double-submit cookie. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.auth.title ?></h1>
  <?cs if:data.error ?><p class="alert" role="alert"><?cs var:data.error ?></p><?cs /if ?>
  <?cs if:data.notice ?><p class="notice" role="status"><?cs var:data.notice ?></p><?cs /if ?>
  <form method="post" action="/login" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <input type="hidden" name="next" value="<?cs var:data.next ?>">
    <label><?cs var:Lang.auth.email ?><input type="email" name="email" autocomplete="username" required value="<?cs var:data.email ?>"></label>
    <label><?cs var:Lang.auth.password ?><input type="password" name="password" autocomplete="current-password" required></label>
    <button type="submit" class="primary"><?cs var:Lang.auth.submit ?></button>
  </form>
  <p class="auth-links"><a href="/password/forgot"><?cs var:Lang.auth.forgot ?></a> · <a href="/register"><?cs var:Lang.auth.register ?></a></p>
</section>
<?cs include:"layout/foot.cs" ?>
