<?cs # account/register.cs — the sign-up form (name, e-mail, password twice, terms); field errors sit under
   each field, and what was typed comes back escaped. ?><?cs include:"layout/head.cs" ?>
<section class="auth-box">
  <h1><?cs var:Lang.account.register_title ?></h1>
  <form method="post" action="/register" class="form" novalidate>
    <input type="hidden" name="_csrf" value="<?cs var:req.csrf ?>">
    <label><?cs var:Lang.account.name ?><input type="text" name="name" autocomplete="name" required maxlength="80" value="<?cs var:data.name ?>"></label>
    <?cs if:data.errors.name ?><p class="alert" role="alert" data-field="name"><?cs var:data.errors.name ?></p><?cs /if ?>
    <label><?cs var:Lang.account.email ?><input type="email" name="email" autocomplete="username" required maxlength="254" value="<?cs var:data.email ?>"></label>
    <?cs if:data.errors.email ?><p class="alert" role="alert" data-field="email"><?cs var:data.errors.email ?></p><?cs /if ?>
    <label><?cs var:Lang.account.password ?><input type="password" name="password" autocomplete="new-password" required minlength="10"></label>
    <?cs if:data.errors.password ?><p class="alert" role="alert" data-field="password"><?cs var:data.errors.password ?></p><?cs /if ?>
    <label><?cs var:Lang.account.password_confirm ?><input type="password" name="password_confirm" autocomplete="new-password" required></label>
    <?cs if:data.errors.password_confirm ?><p class="alert" role="alert" data-field="password_confirm"><?cs var:data.errors.password_confirm ?></p><?cs /if ?>
    <label class="check"><input type="checkbox" name="accept_terms" value="1" required> <?cs var:Lang.account.accept_terms ?> <a href="/terms" target="_blank" rel="noopener"><?cs var:Lang.account.terms_link ?></a> · <a href="/terms?document=privacy" target="_blank" rel="noopener"><?cs var:Lang.account.privacy_link ?></a></label>
    <?cs if:data.errors.accept_terms ?><p class="alert" role="alert" data-field="accept_terms"><?cs var:data.errors.accept_terms ?></p><?cs /if ?>
    <button type="submit" class="primary"><?cs var:Lang.account.submit_register ?></button>
  </form>
  <p class="auth-links"><a href="/login"><?cs var:Lang.account.have_account ?></a></p>
</section>
<?cs include:"layout/foot.cs" ?>
