/*
 * AI generation and history (saas/ai.c) against stub DynamoDB (stub.h) and Bedrock
 * (stub_bedrock.h): the quota is taken by a conditional write before Bedrock is called and
 * given back when the call fails, the session is stored under the user, a spent quota calls
 * nobody, and the history's cursor moves only within its own user's rows.  One case per row.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/bedrock.h"
#include "../../lib/ddbjson.h"
#include "../../lib/ids.h"
#include "../../saas/ai.h"
#include "stub.h"
#include "stub_bedrock.h"
#include "unit.h"

#define UPDATE "DynamoDB_20120810.UpdateItem"
#define PUT "DynamoDB_20120810.PutItem"
#define QUERY "DynamoDB_20120810.Query"
#define USED(n) "{\"Attributes\":{\"used\":{\"N\":\"" #n "\"}}}"
#define CCF "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\"," \
            "\"message\":\"The conditional request failed\"}"
#define DDB_500 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\"}"
#define ANSWER STUB_CONVERSE("Brush twice a day", 12, 5, 17)
#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define LONG_PROMPT "seventeen bytes!!"

static const struct {
    const char *name;
    const char *now;
    const char *prompt, *model;
    const char *env[2];               /* NAME=value settings of the case */
    struct stub_reply ddb[3];
    size_t nddb;
    struct stub_bedrock_reply bedrock[1];
    size_t nbedrock;
    int rc;
    const char *field;                /* APP_EVALIDATION: the field named */
    const char *sent[3];              /* in the DynamoDB requests, in order (NULL: none) */
    const char *path;                 /* of the Bedrock call */
    const char *reset;                /* out.reset_at */
} gen[] = {
    {"answered and stored under the user", "2026-12-03T10:00:00Z", "How often?", NULL,
     {NULL}, {{UPDATE, 200, USED(3)}, {PUT, 200, "{}"}}, 2, {{200, NULL, 0, ANSWER}}, 1,
     APP_OK, NULL,
     {"\"sk\":{\"S\":\"QUOTA#2026-12\"}", "\"sk\":{\"S\":\"AI#2026-12-03T10:00:00Z#ai_", NULL},
     "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", "2027-01-01T00:00:00Z"},
    {"another model of the list", "2026-06-15T08:00:00Z", "Hi", "m2",
     {"AI_MODELS=m1, m2"}, {{UPDATE, 200, USED(1)}, {PUT, 200, "{}"}}, 2,
     {{200, NULL, 0, ANSWER}}, 1, APP_OK, NULL, {"QUOTA#2026-06", "\"model\":{\"S\":\"m2\"}"},
     "/model/m2/converse", "2026-07-01T00:00:00Z"},
    {"a model not on the list: nobody called", "2026-12-03T10:00:00Z", "Hi", "m3",
     {"AI_MODELS=m1,m2"}, {{NULL, 0, NULL}}, 0, {{0, NULL, 0, NULL}}, 0, APP_EVALIDATION,
     "model", {NULL}, NULL, "2027-01-01T00:00:00Z"},
    {"a prompt over AI_MAX_PROMPT_BYTES: nobody called", "2026-12-03T10:00:00Z", LONG_PROMPT,
     NULL, {"AI_MAX_PROMPT_BYTES=16"}, {{NULL, 0, NULL}}, 0, {{0, NULL, 0, NULL}}, 0,
     APP_EVALIDATION, "prompt", {NULL}, NULL, "2027-01-01T00:00:00Z"},
    {"the quota spent: 429, Bedrock never called", "2026-12-31T23:59:59Z", "Hi", NULL,
     {"AI_MONTHLY_REQUESTS=5"}, {{UPDATE, 400, CCF}}, 1, {{0, NULL, 0, NULL}}, 0, APP_EQUOTA,
     NULL, {"attribute_not_exists(#used) OR #used < :limit\",\"ExpressionAttributeNames\"", NULL},
     NULL, "2027-01-01T00:00:00Z"},
    {"the month's row expires 35 days after the month (ttl, epoch seconds)",
     "2026-12-31T23:59:59Z", "Hi", NULL, {NULL}, {{UPDATE, 200, USED(1)}, {PUT, 200, "{}"}}, 2,
     {{200, NULL, 0, ANSWER}}, 1, APP_OK, NULL,
     {"\":now\":{\"S\":\"2026-12-31T23:59:59Z\"},\":ttl\":{\"N\":\"1801785600\"}", NULL},
     NULL, "2027-01-01T00:00:00Z"},
    {"a leap February's row too", "2028-02-29T12:00:00Z", "Hi", NULL, {NULL},
     {{UPDATE, 200, USED(1)}, {PUT, 200, "{}"}}, 2, {{200, NULL, 0, ANSWER}}, 1, APP_OK, NULL,
     {"\":ttl\":{\"N\":\"1838505600\"}", NULL}, NULL, "2028-03-01T00:00:00Z"},
    {"ttl is set with the count, by name (a reserved word)", "2026-12-03T10:00:00Z", "Hi",
     NULL, {NULL}, {{UPDATE, 200, USED(1)}, {PUT, 200, "{}"}}, 2, {{200, NULL, 0, ANSWER}}, 1,
     APP_OK, NULL, {"\"ADD #used :one SET #uid = :uid, #upd = :now, #ttl = :ttl\",\""
                    "ConditionExpression\":\"attribute_not_exists(#used) OR #used < :limit\","
                    "\"ExpressionAttributeNames\":{\"#used\":\"used\",\"#uid\":\"userId\","
                    "\"#upd\":\"updatedAt\",\"#ttl\":\"ttl\"}", NULL}, NULL,
     "2027-01-01T00:00:00Z"},
    {"the limit sent is AI_MONTHLY_REQUESTS", "2028-02-29T12:00:00Z", "Hi", NULL,
     {"AI_MONTHLY_REQUESTS=5"}, {{UPDATE, 200, USED(5)}, {PUT, 200, "{}"}}, 2,
     {{200, NULL, 0, ANSWER}}, 1, APP_OK, NULL,
     {"\":limit\":{\"N\":\"5\"}", NULL}, NULL, "2028-03-01T00:00:00Z"},
    {"Bedrock unavailable: 502 and the request given back", "2026-12-03T10:00:00Z", "Hi", NULL,
     {NULL}, {{UPDATE, 200, USED(4)}, {UPDATE, 200, "{}"}}, 2,
     {{503, "ServiceUnavailableException", 0, NULL}}, 1, APP_EUPSTREAM, NULL,
     {"ADD #used :one", "\"UpdateExpression\":\"ADD #used :minus1\",\"ConditionExpression\":"
      "\"#used > :zero\"", NULL}, NULL, "2027-01-01T00:00:00Z"},
    {"Bedrock timed out: 504 and the request given back", "2026-12-03T10:00:00Z", "Hi", NULL,
     {NULL}, {{UPDATE, 200, USED(4)}, {UPDATE, 200, "{}"}}, 2,
     {{408, "ModelTimeoutException", 0, NULL}}, 1, APP_ETIMEOUT, NULL,
     {"ADD #used :one", ":minus1", NULL}, NULL, "2027-01-01T00:00:00Z"},
    {"storing the session failed: given back", "2026-12-03T10:00:00Z", "Hi", NULL,
     {NULL}, {{UPDATE, 200, USED(4)}, {PUT, 500, DDB_500}, {UPDATE, 200, "{}"}}, 3,
     {{200, NULL, 0, ANSWER}}, 1, APP_EUNAVAILABLE, NULL, {"ADD #used :one", PUT, ":minus1"},
     NULL, "2027-01-01T00:00:00Z"},
    {"giving back failed too: Bedrock's error still answered", "2026-12-03T10:00:00Z", "Hi",
     NULL, {NULL}, {{UPDATE, 200, USED(4)}, {UPDATE, 500, DDB_500}}, 2,
     {{429, "ThrottlingException", 0, NULL}}, 1, APP_EUPSTREAM, NULL,
     {"ADD #used :one", ":minus1", NULL}, NULL, "2027-01-01T00:00:00Z"},
};

