<?cs # credentials/index.cs — the user's exchange API keys, shown only by their masks, and the form that adds one.
   # Secrets are never echoed back: a refused form keeps exchange, label and permissions only. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.credentials.title ?></h1>
  <p class="muted"><?cs var:Lang.credentials.explain ?></p>
  <?cs if:!data.mfa_enrolled ?>
    <p class="alert" role="alert"><?cs var:Lang.credentials.need_mfa ?> <a href="/account/2fa"><?cs var:Lang.credentials.mfa_link ?></a></p>
  <?cs elif:!data.stepup_recent ?>
    <p class="notice" role="status"><?cs var:Lang.credentials.need_stepup ?> <a href="/account/2fa/verify?next=/credentials"><?cs var:Lang.credentials.stepup_link ?></a></p>
  <?cs /if ?>
  <?cs if:subcount(data.credentials) ?>
  <table class="table">
    <thead><tr><th><?cs var:Lang.credentials.exchange ?></th><th><?cs var:Lang.credentials.label ?></th><th><?cs var:Lang.credentials.api_key ?></th><th><?cs var:Lang.credentials.permissions ?></th><th><?cs var:Lang.credentials.validation ?></th><th><?cs var:Lang.credentials.created ?></th><th><?cs var:Lang.credentials.last_used ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:c = data.credentials ?>
      <tr>
        <td><?cs var:Lang.credentials.exchanges[c.exchange] ?></td>
        <td><?cs var:c.label ?></td>
        <td><code><?cs var:c.key_mask ?></code></td>
        <td><?cs if:c.permissions == "read" ?><?cs var:Lang.credentials.perm_read ?><?cs else ?><?cs var:Lang.credentials.perm_trade ?><?cs /if ?></td>
        <td><?cs if:c.validated ?><?cs var:Lang.credentials.validated_on ?> <?cs var:c.validated_at ?> UTC (<?cs if:c.can_trade ?><?cs var:Lang.credentials.can_trade ?><?cs else ?><?cs var:Lang.credentials.read_only_key ?><?cs /if ?>)<?cs else ?><?cs var:Lang.credentials.not_validated ?><?cs if:c.validation_error ?>: <?cs var:c.validation_error ?><?cs /if ?><?cs /if ?>
          <?cs if:c.checkable ?><form method="post" action="/credentials/<?cs var:c.id ?>/revalidate"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.credentials.revalidate ?></button></form><?cs /if ?></td>
        <td><?cs var:c.created ?> UTC</td>
        <td><?cs if:c.last_used ?><?cs var:c.last_used ?> UTC<?cs else ?><?cs var:Lang.credentials.never ?><?cs /if ?></td>
        <td><form method="post" action="/credentials/<?cs var:c.id ?>/delete"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.credentials.delete ?></button></form></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table>
  <?cs else ?>
  <p><?cs var:Lang.credentials.empty ?></p>
  <?cs /if ?>
</section>
<section class="card">
  <h2><?cs var:Lang.credentials.add ?></h2>
  <?cs if:subcount(data.errors) ?><p class="alert" role="alert"><?cs var:Lang.credentials.invalid ?></p><?cs /if ?>
  <form method="post" action="/credentials" class="form" autocomplete="off">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.credentials.exchange ?>
      <select name="exchange" required>
      <?cs each:x = data.exchanges ?><option value="<?cs var:x ?>"<?cs if:x == data.form.exchange ?> selected<?cs /if ?>><?cs var:Lang.credentials.exchanges[x] ?></option><?cs /each ?>
      </select></label>
    <?cs if:data.errors.exchange ?><p class="alert"><?cs var:data.errors.exchange ?></p><?cs /if ?>
    <label><?cs var:Lang.credentials.label ?><input type="text" name="label" required maxlength="60" value="<?cs var:data.form.label ?>"></label>
    <?cs if:data.errors.label ?><p class="alert"><?cs var:data.errors.label ?></p><?cs /if ?>
    <label><?cs var:Lang.credentials.api_key ?><input type="text" name="api_key" required minlength="8" maxlength="256" spellcheck="false" autocomplete="off"></label>
    <?cs if:data.errors.api_key ?><p class="alert"><?cs var:data.errors.api_key ?></p><?cs /if ?>
    <label><?cs var:Lang.credentials.api_secret ?><input type="password" name="api_secret" required minlength="8" maxlength="512" autocomplete="new-password"></label>
    <?cs if:data.errors.api_secret ?><p class="alert"><?cs var:data.errors.api_secret ?></p><?cs /if ?>
    <label><?cs var:Lang.credentials.passphrase ?><input type="password" name="passphrase" maxlength="128" autocomplete="new-password"></label>
    <?cs if:data.errors.passphrase ?><p class="alert"><?cs var:data.errors.passphrase ?></p><?cs /if ?>
    <label><?cs var:Lang.credentials.permissions ?>
      <select name="permissions">
        <option value="trade"<?cs if:data.form.permissions != "read" ?> selected<?cs /if ?>><?cs var:Lang.credentials.perm_trade ?></option>
        <option value="read"<?cs if:data.form.permissions == "read" ?> selected<?cs /if ?>><?cs var:Lang.credentials.perm_read ?></option>
      </select></label>
    <?cs if:data.errors.permissions ?><p class="alert"><?cs var:data.errors.permissions ?></p><?cs /if ?>
    <p class="muted"><?cs var:Lang.credentials.stored_sealed ?></p>
    <p class="muted"><?cs var:Lang.credentials.checked_note ?></p>
    <button type="submit" class="primary"><?cs var:Lang.credentials.save ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
