/*
 * Mock exams, the candidate's side (docs/MOCK_EXAMS.md):
 *
 *   GET  /v1/mock-exams?limit=&cursor=               upcoming exams in date order, seats left
 *   POST /v1/mock-exams/register                     a seat: free → confirmed at once,
 *                                                    premium → held until paid
 *   GET  /v1/mock-exams/registrations/{id}/pay       a premium seat's Checkout (303)
 *
 * The listing is one Query on listing-examDate-index (examDate >= now): its cost does not
 * grow with past exams.  A seat is one transaction: the exam's seatsTaken below capacity
 * (and registration still open) and the registration new (or released), so capacity and
 * "one per email" hold under any concurrency.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/strparse.h"
#include "../campaign/campaign.h"
#include "../lib/txn.h"
#include "handlers.h"
#include "lookup.h"
#include "../campaign/mock.h"
#include "paylink.h"

#define PAGE_DEFAULT 10
#define PAGE_MAX 50
#define CURSOR_MAX 512

/* --- GET /v1/mock-exams ----------------------------------------------------------------- */

/* The page's LastEvaluatedKey as an opaque URL-safe cursor. */
static char *
cursor_out(struct request *req, struct json_object *last)
{
    const char *js = json_object_to_json_string_ext(last, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(js), i;
    char *out = arena_alloc(req->arena, 4 * ((n + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)js, (int)n);
    for (i = 0; out[i]; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (i > 0 && out[i - 1] == '=')
        out[--i] = '\0';
    return out;
}

/* The cursor back into an ExclusiveStartKey of exactly our key's three strings, or NULL. */
static struct json_object *
cursor_in(const char *c)
{
    static const char *const keys[] = { "mockExamId", "listing", "examDate" };
    unsigned char dec[CURSOR_MAX];
    char b64[CURSOR_MAX + 4];
    struct json_object *o, *v, *s;
    size_t n = strlen(c), i;
    int len;

    if (n == 0 || n > CURSOR_MAX - 4)
        return NULL;
    for (i = 0; i < n; i++)
        b64[i] = c[i] == '-' ? '+' : c[i] == '_' ? '/' : c[i];
    while (i % 4)
        b64[i++] = '=';
    b64[i] = '\0';
    len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)i);
    if (len <= 0)
        return NULL;
    while (len > 0 && dec[len - 1] == '\0')
        len--;                       /* EVP_DecodeBlock pads with zero bytes */
    dec[len] = '\0';
    o = json_tokener_parse((const char *)dec);
    if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 3)
        goto bad;
    for (i = 0; i < 3; i++)
        if (!json_object_object_get_ex(o, keys[i], &v) || !json_object_object_get_ex(v, "S",
                                                                                    &s) ||
            !json_object_is_type(s, json_type_string) || json_object_object_length(v) != 1)
            goto bad;
    return o;
bad:
    if (o)
        json_object_put(o);
    return NULL;
}

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
mock_list(struct request *req)
{
    struct json_object *q, *v, *items = NULL, *last = NULL, *start = NULL, *d, *l, *e;
    const char *lim = req_query(req, "limit"), *cur = req_query(req, "cursor");
    time_t now = req->ctx.now;
    long limit = PAGE_DEFAULT;
    long long price;
    char ts[32];
    size_t i;
    int rc;

    if (lim && str_to_long(lim, 1, PAGE_MAX, &limit) != 0)
        return reply_error(req, APP_EBADREQUEST, "limit must be from 1 to 50", NULL);
    if (cur) {
        start = cursor_in(cur);
        if (!start)
            return reply_error(req, APP_EBADREQUEST, "cursor is not one this API gave", NULL);
    }
    time_iso(now, ts, sizeof(ts));
    q = json_object_new_object();
    json_object_object_add(q, "TableName", json_object_new_string(req->cfg->tbl_mock_exams));
    json_object_object_add(q, "IndexName", json_object_new_string("listing-examDate-index"));
    json_object_object_add(q, "KeyConditionExpression",
                           json_object_new_string("listing = :l AND examDate >= :now"));
    v = json_object_new_object();
    json_object_object_add(v, ":l", ddb_av_s("EXAM"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(q, "ExpressionAttributeValues", v);
    json_object_object_add(q, "Limit", json_object_new_int((int)limit));
    if (start)
        json_object_object_add(q, "ExclusiveStartKey", start);
    rc = ddb_query(req->worker->ddb, q, &items, &last, &req->err);
    json_object_put(q);
    if (rc != APP_OK)
        return rc;
    price = premium_price(req);
    d = json_object_new_object();
    l = json_object_new_array();
    for (i = 0; i < json_object_array_length(items); i++) {
        e = ddb_unmarshal_item(json_object_array_get_idx(items, i));
        if (!e)
            continue;
        json_object_array_add(l, public_exam(req->cfg, e, price, now));
        json_object_put(e);
    }
    json_object_put(items);
    json_object_object_add(d, "exams", l);
    if (last) {
        json_object_object_add(d, "nextCursor", json_object_new_string(cursor_out(req, last)));
        json_object_put(last);
    } else {
        json_object_object_add(d, "nextCursor", NULL);
    }
    return reply_json(req, 200, d);
}

/* --- POST /v1/mock-exams/register ------------------------------------------------------- */

static long long
wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct seat {
    char id[40];
    const char *exam_id, *email, *first, *last;
    int premium;
    long long price;
};

static struct json_object *
registration(const struct seat *s, struct json_object *exam, const char *now)
{
    struct json_object *o = json_object_new_object(), *av;

    json_add_str(o, "registrationId", s->id);
    json_add_str(o, "mockExamId", s->exam_id);
    json_add_str(o, "campaignId", MOCK_CAMPAIGN);
    json_add_str(o, "email", s->email);
    json_add_str(o, "firstName", s->first);
    if (s->last)
        json_add_str(o, "lastName", s->last);
    json_add_str(o, "tier", s->premium ? "premium" : "free");
    json_add_str(o, "status", s->premium ? "pending" : "confirmed");
    json_add_str(o, "examTitle", json_str(exam, "title"));
    json_add_str(o, "examDate", json_str(exam, "examDate"));
    if (s->premium) {
        json_object_object_add(o, "priceCents", json_object_new_int64(s->price));
        json_add_str(o, "planName", "Mock Exam Premium Access");
        /* The pay link's attempt counter starts at the clock (microseconds), so a seat taken
         * again after a release never reuses an idempotency key of the earlier checkout. */
        json_object_object_add(o, "sessions", json_object_new_int64(wall_us()));
    }
    json_add_str(o, "createdAt", now);
    json_add_str(o, "updatedAt", now);
    av = ddb_marshal_item(o);
    json_object_put(o);
    return av;
}

/* Why the seat transaction was refused: read after the fact, only to explain it. */
static int
refused(struct request *req, const struct seat *s)
{
    struct json_object *reg = NULL, *exam = NULL, *d = json_object_new_object();
    const char *why = "REGISTRATION_CLOSED", *msg = "Registration for this exam is closed";
    int status = APP_EUNPROCESSABLE;

    app_error_clear(&req->err);
    if (mock_registration_load(req->worker->ddb, req->cfg, s->id, &reg, &req->err) == APP_OK &&
        json_str(reg, "status") && strcmp(json_str(reg, "status"), "released") != 0) {
        why = "ALREADY_REGISTERED";
        msg = "This email is already registered for this exam";
        status = APP_ECONFLICT;
        json_add_str(d, "registrationId", s->id);
    } else if (mock_exam_load(req->worker->ddb, req->cfg, s->exam_id, &exam, &req->err) ==
               APP_OK && json_int(exam, "seatsTaken") >= json_int(exam, "capacity")) {
        why = "EXAM_FULL";
        msg = "This exam is full";
        status = APP_ECONFLICT;
    }
    app_error_clear(&req->err);
    if (reg)
        json_object_put(reg);
    if (exam)
        json_object_put(exam);
    json_add_str(d, "reason", why);
    return reply_error(req, status, msg, d);
}

/* Give a held premium seat back (Stripe refused to open its checkout). */
static int
release(struct request *req, const struct seat *s, const char *now)
{
    struct json_object *items = json_object_new_array(), *v;

    v = json_object_new_object();
    json_object_object_add(v, ":one", ddb_av_n(1));
    json_object_array_add(items, txn_update(req->cfg->tbl_mock_exams,
                                            ddb_key_s("mockExamId", s->exam_id),
                                            "SET seatsTaken = seatsTaken - :one",
                                            "seatsTaken >= :one", v));
    v = json_object_new_object();
    json_object_object_add(v, ":pending", ddb_av_s("pending"));
    json_object_object_add(v, ":released", ddb_av_s("released"));
    json_object_object_add(v, ":now", ddb_av_s(now));
    json_object_array_add(items, txn_update(req->cfg->tbl_mock_registrations,
                                            ddb_key_s("registrationId", s->id),
                                            "SET #st = :released, updatedAt = :now",
                                            "#st = :pending", v));
    return txn_run(req->ctx.ddb, items, NULL, &req->err);
}

int
mock_pay_session(struct request *req, struct json_object *reg, int reply,
                 struct json_object *metadata, const char **sid, const char **url)
{
    char ok[512], cancel[512], name[300];
    struct paylink pl;

    memset(&pl, 0, sizeof(pl));
    snprintf(name, sizeof(name), "Mock Exam Premium Access - %s", json_str(reg, "examTitle"));
    snprintf(ok, sizeof(ok), "%s/mock-exams/%s?registered=1", req->cfg->frontend_url,
             json_str(reg, "mockExamId"));
    snprintf(cancel, sizeof(cancel), "%s/mock-exams/%s", req->cfg->frontend_url,
             json_str(reg, "mockExamId"));
    pl.table = req->cfg->tbl_mock_registrations;
    pl.key_name = "registrationId";
    pl.key = json_str(reg, "registrationId");
    pl.path = "";
    pl.holder = reg;
    pl.unpaid_status = "pending";
    pl.amount_cents = json_int(reg, "priceCents");
    pl.product_id = req->cfg->stripe_mock_premium_product;
    pl.product_name = name;
    pl.email = json_str(reg, "email");
    pl.campaign = MOCK_CAMPAIGN;
    pl.meta_keys[0] = "registrationId";
    pl.meta_vals[0] = pl.key;
    pl.meta_keys[1] = "mockExamId";
    pl.meta_vals[1] = json_str(reg, "mockExamId");
    pl.success_url = ok;
    pl.cancel_url = cancel;
    pl.extra_meta = metadata;
    if (reply)
        return paylink_reply(req, &pl);
    return paylink_open(req, &pl, sid, url);
}

int
mock_register(struct request *req)
{
    struct json_object *exam = NULL, *items, *v, *reg_av, *reg, *d, *w, *metadata;
    char now[32], closes_by[32], url[512];
    const char *checkout = NULL, *sid = NULL;
    time_t t = req->ctx.now;
    struct seat s;
    int rc;

    memset(&s, 0, sizeof(s));
    field_string(req, "mockExamId", 1, 64, FIELD_REQUIRED, &s.exam_id);
    field_email(req, "email", FIELD_REQUIRED, &s.email);
    field_string(req, "firstName", 1, 100, FIELD_REQUIRED, &s.first);
    field_string(req, "lastName", 1, 100, 0, &s.last);
    field_campaign(req, MOCK_CAMPAIGN);
    metadata = field_metadata(req);
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    rc = mock_exam_load(req->worker->ddb, req->cfg, s.exam_id, &exam, &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such mock exam");
    if (rc != APP_OK)
        return rc;
    arena_cleanup(req->arena, json_put_cb, exam);
    s.premium = json_str(exam, "type") && strcmp(json_str(exam, "type"), "premium") == 0;
    if (s.premium) {
        s.price = premium_price(req);
        if (s.price <= 0)
            return app_error_set(&req->err, APP_ECONFIG, "mock-exam-premium has no price");
        if (!req->worker->stripe)
            return app_error_set(&req->err, APP_EUNAVAILABLE, "no Stripe client");
    }
    mock_registration_id(s.exam_id, s.email, s.id);
    time_iso(t, now, sizeof(now));
    time_iso(t + req->cfg->mock_close_hours * 3600, closes_by, sizeof(closes_by));
    reg_av = registration(&s, exam, now);
    reg = ddb_unmarshal_item(reg_av);
    arena_cleanup(req->arena, json_put_cb, reg);

    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":one", ddb_av_n(1));
    json_object_object_add(v, ":scheduled", ddb_av_s("scheduled"));
    json_object_object_add(v, ":closes", ddb_av_s(closes_by));
    json_object_array_add(items, txn_update(
        req->cfg->tbl_mock_exams, ddb_key_s("mockExamId", s.exam_id),
        "SET seatsTaken = seatsTaken + :one",
        "seatsTaken < #cap AND #st = :scheduled AND examDate > :closes", v));
    json_object_array_add(items, txn_put(req->cfg->tbl_mock_registrations, reg_av,
                                         "attribute_not_exists(registrationId) OR "
                                         "#st = :released"));
    /* txn_put has no values of its own: add :released to the Put. */
    v = json_object_new_object();
    json_object_object_add(v, ":released", ddb_av_s("released"));
    json_object_object_get_ex(json_object_array_get_idx(items, 1), "Put", &w);
    json_object_object_add(w, "ExpressionAttributeValues", v);
    if (!s.premium) {
        w = mock_sitting_mail(req->cfg, "mock-registration", exam, reg, NULL, t);
        if (w)
            json_object_array_add(items, w);
    }
    rc = txn_run(req->ctx.ddb, items, NULL, &req->err);
    if (rc == APP_ECONDITION)
        return refused(req, &s);
    if (rc != APP_OK)
        return rc;
    req_log(req, LL_INFO, "mock exam %s: seat %s (%s)", s.exam_id, s.id,
            s.premium ? "held until paid" : "confirmed");
    if (s.premium && mock_pay_session(req, reg, 0, metadata, &sid, &checkout) != APP_OK) {
        struct app_error keep = req->err;

        app_error_clear(&req->err);
        if (release(req, &s, now) != APP_OK)
            req_log(req, LL_ERROR, "releasing seat %s failed: %s; its checkout never opened",
                    s.id, req->err.msg);
        req->err = keep;
        return reply_error(req, APP_EUPSTREAM,
                           "The payment provider is unavailable; your seat was not kept",
                           NULL);
    }
    d = json_object_new_object();
    json_add_str(d, "registrationId", s.id);
    json_add_str(d, "mockExamId", s.exam_id);
    json_add_str(d, "tier", s.premium ? "premium" : "free");
    json_add_str(d, "status", s.premium ? "pending" : "confirmed");
    json_add_str(d, "examDate", json_str(exam, "examDate"));
    if (s.premium) {
        json_object_object_add(d, "priceCents", json_object_new_int64(s.price));
        snprintf(url, sizeof(url), "%s/mock-exams/registrations/%s/pay",
                 req->cfg->api_base_url, s.id);
        json_add_str(d, "payUrl", url);
        json_add_str(d, "sessionId", sid);
        json_add_str(d, "checkoutUrl", checkout);
    }
    return reply_json(req, 201, d);
}

int
mock_pay(struct request *req)
{
    struct json_object *reg = NULL;
    int rc;

    rc = mock_registration_load(req->worker->ddb, req->cfg,
                                req_path_param(req, "registrationId"), &reg, &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such registration");
    if (rc != APP_OK)
        return rc;
    arena_cleanup(req->arena, json_put_cb, reg);
    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "pending") != 0)
        return reply_error(req, APP_ECONFLICT, "This seat is not waiting for payment", NULL);
    return mock_pay_session(req, reg, 1, NULL, NULL, NULL);
}
