/*
 * A purchase's reservation of a coupon use, taken and given back as single DynamoDB
 * transactions (docs/DATA.md, "A purchase with a coupon").  Used by the purchase handler
 * and by prodenthubctl's sweep of abandoned checkouts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "ddb.h"
#include "ddbjson.h"
#include "reservation.h"
#include "retention.h"
#include "txn.h"

/* One update element added to items (lib/txn.h names #st). */
static void
tx_update(struct json_object *items, const char *table, struct json_object *key,
          const char *update, const char *cond, struct json_object *values)
{
    json_object_array_add(items, txn_update(table, key, update, cond, values));
}

static struct json_object *
vals(const char *k1, struct json_object *v1, const char *k2, struct json_object *v2)
{
    struct json_object *v = json_object_new_object();

    json_object_object_add(v, k1, v1);
    if (k2)
        json_object_object_add(v, k2, v2);
    return v;
}

void
reservation_counter_id(char *out, size_t n, const char *code, const char *email)
{
    snprintf(out, n, "COUNTER#%s#%s", code, email);
}

void
reservation_holds_id(char *out, size_t n, const char *email)
{
    snprintf(out, n, "HOLDS#%s", email);
}

/* The number attribute name of item (attribute-value JSON), 0 when it has none. */
static long long
item_n(struct json_object *item, const char *name)
{
    struct json_object *v;

    if (item && json_object_object_get_ex(item, name, &v) &&
        json_object_object_get_ex(v, "N", &v))
        return strtoll(json_object_get_string(v), NULL, 10); /* checksrc: ok, an N */
    return 0;
}

long long
reservation_counter_uses(struct json_object *item)
{
    return item_n(item, "uses");
}

/* The coupon's reservation, taken (sign = +1) or given back (sign = -1). */
static void
tx_coupon(const struct cfg *cfg, const struct reservation *p, struct json_object *items,
          int sign)
{
    struct json_object *v;
    char cid[RESERVATION_ID_MAX];

    reservation_counter_id(cid, sizeof(cid), p->code, p->email);
    if (sign > 0) {
        v = vals(":one", ddb_av_n(1), ":zero", ddb_av_n(0));
        json_object_object_add(v, ":active", ddb_av_s("active"));
        if (p->usage_limit)
            json_object_object_add(v, ":limit", ddb_av_n(p->usage_limit));
        tx_update(items, cfg->tbl_coupons, ddb_key_s("couponCode", p->code),
                  "SET usageCount = if_not_exists(usageCount, :zero) + :one",
                  p->usage_limit ? "#st = :active AND usageCount < :limit" :
                  "#st = :active", v);
        v = vals(":one", ddb_av_n(1), ":zero", ddb_av_n(0));
        json_object_object_add(v, ":c", ddb_av_s(p->code));
        json_object_object_add(v, ":e", ddb_av_s(p->email));
        if (p->per_user_limit)
            json_object_object_add(v, ":limit", ddb_av_n(p->per_user_limit));
        tx_update(items, cfg->tbl_coupon_usage, ddb_key_s("usageId", cid),
                  "SET uses = if_not_exists(uses, :zero) + :one, couponCode = :c, email = :e",
                  p->per_user_limit ? "attribute_not_exists(uses) OR uses < :limit" :
                  NULL, v);
    } else {
        tx_update(items, cfg->tbl_coupons, ddb_key_s("couponCode", p->code),
                  "SET usageCount = usageCount - :one", "usageCount > :zero",
                  vals(":one", ddb_av_n(1), ":zero", ddb_av_n(0)));
        tx_update(items, cfg->tbl_coupon_usage, ddb_key_s("usageId", cid),
                  "SET uses = uses - :one", "uses > :zero",
                  vals(":one", ddb_av_n(1), ":zero", ddb_av_n(0)));
    }
}

static void
add_s(struct json_object *item, const char *k, const char *v)
{
    if (v)
        json_object_object_add(item, k, ddb_av_s(v));
}

static struct json_object *
holds_key(const char *email)
{
    char id[RESERVATION_ID_MAX];

    reservation_holds_id(id, sizeof(id), email);
    return ddb_key_s("usageId", id);
}

int
reservation_hold_pick(struct json_object *item, long max, time_t now, int *out)
{
    char name[16];
    int i;

    for (i = 0; i < max && i < RESERVATION_HOLDS_MAX; i++) {
        snprintf(name, sizeof(name), "hold%d", i);
        if (item_n(item, name) <= (long long)now) {
            *out = i;
            return APP_OK;
        }
    }
    return APP_ECONDITION;
}

