/*
 * How long the records are kept: the one place the "ttl" (epoch seconds, DynamoDB's TTL
 * deletes the item soon after) of every table is computed from, with the periods in the
 * settings RETENTION_RECORDS_DAYS, RETENTION_OUTBOX_DAYS and RETENTION_WEBHOOK_EVENTS_DAYS
 * (docs/DATA.md, "Retention and erasure").  RETENTION_STATEMENT_DAYS is not a ttl: a
 * statement goes from a record that stays (prodenthubctl expire-statements).
 */
#ifndef PH_RETENTION_H
#define PH_RETENTION_H

#include <time.h>

#include "cfg.h"
#include "ids.h"

/* A record of a sale written at now: kept RETENTION_RECORDS_DAYS. */
static inline long long
retention_records_ttl(const struct cfg *cfg, time_t now)
{
    return (long long)now + cfg->retention_records_days * 86400LL;
}

/* The same from the record's ISO 8601 time (the current time when it cannot be read). */
static inline long long
retention_records_ttl_iso(const struct cfg *cfg, const char *now)
{
    time_t t = now ? time_parse_iso(now) : 0;

    return retention_records_ttl(cfg, t > 0 ? t : time(NULL));
}

static inline long long
retention_outbox_ttl(const struct cfg *cfg, time_t now)
{
    return (long long)now + cfg->retention_outbox_days * 86400LL;
}

static inline long long
retention_webhook_event_ttl(const struct cfg *cfg, time_t now)
{
    return (long long)now + cfg->retention_webhook_events_days * 86400LL;
}

#endif
