/*
 * prodenthubctl report [--since DATE] [--until DATE] [--csv]: the marketing figures of a
 * period (lib/report.h says which and how they are counted), read from the tables.
 *
 * The tables are scanned (ctl_scan): an operator's report, run now and then, not a request
 * path; none of them has an index by creation time across statuses, and a period's figures
 * need every status.  The cost is one read of each table (on demand: about one read unit per
 * 4 KB per scan).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/report.h"
#include "ctl.h"

static const struct rsource {
    size_t off;                 /* of the table's name in struct cfg */
    enum report_source src;
} sources[] = {
    { offsetof(struct cfg, tbl_discount_purchases), REPORT_PURCHASES },
    { offsetof(struct cfg, tbl_teams), REPORT_TEAMS },
    { offsetof(struct cfg, tbl_scholarships), REPORT_SCHOLARSHIPS },
    { offsetof(struct cfg, tbl_personalized_plans), REPORT_PLANS },
    { offsetof(struct cfg, tbl_mock_registrations), REPORT_MOCK },
    { offsetof(struct cfg, tbl_payments), REPORT_PAYMENTS },
    { offsetof(struct cfg, tbl_coupon_usage), REPORT_COUPON_USAGE },
};

struct feed {
    struct report *r;
    enum report_source src;
};

static int
feed(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct feed *fd = arg;

    (void)raw;
    report_add(fd->r, fd->src, plain);
    return 0;
}

int
ctl_report(struct ctl *c, int argc, char **argv)
{
    const char *since = "", *until = "";
    struct report r;
    struct feed fd;
    int i, csv = 0, rc = 0;
    size_t k;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0)
            csv = 1;
        else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
            since = argv[++i];
        else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc)
            until = argv[++i];
        else
            break;
    }
    if (i < argc || report_init(&r, since, until) != 0) {
        fprintf(stderr, "prodenthubctl: report takes [--since DATE] [--until DATE] [--csv], "
                "DATE as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC; until excluded)\n");
        return 2;
    }
    fd.r = &r;
    for (k = 0; k < sizeof(sources) / sizeof(sources[0]); k++) {
        fd.src = sources[k].src;
        if (ctl_scan(c->ddb, *(char *const *)((const char *)&c->cfg + sources[k].off), feed,
                     &fd) != 0)
            rc = 1;
    }
    if (rc == 0)
        report_print(&r, stdout, csv);
    report_free(&r);
    return rc;
}
