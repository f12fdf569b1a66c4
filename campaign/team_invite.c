/*
 * A team's links and invitations (team.h; rules in docs/CAMPAIGNS.md, Teams).
 *
 * Creating a team emails nobody: the leader (member 0) pays first, and only the payment of
 * the leader's share sends the leader's confirmation and each member's invitation, in the
 * transaction that records that payment.  So no one can make the service email an address
 * with a team without paying for it.  The invitations carry each member's pay link, whose
 * token the team keeps for them only as sealed text (OUTBOX_KEY, as the outbox keeps an
 * email's variables; in clear without a key, which production refuses); the team keeps the
 * tokens' hashes to check the links.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../lib/buf.h"
#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/outbox.h"
#include "../lib/seal.h"
#include "campaign.h"
#include "team.h"

#define LINKS_MAX 1024                  /* the tokens' JSON: six tokens of 40 bytes */

void
team_pay_url(const struct ctx *c, const char *team_id, size_t index, const char *token,
             char out[TEAM_URL_MAX])
{
    snprintf(out, TEAM_URL_MAX, "%s/teams/%s/members/%zu/pay?token=%s", c->cfg->api_base_url,
             team_id, index, token);
}

void
team_view_url(const struct ctx *c, const char *team_id, const char *token,
              char out[TEAM_URL_MAX])
{
    snprintf(out, TEAM_URL_MAX, "%s/teams/%s%s%s", c->cfg->frontend_url, team_id,
             token ? "?token=" : "", token ? token : "");
}

int
team_links_keep(const struct ctx *c, struct json_object *record, const char *leader_token,
                const char (*tokens)[40], size_t n, struct app_error *err)
{
    struct json_object *o = json_object_new_object(), *l = json_object_new_array();
    unsigned char key[SEAL_KEY_LEN];
    const char *text;
    struct buf b;
    size_t i;
    int rc = APP_OK;

    json_add_str(o, "leader", leader_token);
    for (i = 0; i < n; i++)
        json_object_array_add(l, json_object_new_string(tokens[i]));
    json_object_object_add(o, "members", l);
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    if (!*c->cfg->outbox_key) {
        json_add_str(record, "links", text);
        json_object_put(o);
        return APP_OK;
    }
    buf_init(&b, SEAL_TEXT_MAX);
    if (seal_key_parse(c->cfg->outbox_key, key) != 0 ||
        seal(key, json_str(record, "teamId"), text, strlen(text), &b) != 0)
        rc = app_error_set(err, APP_EINTERNAL, "cannot seal the team's links");
    else
        json_add_str(record, "linksSealed", b.data);
    OPENSSL_cleanse(key, sizeof(key));
    buf_free(&b);
    json_object_put(o);
    return rc;
}

/* The tokens team_links_keep kept (the caller puts them), or NULL: a team made before
 * invitations waited for the leader (its invitations went out then), or links this key
 * cannot open. */
static struct json_object *
links_open(const struct ctx *c, struct json_object *team)
{
    const char *sealed = json_str(team, "linksSealed"), *tid = json_str(team, "teamId");
    unsigned char key[SEAL_KEY_LEN];
    struct json_object *o = NULL;
    struct buf b;

    if (!sealed)
        return json_str(team, "links") ? json_tokener_parse(json_str(team, "links")) : NULL;
    buf_init(&b, LINKS_MAX);
    if (seal_key_parse(c->cfg->outbox_key, key) == 0 && unseal(key, tid, sealed, &b) == 0)
        o = json_tokener_parse(b.data);
    else
        ctx_log(c, LL_ERROR, "team %s: its links cannot be opened (OUTBOX_KEY changed?); "
                "no invitations sent", tid);
    OPENSSL_cleanse(key, sizeof(key));
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    buf_free(&b);
    return o;
}

