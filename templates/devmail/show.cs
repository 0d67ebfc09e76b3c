<?cs # devmail/show.cs — development only: one captured e-mail, headers and the decoded plain-text body
   (escaped, in <pre>, so links are copied by hand). ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <p><a href="/dev/mail">← <?cs var:Lang.devmail.back ?></a></p>
  <h1><?cs var:data.subject ?></h1>
  <dl class="mail-headers">
    <dt><?cs var:Lang.devmail.from ?></dt><dd><?cs var:data.from ?></dd>
    <dt><?cs var:Lang.devmail.to ?></dt><dd><?cs var:data.to ?></dd>
    <dt><?cs var:Lang.devmail.date ?></dt><dd><?cs var:data.date ?></dd>
  </dl>
  <pre class="mail-body"><?cs var:data.body ?></pre>
</section>
<?cs include:"layout/foot.cs" ?>
