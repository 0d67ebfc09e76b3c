<?cs # trading/tabs.cs — the row of links between the trading pages (markets, bots, backtests,
   # optimizations, walk-forward, models, jobs, exchange keys); each trading page includes it under its heading after `set:page.tab = "<name>"`. ?><nav class="tabs" aria-label="<?cs var:Lang.nav.trading ?>">
  <a href="/markets"<?cs if:page.tab == "markets" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.markets ?></a>
  <a href="/bots"<?cs if:page.tab == "bots" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.bots ?></a>
  <a href="/backtests"<?cs if:page.tab == "backtests" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.backtests ?></a>
  <a href="/optimizations"<?cs if:page.tab == "optimizations" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.optimizations ?></a>
  <a href="/walk-forward"<?cs if:page.tab == "walkforward" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.walkforward ?></a>
  <a href="/models"<?cs if:page.tab == "models" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.models ?></a>
  <a href="/jobs"<?cs if:page.tab == "jobs" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.jobs ?></a>
  <a href="/credentials"<?cs if:page.tab == "credentials" ?> aria-current="page"<?cs /if ?>><?cs var:Lang.trading.credentials ?></a>
</nav>
