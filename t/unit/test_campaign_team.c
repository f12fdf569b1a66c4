/*
 * Teams below HTTP (campaign/team_create.c, team_pay.c, team_invite.c) against stub DynamoDB
 * and Stripe (stub.h): a team created from the catalogue's price, split exactly, the leader
 * first and their Checkout Session opened with our amount, and nobody emailed; the refusals,
 * each as a field error before anything is written; a Stripe failure that leaves the team
 * standing; which member's pay link may open a session (the leader's first); and what the
 * leader's payment sends: the confirmation and the invitations with their links.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../campaign/campaign.h"
#include "../../campaign/team.h"
#include "../../lib/ddbjson.h"
#include "../../lib/ids.h"
#include "../../lib/seal.h"
#include "stub.h"
#include "unit.h"

#define NOW 1768478400              /* 2026-01-15T12:00:00Z */
#define KEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

#define GET "DynamoDB_20120810.GetItem"
#define TXN "DynamoDB_20120810.TransactWriteItems"
#define UPDATE "DynamoDB_20120810.UpdateItem"
#define POST_SESSION "POST /v1/checkout/sessions HTTP"
#define LEAD_SESSION "{\"id\":\"cs_lead\",\"url\":\"https://pay.example/cs_lead\"," \
                     "\"expires_at\":9999999999}"
#define STRIPE_DOWN "{\"error\":{\"type\":\"api_error\",\"message\":\"down\"}}"

#define PLAN(id, pricing, cents) \
    "{\"Item\":{\"planId\":{\"S\":\"" id "\"},\"name\":{\"S\":\"Team Full 6 Months\"}," \
    "\"campaignId\":{\"S\":\"team-creation\"}," \
    "\"status\":{\"S\":\"active\"},\"pricing\":{\"S\":\"" pricing "\"}," \
    "\"amountCents\":{\"N\":\"" cents "\"},\"durationMonths\":{\"N\":\"6\"}}}"
#define SINGLE_PLAN PLAN("full-6months", "single", "19900")
#define TEAM_PLAN PLAN("team-full-6months", "split", "29900")

static const struct team_person trio[] = {
    {"Jane Smith", "jane@example.com"}, {"Raj Patel", "raj@example.com"},
};
static const struct team_person lead_later[] = {
    {"Ann", "ann@example.com"}, {"Lee", "lead@example.com"},
};
static const struct team_person five[] = {
    {"A", "a@example.com"}, {"B", "b@example.com"}, {"C", "c@example.com"},
    {"D", "d@example.com"}, {"E", "e@example.com"},
};
static const struct team_person twice[] = {
    {"Jane", "jane@example.com"}, {"Raj", "raj@example.com"}, {"Jane again", "jane@example.com"},
};
static const struct team_person alone[] = {
    {"Lee", "lead@example.com"},
};

static void
input(struct team_input *in, const char *plan, const struct team_person *m, size_t n)
{
    memset(in, 0, sizeof(*in));
    in->first = "Lee";
    in->last = "Kim";
    in->email = "lead@example.com";
    in->country = "Australia";
    in->plan_id = plan;
    in->members = m;
    in->n = n;
}

/* The team item of the recorded TransactWriteItems (plain; the caller puts it), and the
 * number of its elements. */
static struct json_object *
written_team(const struct stub *s, size_t *nitems)
{
    struct json_object *body = NULL, *items, *put, *item, *plain;
    size_t i;

    for (i = 0; i < s->nseen && !body; i++) {
        if (strstr(s->seen[i], TXN))
            body = json_tokener_parse(stub_body(s->seen[i]));
    }
    ck_assert_ptr_nonnull(body);
    items = json_object_object_get(body, "TransactItems");
    *nitems = json_object_array_length(items);
    put = json_object_object_get(json_object_array_get_idx(items, 0), "Put");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(put, "TableName")),
                     "prodenthub-teams");
    item = json_object_object_get(put, "Item");
    plain = ddb_unmarshal_item(item);
    ck_assert_ptr_nonnull(plain);
    json_object_put(body);
    return plain;
}

/* --- creation: the happy paths and a Stripe failure ------------------------------------- */

