/*
 * GET /v1/access-grants?email=... (admin): what a person may use, for the main platform.
 * Written by the webhook when a payment completes (handlers/webhook.c); one Query on the
 * table's key (grants are few per person; all pages are read).
 */
#include "config.h"

#include <string.h>

#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "handlers.h"

static const char *const public_fields[] = {
    "grantId", "productId", "validFrom", "validUntil", "source", "status", "revokedAt",
    "revokeReason", NULL,
};

int
grants_list(struct request *req)
{
    const char *email = req_query(req, "email");
    struct json_object *params, *vals, *items = NULL, *last = NULL, *out, *list;
    char low[256];
    size_t i, n;
    int rc;

    n = email ? strlen(email) : 0;
    if (n < 3 || n >= sizeof(low) || !strchr(email, '@'))
        return app_error_set(&req->err, APP_EVALIDATION, "email: an email address is required");
    for (i = 0; i <= n; i++)
        low[i] = (char)((email[i] >= 'A' && email[i] <= 'Z') ? email[i] + 32 : email[i]);
    params = json_object_new_object();
    json_object_object_add(params, "TableName",
                           json_object_new_string(req->cfg->tbl_access_grants));
    json_object_object_add(params, "KeyConditionExpression",
                           json_object_new_string("email = :e"));
    json_object_object_add(params, "ConsistentRead", json_object_new_boolean(1));
    vals = json_object_new_object();
    json_object_object_add(vals, ":e", ddb_av_s(low));
    json_object_object_add(params, "ExpressionAttributeValues", vals);
    list = json_object_new_array();
    do {
        if (last)
            json_object_object_add(params, "ExclusiveStartKey", last);
        rc = ddb_query(req->worker->ddb, params, &items, &last, &req->err);
        if (rc != APP_OK)
            break;
        for (i = 0; i < json_object_array_length(items); i++) {
            struct json_object *plain = ddb_unmarshal_item(json_object_array_get_idx(items, i));
            struct json_object *g, *v;
            size_t f;

            if (!plain)
                continue;
            g = json_object_new_object();
            for (f = 0; public_fields[f]; f++) {
                if (json_object_object_get_ex(plain, public_fields[f], &v))
                    json_object_object_add(g, public_fields[f], json_object_get(v));
            }
            json_object_array_add(list, g);
            json_object_put(plain);
        }
        json_object_put(items);
        items = NULL;
    } while (last);
    json_object_put(params);
    if (rc != APP_OK) {
        json_object_put(list);
        return rc;
    }
    out = json_object_new_object();
    json_object_object_add(out, "email", json_object_new_string(low));
    json_object_object_add(out, "grants", list);
    return reply_json(req, 200, out);
}
