#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "cors.h"
#include "request.h"

#define CORS_ALLOW_HEADERS "Content-Type, Authorization, X-Request-Id"

int
cors_origin_allowed(const char *list, const char *origin)
{
    size_t olen;
    const char *p = list;

    if (!origin || !*origin)
        return 0;
    olen = strlen(origin);
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *b = p, *e = end;

        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '/'))
            e--;
        if ((e - b == 1 && *b == '*') ||
            ((size_t)(e - b) == olen && memcmp(b, origin, olen) == 0))
            return 1;
        p = comma ? comma + 1 : end;
    }
    return 0;
}

static void
add_allow_origin(struct request *req, const char *origin)
{
    req_add_header(req, "Access-Control-Allow-Origin", origin);
    req_add_header(req, "Vary", "Origin");
}

int
cors_preflight(struct request *req, const char *allow)
{
    const char *origin = req_env(req, "HTTP_ORIGIN");
    const char *want = req_env(req, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
    char age[32];

    req_add_header(req, "Allow", allow);
    if (!origin || !want) {
        req->status = 204;
        return APP_OK;
    }
    if (!cors_origin_allowed(req->cfg->cors_origins, origin))
        return app_error_set(&req->err, APP_EORIGIN, "origin not allowed");
    add_allow_origin(req, origin);
    req_add_header(req, "Access-Control-Allow-Methods", allow);
    req_add_header(req, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    snprintf(age, sizeof(age), "%ld", req->cfg->cors_max_age);
    req_add_header(req, "Access-Control-Max-Age", age);
    req->status = 204;
    return APP_OK;
}

void
cors_actual(struct request *req)
{
    const char *origin = req_env(req, "HTTP_ORIGIN");

    if (origin && cors_origin_allowed(req->cfg->cors_origins, origin)) {
        add_allow_origin(req, origin);
        req_add_header(req, "Access-Control-Expose-Headers", "X-Request-Id");
    }
}
