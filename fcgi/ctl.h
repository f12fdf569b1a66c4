/*
 * prodenthubctl: the operator's tool.  ctl.c reads the command line, sets up the clients and
 * runs a command of its table; each command lives in the file of its kind: ctl_tables.c
 * (tables, seed, the shared Scan), ctl_coupons.c, ctl_jobs.c (the periodic jobs),
 * ctl_stripe_sync.c and ctl_reconcile.c (Stripe), ctl_forget.c (erasure) and
 * ctl_report.c (the marketing report).
 */
#ifndef PH_CTL_H
#define PH_CTL_H

#include "../lib/cfg.h"

struct cache;
struct creds_provider;
struct ddb;
struct json_object;
struct stripe;

struct ctl {
    struct cfg cfg;
    struct creds_provider *creds;
    struct ddb *ddb;
    struct cache *cache;            /* to drop what a command changes from the workers' cache */
    const char *sql;
};

/*
 * A command: argv[0] is its name, argv[1..argc-1] its arguments (at least the table's
 * minimum).  Returns the process's exit status: 0 done, 1 failed, 2 usage.
 */
typedef int ctl_command_fn(struct ctl *c, int argc, char **argv);

ctl_command_fn ctl_create_tables, ctl_describe_tables, ctl_seed, ctl_delete_tables;
ctl_command_fn ctl_coupon_disable, ctl_coupon_enable;
/* Every coupon record the workers would refuse, or naming a plan not in the catalogue: one
 * line each ("CODE<TAB>MISCONFIGURED<TAB>why" or "CODE<TAB>UNKNOWN_PLAN<TAB>..."), then a
 * summary; 1 when any. */
ctl_command_fn ctl_coupon_check;
ctl_command_fn ctl_sweep_checkouts, ctl_expire_teams, ctl_send_reminders, ctl_import_results;
ctl_command_fn ctl_send_mail;
/* Whether an address is on the SES suppression list; --remove takes it off. */
ctl_command_fn ctl_suppression;
/* The catalogue's products and prices and the webhook endpoint in Stripe (idempotent). */
ctl_command_fn ctl_stripe_sync;
/* Stripe's payments and refunds of a period against our records and grants: every mismatch
 * listed; 0 none, 1 some, 2 usage, 3 could not read Stripe or a table. */
ctl_command_fn ctl_reconcile;

/* Called for every object of a Stripe list; non-zero marks the list failed (it goes on). */
typedef int (*ctl_stripe_fn)(void *arg, struct json_object *obj);

/* GET a Stripe list (path, e.g. "/v1/refunds") page by page (limit 100, starting_after),
 * with filters as key, value pairs, NULL-terminated (may be NULL); 0 when every page was
 * read and fn never failed, -1 otherwise (said on stderr). */
int ctl_stripe_list(struct stripe *st, const char *path, const char *const *filters,
                    ctl_stripe_fn fn, void *arg);
/* Erase one person's data from every table and their uploads (ctl_forget.c). */
ctl_command_fn ctl_forget;
/* Remove the hardship statements older than RETENTION_STATEMENT_DAYS (ctl_forget.c). */
ctl_command_fn ctl_expire_statements;
/* The marketing figures of a period from the tables, as a table or CSV (ctl_report.c). */
ctl_command_fn ctl_report;

/* Called for every item of a scan: plain is NULL when raw is not DynamoDB JSON it can read.
 * Non-zero marks the scan failed (it goes on). */
typedef int (*ctl_scan_fn)(void *arg, struct json_object *plain, struct json_object *raw);

/* Scan a whole table, consistently, page by page; 0 when every page was read and fn
 * never failed, 1 otherwise (said on stderr). */
int ctl_scan(struct ddb *ddb, const char *table, ctl_scan_fn fn, void *arg);

/*
 * Call fn on every item of table whose index entry has status and was created before cutoff,
 * page by page: index CTL_BY_STATUS_CREATED (keyed status, createdAt) or an index keyed by
 * status alone (createdAt then filtered).  fn returns 1 (done something), 0 (nothing to do)
 * or -1.  Returns the number of -1s plus query failures; *done counts the 1s.
 */
#define CTL_BY_STATUS_CREATED "status-createdAt-index"
typedef int (*ctl_old_fn)(struct ctl *c, void *arg, struct json_object *item);
int ctl_each_old(struct ctl *c, const char *table, const char *index, const char *status,
                 const char *cutoff, ctl_old_fn fn, void *arg, int *done);

/* "--older-than SECONDS" when present as argv[1..2]: 0 (older set, or left), 2 usage. */
int ctl_older_than(int argc, char **argv, long max, long *older);

#endif
