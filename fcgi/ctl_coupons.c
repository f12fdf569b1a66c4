/*
 * prodenthubctl coupon-check (fcgi/ctl_coupons.h).  The workers refuse a coupon record they
 * cannot read fully and log it once; this lists every such record at once, for an operator
 * after an import or before a campaign.  It also checks what the workers cannot check on each
 * request: that every plan id a coupon names is in the catalogue (a misspelt id is not
 * refused by the workers, the coupon just never applies to that plan).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/coupon.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "ctl_coupons.h"

#define CATALOGUE_MAX 512

struct check {
    char plans[CATALOGUE_MAX][65];  /* the catalogue's plan ids */
    size_t nplans;
    long coupons, refused, unknown;
};

/* Call fn on every item (plain JSON, or NULL when DynamoDB JSON it cannot be) of table. */
static int
scan(struct ddb *ddb, const char *table, void (*fn)(struct check *, struct json_object *,
                                                   struct json_object *), struct check *ck)
{
    struct json_object *params, *out = NULL, *items, *last;
    struct app_error e;
    int rc = 0;
    size_t i;

    params = json_object_new_object();
    json_object_object_add(params, "TableName", json_object_new_string(table));
    json_object_object_add(params, "ConsistentRead", json_object_new_boolean(1));
    for (;;) {
        app_error_clear(&e);
        out = NULL;
        if (ddb_call(ddb, "Scan", params, &out, &e) != APP_OK) {
            fprintf(stderr, "prodenthubctl: scanning %s: %s\n", table, e.msg);
            rc = 1;
            break;
        }
        if (json_object_object_get_ex(out, "Items", &items)) {
            for (i = 0; i < json_object_array_length(items); i++) {
                struct json_object *raw = json_object_array_get_idx(items, i);
                struct json_object *plain = ddb_unmarshal_item(raw);

                fn(ck, plain, raw);
                if (plain)
                    json_object_put(plain);
            }
        }
        if (!json_object_object_get_ex(out, "LastEvaluatedKey", &last) ||
            json_object_object_length(last) == 0)
            break;
        json_object_object_add(params, "ExclusiveStartKey", json_object_get(last));
        json_object_put(out);
    }
    if (out)
        json_object_put(out);
    json_object_put(params);
    return rc;
}

static void
catalogue_cb(struct check *ck, struct json_object *plain, struct json_object *raw)
{
    const char *id = json_str(plain, "planId");

    (void)raw;
    if (id && ck->nplans < CATALOGUE_MAX)
        snprintf(ck->plans[ck->nplans++], sizeof(ck->plans[0]), "%s", id);
}

static int
in_catalogue(const struct check *ck, const char *id)
{
    size_t i;

    for (i = 0; i < ck->nplans; i++) {
        if (strcmp(ck->plans[i], id) == 0)
            return 1;
    }
    return 0;
}

/* The code as stored, for the listing; "-" when there is none to show. */
static const char *
shown_code(struct json_object *raw)
{
    struct json_object *v;

    if (json_object_object_get_ex(raw, "couponCode", &v) &&
        json_object_object_get_ex(v, "S", &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "-";
}

static void
coupon_cb(struct check *ck, struct json_object *plain, struct json_object *raw)
{
    char why[COUPON_WHY_MAX];
    struct coupon c;
    size_t i;

    ck->coupons++;
    if (!plain) {
        printf("%s\t%s\tnot an item of DynamoDB attribute values\n", shown_code(raw),
               coupon_reason_slug(COUPON_MISCONFIGURED));
        ck->refused++;
        return;
    }
    if (coupon_from_item(plain, &c, why, sizeof(why)) != COUPON_OK) {
        printf("%s\t%s\t%s\n", shown_code(raw), coupon_reason_slug(COUPON_MISCONFIGURED), why);
        ck->refused++;
        return;
    }
    for (i = 0; i < c.nplans; i++) {
        if (coupon_family_known(c.plans[i]) || in_catalogue(ck, c.plans[i]))
            continue;
        printf("%s\tUNKNOWN_PLAN\tapplicablePlans names '%s', which the catalogue does not "
               "hold: the coupon never applies to it\n", c.code, c.plans[i]);
        ck->unknown++;
        return;
    }
}

int
ctl_coupon_check(const struct cfg *cfg, struct ddb *ddb)
{
    static struct check ck;

    memset(&ck, 0, sizeof(ck));
    if (scan(ddb, cfg->tbl_catalogue, catalogue_cb, &ck) != 0)
        return 1;
    if (scan(ddb, cfg->tbl_coupons, coupon_cb, &ck) != 0)
        return 1;
    printf("%ld coupons, %ld refused as misconfigured, %ld naming unknown plans\n", ck.coupons,
           ck.refused, ck.unknown);
    return ck.refused || ck.unknown ? 1 : 0;
}
