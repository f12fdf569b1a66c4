/*
 * DynamoDB transaction elements and single records (txn.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ddb.h"
#include "ddbjson.h"
#include "ids.h"
#include "txn.h"

/* The placeholders our expressions use for reserved words: #st, #ttl, #cap, #res. */
static void
add_names(struct json_object *o, const char *a, const char *b)
{
    static const char *const words[][2] = {
        { "#st", "status" }, { "#ttl", "ttl" }, { "#cap", "capacity" },
        { "#res", "result" },
    };
    struct json_object *names = NULL;
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!(a && strstr(a, words[i][0])) && !(b && strstr(b, words[i][0])))
            continue;              /* DynamoDB refuses names an expression does not use */
        if (!names)
            names = json_object_new_object();
        json_object_object_add(names, words[i][0], json_object_new_string(words[i][1]));
    }
    if (names)
        json_object_object_add(o, "ExpressionAttributeNames", names);
}

struct json_object *
txn_update(const char *table, struct json_object *key, const char *update,
           const char *condition, struct json_object *vals)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object();

    json_object_object_add(u, "TableName", json_object_new_string(table));
    json_object_object_add(u, "Key", key);
    json_object_object_add(u, "UpdateExpression", json_object_new_string(update));
    if (condition)
        json_object_object_add(u, "ConditionExpression", json_object_new_string(condition));
    add_names(u, update, condition);
    if (vals)
        json_object_object_add(u, "ExpressionAttributeValues", vals);
    json_object_object_add(w, "Update", u);
    return w;
}

struct json_object *
txn_put(const char *table, struct json_object *item, const char *condition)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object();

    json_object_object_add(u, "TableName", json_object_new_string(table));
    json_object_object_add(u, "Item", item);
    if (condition)
        json_object_object_add(u, "ConditionExpression", json_object_new_string(condition));
    add_names(u, condition, NULL);
    json_object_object_add(w, "Put", u);
    return w;
}

int
txn_update_item(struct ddb *ddb, const char *table, struct json_object *key, const char *update,
                const char *condition, struct json_object *vals, struct app_error *err)
{
    struct json_object *w = txn_update(table, key, update, condition, vals), *u, *out = NULL;
    int rc;

    json_object_object_get_ex(w, "Update", &u);
    rc = ddb_call(ddb, "UpdateItem", u, &out, err);
    if (out)
        json_object_put(out);
    json_object_put(w);
    if (rc == APP_ECONDITION)
        app_error_clear(err);
    return rc;
}

int
txn_run(struct ddb *ddb, struct json_object *items, const char *token, struct app_error *err)
{
    int rc = ddb_transact_write(ddb, items, token, err);

    json_object_put(items);
    if (rc == APP_ECONDITION)
        app_error_clear(err);
    return rc;
}

int
record_load(struct ddb *ddb, const char *table, const char *key_name, const char *id,
            const char *prefix, struct json_object **out, struct app_error *err)
{
    struct json_object *k, *item = NULL;
    int rc;

    *out = NULL;
    if (prefix ? !id_valid(id, prefix) : !id)
        return APP_ENOTFOUND;
    k = ddb_key_s(key_name, id);
    rc = ddb_get_item(ddb, table, k, 1, &item, err);
    json_object_put(k);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return APP_ENOTFOUND;
    }
    if (rc != APP_OK)
        return rc;
    *out = ddb_unmarshal_item(item);
    json_object_put(item);
    return *out ? APP_OK : app_error_set(err, APP_EINTERNAL, "%s %s malformed", table, id);
}

void
txn_token(char out[TXN_TOKEN_LEN], const char *what, const char *pi, int attempt)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char in[512];

    snprintf(in, sizeof(in), "%s\n%s\n%d", what ? what : "", pi ? pi : "", attempt);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    hex_encode(md, n < 18 ? n : 18, out);          /* 36 hex digits: DynamoDB's limit */
}
