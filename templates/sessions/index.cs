<?cs # sessions/index.cs — where the user is signed in, with a revoke button per session and one for all others. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.sessions.title ?></h1>
  <table class="table">
    <thead><tr><th><?cs var:Lang.sessions.device ?></th><th><?cs var:Lang.sessions.ip ?></th><th><?cs var:Lang.sessions.created ?></th><th><?cs var:Lang.sessions.seen ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:s = data.sessions ?>
      <tr>
        <td><?cs var:s.user_agent ?><?cs if:s.current ?> <strong>(<?cs var:Lang.sessions.this ?>)</strong><?cs /if ?></td>
        <td><?cs var:s.ip ?></td><td><?cs var:s.created ?> UTC</td><td><?cs var:s.seen ?> UTC</td>
        <td><form method="post" action="/account/sessions/<?cs var:s.id ?>/revoke"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.sessions.revoke ?></button></form></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table>
  <form method="post" action="/account/sessions/revoke-others" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <button type="submit" class="danger"><?cs var:Lang.sessions.revoke_others ?></button>
  </form>
</section>
<?cs include:"layout/foot.cs" ?>
