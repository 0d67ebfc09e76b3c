<?cs # optimizations/search_fields.cs — the search part of the optimization and walk-forward forms:
   # method, objective, constraints, the method's settings, and min/max/step per parameter. ?><?cs if:data.errors.spec ?><p class="alert" role="alert"><?cs var:data.errors.spec ?></p><?cs /if ?>
    <fieldset>
      <legend><?cs var:Lang.optimizations.search ?></legend>
      <label><?cs var:Lang.optimizations.method ?>
        <select name="method"><?cs each:m = data.methods ?><option value="<?cs var:m.key ?>"<?cs if:m.key == data.form.method ?> selected<?cs /if ?>><?cs var:m.label ?></option><?cs /each ?></select></label>
      <label><?cs var:Lang.optimizations.objective ?>
        <select name="objective"><?cs each:m = data.objectives ?><option value="<?cs var:m.key ?>"<?cs if:m.key == data.form.objective ?> selected<?cs /if ?>><?cs var:m.label ?></option><?cs /each ?></select></label>
      <label><?cs var:Lang.optimizations.top ?><input type="number" name="top" min="1" max="200" step="1" value="<?cs var:data.form.top ?>"></label>
      <label><?cs var:Lang.optimizations.seed ?><input type="number" name="seed" min="0" step="1" value="<?cs var:data.form.seed ?>"></label>
    </fieldset>
    <fieldset>
      <legend><?cs var:Lang.optimizations.constraints ?></legend>
      <label><?cs var:Lang.optimizations.min_trades ?><input type="number" name="min_trades" min="0" step="1" value="<?cs var:data.form.min_trades ?>"></label>
      <label><?cs var:Lang.optimizations.max_drawdown_pct ?><input type="number" name="max_drawdown_pct" min="0" max="100" step="any" value="<?cs var:data.form.max_drawdown_pct ?>"></label>
    </fieldset>
    <fieldset>
      <legend><?cs var:Lang.optimizations.method_settings ?></legend>
      <label><?cs var:Lang.optimizations.samples ?><input type="number" name="samples" min="1" step="1" value="<?cs var:data.form.samples ?>"></label>
      <label><?cs var:Lang.optimizations.population ?><input type="number" name="population" min="4" max="1000" step="1" value="<?cs var:data.form.population ?>"></label>
      <label><?cs var:Lang.optimizations.generations ?><input type="number" name="generations" min="1" max="10000" step="1" value="<?cs var:data.form.generations ?>"></label>
      <label><?cs var:Lang.optimizations.mutation ?><input type="number" name="mutation" min="0" max="1" step="any" value="<?cs var:data.form.mutation ?>"></label>
    </fieldset>
    <fieldset>
      <legend><?cs var:Lang.optimizations.space ?></legend>
      <p class="muted"><?cs var:Lang.optimizations.space_explain ?></p>
      <div class="table-wrap"><table class="table">
        <thead><tr><th scope="col"><?cs var:Lang.optimizations.dim ?></th><th scope="col"><?cs var:Lang.optimizations.dim_range ?></th><th scope="col"><?cs var:Lang.optimizations.min ?></th><th scope="col"><?cs var:Lang.optimizations.max ?></th><th scope="col"><?cs var:Lang.optimizations.step ?></th></tr></thead>
        <tbody><?cs each:d = data.dims ?>
          <tr><th scope="row"><?cs var:d.label ?></th><td><?cs var:d.range ?></td>
            <td><input type="number" step="any" name="s.<?cs var:d.name ?>.min" value="<?cs var:d.min ?>" aria-label="<?cs var:d.label ?>: <?cs var:Lang.optimizations.min ?>"></td>
            <td><input type="number" step="any" name="s.<?cs var:d.name ?>.max" value="<?cs var:d.max ?>" aria-label="<?cs var:d.label ?>: <?cs var:Lang.optimizations.max ?>"></td>
            <td><input type="number" step="any" name="s.<?cs var:d.name ?>.step" value="<?cs var:d.step ?>" aria-label="<?cs var:d.label ?>: <?cs var:Lang.optimizations.step ?>"></td></tr>
          <?cs if:d.error ?><tr><td colspan="5"><p class="alert"><?cs var:d.error ?></p></td></tr><?cs /if ?>
        <?cs /each ?></tbody>
      </table></div>
    </fieldset>
