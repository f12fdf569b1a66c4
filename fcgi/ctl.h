/*
 * prodenthubctl: the operator's tool.  ctl.c reads the command line, sets up the clients and
 * runs the table commands; ctl_jobs.c holds the periodic jobs; ctl_coupons.c coupon-check.
 */
#ifndef PH_CTL_H
#define PH_CTL_H

#include "../lib/cfg.h"

struct creds_provider;
struct ddb;

struct ctl {
    struct cfg cfg;
    struct creds_provider *creds;
    struct ddb *ddb;
    const char *sql;
};

/* Each returns the process's exit status. */

/* Release the coupon uses of checkouts pending for longer than older_than seconds. */
int ctl_sweep_checkouts(struct ctl *c, long older_than);
/* Expire teams not fully paid in time and refund their paid shares. */
int ctl_expire_teams(struct ctl *c, long older_than);
/* Queue the reminders of mock exams starting soon. */
int ctl_send_reminders(struct ctl *c);
/* Import mock exam results of exam from a CSV file. */
int ctl_import_results(struct ctl *c, const char *exam, const char *path);
/* Send the due emails of the outbox; with loop, until SIGTERM. */
int ctl_send_mail(struct ctl *c, int loop);

#endif
