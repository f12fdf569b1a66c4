#include "config.h"

#include <string.h>

#include "catalogue.h"
#include "cfg.h"
#include "ddbjson.h"
#include "txn.h"

int
catalogue_id_ok(const char *plan_id)
{
    size_t n = plan_id ? strlen(plan_id) : 0;

    return n > 0 && n <= 64 && strspn(plan_id, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* *out (plain) kept if active; else put, and APP_ENOTFOUND. */
static int
keep_active(struct json_object **out)
{
    const char *st = json_str(*out, "status");

    if (st && strcmp(st, "active") == 0)
        return APP_OK;
    json_object_put(*out);
    *out = NULL;
    return APP_ENOTFOUND;
}

int
catalogue_load(struct ddb *ddb, const struct cfg *cfg, const char *plan_id,
               struct json_object **out, struct app_error *err)
{
    int rc;

    *out = NULL;
    if (!catalogue_id_ok(plan_id))
        return APP_ENOTFOUND;
    rc = record_load(ddb, cfg->tbl_catalogue, "planId", plan_id, NULL, out, err);
    return rc == APP_OK ? keep_active(out) : rc;
}

int
catalogue_from_item(struct json_object *item, const char *plan_id, struct json_object **out,
                    struct app_error *err)
{
    *out = NULL;
    if (!item)
        return APP_ENOTFOUND;
    *out = ddb_unmarshal_item(item);
    if (!*out)
        return app_error_set(err, APP_EINTERNAL, "catalogue item %s malformed", plan_id);
    return keep_active(out);
}

time_t
catalogue_add_months(time_t from, long long months)
{
    struct tm tm;

    gmtime_r(&from, &tm);
    tm.tm_mon += (int)months;
    return timegm(&tm);
}

int
catalogue_sells(struct json_object *item, const char *campaign, const char *pricing)
{
    const char *k = json_str(item, "campaignId"), *p = json_str(item, "pricing");

    return k && p && strcmp(k, campaign) == 0 && strcmp(p, pricing) == 0;
}
