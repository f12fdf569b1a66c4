/*
 * DynamoDB over its JSON 1.0 protocol, on one reused curl handle per worker (keep-alive:
 * no DNS lookup or TLS handshake per request once the connection is up).
 */
#ifndef PH_DDB_H
#define PH_DDB_H

#include "buf.h"
#include "errors.h"

struct cfg;
struct ddb;

struct ddb *ddb_new(const struct cfg *cfg);
void ddb_free(struct ddb *d);

/*
 * POST one operation ("ListTables", ...) with a JSON body; the response body goes to out.
 * Returns 0 on HTTP 200; APP_EUNAVAILABLE when DynamoDB cannot be reached, APP_ETIMEOUT
 * when it does not answer within timeout_ms, APP_EUPSTREAM for an error answer (the
 * DynamoDB error type is in err->msg).  *http_status gets the status (0 if none).
 */
int ddb_call(struct ddb *d, const char *op, const char *body, long timeout_ms,
             struct buf *out, long *http_status, struct app_error *err);

/* Readiness: a ListTables with Limit 1, the cheapest signed call that touches no data. */
int ddb_ping(struct ddb *d, long timeout_ms, struct app_error *err);

#endif
