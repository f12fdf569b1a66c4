/*
 * lib/suppress.c against a stub DynamoDB (t/unit/stub.h): what each SES event writes to the
 * suppression list, that it writes hashes and never an address, a repeated message, and the
 * outbox's read.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "../../lib/suppress.h"
#include "stub.h"

#define BOB "69c1f15ed84878474a49e67d193a566a1a8b3526525afda816a70974775ac978"
#define CAROL "8690ad4c6c000003623b02de2b355dbafa9227074feb39741f1e22345dcca468"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define GET "DynamoDB_20120810.GetItem"
#define CHECK_FAILED \
    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\"," \
    "\"message\":\"The conditional request failed\"}"
#define DDB_DOWN "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\"}"

#define BOUNCE(type, rcpts) \
    "{\"eventType\":\"Bounce\",\"mail\":{},\"bounce\":{\"bounceType\":\"" type "\"," \
    "\"bounceSubType\":\"General\",\"bouncedRecipients\":[" rcpts "]}}"

static const struct stub_reply ok2[] = { {UPDATE, 200, "{}"}, {UPDATE, 200, "{}"} };
static const struct stub_reply dup1[] = { {UPDATE, 400, CHECK_FAILED} };
static const struct stub_reply down1[] = { {UPDATE, 500, DDB_DOWN} };

static const struct {
    const char *name, *message;
    const struct stub_reply *ddb;
    size_t nddb;
    int ok;                            /* 1: APP_OK; 0: APP_EBADREQUEST; -1: another code */
    const char *event, *bounce_type;
    int suppressed, duplicates, ignored;
    const char *sent[3];               /* each in the first UpdateItem */
} cases[] = {
    {"permanent bounce, two recipients",
     BOUNCE("Permanent", "{\"emailAddress\":\"Bob@Example.com\"},"
            "{\"emailAddress\":\"carol@example.com\"}"), ok2, 2, 1, "Bounce", "Permanent",
     2, 0, 0, {BOB, "\"bounce\"", "\"General\""}},
    {"the same message again", BOUNCE("Permanent", "{\"emailAddress\":\"bob@example.com\"}"),
     dup1, 1, 1, "Bounce", "Permanent", 0, 1, 0, {"lastMessageId <> :m", NULL, NULL}},
    {"transient bounce", BOUNCE("Transient", "{\"emailAddress\":\"bob@example.com\"}"), NULL,
     0, 1, "Bounce", "Transient", 0, 0, 1, {NULL, NULL, NULL}},
    {"undetermined bounce", BOUNCE("Undetermined", "{\"emailAddress\":\"bob@example.com\"}"),
     NULL, 0, 1, "Bounce", "Undetermined", 0, 0, 1, {NULL, NULL, NULL}},
    {"complaint, identity notification form",
     "{\"notificationType\":\"Complaint\",\"complaint\":{\"complaintFeedbackType\":\"abuse\","
     "\"complainedRecipients\":[{\"emailAddress\":\"carol@example.com\"}]}}", ok2, 1, 1,
     "Complaint", NULL, 1, 0, 0, {CAROL, "\"complaint\"", "\"abuse\""}},
    {"a recipient without an address", BOUNCE("Permanent", "{\"status\":\"5.1.1\"}"), NULL, 0,
     1, "Bounce", "Permanent", 0, 0, 0, {NULL, NULL, NULL}},
    {"delivery event", "{\"eventType\":\"Delivery\",\"delivery\":{}}", NULL, 0, 1, "other",
     NULL, 0, 0, 0, {NULL, NULL, NULL}},
    {"not JSON", "Bounce!", NULL, 0, 0, NULL, NULL, 0, 0, 0, {NULL, NULL, NULL}},
    {"no event type", "{\"mail\":{}}", NULL, 0, 0, NULL, NULL, 0, 0, 0, {NULL, NULL, NULL}},
    {"bounce without its bounce", "{\"eventType\":\"Bounce\"}", NULL, 0, 0, "Bounce", NULL, 0,
     0, 0, {NULL, NULL, NULL}},
    {"recipients not a list", "{\"eventType\":\"Bounce\",\"bounce\":{\"bounceType\":"
     "\"Permanent\",\"bouncedRecipients\":{}}}", NULL, 0, 0, "Bounce", "Permanent", 0, 0, 0,
     {NULL, NULL, NULL}},
    {"DynamoDB down", BOUNCE("Permanent", "{\"emailAddress\":\"bob@example.com\"}"), down1, 1,
     -1, "Bounce", "Permanent", 0, 0, 0, {BOB, NULL, NULL}},
};

