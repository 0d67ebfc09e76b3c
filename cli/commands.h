/* commands.h — botctl subcommands that live in their own files (botctl.c dispatches). Each gets
 * the arguments after its name and returns the process exit status. */
#ifndef BCF_CLI_COMMANDS_H
#define BCF_CLI_COMMANDS_H
int cmd_keys(int argc, char **argv);  /* keys.c: generate | list | rotate */
int cmd_audit(int argc, char **argv); /* audit.c: verify */
int cmd_candles(int argc, char **argv); /* candles.c: import | synth | sync */
int cmd_exchange(int argc, char **argv); /* exchange.c: ping | time | ticker | balances | order ... */
int cmd_job_enqueue(int argc, char **argv); /* jobs.c: job-enqueue TYPE [JSON] [options] */
int cmd_jobs(int argc, char **argv);        /* jobs.c: list | cancel | retry */
int cmd_ledger(int argc, char **argv);      /* ledger.c: verify | open | transfer | post | void | expire */
int cmd_commission(int argc, char **argv);  /* commission.c: accrue | payout */
int cmd_telegram(int argc, char **argv);    /* telegram.c: set-webhook | delete-webhook | info */
#endif
