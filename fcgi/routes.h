/*
 * The route table and the dispatcher.  routes.c holds the whole API on one screen;
 * router.c matches a request against it and runs the checks every route shares
 * (method, CORS, flags, body limits) before the handler sees the request.
 */
#ifndef PH_ROUTES_H
#define PH_ROUTES_H

#include <stddef.h>

struct request;

/* Route flags, checked centrally before the handler runs. */
#define R_JSON_BODY 0x01   /* body must be application/json, parsed into req->json */
#define R_RAW_BODY  0x02   /* body read but not parsed: the Stripe webhook and SNS
                            * deliveries verify the bytes */
#define R_ADMIN     0x04   /* Authorization: Bearer <PRODENTHUB_ADMIN_TOKEN> required */
#define R_DDB       0x08   /* needs the worker's DynamoDB client (else 503) */
#define R_STRIPE    0x10   /* needs the Stripe client */
#define R_S3        0x20   /* needs the S3 client */
#define R_AUTH      0x40   /* Authorization: Bearer <Cognito JWT> verified (else 401 with
                            * WWW-Authenticate); the claims in req->user */
#define R_SUBSCRIBED 0x80  /* with R_AUTH and R_DDB: the user's subscription is active or
                            * trialing (else 403 SUBSCRIPTION_REQUIRED) */
#define R_BEDROCK   0x100  /* needs the Bedrock Runtime client */
#define R_METRICS   0x200  /* only through the metrics listener, whose nginx server sets
                            * PRODENTHUB_METRICS=1; elsewhere the route does not exist (404) */

struct route {
    unsigned methods;                  /* M_* mask */
    const char *pattern;               /* "/v1/teams/{teamId}": {name} matches one segment */
    int (*handler)(struct request *req);
    unsigned flags;
    size_t max_body;                   /* bytes; 0 = no body expected */
    const char *name;                  /* stable name for logs and metrics */
};

extern const struct route routes[];
extern const size_t routes_count;

/* Reads up to n body bytes into dst; returns bytes read, 0 at end, -1 on error. */
struct body_reader {
    long (*read)(void *ctx, char *dst, size_t n);
    void *ctx;
};

/*
 * Match req against a path pattern; fills req->params on success.  Returns 1 on match.
 */
int route_match(const char *pattern, const char *path, struct request *req);

/* Route, check and run the handler; on return req->status and the body are set. */
void dispatch(struct request *req, const struct body_reader *br);

/* The route named name (its stable name, e.g. "teams.create"), or NULL. */
const struct route *route_named(const char *name);

/* Run route r's handler for req after the checks of its flags that need no body (backends):
 * the universal checkout hands a request to a campaign's own create route this way. */
int route_call(struct request *req, const struct route *r);

/* The metrics' route label i: route i's pattern, "none" (METRICS_ROUTE_NONE) or NULL. */
const char *route_label(size_t i);

/* "GET, HEAD, POST" for a method mask, into out. */
void methods_to_string(unsigned mask, char *out, size_t outlen);

#endif
