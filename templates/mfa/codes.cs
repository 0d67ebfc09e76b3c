<?cs # mfa/codes.cs — the recovery codes, shown once: each works one time when the phone is lost. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.mfa.codes_title ?></h1>
  <p class="alert" role="alert"><?cs var:Lang.mfa.codes_once ?></p>
  <ul class="codes"><?cs each:c = data.recovery_codes ?><li><code><?cs var:c ?></code></li><?cs /each ?></ul>
  <p><a href="/account"><?cs var:Lang.mfa.done ?></a></p>
</section>
<?cs include:"layout/foot.cs" ?>
