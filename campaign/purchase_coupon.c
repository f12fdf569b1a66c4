/*
 * The coupon as a purchase and a quote read it (purchase.h): the buyer's use counter, the
 * client's lookup budget, and the log of a record that cannot be read fully (refused with
 * the reason MISCONFIGURED like any other refusal, and logged once per worker).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/reservation.h"
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

/* The cache key of a buyer's count: the code and the address, which cache.c hashes. */
static void
uses_key(char *out, size_t n, const char *code, const char *email)
{
    snprintf(out, n, "%s#%s", code, email);
}

/* The count as the cache keeps it. */
static int
uses_shape(struct json_object *plain, struct buf *out)
{
    return buf_printf(out, "%lld", json_int(plain, "uses"));
}

void
purchase_uses_read(const struct ctx *c, const char *code, const char *email,
                   struct purchase_uses *out)
{
    memset(out, 0, sizeof(*out));
    uses_key(out->key, sizeof(out->key), code, email);
    reservation_counter_id(out->id, sizeof(out->id), code, email);
    out->read.ns = "uses";
    out->read.key = out->key;
    out->read.table = c->cfg->tbl_coupon_usage;
    out->read.key_name = "usageId";
    out->read.id = out->id;
    out->read.consistent = 1;
    out->read.shape = uses_shape;
    out->read.none = "0";
    out->read.ttl = PURCHASE_USES_TTL_S;
}

int
purchase_uses_parse(const char *text, long long *out)
{
    long n;

    if (!text || str_to_long(text, 0, LONG_MAX, &n) != 0)
        return -1;
    *out = n;
    return 0;
}

void
purchase_coupon_uses_changed(const struct ctx *c, const char *code, const char *email)
{
    char key[RESERVATION_ID_MAX];

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
