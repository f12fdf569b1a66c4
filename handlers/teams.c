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
 * The team, its shares and the invitation emails are written in one transaction.  Every
 * link carries a random token; the team keeps only the tokens' hashes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../fcgi/fields.h"
#include "../fcgi/request.h"
#include "../fcgi/worker.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mem.h"
#include "../lib/money.h"
#include "../lib/outbox.h"
#include "../lib/strparse.h"
#include "../campaign/campaign.h"
#include "../lib/txn.h"
#include "handlers.h"
#include "lookup.h"
#include "paylink.h"
#include "../campaign/team.h"

#define DEFAULT_PLAN "team-full-6months"
#define KEEP_AFTER_PAY_BY_S (90 * 86400)

struct member {
    const char *name;
    const char *email;
    long long share;
    char token[40];
    char hash[65];
};

struct team {
    char id[40];
    char token[40];
    char hash[65];
    const char *plan_id;
    const char *plan_name;
    const char *first, *last, *email, *country;
    long long total;
    size_t n;
    struct member m[TEAM_MAX_MEMBERS];
    time_t now, pay_by;
};

/* 1 when token hashes to the stored hash (constant time). */
static int
token_ok(const char *token, const char *stored)
{
    char h[65];

    if (!token || !stored || strlen(stored) != 64 || strlen(token) > 64)
        return 0;
    team_token_hash(token, h);
    return str_ct_equal(h, stored, 64);
}

/* --- POST /v1/teams/create ------------------------------------------------------------- */

/* The leader is member 0 and pays first: moved there when listed elsewhere, added when not
 * listed (2-5 members in all, the leader included). */
static int
leader_first(struct request *req, struct team *t)
{
    struct member lead;
    size_t i;

    for (i = 0; i < t->n && strcmp(t->m[i].email, t->email) != 0; i++)
        ;
    if (i == t->n) {
        if (t->n == TEAM_MAX_MEMBERS) {
            field_error(req, "members", "has no room for the leader (at most 5 in all)");
            return fields_done(req);
        }
        memset(&lead, 0, sizeof(lead));
        lead.name = arena_strdup(req->arena, t->first);
        if (t->last) {
            size_t n = strlen(t->first) + strlen(t->last) + 2;
            char *full = arena_alloc(req->arena, n);

            snprintf(full, n, "%s %s", t->first, t->last);
            lead.name = full;
        }
        lead.email = t->email;
        t->n++;
    } else {
        lead = t->m[i];
    }
    memmove(&t->m[1], &t->m[0], i * sizeof(t->m[0]));
    t->m[0] = lead;
    if (t->n < TEAM_MIN_MEMBERS) {
        field_error(req, "members", "must name at least one member besides the leader");
        return fields_done(req);
    }
    return APP_OK;
}

static int
parse(struct request *req, struct team *t, struct json_object **metadata)
{
    struct json_object *leader, *members, *m;
    char name[48];
    size_t i, j;

    /* The seed's flat leader fields and planType stand for ours (docs/API.md). */
    field_alias(req, "leaderFirstName", "leader", "firstName");
    field_alias(req, "leaderLastName", "leader", "lastName");
    field_alias(req, "leaderEmail", "leader", "email");
    field_alias(req, "country", "leader", "country");
    field_alias(req, "planType", NULL, "planId");
    field_campaign(req, TEAM_CAMPAIGN);
    *metadata = field_metadata(req);
    leader = field_object_at(req, NULL, "leader", "leader", FIELD_REQUIRED);
    field_string_at(req, leader, "firstName", "leader.firstName", 1, 100, FIELD_REQUIRED,
                    &t->first);
    field_string_at(req, leader, "lastName", "leader.lastName", 1, 100, FIELD_REQUIRED,
                    &t->last);
    field_email_at(req, leader, "email", "leader.email", FIELD_REQUIRED, &t->email);
    field_string_at(req, leader, "country", "leader.country", 2, 64, FIELD_REQUIRED,
                    &t->country);
    field_string(req, "planId", 1, 64, 0, &t->plan_id);
    members = field_array(req, "members", 1, TEAM_MAX_MEMBERS, FIELD_REQUIRED);
    t->n = members ? json_object_array_length(members) : 0;
    for (i = 0; i < t->n; i++) {
        snprintf(name, sizeof(name), "members[%zu]", i);
        m = field_object(req, json_object_array_get_idx(members, i), name, FIELD_REQUIRED);
        if (!m)
            continue;
        snprintf(name, sizeof(name), "members[%zu].name", i);
        field_string_at(req, m, "name", arena_strdup(req->arena, name), 1, 200,
                        FIELD_REQUIRED, &t->m[i].name);
        snprintf(name, sizeof(name), "members[%zu].email", i);
        field_email_at(req, m, "email", arena_strdup(req->arena, name), FIELD_REQUIRED,
                       &t->m[i].email);
        for (j = 0; t->m[i].email && j < i; j++)
            if (t->m[j].email && strcmp(t->m[j].email, t->m[i].email) == 0)
                field_error(req, arena_strdup(req->arena, name), "appears twice");
    }
    if (fields_done(req) != APP_OK)
        return APP_EVALIDATION;
    return leader_first(req, t);
}

