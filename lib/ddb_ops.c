/*
 * The DynamoDB operations handlers use, on top of ddb_call: request building, result
 * extraction, and the retry loops for unprocessed batch items.
 */
#include "config.h"

#include <assert.h>
#include <string.h>
#include <unistd.h>

#include "ddb.h"
#include "ddbjson.h"
#include "log.h"

#define BATCH_WRITE_MAX 25
#define BATCH_ROUNDS 8              /* rounds of UnprocessedItems/Keys before giving up */

static struct json_object *
new_req(const char *table)
{
    struct json_object *r = json_object_new_object();

    if (table)
        json_object_object_add(r, "TableName", json_object_new_string(table));
    return r;
}

/* Add key to r holding a new reference to v (v stays the caller's). */
static void
add_ref(struct json_object *r, const char *key, struct json_object *v)
{
    if (v)
        json_object_object_add(r, key, json_object_get(v));
}

static void
add_condition(struct json_object *r, const char *condition, struct json_object *names,
              struct json_object *values)
{
    if (condition)
        json_object_object_add(r, "ConditionExpression", json_object_new_string(condition));
    add_ref(r, "ExpressionAttributeNames", names);
    add_ref(r, "ExpressionAttributeValues", values);
}

/* Take member key out of obj with a reference of its own, or NULL. */
static struct json_object *
take(struct json_object *obj, const char *key)
{
    struct json_object *v;

    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return json_object_get(v);
}

/* Run op on r (consumed), drop the response. */
static int
run(struct ddb *d, const char *op, struct json_object *r, struct app_error *err)
{
    struct json_object *out = NULL;
    int rc = ddb_call(d, op, r, &out, err);

    json_object_put(r);
    if (out)
        json_object_put(out);
    return rc;
}

int
ddb_get_item(struct ddb *d, const char *table, struct json_object *key, int consistent,
             struct json_object **out_item, struct app_error *err)
{
    struct json_object *r = new_req(table), *out = NULL;
    int rc;

    *out_item = NULL;
    add_ref(r, "Key", key);
    if (consistent)
        json_object_object_add(r, "ConsistentRead", json_object_new_boolean(1));
    rc = ddb_call(d, "GetItem", r, &out, err);
    json_object_put(r);
    if (rc == APP_OK) {
        *out_item = take(out, "Item");
        if (!*out_item)
            rc = APP_ENOTFOUND;
    }
    if (out)
        json_object_put(out);
    return rc;
}

int
ddb_read(struct ddb *d, const char *table, struct json_object *key, struct json_object **out,
         struct app_error *err)
{
    struct json_object *item = NULL;
    int rc = ddb_get_item(d, table, key, 1, &item, err);

    *out = NULL;
    json_object_put(key);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    *out = ddb_unmarshal_item(item);
    json_object_put(item);
    if (!*out)
        return app_error_set(err, APP_EINTERNAL, "dynamodb: an item of %s is malformed", table);
    return APP_OK;
}

int
ddb_put_item(struct ddb *d, const char *table, struct json_object *item,
             const char *condition, struct json_object *names,
             struct json_object *values, struct app_error *err)
{
    struct json_object *r = new_req(table);

    add_ref(r, "Item", item);
    add_condition(r, condition, names, values);
    return run(d, "PutItem", r, err);
}

int
ddb_update_item(struct ddb *d, const char *table, struct json_object *key,
                const char *update, const char *condition, struct json_object *names,
                struct json_object *values, const char *return_values,
                struct json_object **out_attrs, struct app_error *err)
{
    struct json_object *r = new_req(table), *out = NULL;
    int rc;

    if (out_attrs)
        *out_attrs = NULL;
    add_ref(r, "Key", key);
    json_object_object_add(r, "UpdateExpression", json_object_new_string(update));
    add_condition(r, condition, names, values);
    if (return_values)
        json_object_object_add(r, "ReturnValues", json_object_new_string(return_values));
    rc = ddb_call(d, "UpdateItem", r, &out, err);
    json_object_put(r);
    if (rc == APP_OK && out_attrs)
        *out_attrs = take(out, "Attributes");
    if (out)
        json_object_put(out);
    return rc;
}

