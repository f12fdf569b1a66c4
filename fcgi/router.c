#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/cfg.h"
#include "../lib/metrics.h"
#include "../lib/strparse.h"
#include "cors.h"
#include "auth.h"
#include "request.h"
#include "routes.h"
#include "worker.h"

int
route_match(const char *pattern, const char *path, struct request *req)
{
    const char *p = pattern, *s = path;
    size_t np = 0;

    while (*p && *s) {
        const char *pend = strchr(p + 1, '/');
        const char *send = strchr(s + 1, '/');
        size_t plen, slen;

        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        pend = pend ? pend : p + strlen(p);
        send = send ? send : s + strlen(s);
        plen = (size_t)(pend - p);
        slen = (size_t)(send - s);
        if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
            char *v;

            if (slen == 0 || np == REQ_MAX_PARAMS)
                return 0;
            if (req) {
                v = arena_alloc(req->arena, slen + 1);
                if (str_pct_decode(v, s, slen, 0) <= 0)
                    return 0;
                req->params[np].key = arena_strndup(req->arena, p + 1, plen - 2);
                req->params[np].value = v;
            }
            np++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p = pend;
        s = send;
    }
    if (*p || *s)
        return 0;
    if (req)
        req->nparams = np;
    return 1;
}

void
methods_to_string(unsigned mask, char *out, size_t outlen)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                        "OPTIONS"};
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (mask & (1u << i)) {
            int n = snprintf(out + len, outlen - len, "%s%s", len ? ", " : "", names[i]);

            if (n < 0 || (size_t)n >= outlen - len)
                return;
            len += (size_t)n;
        }
    }
}

/* GET routes answer HEAD too, and every matched path answers OPTIONS (CORS preflight). */
static unsigned
effective_methods(unsigned mask)
{
    if (mask & M_GET)
        mask |= M_HEAD;
    return mask | M_OPTIONS;
}

/* The backend clients the route needs, as redis checks a command's flags before call(). */
static int
check_backends(struct request *req, unsigned flags)
{
    const struct worker *w = req->worker;

    if ((flags & R_DDB) && (!w || !w->ddb))
        return app_error_set(&req->err, APP_EUNAVAILABLE, "dynamodb: no client");
    if ((flags & R_STRIPE) && (!w || !w->stripe))
        return app_error_set(&req->err, APP_EUNAVAILABLE, "stripe: no client");
    if ((flags & R_S3) && (!w || !w->s3))
        return app_error_set(&req->err, APP_EUNAVAILABLE, "s3: no client");
    if ((flags & R_BEDROCK) && (!w || !w->bedrock))
        return app_error_set(&req->err, APP_EUNAVAILABLE, "bedrock: no client");
    return APP_OK;
}

const char *
route_label(size_t i)
{
    if (i == METRICS_ROUTE_NONE)
        return "none";
    return i < routes_count && i < METRICS_ROUTE_NONE ? routes[i].pattern : NULL;
}

/* A route of the metrics listener exists only for requests that came through it. */
static int
route_visible(const struct request *req, const struct route *r)
{
    const char *m;

    if (!(r->flags & R_METRICS))
        return 1;
    m = req_env(req, "PRODENTHUB_METRICS");
    return m && strcmp(m, "1") == 0;
}

const struct route *
route_named(const char *name)
{
    size_t i;

    for (i = 0; name && i < routes_count; i++) {
        if (strcmp(routes[i].name, name) == 0)
            return &routes[i];
    }
    return NULL;
}

int
route_call(struct request *req, const struct route *r)
{
    int rc = check_backends(req, r->flags);

    if (rc == APP_OK && (r->flags & R_SUBSCRIBED))
        rc = auth_subscribed(req);
    return rc != APP_OK ? rc : r->handler(req);
}