static void
env_case(const char *const *env, size_t n)
{
    char name[64];
    size_t i;

    for (i = 0; i < n && env[i]; i++) {
        const char *eq = strchr(env[i], '=');

        snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]), env[i]);
        setenv(name, eq + 1, 1);
    }
}

START_TEST(test_generate)
{
    struct ai_generate_input in = {gen[_i].prompt, gen[_i].model};
    struct ai_generated out;
    struct stub_env e;
    struct stub b;
    char at[32];
    size_t k;
    int rc;

    unit_clean_env();
    env_case(gen[_i].env, 2);
    setenv("BEDROCK_MAX_ATTEMPTS", "1", 1);
    stub_bedrock_start(&b, gen[_i].bedrock, gen[_i].nbedrock, "");
    stub_env_start(&e, gen[_i].ddb, gen[_i].nddb, NULL, 0, time_parse_iso(gen[_i].now));
    e.ctx.bedrock = bedrock_new(&e.cfg, e.creds);
    rc = ai_generate_session(&e.ctx, "user-1", &in, &out, &e.err);
    bedrock_free(e.ctx.bedrock);
    stub_env_stop(&e);
    stub_stop(&b);
    stub_env_expect(&e, gen[_i].name, rc, gen[_i].rc, rc == APP_EQUOTA ? "AI_MONTHLY_REQUESTS" :
                    NULL, gen[_i].nddb, 0);
    ck_assert_msg(b.nseen == gen[_i].nbedrock, "%s: %zu Bedrock calls", gen[_i].name, b.nseen);
    for (k = 0; k < 3 && gen[_i].sent[k]; k++)
        ck_assert_msg(strstr(e.ddb_stub.seen[k], gen[_i].sent[k]), "%s: no %s in %s",
                      gen[_i].name, gen[_i].sent[k], e.ddb_stub.seen[k]);
    if (gen[_i].nddb > 0)                   /* the partition is always the caller's */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "\"pk\":{\"S\":\"USER#user-1\"}"));
    if (gen[_i].path)
        ck_assert_ptr_nonnull(strstr(b.seen[0], gen[_i].path));
    if (gen[_i].field)
        ck_assert_str_eq(e.err.field, gen[_i].field);
    time_iso(out.reset_at, at, sizeof(at));
    ck_assert_str_eq(at, gen[_i].reset);
    if (rc == APP_EQUOTA)
        ck_assert_msg(strstr(e.err.msg, "starts again at 2027-01-01T00:00:00Z"), "%s",
                      e.err.msg);
    if (rc == APP_OK) {
        ck_assert_str_eq(json_str(out.session, "response"), "Brush twice a day");
        ck_assert_str_eq(json_str(out.session, "prompt"), gen[_i].prompt);
        ck_assert_str_eq(json_str(out.session, "userId"), "user-1");
        ck_assert_str_eq(json_str(out.session, "createdAt"), gen[_i].now);
        ck_assert(id_valid(json_str(out.session, "id"), "ai_"));
        ck_assert_int_eq(json_int(out.session, "tokensUsed"), 17);
        ck_assert_int_eq(json_int(out.session, "inputTokens"), 12);
        ck_assert_int_eq(json_int(out.session, "outputTokens"), 5);
        ck_assert_ptr_null(json_str(out.session, "pk"));
        ck_assert_int_gt(out.used, 0);
        json_object_put(out.session);
    } else {
        ck_assert_ptr_null(out.session);
    }
    stub_free(&b);
    stub_env_free(&e);
}
END_TEST

