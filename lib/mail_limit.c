/*
 * The limits on email without a payment (mail_limit.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "cfg.h"
#include "ctx.h"
#include "ddbjson.h"
#include "ids.h"
#include "mail_limit.h"
#include "txn.h"

#define DAY_S 86400

int
mail_limit_take(const struct ctx *c, const char *to, struct app_error *err)
{
    const struct cfg *cfg = c->cfg;
    struct json_object *v;
    char day[32], key[320];
    long long n;
    int rc;

    if (c->client && *c->client) {
        n = cache_incr(c->cache, "mailclient", c->client, (time_t)cfg->mail_client_window_s);
        if (n > cfg->mail_client_limit) {
            ctx_log(c, LL_WARN, "client %s: over %ld requests that email in %ld s", c->client,
                    cfg->mail_client_limit, cfg->mail_client_window_s);
            return app_error_reason(err, APP_ERATELIMIT, "TOO_MANY_REQUESTS",
                                    "Too many requests that send email from this address: "
                                    "please try again later");
        }
    }
    time_iso(c->now - c->now % DAY_S, day, sizeof(day));
    snprintf(key, sizeof(key), "limit#%.10s#%s", day, to);
    v = json_object_new_object();
    json_object_object_add(v, ":zero", ddb_av_n(0));
    json_object_object_add(v, ":one", ddb_av_n(1));
    json_object_object_add(v, ":cap", ddb_av_n(cfg->mail_recipient_daily_limit));
    json_object_object_add(v, ":ttl", ddb_av_n((long long)(c->now - c->now % DAY_S) +
                                               2 * DAY_S));
    rc = txn_update_item(c->ddb, cfg->tbl_email_outbox, ddb_key_s("outboxId", key),
                         "SET mailCount = if_not_exists(mailCount, :zero) + :one, #ttl = :ttl",
                         "attribute_not_exists(mailCount) OR mailCount < :cap", v, err);
    if (rc == APP_ECONDITION) {
        ctx_log(c, LL_WARN, "a recipient has had %ld emails without a payment today",
                cfg->mail_recipient_daily_limit);
        return app_error_reason(err, APP_ERATELIMIT, "TOO_MANY_EMAILS",
                                "This address has been sent as many emails today as we send "
                                "without a payment: please try again tomorrow");
    }
    return rc;
}
