<?cs # account/sent.cs — the one answer of registration, resend and forgotten password: the same page
   whether or not an account exists, so the answer reveals nothing. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.account.sent_title ?></h1>
  <p class="notice" role="status"><?cs var:data.message ?></p>
  <p class="auth-links"><a href="/login"><?cs var:Lang.account.go_login ?></a></p>
</section>
<?cs include:"layout/foot.cs" ?>