/* The team plan named by id, which may be the seed's planType: the team plan of "full-6months"
 * is "team-full-6months" (docs/CAMPAIGNS.md).  *plan NULL when there is none. */
static int
team_plan(struct request *req, const char **id, struct json_object **plan)
{
    struct json_object *v;
    char *team_id;
    size_t n;
    int rc, pass;

    for (pass = 0; pass < 2; pass++) {
        rc = catalogue_plan(req, *id, plan);
        if (rc != APP_OK)
            return rc;
        if (*plan && json_object_object_get_ex(*plan, "pricing", &v) &&
            strcmp(json_object_get_string(v), "split") == 0)
            return APP_OK;
        if (*plan)
            json_object_put(*plan);
        *plan = NULL;
        if (pass == 0) {
            n = strlen(*id) + 6;
            team_id = arena_alloc(req->arena, n);
            snprintf(team_id, n, "team-%s", *id);
            *id = team_id;
        }
    }
    return APP_OK;
}

static int share_session(struct request *req, struct json_object *team, long idx,
                         struct json_object *metadata, int reply, const char **sid,
                         const char **url);

static void
pay_url(struct request *req, const struct team *t, size_t i, char *out, size_t n)
{
    snprintf(out, n, "%s/teams/%s/members/%zu/pay?token=%s", req->cfg->api_base_url, t->id, i,
             t->m[i].token);
}

/* The team item, attribute values. */
static struct json_object *
item(const struct team *t, const char *now, const char *pay_by)
{
    struct json_object *o = json_object_new_object(), *ms, *l, *m;
    size_t i;

    json_object_object_add(o, "teamId", ddb_av_s(t->id));
    json_object_object_add(o, "campaignId", ddb_av_s(TEAM_CAMPAIGN));
    json_object_object_add(o, "planId", ddb_av_s(t->plan_id));
    json_object_object_add(o, "planName", ddb_av_s(t->plan_name));
    json_object_object_add(o, "leaderFirstName", ddb_av_s(t->first));
    json_object_object_add(o, "leaderLastName", ddb_av_s(t->last));
    json_object_object_add(o, "leaderEmail", ddb_av_s(t->email));
    json_object_object_add(o, "country", ddb_av_s(t->country));
    json_object_object_add(o, "leaderTokenHash", ddb_av_s(t->hash));
    json_object_object_add(o, "totalCents", ddb_av_n(t->total));
    json_object_object_add(o, "currency", ddb_av_s("AUD"));
    json_object_object_add(o, "totalMembers", ddb_av_n((long long)t->n));
    json_object_object_add(o, "paidCount", ddb_av_n(0));
    json_object_object_add(o, "status", ddb_av_s("pending"));
    json_object_object_add(o, "createdAt", ddb_av_s(now));
    json_object_object_add(o, "updatedAt", ddb_av_s(now));
    json_object_object_add(o, "payBy", ddb_av_s(pay_by));
    json_object_object_add(o, "ttl", ddb_av_n((long long)t->pay_by + KEEP_AFTER_PAY_BY_S));
    l = json_object_new_array();
    for (i = 0; i < t->n; i++) {
        m = json_object_new_object();
        json_object_object_add(m, "name", ddb_av_s(t->m[i].name));
        json_object_object_add(m, "email", ddb_av_s(t->m[i].email));
        json_object_object_add(m, "shareCents", ddb_av_n(t->m[i].share));
        json_object_object_add(m, "status", ddb_av_s("unpaid"));
        json_object_object_add(m, "tokenHash", ddb_av_s(t->m[i].hash));
        json_object_object_add(m, "sessions", ddb_av_n(0));
        ms = json_object_new_object();
        json_object_object_add(ms, "M", m);
        json_object_array_add(l, ms);
    }
    ms = json_object_new_object();
    json_object_object_add(ms, "L", l);
    json_object_object_add(o, "members", ms);
    return o;
}

