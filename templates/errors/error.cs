<?cs # errors/error.cs — the HTML face of the one error shape (code, message, request id), used
   for 404, 405, 413, 500 and every other error status. ?><?cs include:"layout/head.cs" ?>
<section class="error-page">
  <h1><?cs var:Lang.error.title ?></h1>
  <p class="lead"><?cs var:data.error.message ?></p>
  <p class="muted"><?cs var:Lang.error.code ?>: <code><?cs var:data.error.code ?></code> · <?cs var:Lang.layout.request_id ?> <code><?cs var:data.error.request_id ?></code></p>
  <p><a href="/"><?cs var:Lang.error.home ?></a></p>
</section>
<?cs include:"layout/foot.cs" ?>
