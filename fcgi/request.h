/*
 * One HTTP request as a handler sees it, and the replies it can give.
 *
 * Everything here lives in the request's arena and dies after the response is sent.
 * Handlers reply with reply_json() or return a negative app_err (with a message set in
 * req->err); the dispatcher turns an unanswered error into the error envelope.
 */
#ifndef PH_REQUEST_H
#define PH_REQUEST_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "../lib/buf.h"
#include "../lib/ctx.h"
#include "../lib/errors.h"
#include "../lib/log.h"
#include "../lib/mem.h"

struct cfg;
struct jwt_claims;
struct route;
struct worker;

/* Method bits, as kore's HTTP_METHOD_*: a route accepts a mask of them. */
#define M_GET     0x01
#define M_HEAD    0x02
#define M_POST    0x04
#define M_PUT     0x08
#define M_DELETE  0x10
#define M_PATCH   0x20
#define M_OPTIONS 0x40

#define REQ_MAX_PARAMS 4
#define REQ_MAX_QUERY 32

struct kv {
    const char *key;
    const char *value;
};

struct request {
    struct arena *arena;
    char **envp;                 /* FastCGI parameters, NAME=value */
    const struct cfg *cfg;
    struct worker *worker;       /* per-worker connections; NULL in unit tests */
    struct ctx ctx;              /* the worker's clients and the request's now, for domain code */
    struct timespec start;

    const char *method;
    unsigned method_bit;
    const char *path;            /* raw path, no query */
    const char *request_id;
    const struct route *route;
    const struct jwt_claims *user;     /* R_AUTH routes: the verified token's claims
                                        * (lib/jwt.h: sub, email); NULL elsewhere */
    struct kv params[REQ_MAX_PARAMS];  /* {name} segments of the route, decoded */
    size_t nparams;
    struct kv query[REQ_MAX_QUERY];    /* decoded query pairs, in order */
    size_t nquery;

    const char *body;            /* raw bytes, exactly as received (NUL-terminated) */
    size_t body_len;
    struct json_object *json;    /* parsed body, for R_JSON_BODY routes */
    struct json_object *field_errors;  /* fcgi/fields.h: {"name": "why", ...} */
    struct fields_state *fields;       /* fcgi/fields.c: the members read, aliases */
    struct json_object *reply_extra;   /* members reply_json adds to an object's data */

    struct app_error err;        /* detail of the error being returned */

    /* the response being built */
    int status;                  /* 0 until a reply is set */
    const char *resp_type;       /* Content-Type; NULL: application/json; charset=utf-8 */
    struct buf resp_headers;     /* extra "Name: value\r\n" lines */
    struct buf resp_body;
};

/* Set up req from a FastCGI parameter list; the caller owns arena and envp. */
void req_init(struct request *req, struct arena *arena, char **envp, const struct cfg *cfg,
              struct worker *w);
void req_free(struct request *req);

/* A FastCGI parameter (CONTENT_TYPE, HTTP_ORIGIN, ...), or NULL. */
const char *req_env(const struct request *req, const char *name);
const char *req_path_param(const struct request *req, const char *name);
const char *req_query(const struct request *req, const char *name);

/* Parse method, path and query string.  On error sets req->err and returns a code. */
int req_parse_line(struct request *req);

/* Validate Content-Length against max and parse body bytes already read into req. */
int req_parse_json_body(struct request *req, int max_depth);

/* Add a response header line (no CR/LF allowed in name or value). */
void req_add_header(struct request *req, const char *name, const char *value);

/* {"success":true,"data":data}; takes ownership of data (NULL sends null). */
int reply_json(struct request *req, int status, struct json_object *data);
/* {"success":true,"data":<data>} where data is JSON text already (e.g. from the cache). */
int reply_json_raw(struct request *req, int status, const char *data);
/*
 * {"success":false,"error":msg,"code":SLUG,"details":{...,"requestId":...}}.  msg NULL uses
 * the table's message; for 5xx codes the public message is always the table's, the detail
 * goes to the log only.  Takes ownership of details.
 */
int reply_error(struct request *req, int code, const char *msg, struct json_object *details);
/* The error in req->err as the envelope: its reason or field in details (lib/errors.h). */
int reply_app_error(struct request *req, int code);

/* A log line with the request's id, method and route attached. */
void req_log(const struct request *req, int level, const char *fmt, ...) PH_PRINTF(3, 4);

#endif
