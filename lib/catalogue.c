#include "config.h"

#include <string.h>

#include "catalogue.h"
#include "cfg.h"
#include "ddbjson.h"
#include "txn.h"

int
catalogue_load(struct ddb *ddb, const struct cfg *cfg, const char *plan_id,
               struct json_object **out, struct app_error *err)
{
    const char *st;
    size_t i, n = plan_id ? strlen(plan_id) : 0;
    int rc;

    *out = NULL;
    if (n == 0 || n > 64)
        return APP_ENOTFOUND;
    for (i = 0; i < n; i++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", plan_id[i]))
            return APP_ENOTFOUND;
    }
    rc = record_load(ddb, cfg->tbl_catalogue, "planId", plan_id, NULL, out, err);
    if (rc != APP_OK)
        return rc;
    st = json_str(*out, "status");
    if (!st || strcmp(st, "active") != 0) {
        json_object_put(*out);
        *out = NULL;
        return APP_ENOTFOUND;
    }
    return APP_OK;
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