static int
same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

START_TEST(test_event)
{
    struct ses_outcome o;
    struct stub_env e;
    const char *sent;
    size_t i;
    int rc;

    stub_env_start(&e, cases[_i].ddb, cases[_i].nddb, NULL, 0, 1796410112);
    rc = suppress_ses_event(e.ctx.ddb, &e.cfg, cases[_i].message, "msg-1", e.ctx.now, &o,
                            &e.err);
    stub_env_stop(&e);
    if (cases[_i].ok == 1)
        ck_assert_msg(rc == APP_OK, "%s: rc %d (%s)", cases[_i].name, rc, e.err.msg);
    else if (cases[_i].ok == 0)
        ck_assert_msg(rc == APP_EBADREQUEST, "%s: rc %d", cases[_i].name, rc);
    else
        ck_assert_msg(rc != APP_OK && rc != APP_EBADREQUEST, "%s: rc %d", cases[_i].name, rc);
    ck_assert_msg(e.ddb_stub.nseen == cases[_i].nddb, "%s: %zu DynamoDB requests",
                  cases[_i].name, e.ddb_stub.nseen);
    ck_assert_msg(same(o.event, cases[_i].event), "%s: event %s", cases[_i].name,
                  o.event ? o.event : "(null)");
    ck_assert_msg(same(o.bounce_type, cases[_i].bounce_type), "%s: bounce type",
                  cases[_i].name);
    ck_assert_int_eq(o.suppressed, cases[_i].suppressed);
    ck_assert_int_eq(o.duplicates, cases[_i].duplicates);
    ck_assert_int_eq(o.ignored, cases[_i].ignored);
    sent = e.ddb_stub.nseen ? e.ddb_stub.seen[0] : NULL;
    for (i = 0; i < 3 && cases[_i].sent[i]; i++)
        ck_assert_msg(sent && strstr(sent, cases[_i].sent[i]), "%s: no %s in %s",
                      cases[_i].name, cases[_i].sent[i], sent ? sent : "(nothing)");
    /* Hashes only: no request names an address. */
    for (i = 0; i < e.ddb_stub.nseen; i++)
        ck_assert_msg(!strcasestr(e.ddb_stub.seen[i], "@example.com"), "%s: %s",
                      cases[_i].name, e.ddb_stub.seen[i]);
    stub_env_free(&e);
}
END_TEST

static const struct stub_reply found[] = {
    {GET, 200, "{\"Item\":{\"addressHash\":{\"S\":\"" BOB "\"}}}"}
};
static const struct stub_reply missing[] = { {GET, 200, "{}"} };
static const struct stub_reply get_down[] = { {GET, 500, DDB_DOWN} };

static const struct {
    const char *addr;
    const struct stub_reply *ddb;
    size_t nddb;
    int rc, out;
} checks[] = {
    {"BOB@example.com", found, 1, APP_OK, 1},
    {"bob@example.com", missing, 1, APP_OK, 0},
    {"not an address", NULL, 0, APP_OK, 0},
    {"bob@example.com", get_down, 1, -1, 0},
};

START_TEST(test_check)
{
    struct stub_env e;
    int rc, out = -1;

    stub_env_start(&e, checks[_i].ddb, checks[_i].nddb, NULL, 0, 1796410112);
    rc = suppress_check(e.ctx.ddb, &e.cfg, checks[_i].addr, &out, &e.err);
    stub_env_stop(&e);
    if (checks[_i].rc == APP_OK)
        ck_assert_msg(rc == APP_OK, "case %d: rc %d (%s)", _i, rc, e.err.msg);
    else
        ck_assert_msg(rc != APP_OK, "case %d: rc %d", _i, rc);
    ck_assert_int_eq(out, checks[_i].out);
    ck_assert_uint_eq(e.ddb_stub.nseen, checks[_i].nddb);
    if (checks[_i].nddb) {
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], BOB));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "\"ConsistentRead\":true"));
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "prodenthub-email-suppressions"));
    }
    stub_env_free(&e);
}
END_TEST

static Suite *
suppress_suite(void)
{
    Suite *s = suite_create("suppress");
    TCase *tc = tcase_create("suppress");

    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_loop_test(tc, test_event, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_loop_test(tc, test_check, 0, (int)(sizeof(checks) / sizeof(checks[0])));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(suppress_suite)
