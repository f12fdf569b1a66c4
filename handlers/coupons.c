/*
 * POST /v1/coupons/validate {"code", "planId" | "amountCents", "email"?}
 *
 * Says whether a coupon applies, and if so the amounts in cents; if not, the machine reason
 * (lib/coupon.h).  Prices come from the catalogue, never from the client, when a plan is
 * named; amountCents is accepted only to preview a discount.  Coupons are read through the
 * cache, unknown codes too, and each client may guess wrong only COUPON_GUESS_LIMIT times
 * per COUPON_GUESS_WINDOW_S (a memcached counter per IP; with the cache down the edge's
 * general rate limit still holds).  Nothing here decides a usage limit for good: the
 * conditional write at purchase does.  A coupon record that cannot be read fully is refused
 * with the reason MISCONFIGURED like any other refusal, and logged once per worker.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/coupon.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/strparse.h"
#include "handlers.h"
#include "lookup.h"

static int
whole_item(struct json_object *plain, struct buf *out)
{
    return buf_puts(out, json_object_to_json_string_ext(plain, JSON_C_TO_STRING_PLAIN));
}

/* The client's address, as nginx saw it (after real_ip where configured). */
static const char *
client_ip(const struct request *req)
{
    const char *ip = req_env(req, "REMOTE_ADDR");

    return ip && *ip ? ip : "unknown";
}