int
ddb_delete_item(struct ddb *d, const char *table, struct json_object *key,
                const char *condition, struct json_object *names,
                struct json_object *values, struct app_error *err)
{
    struct json_object *r = new_req(table);

    add_ref(r, "Key", key);
    add_condition(r, condition, names, values);
    return run(d, "DeleteItem", r, err);
}

int
ddb_query(struct ddb *d, struct json_object *params, struct json_object **out_items,
          struct json_object **out_last, struct app_error *err)
{
    struct json_object *out = NULL;
    int rc;

    *out_items = NULL;
    *out_last = NULL;
    rc = ddb_call(d, "Query", params, &out, err);
    if (rc == APP_OK) {
        *out_items = take(out, "Items");
        *out_last = take(out, "LastEvaluatedKey");
        if (!*out_items)
            *out_items = json_object_new_array();
    }
    if (out)
        json_object_put(out);
    return rc;
}

/* Pause before another round of unprocessed items: 50, 100, 200... ms. */
static void
round_pause(int round)
{
    usleep((useconds_t)(50000u << (round > 4 ? 4 : round)));
}

/* Is o an object with at least one member? */
static int
nonempty(struct json_object *o)
{
    return o && json_object_is_type(o, json_type_object) &&
           json_object_object_length(o) > 0;
}

int
ddb_batch_get(struct ddb *d, struct json_object *request_items,
              struct json_object **out_responses, struct app_error *err)
{
    struct json_object *pending = json_object_get(request_items);
    struct json_object *all = json_object_new_object();
    int rc = APP_OK, round;

    for (round = 0; round < BATCH_ROUNDS && nonempty(pending); round++) {
        struct json_object *r = json_object_new_object(), *out = NULL, *resp;

        if (round > 0)
            round_pause(round);
        json_object_object_add(r, "RequestItems", pending);
        pending = NULL;
        rc = ddb_call(d, "BatchGetItem", r, &out, err);
        json_object_put(r);
        if (rc != APP_OK) {
            if (out)
                json_object_put(out);
            break;
        }
        if (json_object_object_get_ex(out, "Responses", &resp)) {
            json_object_object_foreach(resp, table, items) {
                struct json_object *acc;
                size_t i;

                if (!json_object_object_get_ex(all, table, &acc)) {
                    acc = json_object_new_array();
                    json_object_object_add(all, table, acc);
                }
                for (i = 0; i < json_object_array_length(items); i++)
                    json_object_array_add(acc, json_object_get(
                        json_object_array_get_idx(items, i)));
            }
        }
        pending = take(out, "UnprocessedKeys");
        json_object_put(out);
    }
    if (rc == APP_OK && nonempty(pending))
        rc = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: keys still unprocessed after "
                           "%d rounds", BATCH_ROUNDS);
    if (pending)
        json_object_put(pending);
    if (rc != APP_OK) {
        json_object_put(all);
        all = NULL;
    }
    *out_responses = all;
    return rc;
}

/* The entry of table in the request items of a BatchGetItem, made on first use. */
static struct json_object *
batch_table(struct json_object *items, const char *table)
{
    struct json_object *t;

    if (json_object_object_get_ex(items, table, &t))
        return t;
    t = json_object_new_object();
    json_object_object_add(t, "Keys", json_object_new_array());
    json_object_object_add(items, table, t);
    return t;
}

/* Is gets[i] the first get of its key? */
static int
first_of_key(const struct ddb_get *gets, size_t i)
{
    size_t j;

    for (j = 0; j < i; j++) {
        if (!strcmp(gets[i].table, gets[j].table) &&
            !strcmp(gets[i].key_name, gets[j].key_name) && !strcmp(gets[i].id, gets[j].id))
            return 0;
    }
    return 1;
}

/* The item of items (an array of items) whose key_name is the string id, with a reference
 * of its own, or NULL. */
static struct json_object *
batch_find(struct json_object *items, const char *key_name, const char *id)
{
    struct json_object *item, *v;
    size_t i;

    for (i = 0; items && i < json_object_array_length(items); i++) {
        item = json_object_array_get_idx(items, i);
        if (json_object_object_get_ex(item, key_name, &v) &&
            json_object_object_get_ex(v, "S", &v) && !strcmp(json_object_get_string(v), id))
            return json_object_get(item);
    }
    return NULL;
}