/* --- the calendar month ----------------------------------------------------------------- */

static const struct {
    const char *now, *month, *reset;
} months[] = {
    {"2026-12-31T23:59:59Z", "2026-12", "2027-01-01T00:00:00Z"},
    {"2027-01-01T00:00:00Z", "2027-01", "2027-02-01T00:00:00Z"},
    {"2028-02-29T12:00:00Z", "2028-02", "2028-03-01T00:00:00Z"},
    {"2026-06-30T23:59:59Z", "2026-06", "2026-07-01T00:00:00Z"},
};

START_TEST(test_month)
{
    char month[8], at[32];

    time_iso(ai_quota_month(time_parse_iso(months[_i].now), month), at, sizeof(at));
    ck_assert_str_eq(month, months[_i].month);
    ck_assert_str_eq(at, months[_i].reset);
}
END_TEST

/* --- history ---------------------------------------------------------------------------- */

#define ROW "{\"pk\":{\"S\":\"USER#user-1\"},\"sk\":{\"S\":\"AI#2026-12-03T10:00:00Z#ai_0\"}," \
            "\"id\":{\"S\":\"ai_0\"},\"userId\":{\"S\":\"user-1\"},\"prompt\":{\"S\":\"p\"}," \
            "\"response\":{\"S\":\"r\"},\"tokensUsed\":{\"N\":\"7\"}," \
            "\"createdAt\":{\"S\":\"2026-12-03T10:00:00Z\"}}"
