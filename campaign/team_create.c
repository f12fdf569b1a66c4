/*
 * A team's creation (team.h; rules in docs/CAMPAIGNS.md, Teams): the team plan's price read
 * from the catalogue and split into shares that add up to it exactly, the leader first, a
 * random token per link (the team checks their hashes, and keeps the tokens sealed for the
 * invitations), and the team written alone: nobody is emailed until the leader's share is
 * paid (team_invite.c).  The leader pays first, so their Checkout Session is opened at once.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/catalogue.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/money.h"
#include "../lib/txn.h"
#include "team.h"

#define DEFAULT_PLAN "team-full-6months"
#define KEEP_AFTER_PAY_BY_S (90 * 86400)
#define LEADER_NAME_MAX 256        /* "first last" */

/* What is made for one team besides its record: the leader's name and the links' tokens. */
struct team_new {
    char leader[LEADER_NAME_MAX];
    char token[40];
    char hash[65];
    char member_token[TEAM_MAX_MEMBERS][40];
    char member_hash[TEAM_MAX_MEMBERS][65];
    struct team_person m[TEAM_MAX_MEMBERS];
    time_t pay_by;
};

/* The members in order, the leader first: moved there when listed elsewhere, added when not
 * (2-5 in all, the leader included, no email twice). */
static int
compose(const struct team_input *in, struct team_new *t, size_t *n, struct app_error *err)
{
    struct team_person lead;
    char field[48];
    size_t i, j;

    if (in->n > TEAM_MAX_MEMBERS)
        return app_error_field(err, "members", "has too many entries");
    for (i = 0; i < in->n; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(in->members[j].email, in->members[i].email) == 0) {
                snprintf(field, sizeof(field), "members[%zu].email", i);
                return app_error_field(err, field, "appears twice");
            }
        }
    }
    snprintf(t->leader, sizeof(t->leader), "%s%s%s", in->first, in->last ? " " : "",
             in->last ? in->last : "");
    memcpy(t->m, in->members, in->n * sizeof(t->m[0]));
    *n = in->n;
    for (i = 0; i < *n && strcmp(t->m[i].email, in->email) != 0; i++)
        ;
    if (i == *n) {
        if (*n == TEAM_MAX_MEMBERS)
            return app_error_field(err, "members",
                                   "has no room for the leader (at most 5 in all)");
        lead.name = t->leader;
        lead.email = in->email;
        (*n)++;
    } else {
        lead = t->m[i];
    }
    memmove(&t->m[1], &t->m[0], i * sizeof(t->m[0]));
    t->m[0] = lead;
    if (*n < TEAM_MIN_MEMBERS)
        return app_error_field(err, "members",
                               "must name at least one member besides the leader");
    return APP_OK;
}

/* The team plan named by id, which may be the seed's planType: the team plan of
 * "full-6months" is "team-full-6months" (docs/CAMPAIGNS.md), into *out (the caller puts
 * it) with its id into found.  APP_ENOTFOUND when neither is a team plan. */
static int
team_plan(const struct ctx *c, const char *id, char *found, size_t n, struct json_object **out,
          struct app_error *err)
{
    int rc, pass;

    for (pass = 0; pass < 2; pass++) {
        snprintf(found, n, "%s%s", pass ? "team-" : "", id);
        rc = catalogue_load(c->ddb, c->cfg, found, out, err);
        if (rc != APP_OK && rc != APP_ENOTFOUND)
            return rc;
        if (rc == APP_OK && catalogue_sells(*out, TEAM_CAMPAIGN, "split"))
            return APP_OK;
        if (*out)
            json_object_put(*out);
        *out = NULL;
    }
    return APP_ENOTFOUND;
}

/* The team as written: a plain object (marshalled for the put, and the leader's session is
 * made from it). */
static struct json_object *
record(const struct ctx *c, const struct team_input *in, const struct team_new *t,
       const struct team_created *out)
{
    struct json_object *o = json_object_new_object(), *l = json_object_new_array(), *m;
    char now[32];
    size_t i;

    time_iso(c->now, now, sizeof(now));
    json_add_str(o, "teamId", out->id);
    json_add_str(o, "campaignId", TEAM_CAMPAIGN);
    json_add_str(o, "planId", out->plan_id);
    json_add_str(o, "planName", out->plan_name);
    json_add_str(o, "leaderFirstName", in->first);
    json_add_str(o, "leaderLastName", in->last);
    json_add_str(o, "leaderEmail", in->email);
    json_add_str(o, "country", in->country);
    json_add_str(o, "leaderTokenHash", t->hash);
    json_object_object_add(o, "totalCents", json_object_new_int64(out->total_cents));
    json_add_str(o, "currency", "AUD");
    json_object_object_add(o, "totalMembers", json_object_new_int64((long long)out->n));
    json_object_object_add(o, "paidCount", json_object_new_int64(0));
    json_add_str(o, "status", "pending");
    json_add_str(o, "createdAt", now);
    json_add_str(o, "updatedAt", now);
    json_add_str(o, "payBy", out->pay_by);
    json_object_object_add(o, "ttl",
                           json_object_new_int64((long long)t->pay_by + KEEP_AFTER_PAY_BY_S));
    for (i = 0; i < out->n; i++) {
        m = json_object_new_object();
        json_add_str(m, "name", t->m[i].name);
        json_add_str(m, "email", t->m[i].email);
        json_object_object_add(m, "shareCents",
                               json_object_new_int64(out->members[i].share_cents));
        json_add_str(m, "status", "unpaid");
        json_add_str(m, "tokenHash", t->member_hash[i]);
        json_object_object_add(m, "sessions", json_object_new_int64(0));
        json_object_array_add(l, m);
    }
    json_object_object_add(o, "members", l);
    return o;
}

