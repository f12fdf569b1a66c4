#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../lib/cfg.h"
#include "../lib/cognito.h"
#include "../lib/jwt.h"
#include "../saas/account.h"
#include "auth.h"
#include "request.h"
#include "worker.h"

#define REALM "Bearer realm=\"prodenthub\""

/* A token was sent and refused: the reason is already in req->err. */
static int
refuse(struct request *req, const char *reason)
{
    char h[160];

    snprintf(h, sizeof(h), REALM ", error=\"invalid_token\", error_description=\"%s\"",
             reason);
    req_add_header(req, "WWW-Authenticate", h);
    return APP_EUNAUTHORIZED;
}

/* No token: RFC 6750 names no error then. */
static int
ask(struct request *req, const char *msg)
{
    req_add_header(req, "WWW-Authenticate", REALM);
    return app_error_reason(&req->err, APP_EUNAUTHORIZED, "missing_token", "%s", msg);
}

int
auth_user(struct request *req)
{
    const char *h = req_env(req, "HTTP_AUTHORIZATION");
    struct jwt_claims *claims;
    struct jwt_config jc;
    enum jwt_reason why = JWT_OK;
    int rc;

    if (!cognito_enabled(req->cfg) || !req->worker || !req->worker->jwks)
        return app_error_set(&req->err, APP_EUNAVAILABLE, "sign-in is not configured "
                             "(COGNITO_USER_POOL_ID or COGNITO_ISSUER)");
    if (!h || !*h)
        return ask(req, "a bearer token is required");
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return ask(req, "the Authorization header must be 'Bearer <token>'");
    h += 7;
    h += strspn(h, " ");
    claims = arena_alloc(req->arena, sizeof(*claims));
    memset(claims, 0, sizeof(*claims));
    cognito_jwt_config(req->cfg, &jc);
    rc = jwt_verify(claims, &why, req->worker->jwks, &jc, h, strlen(h), req->ctx.now,
                    &req->err);
    if (rc == APP_EUNAUTHORIZED)
        return refuse(req, jwt_reason_slug(why));
    if (rc != APP_OK)
        return rc;
    if (strlen(claims->sub) > SAAS_MAX_USER_ID || !*claims->sub) {
        app_error_reason(&req->err, APP_EUNAUTHORIZED, "missing_claim", "unusable sub");
        return refuse(req, "missing_claim");
    }
    req->user = claims;
    return APP_OK;
}

int
auth_subscribed(struct request *req)
{
    return saas_require_active(&req->ctx, req->user->sub, &req->err);
}