int
reservation_hold_slot(struct ddb *d, const struct cfg *cfg, const char *email, long max,
                      time_t now, int *out, struct app_error *err)
{
    struct json_object *k = holds_key(email), *item = NULL;
    int rc;

    rc = ddb_get_item(d, cfg->tbl_coupon_usage, k, 1, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        *out = 0;
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    rc = reservation_hold_pick(item, max, now, out);
    json_object_put(item);
    return rc;
}

int
reservation_hold_end(struct ddb *d, const struct cfg *cfg, const char *email,
                     const struct reservation_hold *h, struct app_error *err)
{
    char update[32], cond[48];

    snprintf(update, sizeof(update), "REMOVE hold%d", h->slot);
    snprintf(cond, sizeof(cond), "hold%d = :until", h->slot);
    return txn_update_item(d, cfg->tbl_coupon_usage, holds_key(email), update, cond,
                           vals(":until", ddb_av_n(h->until), NULL, NULL), err);
}

/* The email's hold slot taken, if free at h->now; the item kept a day past the hold. */
static void
tx_hold(const struct cfg *cfg, const char *email, const struct reservation_hold *h,
        struct json_object *items)
{
    struct json_object *v = vals(":until", ddb_av_n(h->until), ":now", ddb_av_n(h->now));
    char update[64], cond[80];

    json_object_object_add(v, ":ttl", ddb_av_n(h->until + 86400));
    snprintf(update, sizeof(update), "SET hold%d = :until, #ttl = :ttl", h->slot);
    snprintf(cond, sizeof(cond), "attribute_not_exists(hold%d) OR hold%d <= :now", h->slot,
             h->slot);
    tx_update(items, cfg->tbl_coupon_usage, holds_key(email), update, cond, v);
}

int
reservation_take(struct ddb *d, const struct cfg *cfg, const struct reservation *p,
                 const struct reservation_hold *hold, struct json_object *purchase,
                 const char *now, struct app_error *err)
{
    struct json_object *items = json_object_new_array();
    int rc;

    if (p->code[0]) {
        struct json_object *red = json_object_new_object();

        tx_coupon(cfg, p, items, +1);
        if (hold)
            tx_hold(cfg, p->email, hold, items);
        add_s(red, "usageId", p->purchase_id);
        add_s(red, "couponCode", p->code);
        add_s(red, "email", p->email);
        add_s(red, "purchaseId", p->purchase_id);
        add_s(red, "status", "reserved");
        add_s(red, "createdAt", now);
        json_object_object_add(red, "ttl", ddb_av_n(retention_records_ttl_iso(cfg, now)));
        json_object_array_add(items, txn_put(cfg->tbl_coupon_usage, red,
                                             "attribute_not_exists(usageId)"));
    }
    json_object_array_add(items, txn_put(cfg->tbl_discount_purchases, json_object_get(purchase),
                                         "attribute_not_exists(purchaseId)"));
    /* The purchase id is the transaction's token: a retried call cannot reserve twice. */
    rc = ddb_transact_write(d, items, p->purchase_id + 4, err);
    json_object_put(items);
    return rc;
}

int
reservation_release(struct ddb *d, const struct cfg *cfg, const struct reservation *p,
                    const char *status, const char *now, struct app_error *err)
{
    struct json_object *items = json_object_new_array();
    struct json_object *v = vals(":failed", ddb_av_s(status), ":pending", ddb_av_s("pending"));
    char token[40];
    int rc;

    if (p->code[0]) {
        struct json_object *del = json_object_new_object(), *w = json_object_new_object();

        tx_coupon(cfg, p, items, -1);
        json_object_object_add(del, "TableName",
                               json_object_new_string(cfg->tbl_coupon_usage));
        json_object_object_add(del, "Key", ddb_key_s("usageId", p->purchase_id));
        json_object_object_add(w, "Delete", del);
        json_object_array_add(items, w);
    }
    json_object_object_add(v, ":now", ddb_av_s(now));
    tx_update(items, cfg->tbl_discount_purchases, ddb_key_s("purchaseId", p->purchase_id),
              "SET #st = :failed, updatedAt = :now", "#st = :pending", v);
    snprintf(token, sizeof(token), "%.6s-%s", status, p->purchase_id + 4);
    rc = ddb_transact_write(d, items, token, err);
    json_object_put(items);
    return rc;
}

