/*
 * The product catalogue read for money: what is charged and granted comes from DynamoDB
 * (a consistent read), never from the cache, which only speeds up answers (lookup.h).
 */
#ifndef PH_CATALOGUE_H
#define PH_CATALOGUE_H

#include <time.h>

#include <json-c/json.h>

#include "errors.h"

struct cfg;
struct ddb;

/* The active catalogue item plan_id, plain (the caller puts it); APP_ENOTFOUND when there is
 * none, it is not active, or the id is malformed. */
int catalogue_load(struct ddb *ddb, const struct cfg *cfg, const char *plan_id,
                   struct json_object **out, struct app_error *err);

/* A catalogue id we could hold (1 to 64 of a-z, 0-9 and '-'): anything else is no plan. */
int catalogue_id_ok(const char *plan_id);

/* The same as catalogue_load from the item as read (attribute-value JSON, consistently:
 * e.g. by ddb_get_many; NULL: none; not consumed); APP_EINTERNAL when it is malformed. */
int catalogue_from_item(struct json_object *item, const char *plan_id,
                        struct json_object **out, struct app_error *err);

/* The item is sold by campaign (its campaignId) at pricing ("fixed", "split", ...): a
 * campaign sells only its own products. */
int catalogue_sells(struct json_object *item, const char *campaign, const char *pricing);

/* from plus months calendar months (UTC). */
time_t catalogue_add_months(time_t from, long long months);

#endif