static struct json_object *
mail(struct request *req, const char *cause, const char *tmpl, const char *to,
     const char *to_name, struct json_object *vars, time_t now)
{
    struct outbox_mail m;
    struct json_object *w;

    memset(&m, 0, sizeof(m));
    m.cause = cause;
    m.tmpl = tmpl;
    m.to = to;
    m.to_name = to_name;
    m.vars = vars;
    w = outbox_txn_put(req->cfg, &m, now);
    json_object_put(vars);
    return w;
}

static int
reply_created(struct request *req, const struct team *t, const char *pay_by, const char *sid,
              const char *checkout)
{
    struct json_object *d = json_object_new_object(), *l = json_object_new_array(), *m;
    char url[512];
    size_t i;

    json_add_str(d, "teamId", t->id);
    json_add_str(d, "status", "pending");
    json_add_str(d, "planId", t->plan_id);
    json_add_str(d, "planName", t->plan_name);
    json_object_object_add(d, "totalCents", json_object_new_int64(t->total));
    json_add_str(d, "currency", "AUD");
    json_add_str(d, "payBy", pay_by);
    snprintf(url, sizeof(url), "%s/teams/%s?token=%s", req->cfg->frontend_url, t->id, t->token);
    json_add_str(d, "teamUrl", url);
    for (i = 0; i < t->n; i++) {
        m = json_object_new_object();
        json_object_object_add(m, "index", json_object_new_int((int)i));
        json_add_str(m, "name", t->m[i].name);
        json_add_str(m, "email", t->m[i].email);
        json_object_object_add(m, "shareCents", json_object_new_int64(t->m[i].share));
        json_add_str(m, "status", "unpaid");
        pay_url(req, t, i, url, sizeof(url));
        json_add_str(m, "payUrl", url);
        json_object_array_add(l, m);
    }
    json_object_object_add(d, "members", l);
    if (sid && checkout) {
        json_add_str(d, "sessionId", sid);
        json_add_str(d, "checkoutUrl", checkout);
    }
    return reply_json(req, 201, d);
}

