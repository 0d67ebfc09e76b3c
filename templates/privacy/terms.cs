<?cs # privacy/terms.cs — one version of the terms of use or the privacy policy, in the page's language,
   with links to the other document and to earlier versions. Public: no sign-in needed. ?><?cs include:"layout/head.cs" ?>
<article class="card legal">
  <h1><?cs var:data.title ?></h1>
  <p class="muted"><?cs var:Lang.privacy.version ?> <?cs var:data.version ?> · <?cs var:Lang.privacy.published ?> <?cs var:data.published ?></p>
  <?cs if:!data.is_current ?><p class="alert" role="alert"><?cs var:Lang.privacy.old_version ?> <a href="/terms?document=<?cs var:data.document ?>"><?cs var:Lang.privacy.see_current ?></a></p><?cs /if ?>
  <?cs each:para = data.paragraphs ?><p><?cs var:para ?></p>
  <?cs /each ?>
  <p><?cs if:data.document == "terms" ?><a href="/terms?document=privacy"><?cs var:Lang.privacy.policy_title ?></a><?cs else ?><a href="/terms"><?cs var:Lang.privacy.terms_title ?></a><?cs /if ?></p>
  <?cs if:subcount(data.versions) > 1 ?>
  <h2><?cs var:Lang.privacy.versions ?></h2>
  <ul>
  <?cs each:v = data.versions ?>
    <li><a href="/terms?document=<?cs var:data.document ?>&amp;version=<?cs var:v.version ?>"><?cs var:Lang.privacy.version ?> <?cs var:v.version ?></a> · <?cs var:v.published ?></li>
  <?cs /each ?>
  </ul>
  <?cs /if ?>
</article>
<?cs include:"layout/foot.cs" ?>
