/*
 * prodenthubctl's coupon commands (ctl.h): coupon-disable and coupon-enable set a coupon's
 * status and drop it from the cache.  coupon-check: the workers refuse a coupon record they
 * cannot read fully and log it once; this lists every such record at once, for an operator
 * after an import or before a campaign.  It also checks what the workers cannot check on each
 * request: that every plan id a coupon names is in the catalogue (a misspelt id is not
 * refused by the workers, the coupon just never applies to that plan).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/coupon.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "ctl.h"

#define CATALOGUE_MAX 512

struct check {
    char plans[CATALOGUE_MAX][65];  /* the catalogue's plan ids */
    size_t nplans;
    long coupons, refused, unknown;
};

static int
catalogue_cb(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct check *ck = arg;
    const char *id = json_str(plain, "planId");

    (void)raw;
    if (id && ck->nplans < CATALOGUE_MAX)
        snprintf(ck->plans[ck->nplans++], sizeof(ck->plans[0]), "%s", id);
    return 0;
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

static int
coupon_cb(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct check *ck = arg;
    char why[COUPON_WHY_MAX];
    struct coupon c;
    size_t i;

    ck->coupons++;
    if (!plain) {
        printf("%s\t%s\tnot an item of DynamoDB attribute values\n", shown_code(raw),
               coupon_reason_slug(COUPON_MISCONFIGURED));
        ck->refused++;
        return 0;
    }
    if (coupon_from_item(plain, &c, why, sizeof(why)) != COUPON_OK) {
        printf("%s\t%s\t%s\n", shown_code(raw), coupon_reason_slug(COUPON_MISCONFIGURED), why);
        ck->refused++;
        return 0;
    }
    for (i = 0; i < c.nplans; i++) {
        if (coupon_family_known(c.plans[i]) || in_catalogue(ck, c.plans[i]))
            continue;
        printf("%s\tUNKNOWN_PLAN\tapplicablePlans names '%s', which the catalogue does not "
               "hold: the coupon never applies to it\n", c.code, c.plans[i]);
        ck->unknown++;
        return 0;
    }
    return 0;
}

int
ctl_coupon_check(struct ctl *c, int argc, char **argv)
{
    static struct check ck;

    (void)argc, (void)argv;
    memset(&ck, 0, sizeof(ck));
    if (ctl_scan(c->ddb, c->cfg.tbl_catalogue, catalogue_cb, &ck) != 0)
        return 1;
    if (ctl_scan(c->ddb, c->cfg.tbl_coupons, coupon_cb, &ck) != 0)
        return 1;
    printf("%ld coupons, %ld refused as misconfigured, %ld naming unknown plans\n", ck.coupons,
           ck.refused, ck.unknown);
    return ck.refused || ck.unknown ? 1 : 0;
}

/* Set a coupon's status (it must exist), then drop it from the cache so every worker sees
 * the change on its next lookup. */
static int
coupon_status(struct ctl *c, const char *code_in, const char *status)
{
    struct json_object *key = json_object_new_object(), *vals = json_object_new_object();
    struct json_object *names = json_object_new_object();
    char code[COUPON_CODE_MAX + 1];
    struct app_error e;
    int rc;

    if (coupon_normalize_code(code_in, code, sizeof(code)) != 0) {
        fprintf(stderr, "prodenthubctl: '%s' is not a coupon code\n", code_in);
        rc = 2;
        goto done;
    }
    json_object_object_add(key, "couponCode", ddb_av_s(code));
    json_object_object_add(vals, ":s", ddb_av_s(status));
    json_object_object_add(names, "#s", json_object_new_string("status"));
    app_error_clear(&e);
    rc = ddb_update_item(c->ddb, c->cfg.tbl_coupons, key, "SET #s = :s",
                         "attribute_exists(couponCode)", names, vals, NULL, NULL, &e);
    if (rc == APP_ECONDITION) {
        fprintf(stderr, "prodenthubctl: no coupon %s\n", code);
        rc = 1;
        goto done;
    }
    if (rc != APP_OK) {
        fprintf(stderr, "prodenthubctl: %s\n", e.msg);
        rc = 1;
        goto done;
    }
    cache_delete(c->cache, "coupon", code);
    printf("%s %s\n", code, status);
done:
    json_object_put(key);
    json_object_put(vals);
    json_object_put(names);
    return rc;
}

int
ctl_coupon_disable(struct ctl *c, int argc, char **argv)
{
    (void)argc;
    return coupon_status(c, argv[1], "inactive");
}

int
ctl_coupon_enable(struct ctl *c, int argc, char **argv)
{
    (void)argc;
    return coupon_status(c, argv[1], "active");
}