static const struct {
    const char *name;
    const char *plan;                       /* in->plan_id */
    const struct team_person *members;
    size_t n;
    struct stub_reply ddb[4];
    size_t nddb;
    struct stub_reply stripe[1];
    const char *session;                    /* out->session.id */
    size_t count;                           /* members in all */
    const char *emails[3];                  /* in order */
    long long shares[3];
} created[] = {
    {"the seed's planType: its team plan, the leader added first, the session opened",
     "full-6months", trio, 2,
     {{GET, 200, SINGLE_PLAN}, {GET, 200, TEAM_PLAN}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 4,
     {{POST_SESSION, 200, LEAD_SESSION}}, "cs_lead", 3,
     {"lead@example.com", "jane@example.com", "raj@example.com"}, {9967, 9967, 9966}},
    {"the default plan; a leader listed later is moved first under the name listed",
     NULL, lead_later, 2,
     {{GET, 200, TEAM_PLAN}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}}, 3,
     {{POST_SESSION, 200, LEAD_SESSION}}, "cs_lead", 2,
     {"lead@example.com", "ann@example.com", NULL}, {14950, 14950, 0}},
    {"Stripe down for the leader's session: the team stands, without a session",
     "team-full-6months", trio, 2,
     {{GET, 200, TEAM_PLAN}, {TXN, 200, "{}"}}, 2,
     {{POST_SESSION, 500, STRIPE_DOWN}}, "", 3,
     {"lead@example.com", "jane@example.com", "raj@example.com"}, {9967, 9967, 9966}},
};

START_TEST(test_create)
{
    struct team_input in;
    struct team_created out;
    struct json_object *team, *m;
    const char *form;
    char pay_by[32], want[200];
    long long sum = 0;
    size_t i, nitems;
    struct stub_env e;
    int rc;

    input(&in, created[_i].plan, created[_i].members, created[_i].n);
    setenv("OUTBOX_KEY", KEY, 1);
    stub_env_start(&e, created[_i].ddb, created[_i].nddb, created[_i].stripe, 1, NOW);
    unsetenv("OUTBOX_KEY");
    rc = team_create(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == APP_OK, "%s: rc %d (%s)", created[_i].name, rc, e.err.msg);
    ck_assert_int_eq(e.err.code, APP_OK);
    ck_assert_msg(e.ddb_stub.nseen == created[_i].nddb, "%s: %zu DynamoDB calls",
                  created[_i].name, e.ddb_stub.nseen);
    ck_assert_uint_eq(e.stripe_stub.nseen, 1);
    /* The price is read from the catalogue itself, consistently (never a cached copy). */
    ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "prodenthub-catalogue"));
    ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[0], "\"ConsistentRead\":true"));
    ck_assert_str_eq(out.session.id, created[_i].session);
    ck_assert_str_eq(out.plan_id, "team-full-6months");
    ck_assert_int_eq(out.total_cents, 29900);
    ck_assert_uint_eq(out.n, created[_i].count);
    ck_assert(id_valid(out.id, "team_"));
    time_iso(NOW + 7 * 86400, pay_by, sizeof(pay_by));
    ck_assert_str_eq(out.pay_by, pay_by);

    /* What was written: the team alone (issue 12, item 11: nobody is emailed before the
     * leader pays), its links' tokens sealed. */
    team = written_team(&e.ddb_stub, &nitems);
    ck_assert_uint_eq(nitems, 1);
    ck_assert_ptr_nonnull(strstr(json_str(team, "linksSealed"), "s1."));
    ck_assert_ptr_null(json_str(team, "links"));
    ck_assert_ptr_null(strstr(json_object_to_json_string(team), strstr(out.team_url, "token=")
                              + 6));
    ck_assert_int_eq(json_int(team, "totalCents"), 29900);
    ck_assert_int_eq(json_int(team, "totalMembers"), (long long)created[_i].count);
    ck_assert_str_eq(json_str(team, "teamId"), out.id);
    ck_assert_str_eq(json_str(team, "payBy"), pay_by);
    for (i = 0; i < created[_i].count; i++) {
        m = team_member(team, (long long)i);
        ck_assert_ptr_nonnull(m);
        ck_assert_str_eq(json_str(m, "email"), created[_i].emails[i]);
        ck_assert_str_eq(out.members[i].email, created[_i].emails[i]);
        ck_assert_int_eq(json_int(m, "shareCents"), created[_i].shares[i]);
        ck_assert_int_eq(out.members[i].share_cents, created[_i].shares[i]);
        ck_assert_str_eq(json_str(m, "status"), "unpaid");
        ck_assert_uint_eq(strlen(json_str(m, "tokenHash")), 64);
        /* The link's token is stored only sealed, and as its hash. */
        ck_assert_ptr_null(strstr(json_object_to_json_string(team),
                                  strstr(out.members[i].pay_url, "token=") + 6));
        sum += json_int(m, "shareCents");
    }
    ck_assert_ptr_null(team_member(team, (long long)created[_i].count));
    ck_assert_int_eq(sum, 29900);
    ck_assert_str_eq(out.members[0].name, created[_i].members == trio ? "Lee Kim" : "Lee");

    /* The leader's session: our share of our price, for the leader, as share 0. */
    form = stub_body(e.stripe_stub.seen[0]);
    snprintf(want, sizeof(want), "line_items[0][price_data][unit_amount]=%lld",
             created[_i].shares[0]);
    ck_assert_msg(strstr(form, want), "%s: no %s in %s", created[_i].name, want, form);
    ck_assert_ptr_nonnull(strstr(form, "customer_email=lead%40example.com"));
    ck_assert_ptr_nonnull(strstr(form, "metadata[memberIndex]=0"));
    snprintf(want, sizeof(want), "client_reference_id=%s", out.id);
    ck_assert_ptr_nonnull(strstr(form, want));
    if (created[_i].session[0])           /* recorded on the leader's share */
        ck_assert_ptr_nonnull(strstr(e.ddb_stub.seen[e.ddb_stub.nseen - 1],
                                     "members[0].sessionId = :sid"));
    json_object_put(team);
    team_created_free(&out);
    stub_env_free(&e);
}
END_TEST

