<?cs # sessions/tokens.cs — personal API tokens: the list (prefix only), a new token shown once, create and revoke. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.sessions.tokens_title ?></h1>
  <?cs if:data.new_token ?>
    <p class="alert" role="alert"><?cs var:Lang.sessions.token_once ?></p>
    <p><code class="secret"><?cs var:data.new_token ?></code></p>
  <?cs /if ?>
  <p><?cs var:Lang.sessions.token_explain ?></p>
  <table class="table">
    <thead><tr><th><?cs var:Lang.sessions.name ?></th><th><?cs var:Lang.sessions.prefix ?></th><th><?cs var:Lang.sessions.scopes ?></th><th><?cs var:Lang.sessions.last_used ?></th><th><?cs var:Lang.sessions.expires ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:t = data.tokens ?>
      <tr><td><?cs var:t.name ?></td><td><code>bcf_<?cs var:t.prefix ?>_…</code></td><td><?cs var:t.scopes ?></td><td><?cs var:t.last_used ?></td><td><?cs var:t.expires ?></td>
        <td><form method="post" action="/account/tokens/<?cs var:t.id ?>/revoke"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.sessions.revoke ?></button></form></td></tr>
    <?cs /each ?>
    </tbody>
  </table>
  <form method="post" action="/account/tokens" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.sessions.name ?><input type="text" name="name" required maxlength="60"></label>
    <label><?cs var:Lang.sessions.scopes ?><select name="scope"><option value="read"><?cs var:Lang.sessions.scope_read ?></option><option value="write"><?cs var:Lang.sessions.scope_write ?></option></select></label>
    <label><?cs var:Lang.sessions.days ?><input type="number" name="expires_days" min="1" max="365" value="90"></label>
    <button type="submit" class="primary"><?cs var:Lang.sessions.create ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
