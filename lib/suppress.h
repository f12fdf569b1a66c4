/*
 * The email suppression list: addresses SES reported as a permanent bounce or a complaint,
 * which the outbox never mails again (docs/EMAIL.md "Bounces and complaints").
 *
 * A row is keyed by the SHA-256 of the normalised address (trimmed, the part inside <...>
 * when there is one, lowercased) behind a fixed prefix, so the list holds no address in
 * clear and can outlive an erasure of the person's records (docs/DATA.md).  A hash of an
 * address is still a pseudonym of it, not an anonymous value: whoever holds the address can
 * find its row.
 *
 * Row: addressHash, reason ("bounce" | "complaint"), detail (the bounce's subtype or the
 * complaint's feedback type), suppressedAt (first), updatedAt, events (count), lastMessageId
 * (the SNS MessageId of the last event applied: the same message twice changes nothing).
 */
#ifndef PH_SUPPRESS_H
#define PH_SUPPRESS_H

#include <time.h>

#include "errors.h"

struct cfg;
struct ddb;
struct json_object;

#define SUPPRESS_HASH_LEN 64          /* hex characters */
#define SUPPRESS_MAX_RECIPIENTS 100

/* The row key of addr into out (SUPPRESS_HASH_LEN + 1 bytes): 0, or -1 for no address. */
int suppress_hash(const char *addr, char *out);

/* Add addr: APP_OK (*dup 1 when message_id was already applied to it) or a code. */
int suppress_add(struct ddb *ddb, const struct cfg *cfg, const char *addr, const char *reason,
                 const char *detail, const char *message_id, time_t now, int *dup,
                 struct app_error *err);

/* *out 1 when addr is on the list (a consistent read), else 0: APP_OK or a code. */
int suppress_check(struct ddb *ddb, const struct cfg *cfg, const char *addr, int *out,
                   struct app_error *err);

/* addr's row (plain JSON, caller's; NULL when not on the list), read consistently. */
int suppress_get(struct ddb *ddb, const struct cfg *cfg, const char *addr,
                 struct json_object **row, struct app_error *err);

/* Take addr off the list (mail it again): APP_OK, also when it was not on it. */
int suppress_remove(struct ddb *ddb, const struct cfg *cfg, const char *addr,
                    struct app_error *err);

/* What one SES event did. */
struct ses_outcome {
    const char *event;                /* "Bounce", "Complaint", another type, or NULL */
    const char *bounce_type;          /* "Permanent", "Transient", "Undetermined", or NULL */
    int suppressed;                   /* addresses added */
    int duplicates;                   /* addresses this message had already added */
    int ignored;                      /* addresses not suppressed (transient bounces) */
};

/*
 * Apply the SES event (the SNS Message, JSON text; notificationType or eventType) from the
 * SNS message message_id: permanent bounces and complaints suppress their recipients;
 * anything else is counted and left.  *out's strings point into static storage.  APP_OK,
 * APP_EBADREQUEST (not an SES event: nothing done), or a DynamoDB code (some recipients may
 * be added: the same message again completes it).
 */
int suppress_ses_event(struct ddb *ddb, const struct cfg *cfg, const char *message,
                       const char *message_id, time_t now, struct ses_outcome *out,
                       struct app_error *err);

#endif