/* Ids, tokens, shares and links of the team; pointers into out->record once it is made. */
static int
prepare(const struct ctx *c, const struct team_input *in, struct json_object *plan,
        struct team_new *t, struct team_created *out, struct app_error *err)
{
    long long shares[TEAM_MAX_MEMBERS];
    struct json_object *m;
    size_t i;
    int rc;

    out->total_cents = json_int(plan, "amountCents");
    out->plan_name = json_str(plan, "name");
    if (money_split(out->total_cents, out->n, shares) != 0)
        return app_error_set(err, APP_ECONFIG, "plan %s: price %lld cannot be split",
                             out->plan_id, out->total_cents);
    if (id_new(out->id, sizeof(out->id), "team_") != 0 ||
        id_new(t->token, sizeof(t->token), "") != 0)
        return app_error_set(err, APP_EINTERNAL, "no random bytes");
    token_hash(t->token, t->hash);
    for (i = 0; i < out->n; i++) {
        out->members[i].share_cents = shares[i];
        if (id_new(t->member_token[i], sizeof(t->member_token[i]), "") != 0)
            return app_error_set(err, APP_EINTERNAL, "no random bytes");
        token_hash(t->member_token[i], t->member_hash[i]);
        team_pay_url(c, out->id, i, t->member_token[i], out->members[i].pay_url);
    }
    team_view_url(c, out->id, t->token, out->team_url);
    t->pay_by = c->now + c->cfg->team_pay_days * 86400;
    time_iso(t->pay_by, out->pay_by, sizeof(out->pay_by));
    out->record = record(c, in, t, out);
    rc = team_links_keep(c, out->record, t->token, (const char (*)[40])t->member_token, out->n,
                         err);
    if (rc != APP_OK)
        return rc;
    /* From here on the names point into the record, which outlives the plan. */
    out->plan_id = json_str(out->record, "planId");
    out->plan_name = json_str(out->record, "planName");
    for (i = 0; i < out->n; i++) {
        m = team_member(out->record, (long long)i);
        out->members[i].name = json_str(m, "name");
        out->members[i].email = json_str(m, "email");
    }
    return APP_OK;
}

int
team_create(const struct ctx *c, const struct team_input *in, struct team_created *out,
            struct app_error *err)
{
    struct json_object *plan = NULL, *items;
    char plan_id[80];
    struct team_new t;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&t, 0, sizeof(t));
    rc = compose(in, &t, &out->n, err);
    if (rc != APP_OK)
        return rc;
    rc = team_plan(c, in->plan_id ? in->plan_id : DEFAULT_PLAN, plan_id, sizeof(plan_id), &plan,
                   err);
    if (rc == APP_ENOTFOUND)
        return app_error_field(err, "planId", "is not a team plan");
    if (rc != APP_OK)
        return rc;
    out->plan_id = plan_id;
    rc = prepare(c, in, plan, &t, out, err);
    json_object_put(plan);
    if (rc != APP_OK)
        goto fail;

    items = json_object_new_array();
    json_object_array_add(items, txn_put(c->cfg->tbl_teams, ddb_marshal_item(out->record),
                                         "attribute_not_exists(teamId)"));
    rc = txn_run(c->ddb, items, NULL, err);
    if (rc == APP_ECONDITION)
        rc = app_error_set(err, APP_EINTERNAL, "team id clash");
    if (rc != APP_OK)
        goto fail;
    ctx_log(c, LL_INFO, "team %s created: %zu members, %lld cents", out->id, out->n,
            out->total_cents);
    /* The team exists whatever Checkout says; without a session the leader's pay link makes
     * one when opened. */
    rc = team_share_session(c, out->record, 0, in->metadata, &out->session, err);
    if (rc != APP_OK) {
        ctx_log(c, LL_WARN, "team %s: no checkout for the leader yet: %s", out->id, err->msg);
        app_error_clear(err);
        memset(&out->session, 0, sizeof(out->session));
    }
    return APP_OK;
fail:
    team_created_free(out);
    return rc;
}

void
team_created_free(struct team_created *out)
{
    if (out->record)
        json_object_put(out->record);
    memset(out, 0, sizeof(*out));
}
