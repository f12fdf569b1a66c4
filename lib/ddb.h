/*
 * DynamoDB over its JSON 1.0 protocol: SigV4-signed (lib/sigv4.h) with credentials from the
 * provider chain (lib/creds.h), on one reused curl handle per worker (keep-alive: no DNS
 * lookup or TLS handshake per request once the connection is up): a signed AWS call of
 * lib/aws.h, of which lib/ddb.c keeps the protocol and the classification of DynamoDB's answers.
 *
 * Errors are classified as the SDKs do.  Throttling, 5xx and network errors are retried with
 * exponential back-off and full jitter, within DYNAMODB_MAX_ATTEMPTS and the whole-call
 * budget DYNAMODB_TIMEOUT_MS; validation errors are not retried.  A lost condition
 * (ConditionalCheckFailedException, or a TransactionCanceledException whose reasons include
 * ConditionalCheckFailed) is APP_ECONDITION, its own case for handlers.
 *
 * Items and keys are in DynamoDB's attribute-value JSON ({"S":"x"}); lib/ddbjson.h
 * converts plain JSON to and from it.
 */
#ifndef PH_DDB_H
#define PH_DDB_H

#include <stddef.h>

#include <json-c/json.h>

#include "errors.h"

struct cfg;
struct creds_provider;
struct ddb;

struct ddb *ddb_new(const struct cfg *cfg, struct creds_provider *creds);
void ddb_free(struct ddb *d);

/*
 * One operation ("GetItem", ...) with request body req (not consumed).  On success *out is
 * the parsed response (caller puts it).  On a DynamoDB error answer, *out is the parsed error
 * body (e.g. CancellationReasons) when there is one, and the code says what kind:
 *   APP_ECONDITION   a condition failed          APP_EUNAVAILABLE  unreachable, throttled, 5xx
 *   APP_ETIMEOUT     no answer within budget     APP_EINTERNAL     our request was refused
 */
int ddb_call(struct ddb *d, const char *op, struct json_object *req, struct json_object **out,
             struct app_error *err);

/* Attempts made by the last ddb_call (for tests and logs). */
int ddb_last_attempts(const struct ddb *d);

/* Readiness: DescribeTable of table, one attempt: a signed call that reads no item, and an
 * IAM action that can be granted on the service's own tables only. */
int ddb_ping(struct ddb *d, const char *table, long timeout_ms, struct app_error *err);

/* --- operations (lib/ddb_ops.c); keys and items in attribute-value JSON --------------- */

/* The item for key, or APP_ENOTFOUND.  *out_item is the caller's. */
int ddb_get_item(struct ddb *d, const char *table, struct json_object *key, int consistent,
                 struct json_object **out_item, struct app_error *err);

/*
 * The item for key (taken), read consistently, as a plain object (*out, the caller's), or
 * *out NULL when there is none: APP_OK either way; APP_EINTERNAL for an item that cannot be
 * read as plain JSON.
 */
int ddb_read(struct ddb *d, const char *table, struct json_object *key,
             struct json_object **out, struct app_error *err);

/*
 * Put, update and delete take an optional condition with its names and values (NULL when
 * unused; names and values are not consumed).  update returns the attributes asked for by
 * return_values ("ALL_NEW", "UPDATED_NEW", NULL for none) in *out_attrs when not NULL.
 */
int ddb_put_item(struct ddb *d, const char *table, struct json_object *item,
                 const char *condition, struct json_object *names,
                 struct json_object *values, struct app_error *err);
int ddb_update_item(struct ddb *d, const char *table, struct json_object *key,
                    const char *update, const char *condition, struct json_object *names,
                    struct json_object *values, const char *return_values,
                    struct json_object **out_attrs, struct app_error *err);
int ddb_delete_item(struct ddb *d, const char *table, struct json_object *key,
                    const char *condition, struct json_object *names,
                    struct json_object *values, struct app_error *err);

/*
 * One page of a Query: params is the Query request (TableName, IndexName,
 * KeyConditionExpression, FilterExpression, names, values, Limit, ExclusiveStartKey,
 * ScanIndexForward...), not consumed.  *out_items is the array of items (caller's),
 * *out_last the LastEvaluatedKey or NULL when this was the last page.
 */
int ddb_query(struct ddb *d, struct json_object *params, struct json_object **out_items,
              struct json_object **out_last, struct app_error *err);

/*
 * BatchGetItem for request_items ({"Table":{"Keys":[...]}}, up to 100 keys), retrying
 * UnprocessedKeys with back-off.  *out_responses is {"Table":[items...]}.
 */
int ddb_batch_get(struct ddb *d, struct json_object *request_items,
                  struct json_object **out_responses, struct app_error *err);

/*
 * Items of one or more tables, each by a string key, in one round trip: a GetItem for one
 * key, else one ddb_batch_get (up to DDB_GET_MANY_MAX keys).  A table is read consistently
 * when any of its gets asks for it; a key asked twice is sent once.  Each gets[i].item is
 * the item (attribute-value JSON, the caller's) or NULL when there is none.
 */
#define DDB_GET_MANY_MAX 100
struct ddb_get {
    const char *table;
    const char *key_name;
    const char *id;
    int consistent;
    struct json_object *item;       /* out */
};
int ddb_get_many(struct ddb *d, struct ddb_get *gets, size_t n, struct app_error *err);

/*
 * BatchWriteItem of any number of requests for one table ({"PutRequest":{"Item":..}} or
 * {"DeleteRequest":{"Key":..}} in an array, not consumed), 25 per call, retrying
 * UnprocessedItems with back-off.
 */
int ddb_batch_write(struct ddb *d, const char *table, struct json_object *requests,
                    struct app_error *err);

/*
 * TransactWriteItems: all of items change, or none.  client_token (up to 36 characters,
 * NULL for none) makes a retried transaction idempotent for 10 minutes.
 */
int ddb_transact_write(struct ddb *d, struct json_object *items, const char *client_token,
                       struct app_error *err);

#endif
