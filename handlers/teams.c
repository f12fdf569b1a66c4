/*
 * Team plans (campaignId "team-creation"; rules in docs/CAMPAIGNS.md):
 *
 *   POST /v1/teams/create                          a leader registers 2-5 members; each
 *                                                  owes a share of the plan's price
 *   GET  /v1/teams/{teamId}[?token=]               status and shares; member emails masked
 *                                                  unless token is the leader's
 *   GET  /v1/teams/{teamId}/members/{n}/pay?token= the member's own Checkout Session,
 *                                                  created on demand (303 to Stripe)
 *
 * Each route parses and answers; what a team is and who may pay is the campaign's
 * (campaign/team.h).  Only the masking of the public view is decided here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../lib/ddbjson.h"
#include "../lib/mem.h"
#include "../lib/strparse.h"
#include "../campaign/team.h"
#include "handlers.h"
#include "paylink.h"

/* --- POST /v1/teams/create ------------------------------------------------------------- */

static int
parse(struct request *req, struct team_input *in, struct team_person *m)
{
    struct json_object *leader, *members, *o;
    char name[48];
    size_t i;

    /* The seed's flat leader fields and planType stand for ours (docs/API.md). */
    field_alias(req, "leaderFirstName", "leader", "firstName");
    field_alias(req, "leaderLastName", "leader", "lastName");
    field_alias(req, "leaderEmail", "leader", "email");
    field_alias(req, "country", "leader", "country");
    field_alias(req, "planType", NULL, "planId");
    field_campaign(req, TEAM_CAMPAIGN);
    in->metadata = field_metadata(req);
    leader = field_object_at(req, NULL, "leader", "leader", FIELD_REQUIRED);
    field_name_at(req, leader, "firstName", "leader.firstName", FIELD_NAME_PART_MAX,
                  FIELD_REQUIRED, &in->first);
    field_name_at(req, leader, "lastName", "leader.lastName", FIELD_NAME_PART_MAX,
                  FIELD_REQUIRED, &in->last);
    field_email_at(req, leader, "email", "leader.email", FIELD_REQUIRED, &in->email);
    field_string_at(req, leader, "country", "leader.country", 2, 64, FIELD_REQUIRED,
                    &in->country);
    field_string(req, "planId", 1, 64, 0, &in->plan_id);
    members = field_array(req, "members", 1, TEAM_MAX_MEMBERS, FIELD_REQUIRED);
    in->n = members ? json_object_array_length(members) : 0;
    in->members = m;
    for (i = 0; i < in->n; i++) {
        snprintf(name, sizeof(name), "members[%zu]", i);
        o = field_object(req, json_object_array_get_idx(members, i), name, FIELD_REQUIRED);
        if (!o)
            continue;
        snprintf(name, sizeof(name), "members[%zu].name", i);
        field_name_at(req, o, "name", arena_strdup(req->arena, name), FIELD_NAME_FULL_MAX,
                      FIELD_REQUIRED, &m[i].name);
        snprintf(name, sizeof(name), "members[%zu].email", i);
        field_email_at(req, o, "email", arena_strdup(req->arena, name), FIELD_REQUIRED,
                       &m[i].email);
    }
    return fields_done(req);
}

static int
reply_created(struct request *req, const struct team_created *t)
{
    struct json_object *d = json_object_new_object(), *l = json_object_new_array(), *m;
    size_t i;

    json_add_str(d, "teamId", t->id);
    json_add_str(d, "status", "pending");
    json_add_str(d, "planId", t->plan_id);
    json_add_str(d, "planName", t->plan_name);
    json_object_object_add(d, "totalCents", json_object_new_int64(t->total_cents));
    json_add_str(d, "currency", "AUD");
    json_add_str(d, "payBy", t->pay_by);
    json_add_str(d, "teamUrl", t->team_url);
    for (i = 0; i < t->n; i++) {
        m = json_object_new_object();
        json_object_object_add(m, "index", json_object_new_int((int)i));
        json_add_str(m, "name", t->members[i].name);
        json_add_str(m, "email", t->members[i].email);
        json_object_object_add(m, "shareCents",
                               json_object_new_int64(t->members[i].share_cents));
        json_add_str(m, "status", "unpaid");
        json_add_str(m, "payUrl", t->members[i].pay_url);
        json_object_array_add(l, m);
    }
    json_object_object_add(d, "members", l);
    if (t->session.id[0]) {
        json_add_str(d, "sessionId", t->session.id);
        json_add_str(d, "checkoutUrl", t->session.url);
    }
    return reply_json(req, 201, d);
}

