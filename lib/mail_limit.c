/*
 * The limits on email without a payment (mail_limit.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "cfg.h"
#include "ctx.h"
#include "ddb.h"
#include "ddbjson.h"
#include "ids.h"
#include "mail_limit.h"
#include "txn.h"

#define DAY_S 86400

/* The counter's key: limit#2026-01-15#to. */
static struct json_object *
key(const struct ctx *c, const char *to)
{
    char day[32], k[320];

    time_iso(c->now - c->now % DAY_S, day, sizeof(day));
    snprintf(k, sizeof(k), "limit#%.10s#%s", day, to);
    return ddb_key_s("outboxId", k);
}

int
mail_limit_client(const struct ctx *c, struct app_error *err)
{
    const struct cfg *cfg = c->cfg;

    if (!c->client || !*c->client ||
        cache_incr(c->cache, "mailclient", c->client, (time_t)cfg->mail_client_window_s) <=
        cfg->mail_client_limit)
        return APP_OK;
    ctx_log(c, LL_WARN, "client %s: over %ld requests that email in %ld s", c->client,
            cfg->mail_client_limit, cfg->mail_client_window_s);
    return app_error_reason(err, APP_ERATELIMIT, "TOO_MANY_REQUESTS",
                            "Too many requests that send email from this address: please "
                            "try again later");
}

struct json_object *
mail_limit_txn(const struct ctx *c, const char *to)
{
    struct json_object *v = json_object_new_object();

    json_object_object_add(v, ":zero", ddb_av_n(0));
    json_object_object_add(v, ":one", ddb_av_n(1));
    json_object_object_add(v, ":cap", ddb_av_n(c->cfg->mail_recipient_daily_limit));
    json_object_object_add(v, ":ttl", ddb_av_n((long long)(c->now - c->now % DAY_S) +
                                               2 * DAY_S));
    return txn_update(c->cfg->tbl_email_outbox, key(c, to),
                      "SET mailCount = if_not_exists(mailCount, :zero) + :one, #ttl = :ttl",
                      "attribute_not_exists(mailCount) OR mailCount < :cap", v);
}

int
mail_limit_reached(const struct ctx *c, const char *to, struct app_error *err)
{
    struct json_object *k = key(c, to), *item = NULL, *plain = NULL;
    struct app_error ignore;
    long long n = 0;

    app_error_clear(&ignore);
    if (ddb_get_item(c->ddb, c->cfg->tbl_email_outbox, k, 1, &item, &ignore) == APP_OK) {
        plain = ddb_unmarshal_item(item);
        n = json_int(plain, "mailCount");
    }
    json_object_put(k);
    if (item)
        json_object_put(item);
    if (plain)
        json_object_put(plain);
    if (n < c->cfg->mail_recipient_daily_limit)
        return APP_OK;
    ctx_log(c, LL_WARN, "a recipient has had %lld emails without a payment today", n);
    return app_error_reason(err, APP_ERATELIMIT, "TOO_MANY_EMAILS",
                            "This address has been sent as many emails today as we send "
                            "without a payment: please try again tomorrow");
}