/* --- creation: refusals, and a failed write -------------------------------------------- */

static const struct {
    const char *name;
    const char *plan;
    const struct team_person *members;
    size_t n;
    struct stub_reply ddb[2];
    size_t nddb;
    int rc;
    const char *field;                      /* of the field error, or NULL */
} refused[] = {
    {"an unknown plan, nor a team plan of it", "gold", trio, 2,
     {{GET, 200, "{}"}, {GET, 200, "{}"}}, 2, APP_EVALIDATION, "planId"},
    {"a plan without a team plan", "full-6months", trio, 2,
     {{GET, 200, SINGLE_PLAN}, {GET, 200, "{}"}}, 2, APP_EVALIDATION, "planId"},
    {"the leader alone", NULL, alone, 1, {{NULL, 0, NULL}}, 0, APP_EVALIDATION, "members"},
    {"five besides the leader", NULL, five, 5, {{NULL, 0, NULL}}, 0, APP_EVALIDATION,
     "members"},
    {"an email twice", NULL, twice, 3, {{NULL, 0, NULL}}, 0, APP_EVALIDATION,
     "members[2].email"},
    {"the catalogue down: no team", NULL, trio, 2,
     {{GET, 500, "{\"__type\":\"InternalServerError\"}"}}, 1, APP_EUNAVAILABLE, NULL},
    {"the team id taken (the write's condition): our fault, no session opened", NULL, trio, 2,
     {{GET, 200, TEAM_PLAN}, {TXN, 400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
      "TransactionCanceledException\",\"CancellationReasons\":[{\"Code\":"
      "\"ConditionalCheckFailed\"}]}"}}, 2, APP_EINTERNAL, NULL},
};

START_TEST(test_refused)
{
    struct team_input in;
    struct team_created out;
    struct stub_env e;
    int rc;

    input(&in, refused[_i].plan, refused[_i].members, refused[_i].n);
    stub_env_start(&e, refused[_i].ddb, refused[_i].nddb, NULL, 0, NOW);
    rc = team_create(&e.ctx, &in, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == refused[_i].rc, "%s: rc %d (%s)", refused[_i].name, rc, e.err.msg);
    ck_assert_int_eq(e.err.code, refused[_i].rc);
    if (refused[_i].field)
        ck_assert_str_eq(e.err.field, refused[_i].field);
    ck_assert_msg(e.ddb_stub.nseen == refused[_i].nddb, "%s: %zu DynamoDB calls",
                  refused[_i].name, e.ddb_stub.nseen);
    ck_assert_uint_eq(e.stripe_stub.nseen, 0);
    ck_assert_ptr_null(out.record);
    team_created_free(&out);
    stub_env_free(&e);
}
END_TEST

