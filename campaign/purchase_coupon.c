/*
 * The coupon as a purchase and a quote read it (purchase.h): the buyer's use counter, the
 * client's lookup budget, and the log of a record that cannot be read fully (refused with
 * the reason MISCONFIGURED like any other refusal, and logged once per worker).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/strparse.h"
#include "purchase.h"

const char *
purchase_client(const char *client)
{
    return client && *client ? client : "unknown";
}

int
purchase_lookups_left(const struct ctx *c, const char *count, struct app_error *err)
{
    long n;

    if (count && str_to_long(count, 0, LONG_MAX, &n) == 0 && n >= c->cfg->coupon_guess_limit)
        return app_error_set(err, APP_ERATELIMIT, "too many coupon lookups; try again later");
    return APP_OK;
}

void
purchase_lookup_spend(const struct ctx *c, const char *client)
{
    cache_incr(c->cache, "guess", purchase_client(client), c->cfg->coupon_guess_window_s);
}

int
purchase_coupon_uses(const struct ctx *c, const char *code, const char *email,
                     long long *out, struct app_error *err)
{
    struct json_object *k, *item = NULL, *v;
    char id[400];
    int rc;

    *out = 0;
    snprintf(id, sizeof(id), "COUNTER#%s#%s", code, email);
    k = ddb_key_s("usageId", id);
    rc = ddb_get_item(c->ddb, c->cfg->tbl_coupon_usage, k, 1, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND)
        return APP_OK;
    if (rc != APP_OK)
        return rc;
    if (json_object_object_get_ex(item, "uses", &v) && json_object_object_get_ex(v, "N", &v))
        *out = strtoll(json_object_get_string(v), NULL, 10); /* checksrc: ok, DynamoDB N */
    json_object_put(item);
    return APP_OK;
}

/* The cache key of a buyer's count: the code and the address, which cache.c hashes. */
static void
uses_key(char *out, size_t n, const char *code, const char *email)
{
    snprintf(out, n, "%s#%s", code, email);
}

int
purchase_coupon_uses_quoted(const struct ctx *c, const char *code, const char *email,
                            long long *out, struct app_error *err)
{
    char key[400], text[32];
    struct buf b;
    long n;
    int rc, len;

    uses_key(key, sizeof(key), code, email);
    buf_init_fixed(&b, text, sizeof(text));
    if (cache_get(c->cache, "uses", key, &b) == APP_OK &&
        str_to_long(b.data, 0, LONG_MAX, &n) == 0) {
        *out = n;
        return APP_OK;
    }
    rc = purchase_coupon_uses(c, code, email, out, err);
    if (rc != APP_OK)
        return rc;
    len = snprintf(text, sizeof(text), "%lld", *out);
    cache_set(c->cache, "uses", key, text, (size_t)len, PURCHASE_USES_TTL_S);
    return APP_OK;
}

void
purchase_coupon_uses_changed(const struct ctx *c, const char *code, const char *email)
{
    char key[400];

    if (!code || !*code || !email)
        return;
    uses_key(key, sizeof(key), code, email);
    cache_delete(c->cache, "uses", key);
}

/*
 * The misconfigured coupons this worker has logged: a small ring of code + fault, so a bad
 * record is logged once per worker (and again only after COUPON_LOGGED other faults), not on
 * every request that meets it.  Worker state, not request state: each worker is a process.
 */
#define COUPON_LOGGED 32

static struct {
    char code[COUPON_CODE_MAX + 1];
    char why[COUPON_WHY_MAX];
} logged[COUPON_LOGGED];
static size_t logged_next;

void
coupon_log_misconfigured(const struct ctx *c, const char *code, const char *why)
{
    size_t i;

    for (i = 0; i < COUPON_LOGGED; i++) {
        if (strcmp(logged[i].code, code) == 0 && strcmp(logged[i].why, why) == 0)
            return;
    }
    snprintf(logged[logged_next].code, sizeof(logged[0].code), "%s", code);
    snprintf(logged[logged_next].why, sizeof(logged[0].why), "%s", why);
    logged_next = (logged_next + 1) % COUPON_LOGGED;
    ctx_log(c, LL_ERROR, "coupon=%s misconfigured: %s; refused until the record is fixed "
            "(prodenthubctl coupon-check)", code, why);
}
