<?cs # privacy/index.cs — "Privacy and data": which terms and policy versions the user accepted and when,
   the marketing consent, the consent history, and the links to download one's data or delete the account. ?><?cs def:legal_row(doc, label, href, key) ?>
      <tr>
        <td><a href="<?cs var:href ?>"><?cs var:label ?></a></td>
        <td><?cs if:doc.up_to_date ?><?cs var:Lang.privacy.accepted ?> <?cs var:Lang.privacy.version ?> <?cs var:doc.accepted_version ?> · <?cs var:doc.accepted_at ?> UTC
          <?cs elif:doc.accepted_version > 0 ?><?cs var:Lang.privacy.accepted ?> <?cs var:Lang.privacy.version ?> <?cs var:doc.accepted_version ?>; <?cs var:Lang.privacy.new_version ?> <?cs var:doc.current_version ?>
          <?cs else ?><?cs var:Lang.privacy.not_accepted ?><?cs /if ?></td>
        <td><?cs if:!doc.up_to_date && doc.current_version > 0 ?>
          <form method="post" action="/privacy/consent">
            <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
            <input type="hidden" name="document" value="<?cs var:key ?>">
            <input type="hidden" name="version" value="<?cs var:doc.current_version ?>">
            <input type="hidden" name="granted" value="1">
            <button type="submit" class="primary"><?cs var:Lang.privacy.accept ?> (<?cs var:Lang.privacy.version ?> <?cs var:doc.current_version ?>)</button>
          </form><?cs /if ?></td>
      </tr>
<?cs /def ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.privacy.title ?></h1>
  <p><?cs var:Lang.privacy.intro ?></p>
  <table class="table">
    <thead><tr><th><?cs var:Lang.privacy.document ?></th><th><?cs var:Lang.privacy.state ?></th><th></th></tr></thead>
    <tbody>
    <?cs call:legal_row(data.terms, Lang.privacy.terms_title, "/terms", "terms") ?>
    <?cs call:legal_row(data.privacy, Lang.privacy.policy_title, "/terms?document=privacy", "privacy") ?>
      <tr>
        <td><?cs var:Lang.privacy.marketing ?></td>
        <td><?cs if:data.marketing.granted ?><?cs var:Lang.privacy.marketing_on ?> · <?cs var:data.marketing.at ?> UTC<?cs else ?><?cs var:Lang.privacy.marketing_off ?><?cs /if ?></td>
        <td>
          <form method="post" action="/privacy/consent">
            <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
            <input type="hidden" name="document" value="marketing">
            <input type="hidden" name="granted" value="<?cs if:data.marketing.granted ?>0<?cs else ?>1<?cs /if ?>">
            <button type="submit"><?cs if:data.marketing.granted ?><?cs var:Lang.privacy.marketing_withdraw ?><?cs else ?><?cs var:Lang.privacy.marketing_grant ?><?cs /if ?></button>
          </form>
        </td>
      </tr>
    </tbody>
  </table>
  <p class="muted"><?cs var:Lang.privacy.withdraw_terms ?></p>
</section>
<section class="card">
  <h2><?cs var:Lang.privacy.your_data ?></h2>
  <p><?cs var:Lang.privacy.export_explain ?></p>
  <p><a class="button" href="/privacy/export.json" download><?cs var:Lang.privacy.export ?></a></p>
  <p><?cs var:Lang.privacy.delete_explain ?> <a href="/privacy/delete"><?cs var:Lang.privacy.delete_title ?></a></p>
  <p class="muted"><?cs var:Lang.privacy.dpo ?> <a href="mailto:dpo@botcriptofy.dev">dpo@botcriptofy.dev</a></p>
</section>
<section class="card">
  <h2><?cs var:Lang.privacy.history ?></h2>
  <table class="table">
    <thead><tr><th><?cs var:Lang.privacy.when ?></th><th><?cs var:Lang.privacy.document ?></th><th><?cs var:Lang.privacy.version ?></th><th><?cs var:Lang.privacy.state ?></th><th><?cs var:Lang.privacy.address ?></th></tr></thead>
    <tbody>
    <?cs each:h = data.history ?>
      <tr><td><?cs var:h.at ?> UTC</td><td><?cs if:h.document == "terms" ?><?cs var:Lang.privacy.terms_title ?><?cs elif:h.document == "privacy" ?><?cs var:Lang.privacy.policy_title ?><?cs elif:h.document == "marketing" ?><?cs var:Lang.privacy.marketing ?><?cs else ?><?cs var:h.document ?><?cs /if ?></td><td><?cs if:h.version > 0 ?><?cs var:h.version ?><?cs /if ?></td>
        <td><?cs if:h.granted ?><?cs var:Lang.privacy.granted ?><?cs else ?><?cs var:Lang.privacy.withdrawn ?><?cs /if ?></td><td><?cs var:h.ip ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table>
</section>
<?cs include:"layout/foot.cs" ?>
