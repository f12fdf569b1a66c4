/*
 * The signed-in user's own routes (saas/): POST /v1/auth/session and POST /v1/upload/url.
 * The dispatcher has verified the token (R_AUTH): req->user is the user.
 */
#include "config.h"

#include <string.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/jwt.h"
#include "../lib/s3.h"
#include "../saas/account.h"
#include "../saas/upload.h"
#include "handlers.h"

/* POST /v1/auth/session: no body, or an empty JSON object (a member is refused by name). */
int
auth_session(struct request *req)
{
    struct json_object *user;
    int rc;

    if (strspn(req->body, " \t\r\n") < req->body_len) {
        rc = req_parse_json_body(req, (int)req->cfg->json_max_depth);
        if (rc != APP_OK)
            return rc;
        if (fields_done(req) != APP_OK)
            return APP_EVALIDATION;
    }
    rc = saas_sign_in(&req->ctx, req->user->sub, req->user->email, &user, &req->err);
    if (rc != APP_OK)
        return rc;
    return reply_json(req, 200, user);
}

/* POST /v1/upload/url {"fileName", "contentType", "size"} */
int
upload_url(struct request *req)
{
    struct saas_upload up;
    struct json_object *d;
    const char *name = NULL, *type = NULL;
    long long size = 0;
    int rc;

    field_string(req, "fileName", 1, 1024, FIELD_REQUIRED, &name);
    field_string(req, "contentType", 1, 128, FIELD_REQUIRED, &type);
    field_int(req, "size", 1, req->cfg->s3_upload_max_bytes, FIELD_REQUIRED, &size);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = saas_upload_url(&req->ctx, req->user->sub, name, type, size, &up, &req->err);
    if (rc != APP_OK)
        return rc;
    d = s3_put_instructions("uploadUrl", up.url, type, size, up.expires_at);
    json_add_str(d, "key", up.key);
    return reply_json(req, 201, d);
}
