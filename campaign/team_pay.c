/*
 * A team's links (team.h): the leader's view and each member's own pay link.  Every link
 * carries a random token; the team keeps only the tokens' hashes.  A share's Checkout
 * Session is the member's pay link (campaign/paylink.h): made when opened, reused while open.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "team.h"

int
team_share_session(const struct ctx *c, struct json_object *team, long index,
                   struct json_object *metadata, struct paylink_out *out, struct app_error *err)
{
    char path[32], idx[16], name[300], ok[TEAM_URL_MAX], cancel[TEAM_URL_MAX];
    struct json_object *m = team_member(team, index);
    const char *tid = json_str(team, "teamId");
    struct paylink pl;

    if (!m)
        return app_error_set(err, APP_ENOTFOUND, "no such member");
    memset(&pl, 0, sizeof(pl));
    snprintf(path, sizeof(path), "members[%ld].", index);
    snprintf(idx, sizeof(idx), "%ld", index);
    snprintf(name, sizeof(name), "%s - team share (%s)", json_str(team, "planName"),
             json_str(m, "name"));
    snprintf(ok, sizeof(ok), "%s/teams/%s?paid=%ld", c->cfg->frontend_url, tid, index);
    snprintf(cancel, sizeof(cancel), "%s/teams/%s", c->cfg->frontend_url, tid);
    pl.table = c->cfg->tbl_teams;
    pl.key_name = "teamId";
    pl.key = tid;
    pl.path = path;
    pl.holder = m;
    pl.unpaid_status = "unpaid";
    pl.amount_cents = json_int(m, "shareCents");
    pl.product_id = c->cfg->stripe_team_product;
    pl.product_name = name;
    pl.email = json_str(m, "email");
    pl.campaign = TEAM_CAMPAIGN;
    pl.meta_keys[0] = "teamId";
    pl.meta_vals[0] = tid;
    pl.meta_keys[1] = "memberIndex";
    pl.meta_vals[1] = idx;
    pl.success_url = ok;
    pl.cancel_url = cancel;
    pl.extra_meta = metadata;
    return paylink_session(c, &pl, out, err);
}

static int
load(const struct ctx *c, const char *team_id, struct json_object **out, struct app_error *err)
{
    int rc = team_load(c, team_id, out, err);

    return rc == APP_ENOTFOUND ? app_error_set(err, APP_ENOTFOUND, "no such team") : rc;
}

int
team_view(const struct ctx *c, const char *team_id, const char *token, struct json_object **out,
          int *leader, struct app_error *err)
{
    int rc = load(c, team_id, out, err);

    *leader = rc == APP_OK && token_ok(token, json_str(*out, "leaderTokenHash"));
    return rc;
}

/* Whether member index (m) of team may pay now: APP_OK, or the 409 that says why not.  The
 * leader pays first: the others' links wait for the leader's share, whose payment is what
 * sends them their invitations (team_invite.c). */
static int
payable(struct json_object *team, long index, struct json_object *m, struct app_error *err)
{
    const char *st = json_str(team, "status"), *mst = json_str(m, "status");
    const char *lst = json_str(team_member(team, 0), "status");

    if (!st || (strcmp(st, "pending") != 0 && strcmp(st, "partially_paid") != 0))
        return app_error_set(err, APP_ECONFLICT, "%s", strcmp(st ? st : "", "expired") == 0 ?
                             "This team expired before every share was paid" :
                             "This team is no longer taking payments");
    if (!mst || strcmp(mst, "unpaid") != 0)
        return app_error_set(err, APP_ECONFLICT, "This share is already paid");
    if (index > 0 && (!lst || strcmp(lst, "paid") != 0))
        return app_error_reason(err, APP_ECONFLICT, "LEADER_UNPAID", "The team leader pays "
                                "first: this link works once the leader's share is paid");
    return APP_OK;
}

int
team_member_pay(const struct ctx *c, const char *team_id, long index, const char *token,
                struct paylink_out *out, struct app_error *err)
{
    struct json_object *team = NULL, *m;
    int rc;

    rc = load(c, team_id, &team, err);
    if (rc != APP_OK)
        return rc;
    m = team_member(team, index);
    if (!m)
        rc = app_error_set(err, APP_ENOTFOUND, "no such member");
    else if (!token_ok(token, json_str(m, "tokenHash")))
        rc = app_error_set(err, APP_EFORBIDDEN, "not this member's link");
    else
        rc = payable(team, index, m, err);
    if (rc == APP_OK)
        rc = team_share_session(c, team, index, NULL, out, err);
    json_object_put(team);
    return rc;
}
