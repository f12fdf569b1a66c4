/*
 * Mock exams: the pieces shared by routes, fulfilment and prodenthubctl (see mock.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "../lib/buf.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ics.h"
#include "../lib/ids.h"
#include "../lib/log.h"
#include "../lib/outbox.h"
#include "../lib/txn.h"
#include "campaign.h"
#include "mock.h"

#define ICS_MAX (16 * 1024)
#define MAX_SECTIONS 30

/* SHA-256 of a, or of a "\n" b when b is given. */
static void
sha256(const char *a, const char *b, unsigned char md[EVP_MAX_MD_SIZE])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;

    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, a, strlen(a));
    if (b) {
        EVP_DigestUpdate(c, "\n", 1);
        EVP_DigestUpdate(c, b, strlen(b));
    }
    EVP_DigestFinal_ex(c, md, &n);
    EVP_MD_CTX_free(c);
}

void
mock_legacy_registration_id(const char *exam_id, const char *email, char out[40])
{
    unsigned char md[EVP_MAX_MD_SIZE];

    sha256(exam_id, email, md);
    memcpy(out, "reg_", 4);
    hex_encode(md, ID_HEX / 2, out + 4);
}

void
mock_guard_key(const char *exam_id, const char *email, char out[MOCK_GUARD_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    char h[65];

    sha256(email, NULL, md);
    hex_encode(md, 32, h);
    snprintf(out, MOCK_GUARD_MAX, MOCK_GUARD_PREFIX "%s#%s", exam_id, h);
}

int
mock_registration_find(struct ddb *ddb, const struct cfg *cfg, const char *exam_id,
                       const char *email, char out[40], struct app_error *err)
{
    struct json_object *k, *item = NULL, *g;
    char key[MOCK_GUARD_MAX];
    int rc;

    mock_guard_key(exam_id, email, key);
    k = ddb_key_s("registrationId", key);
    rc = ddb_get_item(ddb, cfg->tbl_mock_registrations, k, 1, &item, err);
    json_object_put(k);
    mock_legacy_registration_id(exam_id, email, out);
    if (rc == APP_ENOTFOUND) {
        app_error_clear(err);
        return APP_OK;
    }
    if (rc != APP_OK)
        return rc;
    g = ddb_unmarshal_item(item);
    json_object_put(item);
    if (g && id_valid(json_str(g, "holds"), "reg_"))
        snprintf(out, 40, "%s", json_str(g, "holds"));
    if (g)
        json_object_put(g);
    return APP_OK;
}

/* A TransactWriteItems element of kind "Delete" or "ConditionCheck" (key and vals taken). */
static struct json_object *
txn_element(const char *kind, const char *table, struct json_object *key, const char *cond,
            struct json_object *vals)
{
    struct json_object *u = json_object_new_object(), *w = json_object_new_object(), *names;

    json_object_object_add(u, "TableName", json_object_new_string(table));
    json_object_object_add(u, "Key", key);
    json_object_object_add(u, "ConditionExpression", json_object_new_string(cond));
    if (strstr(cond, "#st")) {
        names = json_object_new_object();
        json_object_object_add(names, "#st", json_object_new_string("status"));
        json_object_object_add(u, "ExpressionAttributeNames", names);
    }
    json_object_object_add(u, "ExpressionAttributeValues", vals);
    json_object_object_add(w, kind, u);
    return w;
}

struct json_object *
mock_guard_put_txn(const struct cfg *cfg, const char *exam_id, const char *email,
                   const char *rid, const char *now)
{
    struct json_object *item = json_object_new_object();
    char key[MOCK_GUARD_MAX];

    mock_guard_key(exam_id, email, key);
    json_object_object_add(item, "registrationId", ddb_av_s(key));
    json_object_object_add(item, "holds", ddb_av_s(rid));
    json_object_object_add(item, "createdAt", ddb_av_s(now));
    return txn_put(cfg->tbl_mock_registrations, item, "attribute_not_exists(registrationId)");
}

struct json_object *
mock_guard_delete_txn(const struct cfg *cfg, const char *exam_id, const char *email,
                      const char *rid)
{
    struct json_object *v = json_object_new_object();
    char key[MOCK_GUARD_MAX];

    mock_guard_key(exam_id, email, key);
    json_object_object_add(v, ":rid", ddb_av_s(rid));
    return txn_element("Delete", cfg->tbl_mock_registrations, ddb_key_s("registrationId", key),
                       "attribute_not_exists(registrationId) OR holds = :rid", v);
}

struct json_object *
mock_legacy_check_txn(const struct cfg *cfg, const char *exam_id, const char *email)
{
    struct json_object *v = json_object_new_object();
    char old[40];

    mock_legacy_registration_id(exam_id, email, old);
    json_object_object_add(v, ":released", ddb_av_s("released"));
    return txn_element("ConditionCheck", cfg->tbl_mock_registrations,
                       ddb_key_s("registrationId", old),
                       "attribute_not_exists(registrationId) OR #st = :released", v);
}

int
mock_exam_load(struct ddb *ddb, const struct cfg *cfg, const char *id, struct json_object **out,
               struct app_error *err)
{
    size_t n = id ? strlen(id) : 0;

    *out = NULL;
    if (n == 0 || n > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-_") != n)
        return APP_ENOTFOUND;          /* exam ids are chosen by people: a-z 0-9 - _ */
    return record_load(ddb, cfg->tbl_mock_exams, "mockExamId", id, NULL, out, err);
}

int
mock_exam_find(const struct ctx *c, const char *id, struct json_object **out,
               struct app_error *err)
{
    int rc = mock_exam_load(c->ddb, c->cfg, id, out, err);

    return rc == APP_ENOTFOUND ? app_error_set(err, APP_ENOTFOUND, "no such mock exam") : rc;
}

int
mock_registration_load(struct ddb *ddb, const struct cfg *cfg, const char *id,
                       struct json_object **out, struct app_error *err)
{
    return record_load(ddb, cfg->tbl_mock_registrations, "registrationId", id, "reg_", out,
                       err);
}

struct json_object *
mock_sitting_mail(const struct cfg *cfg, const char *tmpl, const char *tag,
                  struct json_object *exam, struct json_object *reg, const char *amount_paid,
                  time_t now)
{
    struct json_object *vars, *atts, *att, *w;
    const char *rid = json_str(reg, "registrationId"), *eid = json_str(exam, "mockExamId");
    time_t start = time_parse_iso(json_str(exam, "examDate"));
    char day[48], hm[48], url[512], uid[96], cause[96], desc[700], dur[16];
    long long minutes = json_int(exam, "durationMinutes");
    struct app_error err;
    struct outbox_mail m;
    struct ics_event e;
    struct buf ics;

    if (!rid || !eid || start <= 0)
        return NULL;
    snprintf(url, sizeof(url), "%s/mock-exams/%s/sit?registration=%s", cfg->frontend_url, eid,
             rid);
    snprintf(uid, sizeof(uid), "%s@prodenthub.com.au", rid);
    snprintf(desc, sizeof(desc), "Your ProDentHub mock exam (%lld minutes). Join here: %s",
             minutes, url);
    memset(&e, 0, sizeof(e));
    e.uid = uid;
    e.start = start;
    e.duration_minutes = minutes > 0 ? (long)minutes : 180;
    e.stamp = now;
    e.summary = json_str(exam, "title") ? json_str(exam, "title") : "ProDentHub mock exam";
    e.description = desc;
    e.location_url = url;
    buf_init(&ics, ICS_MAX);
    app_error_clear(&err);
    if (ics_event(&ics, &e, &err) != APP_OK) {
        log_msg(LL_ERROR, "calendar file for %s: %s", rid, err.msg);
        buf_free(&ics);
        return NULL;
    }
    vars = json_object_new_object();
    json_add_str(vars, "candidateName", json_str(reg, "firstName"));
    json_add_str(vars, "examTitle", e.summary);
    fmt_date(start, day, sizeof(day));
    json_add_str(vars, "examDate", day);
    fmt_time(start, hm, sizeof(hm));
    json_add_str(vars, "examTime", hm);
    snprintf(dur, sizeof(dur), "%ld", e.duration_minutes);
    json_add_str(vars, "durationMinutes", dur);
    json_add_str(vars, "tier", json_str(reg, "tier") && !strcmp(json_str(reg, "tier"),
                                                                 "premium") ? "Premium" : "Free");
    if (amount_paid)
        json_add_str(vars, "amountPaid", amount_paid);
    json_add_str(vars, "accessUrl", url);
    json_add_str(vars, "registrationId", rid);
    atts = json_object_new_array();
    att = json_object_new_object();
    json_add_str(att, "filename", "mock-exam.ics");
    json_add_str(att, "contentType", "text/calendar; charset=UTF-8; method=PUBLISH");
    json_add_str(att, "data", ics.data);
    json_object_array_add(atts, att);
    buf_free(&ics);
    snprintf(cause, sizeof(cause), "%s#%s", rid, tag);
    memset(&m, 0, sizeof(m));
    m.cause = cause;
    m.tmpl = tmpl;
    m.to = json_str(reg, "email");
    m.to_name = json_str(reg, "firstName");
    m.vars = vars;
    m.attachments = atts;
    w = m.to ? outbox_txn_put(cfg, &m, now) : NULL;
    json_object_put(vars);
    json_object_put(atts);
    return w;
}

/* --- results ---------------------------------------------------------------------------- */

static int
bad(struct app_error *err, const char *what)
{
    return app_error_set(err, APP_EVALIDATION, "%s", what);
}

int
mock_result_key(const char *key)
{
    static const char *const keys[] = {
        "registrationId", "email", "totalScore", "maxScore", "passed", "sections", NULL,
    };
    size_t i;

    for (i = 0; keys[i]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

int
mock_result_apply(struct ddb *ddb, const struct cfg *cfg, const char *exam_id,
                  struct json_object *row, struct app_error *err)
{
    struct json_object *v, *secs = NULL, *result, *vals;
    const char *rid = json_str(row, "registrationId"), *email = json_str(row, "email");
    char id[40];
    long long total, max;
    int rc, passed;

    if (!json_object_is_type(row, json_type_object))
        return bad(err, "a result must be an object");
    if (rid ? !id_valid(rid, "reg_") : !email)
        return bad(err, "registrationId or email is required");
    if (!json_object_object_get_ex(row, "totalScore", &v) || !json_object_is_type(v,
                                                                                 json_type_int))
        return bad(err, "totalScore: a whole number is required");
    total = json_object_get_int64(v);
    max = json_object_object_get_ex(row, "maxScore", &v) ? json_object_get_int64(v) : 100;
    if (max < 1 || max > 100000 || total < 0 || total > max)
        return bad(err, "totalScore must be from 0 to maxScore (1 to 100000)");
    if (!json_object_object_get_ex(row, "passed", &v) ||
        !json_object_is_type(v, json_type_boolean))
        return bad(err, "passed: true or false is required");
    passed = json_object_get_boolean(v);
    if (json_object_object_get_ex(row, "sections", &secs)) {
        if (!json_object_is_type(secs, json_type_object) ||
            json_object_object_length(secs) > MAX_SECTIONS)
            return bad(err, "sections: an object of at most 30 name: score");
        json_object_object_foreach(secs, name, sv) {
            if (strlen(name) == 0 || strlen(name) > 100 || !json_object_is_type(sv,
                                                                              json_type_int) ||
                json_object_get_int64(sv) < 0 || json_object_get_int64(sv) > 100000)
                return app_error_set(err, APP_EVALIDATION,
                                     "sections.%s: a whole score from 0 to 100000", name);
        }
    }
    if (!rid) {                        /* the seat that holds the address (a guard read) */
        rc = mock_registration_find(ddb, cfg, exam_id, email, id, err);
        if (rc != APP_OK)
            return rc;
        rid = id;
    }
    result = json_object_new_object();
    json_object_object_add(result, "totalScore", json_object_new_int64(total));
    json_object_object_add(result, "maxScore", json_object_new_int64(max));
    json_object_object_add(result, "passed", json_object_new_boolean(passed));
    json_object_object_add(result, "sections", secs ? json_object_get(secs) :
                           json_object_new_object());
    vals = json_object_new_object();
    json_object_object_add(vals, ":r", ddb_marshal(result));
    json_object_put(result);
    json_object_object_add(vals, ":exam", ddb_av_s(exam_id));
    json_object_object_add(vals, ":confirmed", ddb_av_s("confirmed"));
    rc = txn_update_item(ddb, cfg->tbl_mock_registrations, ddb_key_s("registrationId", rid),
                         "SET #res = :r", "mockExamId = :exam AND #st = :confirmed", vals, err);
    if (rc == APP_ECONDITION)
        return app_error_set(err, APP_ENOTFOUND, "no confirmed registration %s for this exam",
                             rid);
    return rc;
}

/* --- reminders -------------------------------------------------------------------------- */

/* Every page of a Query; fn gets each plain item. */
static int
each(struct ddb *ddb, struct json_object *q, int (*fn)(void *, struct json_object *), void *ctx,
     struct app_error *err)
{
    struct json_object *items = NULL, *last = NULL, *plain;
    size_t i;
    int rc;

    do {
        if (last)
            json_object_object_add(q, "ExclusiveStartKey", last);
        last = NULL;
        rc = ddb_query(ddb, q, &items, &last, err);
        if (rc != APP_OK)
            return rc;
        for (i = 0; rc == APP_OK && i < json_object_array_length(items); i++) {
            plain = ddb_unmarshal_item(json_object_array_get_idx(items, i));
            if (plain) {
                rc = fn(ctx, plain);
                json_object_put(plain);
            }
        }
        json_object_put(items);
        if (rc != APP_OK && last)
            json_object_put(last);
    } while (rc == APP_OK && last);
    return rc;
}

struct remind {
    struct ddb *ddb;
    const struct cfg *cfg;
    struct json_object *exam;
    time_t now;
    int queued;
    struct app_error *err;
};

static int
remind_one(void *ctx, struct json_object *reg)
{
    struct remind *r = ctx;
    struct json_object *items, *w;
    int rc;

    if (!json_str(reg, "status") || strcmp(json_str(reg, "status"), "confirmed") != 0)
        return APP_OK;
    w = mock_sitting_mail(r->cfg, "mock-reminder", "reminder", r->exam, reg, NULL, r->now);
    if (!w)
        return APP_OK;
    items = json_object_new_array();
    json_object_array_add(items, w);
    rc = ddb_transact_write(r->ddb, items, NULL, r->err);
    json_object_put(items);
    if (rc == APP_ECONDITION) {         /* reminded before (or by a concurrent run) */
        app_error_clear(r->err);
        return APP_OK;
    }
    r->queued += rc == APP_OK;
    return rc;
}

static int
mock_registrations_query(const struct cfg *cfg, const char *exam_id, struct json_object **q)
{
    struct json_object *v = json_object_new_object();

    *q = json_object_new_object();
    json_object_object_add(*q, "TableName", json_object_new_string(cfg->tbl_mock_registrations));
    json_object_object_add(*q, "IndexName", json_object_new_string("mockExamId-index"));
    json_object_object_add(*q, "KeyConditionExpression",
                           json_object_new_string("mockExamId = :e"));
    json_object_object_add(v, ":e", ddb_av_s(exam_id));
    json_object_object_add(*q, "ExpressionAttributeValues", v);
    return APP_OK;
}

static int
remind_exam(void *ctx, struct json_object *exam)
{
    struct remind *r = ctx;
    struct json_object *q;
    int rc;

    if (!json_str(exam, "status") || strcmp(json_str(exam, "status"), "scheduled") != 0)
        return APP_OK;
    r->exam = exam;
    mock_registrations_query(r->cfg, json_str(exam, "mockExamId"), &q);
    rc = each(r->ddb, q, remind_one, r, r->err);
    json_object_put(q);
    return rc;
}

int
mock_send_reminders(struct ddb *ddb, const struct cfg *cfg, time_t now, int *queued,
                    struct app_error *err)
{
    struct json_object *q = json_object_new_object(), *v = json_object_new_object();
    char from[32], to[32];
    struct remind r;
    int rc;

    time_iso(now, from, sizeof(from));
    time_iso(now + cfg->mock_reminder_hours * 3600, to, sizeof(to));
    json_object_object_add(q, "TableName", json_object_new_string(cfg->tbl_mock_exams));
    json_object_object_add(q, "IndexName", json_object_new_string("listing-examDate-index"));
    json_object_object_add(q, "KeyConditionExpression",
                           json_object_new_string("listing = :l AND examDate BETWEEN :a AND :b"));
    json_object_object_add(v, ":l", ddb_av_s("EXAM"));
    json_object_object_add(v, ":a", ddb_av_s(from));
    json_object_object_add(v, ":b", ddb_av_s(to));
    json_object_object_add(q, "ExpressionAttributeValues", v);
    memset(&r, 0, sizeof(r));
    r.ddb = ddb;
    r.cfg = cfg;
    r.now = now;
    r.err = err;
    rc = each(ddb, q, remind_exam, &r, err);
    json_object_put(q);
    *queued = r.queued;
    return rc;
}

int
mock_each_registration(struct ddb *ddb, const struct cfg *cfg, const char *exam_id,
                       int (*fn)(void *, struct json_object *), void *ctx,
                       struct app_error *err)
{
    struct json_object *q;
    int rc;

    mock_registrations_query(cfg, exam_id, &q);
    rc = each(ddb, q, fn, ctx, err);
    json_object_put(q);
    return rc;
}
