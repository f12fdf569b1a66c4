/*
 * The email outbox: an email is a row written in the same DynamoDB transaction as the state
 * change that causes it, and sent later by a drain (prodenthubctl send-mail, run in a loop by
 * a service).  The row's key is cause#template#recipient, so one cause mails one recipient
 * one template once, however often the cause is replayed.
 *
 * Row: status pending → sending (a 60 s lease) → sent | failed | suppressed (the recipient is
 * on the suppression list, lib/suppress.h, read consistently just before the send).
 * nextAttemptAt orders the work through the status-nextAttemptAt index and is removed when a
 * row is finished, so finished rows leave the index.  A sender that dies mid-send leaves a
 * lease that expires: the row is sent again (at least once; SMTP cannot do better), never lost.
 */
#ifndef PH_OUTBOX_H
#define PH_OUTBOX_H

#include <time.h>

#include <json-c/json.h>

#include "errors.h"

#define OUTBOX_STATUS_INDEX "status-nextAttemptAt-index"

struct cfg;
struct ddb;
struct mailer;

struct outbox_mail {
    const char *cause;             /* e.g. "pur_ab12#paid" */
    const char *tmpl;              /* template name, lib/templates/NAME.tmpl */
    const char *to;
    const char *to_name;           /* NULL: none */
    struct json_object *vars;      /* plain object; not consumed */
    struct json_object *attachments; /* NULL or [{filename, contentType, data}] */
};

/* A TransactWriteItems element queueing the mail (the caller adds it to its items). */
struct json_object *outbox_txn_put(const struct cfg *cfg, const struct outbox_mail *m,
                                   time_t now);

/* The usual mail as a TransactWriteItems element: no attachments, vars taken. */
struct json_object *outbox_txn_mail(const struct cfg *cfg, const char *cause, const char *tmpl,
                                    const char *to, const char *to_name,
                                    struct json_object *vars, time_t now);

/* Queue outside a transaction; a row already queued for the same key is left as it is. */
int outbox_put(struct ddb *ddb, const struct cfg *cfg, const struct outbox_mail *m,
               time_t now, struct app_error *err);

struct outbox_stats {
    int sent;
    int retry;                     /* failed for now, scheduled again */
    int failed;                    /* given up: refused or out of attempts */
    int lost_race;                 /* claimed by another sender first */
    int suppressed;                /* not sent: the recipient bounced or complained */
};

/* Send what is due (at most max rows), as sender `me` (host:pid). */
int outbox_drain(struct ddb *ddb, const struct cfg *cfg, struct mailer *ml, const char *me,
                 int max, struct outbox_stats *st, struct app_error *err);

/* The rows not yet finished: pending (retrying of them: failed once, to be tried again) and
 * being sent.  Counted in DynamoDB (lib/outbox_backlog.c): a lower bound past 10 MB a status. */
struct outbox_backlog {
    long long pending, sending, retrying;
};
int outbox_backlog(struct ddb *ddb, const struct cfg *cfg, struct outbox_backlog *b,
                   struct app_error *err);

#endif
