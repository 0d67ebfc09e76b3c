<?cs # jobs/index.cs — the tenant's jobs, newest first: status, a progress bar (a <progress> element, no
   script needed), attempts, the error of failed ones; a status filter, paging, and a start form. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs if:data.live ?> data-auto-refresh="3"<?cs /if ?>>
  <h1><?cs var:Lang.jobs.title ?></h1>
  <p class="muted"><?cs var:Lang.jobs.explain ?></p>
  <form method="get" action="/jobs" class="filters">
    <label><?cs var:Lang.jobs.status ?>
      <select name="status">
        <option value=""><?cs var:Lang.jobs.all ?></option>
        <?cs each:s = data.statuses ?><option value="<?cs var:s ?>"<?cs if:s == data.status ?> selected<?cs /if ?>><?cs var:Lang.jobs.st[s] ?></option><?cs /each ?>
      </select></label>
    <button type="submit"><?cs var:Lang.jobs.filter ?></button>
  </form>
  <?cs if:subcount(data.jobs) ?>
  <div class="table-wrap">
  <table class="table jobs">
    <thead><tr><th>#</th><th><?cs var:Lang.jobs.type ?></th><th><?cs var:Lang.jobs.status ?></th><th><?cs var:Lang.jobs.progress ?></th><th><?cs var:Lang.jobs.attempts ?></th><th><?cs var:Lang.jobs.created ?></th><th><?cs var:Lang.jobs.finished ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:j = data.jobs ?>
      <tr>
        <td><a href="/jobs/<?cs var:j.id ?>"><?cs var:j.id ?></a></td>
        <td><code><?cs var:j.type ?></code></td>
        <td><span class="job-status job-<?cs var:j.status ?>"><?cs var:Lang.jobs.st[j.status] ?></span><?cs if:j.cancel_requested ?> <span class="muted">(<?cs var:Lang.jobs.cancel_requested ?>)</span><?cs /if ?><?cs if:j.retry_at ?><br><span class="muted"><?cs var:Lang.jobs.retry_at ?> <?cs var:j.retry_at ?> UTC</span><?cs /if ?><?cs if:j.error ?><br><span class="job-error"><?cs var:j.error ?></span><?cs /if ?></td>
        <td><progress max="100" value="<?cs var:j.progress ?>"><?cs var:j.progress ?>%</progress> <span class="muted"><?cs var:j.progress ?>%</span></td>
        <td><?cs var:j.attempts ?>/<?cs var:j.max_attempts ?></td>
        <td><?cs var:j.created ?> UTC</td>
        <td><?cs if:j.finished ?><?cs var:j.finished ?> UTC<?cs /if ?></td>
        <td><a href="/jobs/<?cs var:j.id ?>"><?cs var:Lang.jobs.details ?></a></td>
      </tr>
    <?cs /each ?>
    </tbody>
  </table>
  </div>
  <?cs if:data.next_before ?><p><a href="/jobs?before=<?cs var:data.next_before ?><?cs if:data.status ?>&amp;status=<?cs var:data.status ?><?cs /if ?>"><?cs var:Lang.jobs.older ?></a></p><?cs /if ?>
  <?cs else ?>
  <p><?cs var:Lang.jobs.empty ?></p>
  <?cs /if ?>
</section>
<?cs if:subcount(data.web_types) ?>
<section class="card">
  <h2><?cs var:Lang.jobs.start ?></h2>
  <form method="post" action="/jobs" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.jobs.type ?>
      <select name="type"><?cs each:t = data.web_types ?><option value="<?cs var:t ?>"><?cs var:t ?></option><?cs /each ?></select></label>
    <label><?cs var:Lang.jobs.params ?><textarea name="params" rows="2" spellcheck="false">{}</textarea></label>
    <button type="submit" class="primary"><?cs var:Lang.jobs.start_button ?></button>
  </form>
</section>
<?cs /if ?>
<?cs include:"layout/foot.cs" ?>
