/*
 * The context domain code runs in: the clients it may use and the time it is.  A request
 * builds one from its worker (fcgi/request.c), the operator's tool from its own clients, a
 * unit test from stubs; campaign code never sees a request (campaign/campaign.h).
 *
 * now is read once per request, so every record a request writes carries the same time; the
 * configuration's PRODENTHUB_CLOCK_OFFSET_S (refused in production) moves it for tests of
 * expiry and deadlines.
 */
#ifndef PH_CTX_H
#define PH_CTX_H

#include <stdarg.h>
#include <time.h>

#include "log.h"

struct cfg;
struct ddb;
struct cache;
struct stripe;
struct s3;
struct bedrock;

struct ctx {
    const struct cfg *cfg;
    struct ddb *ddb;               /* NULL when the worker has none (then 503) */
    struct cache *cache;           /* NULL: every lookup misses */
    struct stripe *stripe;
    struct s3 *s3;
    struct bedrock *bedrock;       /* Bedrock Runtime (lib/bedrock.h) */
    time_t now;
    const char *request_id;        /* for logs: "-" outside a request */
    const char *method;            /* for logs: the request's method, NULL outside one */
    const char *route;             /* for logs: the route's name, or the tool's command */
    const char *client;            /* the client's address (REMOTE_ADDR) for per-client
                                    * limits; NULL outside a request */
};

/* now for cfg: the clock plus the configured offset. */
time_t ctx_clock(const struct cfg *cfg);

/* A log line with the context's request id, method and route (req_log is this on a
 * request's context). */
void ctx_log(const struct ctx *c, int level, const char *fmt, ...) PH_PRINTF(3, 4);
void ctx_vlog(const struct ctx *c, int level, const char *fmt, va_list ap) PH_PRINTF(3, 0);

#endif
