<?cs # account/index.cs — "my account": who you are, the state of verification and 2FA, and the way to
   each account-security page. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.account.title ?></h1>
  <?cs if:data.notice ?><p class="notice" role="status"><?cs var:data.notice ?></p><?cs /if ?>
  <p><strong><?cs var:data.name ?></strong> · <?cs var:data.email ?></p>
  <ul>
    <li><?cs if:data.verified ?><?cs var:Lang.account.verified_yes ?><?cs else ?><?cs var:Lang.account.verified_no ?><?cs /if ?></li>
    <li><?cs if:data.mfa ?><?cs var:Lang.account.mfa_on ?><?cs else ?><?cs var:Lang.account.mfa_off ?><?cs /if ?></li>
    <li><?cs var:Lang.account.password_changed_at ?> <?cs var:data.password_changed ?> UTC</li>
  </ul>
  <h2><?cs var:Lang.account.security ?></h2>
  <ul class="account-links">
    <li><a href="/account/password"><?cs var:Lang.account.link_password ?></a></li>
    <li><a href="/account/2fa"><?cs var:Lang.account.link_2fa ?></a></li>
    <li><a href="/account/sessions"><?cs var:Lang.account.link_sessions ?></a></li>
    <li><a href="/account/tokens"><?cs var:Lang.account.link_tokens ?></a></li>
    <li><a href="/credentials"><?cs var:Lang.account.link_credentials ?></a></li>
    <li><a href="/privacy"><?cs var:Lang.account.link_privacy ?></a></li>
  </ul>
</section>
<?cs include:"layout/foot.cs" ?>
