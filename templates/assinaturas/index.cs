<?cs # assinaturas/index.cs — the tenant's plan and its usage of every limit, the subscription's state
   with the dunning banner, and the forms that change plan or payment method on Stripe. ?><?cs include:"layout/head.cs" ?>
<section class="card">
  <h1><?cs var:Lang.assinaturas.title ?></h1>
  <p class="muted"><?cs var:Lang.assinaturas.explain ?></p>
  <?cs if:data.checkout == "success" ?><p class="notice" role="status"><?cs var:Lang.assinaturas.checkout_success ?></p><?cs elif:data.checkout == "canceled" ?><p class="notice" role="status"><?cs var:Lang.assinaturas.checkout_canceled ?></p><?cs /if ?>
  <?cs if:data.change == "pending" || data.subscription.pending_plan || data.subscription.pending_cancel ?><p class="notice change-pending" role="status"><?cs var:Lang.assinaturas.change_pending ?><?cs if:data.subscription.pending_plan ?> <?cs var:Lang.assinaturas.pending_plan ?> <strong id="pending-plan" data-plan="<?cs var:data.subscription.pending_plan ?>"><?cs var:data.subscription.pending_plan_name ?></strong>.<?cs /if ?></p><?cs /if ?>
  <?cs if:data.trial_started ?><p class="notice" role="status"><?cs var:Lang.assinaturas.trial_started ?></p><?cs /if ?>
  <?cs if:data.past_due ?>
  <p class="alert past-due" role="alert"><?cs var:Lang.assinaturas.past_due ?> <time datetime="<?cs var:data.subscription.pay_before ?>"><?cs var:data.subscription.pay_before ?></time> <?cs var:Lang.assinaturas.past_due_after ?></p>
  <?cs /if ?>
  <p><?cs var:Lang.assinaturas.plan ?>: <strong id="current-plan" data-plan="<?cs var:data.plan ?>"><?cs var:data.plan_name ?></strong><?cs if:data.price_brl_cents > 0 ?> — <?cs var:data.price ?> <span class="muted"><?cs var:Lang.assinaturas.per_month ?></span><?cs /if ?></p>
</section>
<section class="card">
  <h2><?cs var:Lang.assinaturas.usage ?></h2>
  <div class="table-wrap"><table class="table usage">
    <thead><tr><th><?cs var:Lang.assinaturas.limit ?></th><th><?cs var:Lang.assinaturas.used ?></th><th><?cs var:Lang.assinaturas.allowed ?></th><th></th></tr></thead>
    <tbody>
    <?cs each:u = data.usage ?>
      <tr data-limit="<?cs var:u.limit ?>"><th scope="row"><?cs var:u.label ?></th><td class="used"><?cs var:u.used ?></td><td class="allowed"><?cs var:u.allowed_text ?></td>
        <td><?cs if:u.allowed ?><meter min="0" max="100" value="<?cs var:u.pct ?>"><?cs var:u.pct ?>%</meter><?cs if:u.full ?> <span class="alert"><?cs var:Lang.assinaturas.full ?></span><?cs /if ?><?cs /if ?></td></tr>
    <?cs /each ?>
    </tbody>
  </table></div>