int
teams_create(struct request *req)
{
    struct team_person members[TEAM_MAX_MEMBERS];
    struct team_input in;
    struct team_created t;
    int rc;

    memset(&in, 0, sizeof(in));
    memset(members, 0, sizeof(members));
    if (parse(req, &in, members) != APP_OK)
        return APP_EVALIDATION;
    rc = team_create(&req->ctx, &in, &t, &req->err);
    if (rc == APP_OK)
        rc = reply_created(req, &t);
    team_created_free(&t);
    return rc;
}

/* --- GET /v1/teams/{teamId} ------------------------------------------------------------ */

static void
mask(const char *email, char *out, size_t n)
{
    const char *at = email ? strchr(email, '@') : NULL;

    if (!at || at == email)
        snprintf(out, n, "***");
    else
        snprintf(out, n, "%c***%s", email[0], at);
}

static void
copy(struct json_object *to, struct json_object *from, const char *k)
{
    struct json_object *v;

    if (json_object_object_get_ex(from, k, &v))
        json_object_object_add(to, k, json_object_get(v));
}

int
teams_get(struct request *req)
{
    static const char *const fields[] = {
        "teamId", "status", "planId", "planName", "totalCents", "currency", "totalMembers",
        "paidCount", "createdAt", "payBy", "activatedAt", "expiresAt", NULL,
    };
    struct json_object *team = NULL, *d, *l, *m, *src;
    const char *email;
    char masked[300];
    size_t i;
    int rc, leader;

    rc = team_view(&req->ctx, req_path_param(req, "teamId"), req_query(req, "token"), &team,
                   &leader, &req->err);
    if (rc != APP_OK)
        return rc;
    d = json_object_new_object();
    for (i = 0; fields[i]; i++)
        copy(d, team, fields[i]);
    m = json_object_new_object();
    json_add_str(m, "firstName", json_str(team, "leaderFirstName"));
    json_add_str(m, "country", json_str(team, "country"));
    json_object_object_add(d, "leader", m);
    json_object_object_add(d, "viewer", json_object_new_string(leader ? "leader" : "public"));
    l = json_object_new_array();
    for (i = 0; i < TEAM_MAX_MEMBERS; i++) {
        src = team_member(team, (long long)i);
        if (!src)
            break;
        m = json_object_new_object();
        json_object_object_add(m, "index", json_object_new_int((int)i));
        copy(m, src, "name");
        email = json_str(src, "email");
        mask(email, masked, sizeof(masked));
        json_add_str(m, "email", leader ? email : masked);
        copy(m, src, "shareCents");
        copy(m, src, "status");
        copy(m, src, "paidAt");
        json_object_array_add(l, m);
    }
    json_object_object_add(d, "members", l);
    json_object_put(team);
    return reply_json(req, 200, d);
}

/* --- GET /v1/teams/{teamId}/members/{index}/pay ---------------------------------------- */

/* 303 to the member's Checkout page, with {"sessionId","checkoutUrl"}. */
int
teams_pay(struct request *req)
{
    struct paylink_out out;
    long idx;
    int rc;

    if (str_to_long(req_path_param(req, "index"), 0, TEAM_MAX_MEMBERS - 1, &idx) != 0)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such member");
    rc = team_member_pay(&req->ctx, req_path_param(req, "teamId"), idx, req_query(req, "token"),
                         &out, &req->err);
    return rc != APP_OK ? rc : paylink_redirect(req, &out);
}
