<?cs # pricing/index.cs — the plans for sale with their limits and monthly price, the visitor's own
   plan marked when signed in. Public: no login needed. ?><?cs include:"layout/head.cs" ?>
<section class="pricing">
  <h1><?cs var:Lang.plans.title ?></h1>
  <p class="muted"><?cs var:Lang.plans.explain ?></p>
  <div class="plan-grid">
  <?cs each:p = data.plans ?>
    <article class="plan<?cs if:p.current ?> current<?cs /if ?>" id="plan-<?cs var:p.plan ?>">
      <h2><?cs var:p.name ?></h2>
      <?cs if:p.current ?><p class="notice"><?cs var:Lang.plans.your_plan ?></p><?cs /if ?>
      <p class="muted"><?cs var:p.tagline ?></p>
      <p class="price"><?cs if:p.price_brl_cents > 0 ?><?cs var:p.price ?> <span class="muted"><?cs var:Lang.plans.per_month ?></span><?cs else ?><?cs var:Lang.plans.free_price ?><?cs /if ?></p>
      <?cs if:p.trial_days > 0 ?><p class="muted"><?cs var:p.trial_days ?> <?cs var:Lang.plans.trial_days ?></p><?cs /if ?>
      <table class="plan-limits">
        <tbody><?cs each:r = p.rows ?><tr><th scope="row"><?cs var:r.label ?></th><td data-limit="<?cs var:r.limit ?>"><?cs var:r.value ?></td></tr><?cs /each ?></tbody>
      </table>
    </article>
  <?cs /each ?>
  </div>
  <?cs if:!user.logged_in ?><p><a class="button primary" href="/register"><?cs var:Lang.plans.start ?></a></p><?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