</section>
<section class="card">
  <h2><?cs var:Lang.assinaturas.subscription ?></h2>
  <?cs if:data.subscription.status ?>
  <dl class="facts">
    <dt><?cs var:Lang.assinaturas.status_label ?></dt><dd id="subscription-status" data-status="<?cs var:data.subscription.status ?>"><?cs var:data.subscription.status_label ?></dd>
    <?cs if:data.subscription.current_period_end ?><dt><?cs if:data.subscription.cancel_at_period_end ?><?cs var:Lang.assinaturas.cancels ?><?cs else ?><?cs var:Lang.assinaturas.renews ?><?cs /if ?></dt><dd><?cs var:data.subscription.current_period_end ?></dd><?cs /if ?>
    <?cs if:data.subscription.cancel_at_period_end && data.subscription.current_period_end ?><dt><?cs var:Lang.assinaturas.ends_on ?></dt><dd id="ends-on"><time datetime="<?cs var:data.subscription.current_period_end ?>"><?cs var:data.subscription.current_period_end ?></time></dd><?cs /if ?>
    <?cs if:data.subscription.held_plan ?><dt><?cs var:Lang.assinaturas.held_plan ?></dt><dd id="held-plan" data-plan="<?cs var:data.subscription.held_plan ?>"><?cs var:data.subscription.held_until ?> (<?cs var:data.subscription.held_plan_name ?>)<?cs var:Lang.assinaturas.held_then ?> <?cs var:data.subscription.plan ?></dd><?cs /if ?>
    <?cs if:data.subscription.trial_end ?><dt><?cs var:Lang.assinaturas.trial_end ?></dt><dd><?cs var:data.subscription.trial_end ?></dd><?cs /if ?>
    <?cs if:data.subscription.latest_invoice_url ?><dt><?cs var:Lang.assinaturas.latest_invoice ?></dt><dd><a class="invoice" href="<?cs var:data.subscription.latest_invoice_url ?>" rel="noopener noreferrer" target="_blank"><?cs var:Lang.assinaturas.view_invoice ?></a></dd><?cs /if ?>
  </dl>
  <?cs else ?>
  <p class="muted"><?cs var:Lang.assinaturas.no_subscription ?></p>
  <?cs /if ?>
</section>
<section class="card">
  <h2><?cs var:Lang.assinaturas.change_plan ?></h2>
  <?cs if:data.can_checkout || data.can_change ?>
  <?cs if:data.can_change ?><p class="muted"><?cs var:Lang.assinaturas.change_explain ?></p><?cs /if ?>
  <form method="post" action="<?cs if:data.can_checkout ?>/assinaturas/checkout<?cs else ?>/assinaturas/plano<?cs /if ?>" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.assinaturas.choose ?>
      <select name="plan"><?cs each:p = data.plans ?><option value="<?cs var:p.plan ?>"<?cs if:p.current ?> selected<?cs /if ?>><?cs var:p.name ?> — <?cs var:p.price ?></option><?cs /each ?></select>
    </label>
    <button type="submit" class="primary"><?cs if:data.can_checkout ?><?cs var:Lang.assinaturas.checkout ?><?cs else ?><?cs var:Lang.assinaturas.change_now ?><?cs /if ?></button>
  </form>
  <?cs /if ?>
  <?cs if:data.can_change ?>
  <?cs if:data.subscription.cancel_at_period_end || data.subscription.pending_cancel ?>
  <form method="post" action="/assinaturas/retomar" class="form"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit"><?cs var:Lang.assinaturas.resume ?></button></form>
  <?cs else ?>
  <form method="post" action="/assinaturas/cancelar" class="form"><input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><button type="submit" class="danger"><?cs var:Lang.assinaturas.cancel ?></button></form>
  <?cs /if ?>
  <?cs elif:!data.can_checkout ?>
  <p class="muted"><?cs var:Lang.assinaturas.change_in_portal ?></p>
  <?cs /if ?>
  <?cs if:data.trial.running ?><p id="trial-running"><?cs var:Lang.assinaturas.trial_running ?> <time datetime="<?cs var:data.trial.ends_on ?>"><?cs var:data.trial.ends_on ?></time>.</p><?cs /if ?>
  <?cs if:data.trial.can_start ?>
  <h2><?cs var:Lang.assinaturas.trial_title ?></h2>
  <form method="post" action="/assinaturas/teste" class="form" id="trial-form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>"><input type="hidden" name="plan" value="pro">
    <p class="muted"><?cs var:Lang.assinaturas.trial_explain ?> <?cs var:data.trial.days ?> <?cs var:Lang.assinaturas.trial_days ?></p>
    <button type="submit"><?cs var:Lang.assinaturas.trial_start ?></button>
  </form>
  <?cs /if ?>
  <?cs if:data.has_customer ?>
  <h2><?cs var:Lang.assinaturas.payment_method ?></h2>
  <form method="post" action="/assinaturas/portal" class="form">
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <button type="submit"><?cs var:Lang.assinaturas.portal ?></button>
  </form>
  <?cs /if ?>
</section>
<?cs include:"layout/foot.cs" ?>