/* --- a member's pay link, and the leader's view ----------------------------------------- */

#define TEAM_ID "team_0123456789abcdef01234567"

/* A team of two in DynamoDB's JSON: its status, the leader's and member 1's statuses, and
 * the tokens' hashes. */
static void
team_item(char *out, size_t n, const char *status, const char *m0_status,
          const char *m1_status)
{
    char lead[65], m0[65], m1[65];

    token_hash("leader-token", lead);
    token_hash("token-0", m0);
    token_hash("token-1", m1);
    snprintf(out, n, "{\"Item\":{\"teamId\":{\"S\":\"" TEAM_ID "\"},\"status\":{\"S\":\"%s\"},"
             "\"planName\":{\"S\":\"Team Full 6 Months\"},\"leaderTokenHash\":{\"S\":\"%s\"},"
             "\"members\":{\"L\":[{\"M\":{\"name\":{\"S\":\"Lee\"},\"email\":{\"S\":"
             "\"lead@example.com\"},\"shareCents\":{\"N\":\"14950\"},\"status\":{\"S\":"
             "\"%s\"},\"tokenHash\":{\"S\":\"%s\"},\"sessions\":{\"N\":\"0\"}}},"
             "{\"M\":{\"name\":{\"S\":\"Ann\"},\"email\":{\"S\":\"ann@example.com\"},"
             "\"shareCents\":{\"N\":\"14950\"},\"status\":{\"S\":\"%s\"},\"tokenHash\":"
             "{\"S\":\"%s\"},\"sessions\":{\"N\":\"0\"}}}]}}}", status, lead, m0_status, m0,
             m1_status, m1);
}

static const struct {
    const char *name;
    const char *status, *m0_status, *m1_status;     /* NULL: no such team */
    long index;
    const char *token;
    int rc;
    const char *msg;
    const char *reason;
} pay[] = {
    {"an unpaid share with its token, the leader's paid: the session, for that share",
     "partially_paid", "paid", "unpaid", 1, "token-1", APP_OK, NULL, NULL},
    {"issue 12 item 11: the leader's share unpaid: the member's link waits for it", "pending",
     "unpaid", "unpaid", 1, "token-1", APP_ECONFLICT, "The team leader pays first: this link "
     "works once the leader's share is paid", "LEADER_UNPAID"},
    {"the leader's own link, first", "pending", "unpaid", "unpaid", 0, "token-0", APP_OK, NULL,
     NULL},
    {"a paid share", "partially_paid", "paid", "paid", 1, "token-1", APP_ECONFLICT,
     "This share is already paid", NULL},
    {"another member's token", "pending", "paid", "unpaid", 1, "token-0", APP_EFORBIDDEN, NULL,
     NULL},
    {"no token", "pending", "paid", "unpaid", 1, NULL, APP_EFORBIDDEN, NULL, NULL},
    {"an unknown member", "pending", "paid", "unpaid", 2, "token-1", APP_ENOTFOUND,
     "no such member", NULL},
    {"an unknown team", NULL, NULL, NULL, 1, "token-1", APP_ENOTFOUND, "no such team", NULL},
    {"an expired team", "expired", "paid", "unpaid", 1, "token-1", APP_ECONFLICT,
     "This team expired before every share was paid", NULL},
    {"an active team", "fully_paid", "paid", "unpaid", 1, "token-1", APP_ECONFLICT,
     "This team is no longer taking payments", NULL},
};

