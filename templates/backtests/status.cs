<?cs # backtests/status.cs — a backtest's job status (variable b), with a progress bar while it runs. ?><?cs if:b.status == "done" ?><?cs var:Lang.backtests.done ?><?cs
elif:b.status == "running" ?><?cs var:Lang.backtests.running ?> <progress max="100" value="<?cs var:b.progress_pct ?>"><?cs var:b.progress_pct ?>%</progress><?cs
elif:b.status == "queued" ?><?cs var:Lang.backtests.queued ?><?cs
elif:b.status == "dead" ?><?cs var:Lang.backtests.dead ?><?cs
elif:b.status == "cancelled" ?><?cs var:Lang.backtests.cancelled ?><?cs
else ?><?cs var:Lang.backtests.failed ?><?cs /if ?>