/* How often email has used code (the counter the purchase's transaction keeps). */
static int
uses_of(struct request *req, const char *code, const char *email, long long *out)
{
    struct json_object *k = json_object_new_object(), *item = NULL, *v;
    char id[400];
    int rc;

    *out = 0;
    snprintf(id, sizeof(id), "COUNTER#%s#%s", code, email);
    json_object_object_add(k, "usageId", ddb_av_s(id));
    rc = ddb_get_item(req->worker->ddb, req->cfg->tbl_coupon_usage, k, 1, &item, &req->err);
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
coupon_log_misconfigured(const struct request *req, const char *code, const char *why)
{
    size_t i;

    for (i = 0; i < COUPON_LOGGED; i++) {
        if (strcmp(logged[i].code, code) == 0 && strcmp(logged[i].why, why) == 0)
            return;
    }
    snprintf(logged[logged_next].code, sizeof(logged[0].code), "%s", code);
    snprintf(logged[logged_next].why, sizeof(logged[0].why), "%s", why);
    logged_next = (logged_next + 1) % COUPON_LOGGED;
    req_log(req, LL_ERROR, "coupon=%s misconfigured: %s; refused until the record is fixed "
            "(prodenthubctl coupon-check)", code, why);
}

static int
reply_invalid(struct request *req, const char *code, enum coupon_reason r)
{
    struct json_object *d = json_object_new_object();

    json_object_object_add(d, "valid", json_object_new_boolean(0));
    json_object_object_add(d, "code", json_object_new_string(code));
    json_object_object_add(d, "reason", json_object_new_string(coupon_reason_slug(r)));
    json_object_object_add(d, "message", json_object_new_string(coupon_reason_message(r)));
    return reply_json(req, 200, d);
}

int
coupons_validate(struct request *req)
{
    static const char *const ns[3] = {"guess", "plan", "coupon"};
    const char *code_in = NULL, *plan_id = NULL, *email = NULL, *keys[3], *family = NULL;
    char code[COUPON_CODE_MAX + 1], why[COUPON_WHY_MAX];
    struct json_object *plan = NULL, *item = NULL, *v, *d;
    long long amount = 0, uses = 0, discount;
    struct buf got[3];
    struct coupon c;
    enum coupon_reason r;
    int rc, hit[3], h, have_amount, code_ok;
    long guesses;
    size_t i;

    field_alias(req, "couponCode", NULL, "code");
    field_alias(req, "planType", NULL, "planId");
    field_string(req, "code", 1, 64, FIELD_REQUIRED, &code_in);
    field_string(req, "planId", 1, 64, 0, &plan_id);
    have_amount = field_int(req, "amountCents", 0, 100000000, 0, &amount);
    field_email(req, "email", 0, &email);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    if (!plan_id && !have_amount) {
        d = json_object_new_object();
        v = json_object_new_object();
        json_object_object_add(v, "planId", json_object_new_string("planId or amountCents "
                                                                   "is required"));
        json_object_object_add(d, "fields", v);
        return reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
    }
    code_ok = coupon_normalize_code(code_in, code, sizeof(code)) == 0;

    /* One cache round trip for the client's guess count, the plan and the coupon. */
    keys[0] = client_ip(req);
    keys[1] = plan_id && plan_id_valid(plan_id) ? plan_id : "-";
    keys[2] = code_ok ? code : "-";
    for (i = 0; i < 3; i++)
        buf_init(&got[i], 64 * 1024);
    cache_get_many(req->worker->cache, 3, ns, keys, got, hit);
    if (hit[0] && str_to_long(got[0].data, 0, LONG_MAX, &guesses) == 0 &&
        guesses >= req->cfg->coupon_guess_limit) {
        rc = app_error_set(&req->err, APP_ERATELIMIT, "too many unknown coupon codes; "
                           "try again later");
        goto done;
    }

    if (plan_id) {
        rc = APP_OK;
        if (plan_id_valid(plan_id))
            rc = lookup_item_after(req, "plan", req->cfg->tbl_catalogue, "planId", plan_id,
                                   plan_public_shape, hit[1], &got[1], &h);
        else
            buf_reset(&got[1]);
        if (rc != APP_OK)
            goto done;
        if (got[1].len == 0) {
            d = json_object_new_object();
            v = json_object_new_object();
            json_object_object_add(v, "planId", json_object_new_string("is not a plan we sell"));
            json_object_object_add(d, "fields", v);
            rc = reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
            goto done;
        }
        plan = json_tokener_parse(got[1].data);
        if (!plan || !json_object_object_get_ex(plan, "amountCents", &v)) {
            rc = app_error_set(&req->err, APP_EINTERNAL, "plan %s has no price", plan_id);
            goto done;
        }
        amount = json_object_get_int64(v);
        family = json_str(plan, "family");
    }

    if (!code_ok) {
        cache_incr(req->worker->cache, "guess", client_ip(req), req->cfg->coupon_guess_window_s);
        rc = reply_invalid(req, code_in, COUPON_NOT_FOUND);
        goto done;
    }
    rc = lookup_item_after(req, "coupon", req->cfg->tbl_coupons, "couponCode", code,
                           whole_item, hit[2], &got[2], &h);
    if (rc != APP_OK)
        goto done;
    if (got[2].len == 0) {
        cache_incr(req->worker->cache, "guess", client_ip(req), req->cfg->coupon_guess_window_s);
        rc = reply_invalid(req, code, COUPON_NOT_FOUND);
        goto done;
    }
    item = json_tokener_parse(got[2].data);
    r = item ? coupon_from_item(item, &c, why, sizeof(why)) : COUPON_MISCONFIGURED;
    if (r != COUPON_OK) {
        coupon_log_misconfigured(req, code, item ? why : "the cached record is not JSON");
        rc = reply_invalid(req, code, r);
        goto done;
    }
    if (email && c.per_user_limit) {
        rc = uses_of(req, c.code, email, &uses);
        if (rc != APP_OK)
            goto done;
    }
    r = coupon_check(&c, plan_id, family, amount, time(NULL), uses);
    if (r != COUPON_OK) {
        rc = reply_invalid(req, c.code, r);
        goto done;
    }
    discount = coupon_discount(&c, amount);
    d = json_object_new_object();
    json_object_object_add(d, "valid", json_object_new_boolean(1));
    json_object_object_add(d, "code", json_object_new_string(c.code));
    if (plan_id)
        json_object_object_add(d, "planId", json_object_new_string(plan_id));
    json_object_object_add(d, "currency", json_object_new_string("AUD"));
    json_object_object_add(d, "originalAmountCents", json_object_new_int64(amount));
    json_object_object_add(d, "discountCents", json_object_new_int64(discount));
    json_object_object_add(d, "finalAmountCents", json_object_new_int64(amount - discount));
    rc = reply_json(req, 200, d);
done:
    if (plan)
        json_object_put(plan);
    if (item)
        json_object_put(item);
    for (i = 0; i < 3; i++)
        buf_free(&got[i]);
    return rc;
}