#define LAST_SK "AI#2026-12-03T10:00:00Z#ai_0"
#define PAGE "{\"Items\":[" ROW "],\"Count\":1,\"LastEvaluatedKey\":{\"pk\":{\"S\":" \
             "\"USER#user-1\"},\"sk\":{\"S\":\"" LAST_SK "\"}}}"
#define LAST_PAGE "{\"Items\":[],\"Count\":0}"

/* One page for sub with cursor; its code, and the cursor it gave (malloc'd) or NULL. */
static int
history(const char *sub, const char *cursor, const char *reply, struct stub_env *e,
        char **next)
{
    struct stub_reply q[1] = {{QUERY, 200, NULL}};
    struct json_object *page = NULL, *v;
    int rc;

    q[0].body = reply;
    stub_env_start(e, q, 1, NULL, 0, time_parse_iso("2026-12-03T11:00:00Z"));
    rc = ai_list_sessions(&e->ctx, sub, 2, cursor, &page, &e->err);
    stub_env_stop(e);
    *next = NULL;
    if (rc == APP_OK && json_object_object_get_ex(page, "nextCursor", &v) && v)
        *next = strdup(json_object_get_string(v));
    if (rc == APP_OK) {
        ck_assert(json_object_object_get_ex(page, "sessions", &v));
        if (json_object_array_length(v) > 0) {
            v = json_object_array_get_idx(v, 0);
            ck_assert_str_eq(json_str(v, "id"), "ai_0");
            ck_assert_ptr_null(json_str(v, "sk"));
        }
    }
    if (page)
        json_object_put(page);
    return rc;
}

/* What a client does with the first page's cursor before it asks for the next page. */
enum twist { T_NONE, T_FLIP, T_PLAIN, T_SEALED_FORGED, T_NOT_AI };

static const struct {
    const char *name;
    const char *key;                  /* OUTBOX_KEY, "" for none */
    const char *sub;                  /* who asks for the second page */
    enum twist twist;
    int rc;
} pages[] = {
    {"sealed: the next page of the same user", KEY_HEX, "user-1", T_NONE, APP_OK},
    {"sealed: another user's cursor is refused", KEY_HEX, "user-2", T_NONE, APP_EBADREQUEST},
    {"sealed: a changed cursor is refused", KEY_HEX, "user-1", T_FLIP, APP_EBADREQUEST},
    {"sealed: a plain cursor is refused", KEY_HEX, "user-1", T_PLAIN, APP_EBADREQUEST},
    {"plain (no key): the next page", "", "user-1", T_NONE, APP_OK},
    {"plain: any user still reads only their own rows", "", "user-2", T_NONE, APP_OK},
    {"plain: a sealed-looking cursor is refused", "", "user-1", T_SEALED_FORGED,
     APP_EBADREQUEST},
    {"plain: an sk that is not a session's is refused", "", "user-1", T_NOT_AI,
     APP_EBADREQUEST},
};