START_TEST(test_member_pay)
{
    struct stub_reply ddb[2] = {{GET, 200, "{}"}, {UPDATE, 200, "{}"}};
    struct stub_reply stripe[1] = {{POST_SESSION, 200, LEAD_SESSION}};
    struct paylink_out out;
    struct stub_env e;
    char item[4096];
    int rc;

    if (pay[_i].status) {
        team_item(item, sizeof(item), pay[_i].status, pay[_i].m0_status, pay[_i].m1_status);
        ddb[0].body = item;
    }
    memset(&out, 0, sizeof(out));
    stub_env_start(&e, ddb, 2, stripe, 1, NOW);
    rc = team_member_pay(&e.ctx, TEAM_ID, pay[_i].index, pay[_i].token, &out, &e.err);
    stub_env_stop(&e);
    ck_assert_msg(rc == pay[_i].rc, "%s: rc %d (%s)", pay[_i].name, rc, e.err.msg);
    if (pay[_i].msg)
        ck_assert_str_eq(e.err.msg, pay[_i].msg);
    if (pay[_i].reason)
        ck_assert_str_eq(e.err.reason, pay[_i].reason);
    if (rc == APP_OK) {
        ck_assert_str_eq(out.id, "cs_lead");
        ck_assert_uint_eq(e.stripe_stub.nseen, 1);
        ck_assert_ptr_nonnull(strstr(e.stripe_stub.seen[0],
                                     "line_items[0][price_data][unit_amount]=14950"));
        ck_assert_ptr_nonnull(strstr(e.stripe_stub.seen[0], pay[_i].index ?
                                     "metadata[memberIndex]=1" : "metadata[memberIndex]=0"));
        ck_assert_ptr_nonnull(strstr(e.stripe_stub.seen[0], pay[_i].index ?
                                     "ann%40example.com" : "lead%40example.com"));
        ck_assert_uint_eq(e.ddb_stub.nseen, 2);
    } else {
        ck_assert_uint_eq(e.stripe_stub.nseen, 0);
        ck_assert_uint_eq(e.ddb_stub.nseen, 1);
    }
    stub_env_free(&e);
}
END_TEST

static const struct {
    const char *token;
    int leader;
} views[] = {
    {"leader-token", 1}, {"token-0", 0}, {NULL, 0}, {"", 0},
};

START_TEST(test_view)
{
    struct stub_reply ddb[1] = {{GET, 200, NULL}};
    struct json_object *team = NULL;
    struct stub_env e;
    char item[4096];
    int rc, leader = -1;

    team_item(item, sizeof(item), "pending", "unpaid", "unpaid");
    ddb[0].body = item;
    stub_env_start(&e, ddb, 1, NULL, 0, NOW);
    rc = team_view(&e.ctx, TEAM_ID, views[_i].token, &team, &leader, &e.err);
    stub_env_stop(&e);
    ck_assert_int_eq(rc, APP_OK);
    ck_assert_int_eq(leader, views[_i].leader);
    ck_assert_str_eq(json_str(team, "teamId"), TEAM_ID);
    json_object_put(team);
    stub_env_free(&e);
}
END_TEST

/* --- what the leader's payment sends (team_invite.c) ---------------------------------- */

/* A member's share set to status in the team as read. */
static void
set_status(struct json_object *team, long long i, const char *status)
{
    json_object_object_add(team_member(team, i), "status", json_object_new_string(status));
}

/* An outbox row's variables (plain; the caller puts them), opened when sealed. */
static struct json_object *
vars_of(const struct cfg *cfg, struct json_object *row)
{
    unsigned char key[SEAL_KEY_LEN];
    struct json_object *v;
    struct buf b;

    if (json_str(row, "vars"))
        return json_tokener_parse(json_str(row, "vars"));
    ck_assert_int_eq(seal_key_parse(cfg->outbox_key, key), 0);
    buf_init(&b, SEAL_TEXT_MAX);
    ck_assert_int_eq(unseal(key, json_str(row, "outboxId"), json_str(row, "varsSealed"), &b), 0);
    v = json_tokener_parse(b.data);
    buf_free(&b);
    return v;
}