static int
check_admin(struct request *req)
{
    const char *auth = req_env(req, "HTTP_AUTHORIZATION");
    const char *token = req->cfg->admin_token;
    size_t n = strlen(token);

    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return app_error_set(&req->err, APP_EUNAUTHORIZED, "admin credentials required");
    if (n == 0)
        return app_error_set(&req->err, APP_EFORBIDDEN, "admin access is disabled");
    auth += 7;
    if (strlen(auth) != n || !str_ct_equal(auth, token, n))
        return app_error_set(&req->err, APP_EFORBIDDEN, "invalid admin credentials");
    return APP_OK;
}

/* Read the body under the route's ceiling: 413 before reading a byte when it cannot fit. */
static int
read_body(struct request *req, const struct body_reader *br, size_t max)
{
    const char *cl = req_env(req, "CONTENT_LENGTH");
    size_t len = 0, got = 0;
    char *dst;

    if (cl && *cl && str_to_size(cl, (size_t)1 << 40, &len) != 0)
        return app_error_set(&req->err, APP_EBADREQUEST, "invalid Content-Length");
    if (len > max) {
        struct json_object *d = json_object_new_object();

        json_object_object_add(d, "maxBytes", json_object_new_int64((int64_t)max));
        reply_error(req, APP_ETOOLARGE, NULL, d);
        return APP_ETOOLARGE;
    }
    dst = arena_alloc(req->arena, len + 1);
    while (got < len) {
        long n = br ? br->read(br->ctx, dst + got, len - got) : -1;

        if (n <= 0)
            return app_error_set(&req->err, APP_EBADREQUEST,
                                 "request body shorter than Content-Length");
        got += (size_t)n;
    }
    dst[len] = '\0';
    req->body = dst;
    req->body_len = len;
    return APP_OK;
}

static int
run(struct request *req, const struct body_reader *br)
{
    const struct route *r = NULL;
    unsigned allowed = 0;
    char allow[96];
    size_t i, max;
    int rc;

    rc = req_parse_line(req);
    if (rc != APP_OK)
        return rc;

    for (i = 0; i < routes_count; i++) {
        if (!route_visible(req, &routes[i]) || !route_match(routes[i].pattern, req->path, NULL))
            continue;
        allowed |= routes[i].methods;
        if (!r && req->method_bit != M_OPTIONS &&
            (effective_methods(routes[i].methods) & req->method_bit))
            r = &routes[i];
    }
    if (!allowed)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such endpoint");
    allowed = effective_methods(allowed);
    methods_to_string(allowed, allow, sizeof(allow));

    if (req->method_bit == M_OPTIONS)
        return cors_preflight(req, allow);
    if (!r) {
        req_add_header(req, "Allow", allow);
        return app_error_set(&req->err, APP_EMETHOD, "use one of: %s", allow);
    }
    req->route = r;
    req->ctx.route = r->name;
    if (!route_match(r->pattern, req->path, req))
        return app_error_set(&req->err, APP_EBADREQUEST, "malformed percent-encoding in the path");
    cors_actual(req);

    if (r->flags & R_ADMIN) {
        rc = check_admin(req);
        if (rc != APP_OK)
            return rc;
    }
    if (r->flags & R_AUTH) {
        rc = auth_user(req);
        if (rc != APP_OK)
            return rc;
    }
    if (r->flags & (R_JSON_BODY | R_RAW_BODY)) {
        max = r->max_body < (size_t)req->cfg->max_body ? r->max_body : (size_t)req->cfg->max_body;
        rc = read_body(req, br, max);
        if (rc != APP_OK)
            return rc;
    }
    if (r->flags & R_JSON_BODY) {
        rc = req_parse_json_body(req, (int)req->cfg->json_max_depth);
        if (rc != APP_OK)
            return rc;
    }
    return route_call(req, r);
}

void
dispatch(struct request *req, const struct body_reader *br)
{
    int rc = run(req, br);

    if (rc < 0 && req->status == 0)
        reply_app_error(req, rc);
    if (req->status == 0) {
        /* A handler returned success without replying: a bug, not the client's fault. */
        app_error_set(&req->err, APP_EINTERNAL, "handler returned %d without a reply", rc);
        reply_error(req, APP_EINTERNAL, NULL, NULL);
    }
}