START_TEST(test_history_pages)
{
    struct stub_env e;
    char *cursor, *next, forged[600];
    const char *sent;
    int rc;

    unit_clean_env();
    setenv("OUTBOX_KEY", pages[_i].key, 1);
    ck_assert_int_eq(history("user-1", NULL, PAGE, &e, &cursor), APP_OK);
    sent = e.ddb_stub.seen[0];
    ck_assert_ptr_nonnull(strstr(sent, "\"KeyConditionExpression\":\"pk = :pk AND "
                                 "begins_with(sk, :ai)\""));
    ck_assert_ptr_nonnull(strstr(sent, "\":pk\":{\"S\":\"USER#user-1\"},\":ai\":{\"S\":\"AI#\"}"));
    ck_assert_ptr_nonnull(strstr(sent, "\"ScanIndexForward\":false,\"ConsistentRead\":true,"
                                 "\"Limit\":2"));
    ck_assert_ptr_null(strstr(sent, "ExclusiveStartKey"));
    ck_assert_ptr_nonnull(cursor);
    ck_assert_msg(strspn(cursor + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-_") == strlen(cursor + 3), "not URL-safe: %s", cursor);
    ck_assert_msg(strncmp(cursor, *pages[_i].key ? "s1." : "p1.", 3) == 0, "%s", cursor);
    ck_assert_ptr_null(strstr(cursor, "ai_0"));
    stub_env_free(&e);

    switch (pages[_i].twist) {
    case T_FLIP:
        cursor[10] = cursor[10] == 'A' ? 'B' : 'A';
        break;
    case T_PLAIN:
        free(cursor);
        cursor = strdup("p1.QUkjMjAyNi0xMi0wM1QxMDowMDowMFojYWlfMA");   /* LAST_SK */
        break;
    case T_SEALED_FORGED:
        snprintf(forged, sizeof(forged), "s1.%s", cursor + 3);
        free(cursor);
        cursor = strdup(forged);
        break;
    case T_NOT_AI:
        free(cursor);
        cursor = strdup("p1.UFJPRklMRQ");                            /* "PROFILE" */
        break;
    case T_NONE:
        break;
    }
    rc = history(pages[_i].sub, cursor, LAST_PAGE, &e, &next);
    ck_assert_msg(rc == pages[_i].rc, "%s: rc %d (%s)", pages[_i].name, rc, e.err.msg);
    if (rc == APP_OK) {
        char want[200];

        snprintf(want, sizeof(want), "\"ExclusiveStartKey\":{\"pk\":{\"S\":\"USER#%s\"},"
                 "\"sk\":{\"S\":\"" LAST_SK "\"}}", pages[_i].sub);
        ck_assert_msg(strstr(e.ddb_stub.seen[0], want), "%s: %s", pages[_i].name,
                      e.ddb_stub.seen[0]);
        ck_assert_ptr_null(next);
    } else {
        ck_assert_msg(e.ddb_stub.nseen == 0, "%s: DynamoDB asked", pages[_i].name);
    }
    free(cursor);
    free(next);
    stub_env_free(&e);
}
END_TEST

static Suite *
saas_ai_suite(void)
{
    Suite *s = suite_create("saas_ai");
    TCase *tc = tcase_create("ai");

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_generate, 0, sizeof(gen) / sizeof(gen[0]));
    tcase_add_loop_test(tc, test_month, 0, sizeof(months) / sizeof(months[0]));
    tcase_add_loop_test(tc, test_history_pages, 0, sizeof(pages) / sizeof(pages[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(saas_ai_suite)