static const struct {
    const char *name;
    int key;                        /* OUTBOX_KEY set (the links sealed) */
    long index;                     /* the share paid */
    const char *paid;               /* members (by index, "01") already paid, besides */
    int other_key;                  /* the links opened under another key */
    int no_links;                   /* a team made before the links were kept */
    size_t mails;                   /* elements added: the confirmation, then invitations */
    const char *to[3];
} invites[] = {
    {"the leader's share, links sealed: the confirmation and both invitations", 1, 0, "", 0, 0,
     3, {"lead@example.com", "jane@example.com", "raj@example.com"}},
    {"the leader's share, links in clear (no key): the same", 0, 0, "", 0, 0, 3,
     {"lead@example.com", "jane@example.com", "raj@example.com"}},
    {"the leader paid again after a refund: only who has not paid is invited", 0, 0, "1", 0, 0,
     2, {"lead@example.com", "raj@example.com", NULL}},
    {"another member's share: nothing", 0, 1, "0", 0, 0, 0, {NULL}},
    {"every other share paid: the team activates, nothing more", 0, 0, "12", 0, 0, 0, {NULL}},
    {"links this key cannot open: nothing (logged)", 1, 0, "", 1, 0, 0, {NULL}},
    {"a team without links: nothing", 0, 0, "", 0, 1, 0, {NULL}},
};

START_TEST(test_issue12_item11_invitations_follow_the_leaders_payment)
{
    struct stub_reply ddb[3] = {{GET, 200, TEAM_PLAN}, {TXN, 200, "{}"}, {UPDATE, 200, "{}"}};
    struct stub_reply stripe[1] = {{POST_SESSION, 200, LEAD_SESSION}};
    struct json_object *items = json_object_new_array(), *put, *item, *vars;
    struct team_input in;
    struct team_created out;
    struct pay_event pe;
    struct stub_env e;
    const char *p, *want;
    char cause[128];
    size_t i, j, n;

    input(&in, NULL, trio, 2);
    if (invites[_i].key)
        setenv("OUTBOX_KEY", KEY, 1);
    stub_env_start(&e, ddb, 3, stripe, 1, NOW);
    unsetenv("OUTBOX_KEY");
    ck_assert_int_eq(team_create(&e.ctx, &in, &out, &e.err), APP_OK);
    stub_env_stop(&e);
    for (p = invites[_i].paid; *p; p++)
        set_status(out.record, *p - '0', "paid");
    if (invites[_i].other_key)
        e.cfg.outbox_key[0] = 'f';
    if (invites[_i].no_links)
        json_object_object_del(out.record, "links");
    memset(&pe, 0, sizeof(pe));
    pe.payment_intent = "pi_lead";
    pe.now = NOW + 60;
    n = team_invite(&e.ctx, out.record, invites[_i].index, &pe, items);
    ck_assert_msg(n == invites[_i].mails && json_object_array_length(items) == n,
                  "%s: %zu elements", invites[_i].name, n);
    for (i = 0; i < n; i++) {
        put = json_object_object_get(json_object_array_get_idx(items, i), "Put");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(put, "TableName")),
                         "prodenthub-email-outbox");
        item = ddb_unmarshal_item(json_object_object_get(put, "Item"));
        ck_assert_str_eq(json_str(item, "toAddr"), invites[_i].to[i]);
        ck_assert_str_eq(json_str(item, "template"), i ? "team-invitation" : "team-created");
        snprintf(cause, sizeof(cause), "%s#invited#pi_lead", out.id);
        ck_assert_str_eq(json_str(item, "cause"), cause);
        /* The links are the ones the create answer gave: the leader's page, each pay link. */
        vars = vars_of(&e.cfg, item);
        for (j = 0; j < out.n && strcmp(out.members[j].email, invites[_i].to[i]) != 0; j++)
            ;
        ck_assert_uint_lt(j, out.n);
        want = i ? out.members[j].pay_url : out.team_url;
        ck_assert_str_eq(json_str(vars, i ? "payUrl" : "teamUrl"), want);
        json_object_put(vars);
        json_object_put(item);
    }
    json_object_put(items);
    team_created_free(&out);
    stub_env_free(&e);
}
END_TEST

static Suite *
team_suite(void)
{
    Suite *s = suite_create("campaign_team");
    TCase *tc = tcase_create("team");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_create, 0, sizeof(created) / sizeof(created[0]));
    tcase_add_loop_test(tc, test_refused, 0, sizeof(refused) / sizeof(refused[0]));
    tcase_add_loop_test(tc, test_member_pay, 0, sizeof(pay) / sizeof(pay[0]));
    tcase_add_loop_test(tc, test_view, 0, sizeof(views) / sizeof(views[0]));
    tcase_add_loop_test(tc, test_issue12_item11_invitations_follow_the_leaders_payment, 0,
                        sizeof(invites) / sizeof(invites[0]));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(team_suite)
