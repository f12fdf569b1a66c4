/*
 * Mock exams, the candidate's side (docs/MOCK_EXAMS.md):
 *
 *   GET  /v1/mock-exams?limit=&cursor=               upcoming exams in date order, seats left
 *   POST /v1/mock-exams/register                     a seat: free → confirmed at once,
 *                                                    premium → held until paid
 *   GET  /v1/mock-exams/registrations/{id}/pay       a premium seat's Checkout (303)
 *
 * The listing is the campaign layer's (campaign/mock_listing.c: one Query, its first page
 * cached); its premium price is the cached catalogue's (a quote).  Seats are the campaign
 * layer's (campaign/mock_register.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/cursor.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/strparse.h"
#include "../campaign/mock.h"
#include "handlers.h"
#include "paylink.h"
#include "lookup.h"

#define PAGE_DEFAULT 10

/* --- GET /v1/mock-exams ----------------------------------------------------------------- */

/* The listing's cursor: the index's key, as DynamoDB's LastEvaluatedKey has it. */
static const char *const cursor_keys[] = { "mockExamId", "listing", "examDate", NULL };

static struct json_object *
public_exam(const struct cfg *cfg, struct json_object *e, long long price, time_t now)
{
    static const char *const fields[] = {
        "mockExamId", "title", "type", "examDate", "durationMinutes", "capacity", NULL,
    };
    struct json_object *o = json_object_new_object(), *v;
    long long left = json_int(e, "capacity") - json_int(e, "seatsTaken");
    time_t start = time_parse_iso(json_str(e, "examDate"));
    char closes[32];
    size_t i;

    for (i = 0; fields[i]; i++)
        if (json_object_object_get_ex(e, fields[i], &v))
            json_object_object_add(o, fields[i], json_object_get(v));
    json_object_object_add(o, "seatsLeft", json_object_new_int64(left > 0 ? left : 0));
    if (start > 0) {
        time_t t = start - cfg->mock_close_hours * 3600;

        time_iso(t, closes, sizeof(closes));
        json_object_object_add(o, "registrationClosesAt", json_object_new_string(closes));
        json_object_object_add(o, "registrationOpen", json_object_new_boolean(
            t > now && left > 0 && json_str(e, "status") &&
            strcmp(json_str(e, "status"), "scheduled") == 0));
    }
    if (json_str(e, "type") && strcmp(json_str(e, "type"), "premium") == 0) {
        json_object_object_add(o, "priceCents", json_object_new_int64(price));
        json_object_object_add(o, "currency", json_object_new_string("AUD"));
    } else {
        json_object_object_add(o, "priceCents", json_object_new_int(0));
    }
    return o;
}

/* The price shown in the listing (charged: campaign/mock_register.c reads DynamoDB). */
static long long
premium_price(struct request *req)
{
    struct json_object *plan = NULL;
    long long p = 0;

    if (catalogue_plan(req, "mock-exam-premium", &plan) == APP_OK && plan)
        p = json_int(plan, "amountCents");
    if (plan)
        json_object_put(plan);
    return p;
}

int
mockexams_list(struct request *req)
{
    struct json_object *exams = NULL, *last = NULL, *start = NULL, *d, *l;
    const char *lim = req_query(req, "limit"), *cur = req_query(req, "cursor");
    long limit = PAGE_DEFAULT;
    long long price;
    size_t i;
    int rc;

    if (lim && str_to_long(lim, 1, MOCK_PAGE_MAX, &limit) != 0)
        return reply_error(req, APP_EBADREQUEST, "limit must be from 1 to 50", NULL);
    if (cur) {
        start = cursor_key_in(cur, cursor_keys);
        if (!start)
            return reply_error(req, APP_EBADREQUEST, "cursor is not one this API gave", NULL);
    }
    rc = mock_listing(&req->ctx, limit, start, &exams, &last, &req->err);
    if (start)
        json_object_put(start);
    if (rc != APP_OK)
        return rc;
    price = premium_price(req);
    d = json_object_new_object();
    l = json_object_new_array();
    for (i = 0; i < json_object_array_length(exams); i++)
        json_object_array_add(l, public_exam(req->cfg, json_object_array_get_idx(exams, i),
                                             price, req->ctx.now));
    json_object_put(exams);
    json_object_object_add(d, "exams", l);
    if (last) {
        json_object_object_add(d, "nextCursor",
                               json_object_new_string(cursor_key_out(req->arena, last)));
        json_object_put(last);
    } else {
        json_object_object_add(d, "nextCursor", NULL);
    }
    return reply_json(req, 200, d);
}

/* --- POST /v1/mock-exams/register ------------------------------------------------------- */

int
mockexams_register(struct request *req)
{
    struct mock_register_input in;
    struct mock_registered out;
    struct json_object *d;
    char url[512];
    int rc;

    memset(&in, 0, sizeof(in));
    field_string(req, "mockExamId", 1, 64, FIELD_REQUIRED, &in.exam_id);
    field_email(req, "email", FIELD_REQUIRED, &in.email);
    field_name(req, "firstName", FIELD_NAME_PART_MAX, FIELD_REQUIRED, &in.first_name);
    field_name(req, "lastName", FIELD_NAME_PART_MAX, 0, &in.last_name);
    field_campaign(req, MOCK_CAMPAIGN);
    in.metadata = field_metadata(req);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    /* A refusal (details.reason) names no registration: ALREADY_REGISTERED mails the
     * address that holds the seat instead (docs/MOCK_EXAMS.md). */
    rc = mock_register(&req->ctx, &in, &out, &req->err);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    json_add_str(d, "registrationId", out.registration_id);
    json_add_str(d, "mockExamId", in.exam_id);
    json_add_str(d, "tier", out.premium ? "premium" : "free");
    json_add_str(d, "status", out.premium ? "pending" : "confirmed");
    json_add_str(d, "examDate", out.exam_date);
    if (out.premium) {
        json_object_object_add(d, "priceCents", json_object_new_int64(out.price_cents));
        snprintf(url, sizeof(url), "%s/mock-exams/registrations/%s/pay",
                 req->cfg->api_base_url, out.registration_id);
        json_add_str(d, "payUrl", url);
        json_add_str(d, "sessionId", out.session.id);
        json_add_str(d, "checkoutUrl", out.session.url);
    }
    return reply_json(req, 201, d);
}

/* --- GET /v1/mock-exams/registrations/{id}/pay ------------------------------------------ */

int
mockexams_pay(struct request *req)
{
    struct paylink_out out;
    int rc;

    rc = mock_pay(&req->ctx, req_path_param(req, "registrationId"), &out, &req->err);
    return rc != APP_OK ? rc : paylink_redirect(req, &out);
}