/* The leader's confirmation: every share, and the team page with the leader's token. */
static struct json_object *
confirmation(const struct ctx *c, struct json_object *team, const char *token,
             const char *day, const char *cause, time_t now)
{
    struct json_object *vars = json_object_new_object(), *list = json_object_new_array(), *e, *m;
    const char *tid = json_str(team, "teamId");
    char url[TEAM_URL_MAX];
    long long i;

    json_add_str(vars, "leaderName", json_str(team, "leaderFirstName"));
    json_add_str(vars, "teamId", tid);
    json_add_str(vars, "planName", json_str(team, "planName"));
    json_object_object_add(vars, "memberCount",
                           json_object_new_int64(json_int(team, "totalMembers")));
    fmt_money_add(vars, "totalAmount", json_int(team, "totalCents"), "aud");
    for (i = 0; i < TEAM_MAX_MEMBERS; i++) {
        m = team_member(team, i);
        if (!m)
            break;
        e = json_object_new_object();
        json_add_str(e, "name", json_str(m, "name"));
        json_add_str(e, "email", json_str(m, "email"));
        fmt_money_add(e, "shareAmount", json_int(m, "shareCents"), "aud");
        json_object_array_add(list, e);
    }
    json_object_object_add(vars, "members", list);
    team_view_url(c, tid, token, url);
    json_add_str(vars, "teamUrl", url);
    json_add_str(vars, "payBy", day);
    return outbox_txn_mail(c->cfg, cause, "team-created", json_str(team, "leaderEmail"),
                           json_str(team, "leaderFirstName"), vars, now);
}

/* Member i's invitation, with their pay link. */
static struct json_object *
invitation(const struct ctx *c, struct json_object *team, long long i, const char *token,
           const char *day, const char *cause, time_t now)
{
    struct json_object *vars = json_object_new_object(), *m = team_member(team, i);
    const char *tid = json_str(team, "teamId"), *last = json_str(team, "leaderLastName");
    char leader[512], url[TEAM_URL_MAX];

    snprintf(leader, sizeof(leader), "%s%s%s", json_str(team, "leaderFirstName"),
             last ? " " : "", last ? last : "");
    json_add_str(vars, "memberName", json_str(m, "name"));
    json_add_str(vars, "leaderName", leader);
    json_add_str(vars, "planName", json_str(team, "planName"));
    fmt_money_add(vars, "shareAmount", json_int(m, "shareCents"), "aud");
    fmt_money_add(vars, "totalAmount", json_int(team, "totalCents"), "aud");
    json_object_object_add(vars, "memberCount",
                           json_object_new_int64(json_int(team, "totalMembers")));
    team_pay_url(c, tid, (size_t)i, token, url);
    json_add_str(vars, "payUrl", url);
    json_add_str(vars, "payBy", day);
    team_view_url(c, tid, NULL, url);
    json_add_str(vars, "teamUrl", url);
    return outbox_txn_mail(c->cfg, cause, "team-invitation", json_str(m, "email"),
                           json_str(m, "name"), vars, now);
}

/* 1 when m is a member whose share is unpaid. */
static int
unpaid(struct json_object *m)
{
    return m && json_str(m, "status") && strcmp(json_str(m, "status"), "unpaid") == 0;
}

size_t
team_invite(const struct ctx *c, struct json_object *team, long index,
            const struct pay_event *pe, struct json_object *items)
{
    struct json_object *links = NULL, *toks;
    const char *tid = json_str(team, "teamId"), *tok;
    char day[48], cause[128];
    size_t added = 0;
    long long i;

    if (index != 0 || !pe->payment_intent)
        return 0;
    /* Who is still to pay besides the leader: none, and the team activates now. */
    for (i = 1; i < TEAM_MAX_MEMBERS && !unpaid(team_member(team, i)); i++)
        ;
    if (i == TEAM_MAX_MEMBERS)
        return 0;
    links = links_open(c, team);
    if (!links || !json_object_object_get_ex(links, "members", &toks) ||
        !json_str(links, "leader")) {
        if (links)
            json_object_put(links);
        return 0;
    }
    fmt_date(time_parse_iso(json_str(team, "payBy")), day, sizeof(day));
    /* One cause per payment of the leader's share: paid again after a refund, it invites
     * whoever has not paid yet once more. */
    snprintf(cause, sizeof(cause), "%s#invited#%s", tid, pe->payment_intent);
    json_object_array_add(items, confirmation(c, team, json_str(links, "leader"), day, cause,
                                              pe->now));
    added++;
    for (i = 1; i < TEAM_MAX_MEMBERS; i++) {
        tok = json_object_get_string(json_object_array_get_idx(toks, (size_t)i));
        if (!tok || !unpaid(team_member(team, i)))
            continue;
        json_object_array_add(items, invitation(c, team, i, tok, day, cause, pe->now));
        added++;
    }
    json_object_put(links);
    ctx_log(c, LL_INFO, "team %s: the leader paid; %zu invitations queued", tid, added - 1);
    return added;
}
