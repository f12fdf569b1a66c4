/*
 * Pay links over HTTP (paylink.h).
 */
#include "config.h"

#include "../fcgi/request.h"
#include "../lib/mem.h"
#include "paylink.h"

int
paylink_open(struct request *req, const struct paylink *pl, const char **sid, const char **url)
{
    struct paylink_out out;
    int rc = paylink_session(&req->ctx, pl, &out, &req->err);

    if (rc != APP_OK)
        return rc;
    *sid = arena_strdup(req->arena, out.id);
    *url = arena_strdup(req->arena, out.url);
    return APP_OK;
}

int
paylink_reply(struct request *req, const struct paylink *pl)
{
    struct json_object *d;
    struct paylink_out out;
    int rc = paylink_session(&req->ctx, pl, &out, &req->err);

    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_object_object_add(d, "sessionId", json_object_new_string(out.id));
    json_object_object_add(d, "checkoutUrl", json_object_new_string(out.url));
    req_add_header(req, "Location", out.url);
    return reply_json(req, 303, d);
}
