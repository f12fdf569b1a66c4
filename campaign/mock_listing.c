/*
 * The listing of upcoming mock exams (GET /v1/mock-exams): one Query on
 * listing-examDate-index (examDate >= now), so its cost does not grow with past exams.
 *
 * The first page is what nearly every visitor asks for, so it is cached: the first
 * MOCK_PAGE_MAX upcoming exams, trimmed to the fields the listing shows, in memcached for
 * MOCK_LISTING_TTL seconds (and the worker's copy, CACHE_LOCAL_MS).  A seat taken or given
 * back (mock_register.c, mock_fulfil.c) drops it, so seats left lag by at most the worker's
 * copy; an exam added or edited in the table directly shows within the TTL.  Exams that
 * started since the page was cached are left out when it is served.  Later pages (a cursor)
 * always query.  The listing is advisory: a seat is taken by mock_register's transaction.
 */
#include "config.h"

#include <string.h>

#include "../lib/buf.h"
#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/ctx.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/errors.h"
#include "../lib/ids.h"
#include "mock.h"

#define LISTING_NS "mocklist"
#define LISTING_KEY "first"
#define LISTING_VALUE_MAX (128 * 1024)

/* What the listing shows of an exam, and the index's key (the cursor). */
static const char *const listed_fields[] = {
    "mockExamId", "listing", "examDate", "title", "type", "durationMinutes", "capacity",
    "seatsTaken", "status", NULL,
};

static struct json_object *
query_params(const struct ctx *c, long limit, struct json_object *start)
{
    struct json_object *q = json_object_new_object(), *v = json_object_new_object();
    char ts[32];

    time_iso(c->now, ts, sizeof(ts));
    json_object_object_add(q, "TableName", json_object_new_string(c->cfg->tbl_mock_exams));
    json_object_object_add(q, "IndexName", json_object_new_string("listing-examDate-index"));
    json_object_object_add(q, "KeyConditionExpression",
                           json_object_new_string("listing = :l AND examDate >= :now"));
    json_object_object_add(v, ":l", ddb_av_s("EXAM"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(q, "ExpressionAttributeValues", v);
    json_object_object_add(q, "Limit", json_object_new_int((int)limit));
    if (start)
        json_object_object_add(q, "ExclusiveStartKey", json_object_get(start));
    return q;
}

/* One Query: the plain exams (trimmed) into *exams, the page's end into *last. */
static int
query(const struct ctx *c, long limit, struct json_object *start, struct json_object **exams,
      struct json_object **last, struct app_error *err)
{
    struct json_object *q = query_params(c, limit, start), *items = NULL, *e, *t, *v;
    size_t i, f;
    int rc;

    rc = ddb_query(c->ddb, q, &items, last, err);
    json_object_put(q);
    if (rc != APP_OK)
        return rc;
    *exams = json_object_new_array();
    for (i = 0; i < json_object_array_length(items); i++) {
        e = ddb_unmarshal_item(json_object_array_get_idx(items, i));
        if (!e)
            continue;
        t = json_object_new_object();
        for (f = 0; listed_fields[f]; f++)
            if (json_object_object_get_ex(e, listed_fields[f], &v))
                json_object_object_add(t, listed_fields[f], json_object_get(v));
        json_object_array_add(*exams, t);
        json_object_put(e);
    }
    json_object_put(items);
    return APP_OK;
}

/* The cursor after exam e: the index's key, as DynamoDB's LastEvaluatedKey has it. */
static struct json_object *
key_of(struct json_object *e)
{
    struct json_object *k = json_object_new_object();

    json_object_object_add(k, "mockExamId", ddb_av_s(json_str(e, "mockExamId")));
    json_object_object_add(k, "listing", ddb_av_s(json_str(e, "listing")));
    json_object_object_add(k, "examDate", ddb_av_s(json_str(e, "examDate")));
    return k;
}

/* The cached first page: {"exams":[...], "more":bool}, from memcached or a Query. */
static int
first_page(const struct ctx *c, struct json_object **page, struct app_error *err)
{
    struct json_object *exams = NULL, *last = NULL;
    struct buf b;
    const char *text;
    int rc;

    buf_init(&b, LISTING_VALUE_MAX);
    if (cache_get(c->cache, LISTING_NS, LISTING_KEY, &b) == APP_OK && b.data) {
        *page = json_tokener_parse(b.data);
        buf_free(&b);
        if (json_object_is_type(*page, json_type_object))
            return APP_OK;
        if (*page)
            json_object_put(*page);
    } else {
        buf_free(&b);
    }
    rc = query(c, MOCK_PAGE_MAX, NULL, &exams, &last, err);
    if (rc != APP_OK)
        return rc;
    *page = json_object_new_object();
    json_object_object_add(*page, "exams", exams);
    json_object_object_add(*page, "more", json_object_new_boolean(last ? 1 : 0));
    if (last)
        json_object_put(last);
    text = json_object_to_json_string_ext(*page, JSON_C_TO_STRING_PLAIN);
    cache_set(c->cache, LISTING_NS, LISTING_KEY, text, strlen(text), MOCK_LISTING_TTL);
    return APP_OK;
}

int
mock_listing(const struct ctx *c, long limit, struct json_object *start,
             struct json_object **exams, struct json_object **last, struct app_error *err)
{
    struct json_object *page = NULL, *all, *e;
    char now[32];
    size_t i, n;
    int rc;

    *exams = NULL;
    *last = NULL;
    if (start)
        return query(c, limit, start, exams, last, err);
    rc = first_page(c, &page, err);
    if (rc != APP_OK)
        return rc;
    time_iso(c->now, now, sizeof(now));
    *exams = json_object_new_array();
    if (json_object_object_get_ex(page, "exams", &all) &&
        json_object_is_type(all, json_type_array)) {
        n = json_object_array_length(all);
        for (i = 0; i < n && json_object_array_length(*exams) < (size_t)limit; i++) {
            e = json_object_array_get_idx(all, i);
            if (json_str(e, "examDate") && strcmp(json_str(e, "examDate"), now) >= 0)
                json_object_array_add(*exams, json_object_get(e));
        }
        /* More beyond this page: exams of the cached page not served, or past it. */
        if (json_object_array_length(*exams) > 0 &&
            (i < n || json_object_get_boolean(json_object_object_get(page, "more"))))
            *last = key_of(json_object_array_get_idx(*exams,
                                                     json_object_array_length(*exams) - 1));
    }
    json_object_put(page);
    return APP_OK;
}

int
mock_seats_changed(const struct ctx *c, int rc)
{
    if (rc == APP_OK)
        cache_delete(c->cache, LISTING_NS, LISTING_KEY);
    return rc;
}
