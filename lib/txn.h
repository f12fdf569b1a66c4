/*
 * DynamoDB transaction elements and records, for code that writes several items at once:
 * every limit and state change in this service is a conditional write or a transaction,
 * never read-then-write.
 */
#ifndef PH_TXN_H
#define PH_TXN_H

#include <json-c/json.h>

#include "errors.h"

struct ddb;

/* TransactWriteItems elements.  key, item and vals are taken; "#st" stands for status,
 * "#ttl" for ttl, "#cap" for capacity and "#res" for result (reserved words). */
struct json_object *txn_update(const char *table, struct json_object *key, const char *update,
                               const char *condition, struct json_object *vals);
struct json_object *txn_put(const char *table, struct json_object *item,
                            const char *condition);

/* The same update as one conditional UpdateItem of its own (key and vals taken, the names
 * as above).  APP_ECONDITION (err cleared) when the condition failed. */
int txn_update_item(struct ddb *ddb, const char *table, struct json_object *key,
                    const char *update, const char *condition, struct json_object *vals,
                    struct app_error *err);

/*
 * A ClientRequestToken for the transaction that applies one payment (pi) to what (a record,
 * a share), on attempt: the same for a retry of the same call, different for another payment
 * of the same record (DynamoDB refuses a token reused with other items for 10 minutes).
 */
#define TXN_TOKEN_LEN 37
void txn_token(char out[TXN_TOKEN_LEN], const char *what, const char *pi, int attempt);

/* Run items as one transaction (token may be NULL); items are released.  APP_ECONDITION
 * (err cleared) when a condition failed. */
int txn_run(struct ddb *ddb, struct json_object *items, const char *token,
            struct app_error *err);

/* The record id of table (an id_new() id starting with prefix; prefix NULL: any id) as a
 * plain object, read consistently (the caller puts it); APP_ENOTFOUND when there is none or
 * the id is malformed. */
int record_load(struct ddb *ddb, const char *table, const char *key_name, const char *id,
                const char *prefix, struct json_object **out, struct app_error *err);

#endif
