<?cs # jobs/show.cs — one job: status and progress, attempts, timing, the error that ended it, its params
   and result as JSON; cancel (queued or running) and retry (dead, failed or cancelled) buttons. ?><?cs include:"layout/head.cs" ?>
<section class="card"<?cs if:data.live ?> data-auto-refresh="2"<?cs /if ?>>
  <p><a href="/jobs"><?cs var:Lang.jobs.back ?></a></p>
  <h1><?cs var:Lang.jobs.show_title ?> #<?cs var:data.job.id ?> · <code><?cs var:data.job.type ?></code></h1>
  <dl class="facts">
    <dt><?cs var:Lang.jobs.status ?></dt><dd><span class="job-status job-<?cs var:data.job.status ?>"><?cs var:Lang.jobs.st[data.job.status] ?></span><?cs if:data.job.cancel_requested ?> <span class="muted">(<?cs var:Lang.jobs.cancel_requested ?>)</span><?cs /if ?></dd>
    <dt><?cs var:Lang.jobs.progress ?></dt><dd><progress max="100" value="<?cs var:data.job.progress ?>"><?cs var:data.job.progress ?>%</progress> <?cs var:data.job.progress ?>%</dd>
    <dt><?cs var:Lang.jobs.attempts ?></dt><dd><?cs var:data.job.attempts ?>/<?cs var:data.job.max_attempts ?></dd>
    <?cs if:data.job.retry_at ?><dt><?cs var:Lang.jobs.retry_at ?></dt><dd><?cs var:data.job.retry_at ?> UTC</dd><?cs /if ?>
    <dt><?cs var:Lang.jobs.created ?></dt><dd><?cs var:data.job.created ?> UTC</dd>
    <?cs if:data.job.started ?><dt><?cs var:Lang.jobs.started ?></dt><dd><?cs var:data.job.started ?> UTC</dd><?cs /if ?>
    <?cs if:data.job.finished ?><dt><?cs var:Lang.jobs.finished ?></dt><dd><?cs var:data.job.finished ?> UTC</dd><?cs /if ?>
    <?cs if:data.job.worker ?><dt><?cs var:Lang.jobs.worker ?></dt><dd><code><?cs var:data.job.worker ?></code></dd><?cs /if ?>
  </dl>
  <?cs if:data.job.error ?>
  <h2><?cs var:Lang.jobs.error ?></h2>
  <p class="alert job-error" role="alert"><?cs var:data.job.error ?></p>
  <?cs /if ?>
  <h2><?cs var:Lang.jobs.params ?></h2>
  <pre class="json"><?cs var:data.job.params_pretty ?></pre>
  <h2><?cs var:Lang.jobs.result ?></h2>
  <?cs if:data.job.result_pretty ?><pre class="json"><?cs var:data.job.result_pretty ?></pre><?cs else ?><p class="muted"><?cs var:Lang.jobs.no_result ?></p><?cs /if ?>
  <div class="actions">
    <?cs if:data.job.can_cancel ?><form method="post" action="/jobs/<?cs var:data.job.id ?>/cancel"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.jobs.cancel ?></button></form><?cs /if ?>
    <?cs if:data.job.can_retry ?><form method="post" action="/jobs/<?cs var:data.job.id ?>/retry"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.jobs.retry ?></button></form><?cs /if ?>
  </div>
</section>
<?cs include:"layout/foot.cs" ?>
