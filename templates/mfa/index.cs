<?cs # mfa/index.cs — the 2FA status page: start enrolment, or turn it off / renew recovery codes. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.mfa.title ?></h1>
  <?cs if:data.enabled ?>
    <p class="notice"><?cs var:Lang.mfa.on ?></p>
    <?cs if:!data.recent ?><p><a href="/account/2fa/verify?next=/account/2fa"><?cs var:Lang.mfa.confirm_first ?></a></p><?cs /if ?>
    <form method="post" action="/account/2fa/recovery" class="form">
      <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
      <button type="submit"><?cs var:Lang.mfa.new_codes ?></button>
    </form>
    <?cs if:!data.required ?>
    <form method="post" action="/account/2fa/disable" class="form">
      <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
      <button type="submit" class="danger"><?cs var:Lang.mfa.disable ?></button>
    </form>
    <?cs /if ?>
  <?cs else ?>
    <?cs if:data.required ?><p class="alert" role="alert"><?cs var:Lang.mfa.required ?></p><?cs /if ?>
    <p><?cs var:Lang.mfa.explain ?></p>
    <form method="post" action="/account/2fa/setup" class="form">
      <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
      <button type="submit" class="primary"><?cs var:Lang.mfa.start ?></button>
    </form>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