int
teams_create(struct request *req)
{
    struct json_object *plan = NULL, *v, *items, *vars, *list, *e, *team = NULL;
    struct json_object *metadata = NULL;
    const char *sid = NULL, *checkout = NULL;
    long long shares[TEAM_MAX_MEMBERS];
    char now[32], pay_by[32], day[48], cause[64], url[512], leader[220];
    struct team t;
    size_t i;
    int rc;

    memset(&t, 0, sizeof(t));
    if (parse(req, &t, &metadata) != APP_OK)
        return APP_EVALIDATION;
    if (!t.plan_id)
        t.plan_id = DEFAULT_PLAN;
    rc = team_plan(req, &t.plan_id, &plan);
    if (rc != APP_OK)
        return rc;
    if (!plan) {
        field_error(req, "planId", "is not a team plan");
        return fields_done(req);
    }
    arena_cleanup(req->arena, json_put_cb, plan);
    json_object_object_get_ex(plan, "amountCents", &v);
    t.total = json_object_get_int64(v);
    json_object_object_get_ex(plan, "name", &v);
    t.plan_name = json_object_get_string(v);
    money_split(t.total, t.n, shares);
    if (id_new(t.id, sizeof(t.id), "team_") != 0 || id_new(t.token, sizeof(t.token), "") != 0)
        return app_error_set(&req->err, APP_EINTERNAL, "no random bytes");
    team_token_hash(t.token, t.hash);
    for (i = 0; i < t.n; i++) {
        t.m[i].share = shares[i];
        if (id_new(t.m[i].token, sizeof(t.m[i].token), "") != 0)
            return app_error_set(&req->err, APP_EINTERNAL, "no random bytes");
        team_token_hash(t.m[i].token, t.m[i].hash);
    }
    t.now = req->ctx.now;
    t.pay_by = t.now + req->cfg->team_pay_days * 86400;
    time_iso(t.now, now, sizeof(now));
    time_iso(t.pay_by, pay_by, sizeof(pay_by));
    fmt_date(t.pay_by, day, sizeof(day));
    snprintf(leader, sizeof(leader), "%s %s", t.first, t.last);

    items = json_object_new_array();
    json_object_array_add(items, txn_put(req->cfg->tbl_teams, item(&t, now, pay_by),
                                         "attribute_not_exists(teamId)"));
    /* The leader's confirmation, with every share. */
    vars = json_object_new_object();
    json_add_str(vars, "leaderName", t.first);
    json_add_str(vars, "teamId", t.id);
    json_add_str(vars, "planName", t.plan_name);
    json_object_object_add(vars, "memberCount", json_object_new_int((int)t.n));
    fmt_money_add(vars, "totalAmount", t.total, "aud");
    list = json_object_new_array();
    for (i = 0; i < t.n; i++) {
        e = json_object_new_object();
        json_add_str(e, "name", t.m[i].name);
        json_add_str(e, "email", t.m[i].email);
        fmt_money_add(e, "shareAmount", t.m[i].share, "aud");
        json_object_array_add(list, e);
    }
    json_object_object_add(vars, "members", list);
    snprintf(url, sizeof(url), "%s/teams/%s?token=%s", req->cfg->frontend_url, t.id, t.token);
    json_add_str(vars, "teamUrl", url);
    json_add_str(vars, "payBy", day);
    snprintf(cause, sizeof(cause), "%s#created", t.id);
    json_object_array_add(items, mail(req, cause, "team-created", t.email, leader, vars, t.now));
    /* Each member's invitation, with a personal pay link. */
    for (i = 0; i < t.n; i++) {
        vars = json_object_new_object();
        json_add_str(vars, "memberName", t.m[i].name);
        json_add_str(vars, "leaderName", leader);
        json_add_str(vars, "planName", t.plan_name);
        fmt_money_add(vars, "shareAmount", t.m[i].share, "aud");
        fmt_money_add(vars, "totalAmount", t.total, "aud");
        json_object_object_add(vars, "memberCount", json_object_new_int((int)t.n));
        pay_url(req, &t, i, url, sizeof(url));
        json_add_str(vars, "payUrl", url);
        json_add_str(vars, "payBy", day);
        snprintf(url, sizeof(url), "%s/teams/%s", req->cfg->frontend_url, t.id);
        json_add_str(vars, "teamUrl", url);
        json_object_array_add(items, mail(req, cause, "team-invitation", t.m[i].email,
                                          t.m[i].name, vars, t.now));
    }
    rc = txn_run(req->ctx.ddb, items, NULL, &req->err);
    if (rc != APP_OK)
        return rc == APP_ECONDITION ? app_error_set(&req->err, APP_EINTERNAL, "team id clash")
                                    : rc;
    req_log(req, LL_INFO, "team %s created: %zu members, %lld cents", t.id, t.n, t.total);
    /* The leader pays first: their session now.  The team exists whatever Checkout says;
     * without a session the leader's pay link makes one when opened. */
    rc = team_load(&req->ctx, t.id, &team, &req->err);
    if (rc == APP_OK) {
        arena_cleanup(req->arena, json_put_cb, team);
        rc = share_session(req, team, 0, metadata, 0, &sid, &checkout);
    }
    if (rc != APP_OK) {
        req_log(req, LL_WARN, "team %s: no checkout for the leader yet: %s", t.id,
                req->err.msg);
        app_error_clear(&req->err);
        sid = checkout = NULL;
    }
    return reply_created(req, &t, pay_by, sid, checkout);
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

    rc = team_load(&req->ctx, req_path_param(req, "teamId"), &team, &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such team");
    if (rc != APP_OK)
        return rc;
    leader = token_ok(req_query(req, "token"), json_str(team, "leaderTokenHash"));
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

/* Member idx's own Checkout of their share: replied (reply set) or its id and url set. */
static int
share_session(struct request *req, struct json_object *team, long idx,
              struct json_object *metadata, int reply, const char **sid, const char **url)
{
    char path[32], idxs[16], name[300], ok[512], cancel[512];
    struct json_object *m = team_member(team, idx), *v = NULL;
    struct paylink pl;

    memset(&pl, 0, sizeof(pl));
    snprintf(path, sizeof(path), "members[%ld].", idx);
    snprintf(idxs, sizeof(idxs), "%ld", idx);
    snprintf(name, sizeof(name), "%s - team share (%s)", json_str(team, "planName"),
             json_str(m, "name"));
    snprintf(ok, sizeof(ok), "%s/teams/%s?paid=%ld", req->cfg->frontend_url,
             json_str(team, "teamId"), idx);
    snprintf(cancel, sizeof(cancel), "%s/teams/%s", req->cfg->frontend_url,
             json_str(team, "teamId"));
    pl.table = req->cfg->tbl_teams;
    pl.key_name = "teamId";
    pl.key = json_str(team, "teamId");
    pl.path = path;
    pl.holder = m;
    pl.unpaid_status = "unpaid";
    json_object_object_get_ex(m, "shareCents", &v);
    pl.amount_cents = json_object_get_int64(v);
    pl.product_id = req->cfg->stripe_team_product;
    pl.product_name = name;
    pl.email = json_str(m, "email");
    pl.campaign = TEAM_CAMPAIGN;
    pl.meta_keys[0] = "teamId";
    pl.meta_vals[0] = pl.key;
    pl.meta_keys[1] = "memberIndex";
    pl.meta_vals[1] = idxs;
    pl.success_url = ok;
    pl.cancel_url = cancel;
    pl.extra_meta = metadata;
    if (reply)
        return paylink_reply(req, &pl);
    return paylink_open(req, &pl, sid, url);
}

/* --- GET /v1/teams/{teamId}/members/{index}/pay ---------------------------------------- */

int
teams_pay(struct request *req)
{
    struct json_object *team = NULL, *m;
    const char *st;
    long idx;
    int rc;

    if (str_to_long(req_path_param(req, "index"), 0, TEAM_MAX_MEMBERS - 1, &idx) != 0)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such member");
    rc = team_load(&req->ctx, req_path_param(req, "teamId"), &team, &req->err);
    if (rc == APP_ENOTFOUND)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such team");
    if (rc != APP_OK)
        return rc;
    arena_cleanup(req->arena, json_put_cb, team);
    m = team_member(team, idx);
    if (!m)
        return app_error_set(&req->err, APP_ENOTFOUND, "no such member");
    if (!token_ok(req_query(req, "token"), json_str(m, "tokenHash")))
        return app_error_set(&req->err, APP_EFORBIDDEN, "not this member's link");
    st = json_str(team, "status");
    if (!st || (strcmp(st, "pending") != 0 && strcmp(st, "partially_paid") != 0))
        return reply_error(req, APP_ECONFLICT, st && !strcmp(st, "expired") ?
                           "This team expired before every share was paid" :
                           "This team is no longer taking payments", NULL);
    if (!json_str(m, "status") || strcmp(json_str(m, "status"), "unpaid") != 0)
        return reply_error(req, APP_ECONFLICT, "This share is already paid", NULL);
    return share_session(req, team, idx, NULL, 1, NULL, NULL);
}
