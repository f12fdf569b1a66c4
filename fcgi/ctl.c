/*
 * prodenthubctl: the operator's tool, on the same configuration and DynamoDB client as the
 * daemon.  Every command is one row of the table below (name, arguments, what it does); the
 * usage text is printed from it and man/prodenthubctl.8 describes each at length.
 *
 * SQLDIR defaults to PKGDATADIR/sql (installed) and can be set with PRODENTHUB_SQL_DIR.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/creds.h"
#include "../lib/ddb.h"
#include "../lib/fmt.h"
#include "../lib/log.h"
#include "../lib/ssm.h"
#include "../lib/strparse.h"
#include "ctl.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/prodenthub"
#endif

static const struct ctl_command {
    const char *name;
    const char *args;           /* as the usage shows them */
    int nargs;                  /* arguments required */
    ctl_command_fn *run;
    const char *what;
} commands[] = {
    { "create-tables", "", 0, ctl_create_tables,
      "create every table of SQLDIR/tables (idempotent), wait until ACTIVE, enable TTLs" },
    { "describe-tables", "", 0, ctl_describe_tables, "status and item count of each table" },
    { "seed", "", 0, ctl_seed, "load the SQLDIR/seed files" },
    { "delete-tables", "--yes", 0, ctl_delete_tables, "delete every table and its data" },
    { "coupon-disable", "CODE", 1, ctl_coupon_disable, "refuse the coupon from now on" },
    { "coupon-enable", "CODE", 1, ctl_coupon_enable, "accept the coupon again" },
    { "coupon-check", "", 0, ctl_coupon_check,
      "list the coupon records the workers would refuse; exit 1 when any" },
    { "sweep-checkouts", "[--older-than SECONDS]", 0, ctl_sweep_checkouts,
      "release the coupon uses of abandoned checkouts (timer)" },
    { "expire-teams", "[--older-than SECONDS]", 0, ctl_expire_teams,
      "expire teams not paid in time and refund their shares (timer)" },
    { "send-reminders", "", 0, ctl_send_reminders,
      "queue the reminders of mock exams starting soon (timer)" },
    { "import-results", "EXAM FILE.csv", 2, ctl_import_results,
      "import a mock exam's results from CSV" },
    { "send-mail", "[--loop]", 0, ctl_send_mail,
      "send the emails due in the outbox; --loop until SIGTERM (the mailer service)" },
    { "suppression", "EMAIL [--remove]", 1, ctl_suppression,
      "whether the outbox refuses an address SES reported bounced; --remove: mail it again" },
    { "stripe-sync", "[--webhook-url URL]", 0, ctl_stripe_sync,
      "create or update the catalogue's products and prices and the webhook endpoint in "
      "Stripe; print the settings" },
    { "reconcile", "[--since TIME] [--until TIME] [--json]", 0, ctl_reconcile,
      "compare Stripe's payments and refunds with our records and grants; exit 1 on a "
      "mismatch, 3 when something could not be read" },
    { "forget", "EMAIL", 1, ctl_forget,
      "erase a person's data from every table and their uploads (idempotent)" },
    { "expire-statements", "[--older-than SECONDS]", 0, ctl_expire_statements,
      "remove the scholarship statements past RETENTION_STATEMENT_DAYS (timer)" },
    { "report", "[--since DATE] [--until DATE] [--csv]", 0, ctl_report,
      "checkouts, payments, coupons, mock exams and scholarships of a period" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: prodenthubctl [-c FILE] [-s SQLDIR] COMMAND [ARGS]\n\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s%s%s\n      %s\n", commands[i].name, *commands[i].args ? " " : "",
                commands[i].args, commands[i].what);
}

int
ctl_older_than(int argc, char **argv, long max, long *older)
{
    if (argc < 2)
        return 0;
    if (argc >= 3 && strcmp(argv[1], "--older-than") == 0 &&
        str_to_long(argv[2], 0, max, older) == 0)
        return 0;
    fprintf(stderr, "prodenthubctl: %s takes --older-than SECONDS\n", argv[0]);
    return 2;
}

int
main(int argc, char **argv)
{
    static struct ctl c;
    const char *path = getenv("PRODENTHUB_CONFIG");
    const struct ctl_command *cmd = NULL;
    int required = path && *path, opt, rc;
    char err[512];
    size_t i;

    c.sql = getenv("PRODENTHUB_SQL_DIR");
    if (!c.sql || !*c.sql)
        c.sql = PKGDATADIR "/sql";
    for (;;) {
        opt = getopt(argc, argv, "+c:s:h");
        if (opt == -1)
            break;
        if (opt == 'c') {
            path = optarg;
            required = 1;
        } else if (opt == 's') {
            c.sql = optarg;
        } else {
            usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    for (i = 0; optind < argc && i < NCOMMANDS; i++) {
        if (strcmp(argv[optind], commands[i].name) == 0)
            cmd = &commands[i];
    }
    if (!cmd || argc - optind - 1 < cmd->nargs) {
        usage(stderr);
        return 2;
    }
    if (!required)
        path = SYSCONFDIR "/prodenthub/prodenthub.conf";
    log_set_role("ctl");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cfg_load(&c.cfg, path, required, err, sizeof(err)) != 0 ||
        ssm_resolve_cfg(&c.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "prodenthubctl: configuration error: %s\n", err);
        cfg_free(&c.cfg);
        return 1;
    }
    fmt_init(c.cfg.email_timezone);
    log_level_min = log_level_parse(c.cfg.log_level);
    c.creds = creds_new(&c.cfg);
    c.ddb = ddb_new(&c.cfg, c.creds);
    if (!c.ddb) {
        fprintf(stderr, "prodenthubctl: cannot create the DynamoDB client\n");
        return 1;
    }
    c.cache = cache_new(&c.cfg);
    rc = cmd->run(&c, argc - optind, argv + optind);
    cache_free(c.cache);
    ddb_free(c.ddb);
    creds_free(c.creds);
    cfg_free(&c.cfg);
    curl_global_cleanup();
    return rc;
}