/* The one distinct key of gets read with GetItem. */
static int
get_one(struct ddb *d, struct ddb_get *gets, size_t n, struct app_error *err)
{
    struct json_object *k = ddb_key_s(gets[0].key_name, gets[0].id), *item = NULL;
    int rc, consistent = 0;
    size_t i;

    for (i = 0; i < n; i++)
        consistent |= gets[i].consistent;
    rc = ddb_get_item(d, gets[0].table, k, consistent, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return APP_OK;
    }
    for (i = 0; rc == APP_OK && i < n; i++)
        gets[i].item = json_object_get(item);
    if (item)
        json_object_put(item);
    return rc;
}

int
ddb_get_many(struct ddb *d, struct ddb_get *gets, size_t n, struct app_error *err)
{
    struct json_object *req, *resp = NULL, *t, *keys;
    size_t i, distinct = 0;
    int rc;

    assert(n <= DDB_GET_MANY_MAX);
    for (i = 0; i < n; i++) {
        gets[i].item = NULL;
        distinct += (size_t)first_of_key(gets, i);
    }
    if (distinct <= 1)
        return n ? get_one(d, gets, n, err) : APP_OK;
    req = json_object_new_object();
    for (i = 0; i < n; i++) {
        t = batch_table(req, gets[i].table);
        if (gets[i].consistent)
            json_object_object_add(t, "ConsistentRead", json_object_new_boolean(1));
        if (first_of_key(gets, i) && json_object_object_get_ex(t, "Keys", &keys))
            json_object_array_add(keys, ddb_key_s(gets[i].key_name, gets[i].id));
    }
    rc = ddb_batch_get(d, req, &resp, err);
    json_object_put(req);
    for (i = 0; rc == APP_OK && i < n; i++) {
        if (json_object_object_get_ex(resp, gets[i].table, &t))
            gets[i].item = batch_find(t, gets[i].key_name, gets[i].id);
    }
    if (resp)
        json_object_put(resp);
    return rc;
}

/* Write one chunk (up to 25 requests), retrying its UnprocessedItems. */
static int
batch_write_chunk(struct ddb *d, const char *table, struct json_object *chunk,
                  struct app_error *err)
{
    struct json_object *pending = json_object_new_object();
    int rc = APP_OK, round;

    json_object_object_add(pending, table, chunk);
    for (round = 0; round < BATCH_ROUNDS && nonempty(pending); round++) {
        struct json_object *r = json_object_new_object(), *out = NULL;

        if (round > 0) {
            LOG(LL_DEBUG, "dynamodb: retrying unprocessed batch items (round %d)", round);
            round_pause(round);
        }
        json_object_object_add(r, "RequestItems", pending);
        pending = NULL;
        rc = ddb_call(d, "BatchWriteItem", r, &out, err);
        json_object_put(r);
        if (rc == APP_OK)
            pending = take(out, "UnprocessedItems");
        if (out)
            json_object_put(out);
        if (rc != APP_OK)
            break;
    }
    if (rc == APP_OK && nonempty(pending))
        rc = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: items still unprocessed after "
                           "%d rounds", BATCH_ROUNDS);
    if (pending)
        json_object_put(pending);
    return rc;
}

int
ddb_batch_write(struct ddb *d, const char *table, struct json_object *requests,
                struct app_error *err)
{
    size_t i, n = json_object_array_length(requests);
    int rc = APP_OK;

    for (i = 0; i < n && rc == APP_OK; i += BATCH_WRITE_MAX) {
        struct json_object *chunk = json_object_new_array();
        size_t j;

        for (j = i; j < n && j < i + BATCH_WRITE_MAX; j++)
            json_object_array_add(chunk, json_object_get(json_object_array_get_idx(requests, j)));
        rc = batch_write_chunk(d, table, chunk, err);
    }
    return rc;
}

int
ddb_transact_write(struct ddb *d, struct json_object *items, const char *client_token,
                   struct app_error *err)
{
    struct json_object *r = new_req(NULL);

    add_ref(r, "TransactItems", items);
    if (client_token)
        json_object_object_add(r, "ClientRequestToken", json_object_new_string(client_token));
    return run(d, "TransactWriteItems", r, err);
}
