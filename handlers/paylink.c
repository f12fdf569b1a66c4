/*
 * Pay links over HTTP (paylink.h).
 */
#include "config.h"

#include "../fcgi/request.h"
#include "../lib/mem.h"
#include "paylink.h"

int
paylink_redirect(struct request *req, const struct paylink_out *out)
{
    struct json_object *d = json_object_new_object();

    json_object_object_add(d, "sessionId", json_object_new_string(out->id));
    json_object_object_add(d, "checkoutUrl", json_object_new_string(out->url));
    req_add_header(req, "Location", out->url);
    return reply_json(req, 303, d);
}

int
paylink_reply(struct request *req, const struct paylink *pl)
{
    struct paylink_out out;
    int rc = paylink_session(&req->ctx, pl, &out, &req->err);

    return rc != APP_OK ? rc : paylink_redirect(req, &out);
}
