<?cs # dashboard/index.cs — the landing page: tenant, plan and job counts from the summary that
   /api/v1/dashboard returns as JSON. ?><?cs include:"layout/head.cs" ?>
<h1><?cs var:Lang.dashboard.title ?></h1>
<p class="lead"><?cs var:Lang.dashboard.welcome ?>, <?cs var:user.name ?>.</p>
<section class="cards">
  <article class="card">
    <h2><?cs var:Lang.dashboard.tenant ?></h2>
    <p class="big"><?cs var:data.tenant.name ?></p>
    <p class="muted"><?cs var:Lang.dashboard.plan ?>: <?cs var:data.tenant.plan ?></p>
  </article>
  <article class="card">
    <h2><?cs var:Lang.dashboard.users ?></h2>
    <p class="big"><?cs var:data.users ?></p>
  </article>
  <article class="card">
    <h2><?cs var:Lang.dashboard.jobs ?></h2>
    <dl class="stats">
      <dt><?cs var:Lang.dashboard.queued ?></dt><dd><?cs var:data.jobs.queued ?></dd>
      <dt><?cs var:Lang.dashboard.running ?></dt><dd><?cs var:data.jobs.running ?></dd>
      <dt><?cs var:Lang.dashboard.done ?></dt><dd><?cs var:data.jobs.done ?></dd>
    </dl>
  </article>
</section>
<?cs include:"layout/foot.cs" ?>
