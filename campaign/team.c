/*
 * Fulfilment of team shares (campaignId "team-creation", metadata teamId + memberIndex).
 *
 * A share's payment marks that member paid and counts it, guarded by the count as read: of
 * two shares arriving together one wins, the other reads again (fulfil.h).  The payment
 * that completes the count activates the team in the same transaction: activatedAt,
 * expiresAt (+ the plan's months), an access grant and the "team activated" email for every
 * member.  A payment for a share already paid (a second session), or for a team that has
 * expired, is refunded at once.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/fmt.h"
#include "../lib/ids.h"
#include "../lib/mail_limit.h"
#include "../lib/outbox.h"
#include "../lib/retention.h"
#include "../lib/stripe.h"
#include "../lib/strparse.h"
#include "../lib/txn.h"
#include "campaign.h"
#include "team.h"

/* --- the team record ------------------------------------------------------------------ */

int
team_load(const struct ctx *c, const char *team_id, struct json_object **out,
          struct app_error *err)
{
    return record_load(c->ddb, c->cfg->tbl_teams, "teamId", team_id, "team_", out, err);
}

struct json_object *
team_member(struct json_object *team, long long i)
{
    struct json_object *ms;

    if (!json_object_object_get_ex(team, "members", &ms) ||
        !json_object_is_type(ms, json_type_array) || i < 0 ||
        (size_t)i >= json_object_array_length(ms))
        return NULL;
    return json_object_array_get_idx(ms, (size_t)i);
}

/* --- fulfilment ----------------------------------------------------------------------- */

static int
member_index(struct json_object *meta, long *out)
{
    return str_to_long(json_str(meta, "memberIndex"), 0, TEAM_MAX_MEMBERS - 1, out) == 0;
}

/* "team_…#2" → team id and index. */
static int
split_record(const char *record, char *team, size_t n, long *idx)
{
    const char *hash = record ? strchr(record, '#') : NULL;

    if (!hash || (size_t)(hash - record) >= n)
        return 0;
    snprintf(team, n, "%.*s", (int)(hash - record), record);
    return str_to_long(hash + 1, 0, TEAM_MAX_MEMBERS - 1, idx) == 0;
}

/* Give a payment back: the share was paid twice, or after the team expired. */
/* The share arrived where no share is owed, or not for the share's price: recorded on the
 * member as extra, then refunded (campaign/extra.c). */
static int
unwanted(const struct ctx *c, struct json_object *team, long i, const struct pay_event *pe,
         const char *why, struct app_error *err)
{
    struct json_object *m = team_member(team, i);
    char path[32], rec[64];
    struct extra_payment x;

    snprintf(path, sizeof(path), "members[%ld].", i);
    snprintf(rec, sizeof(rec), "%s#%ld", json_str(team, "teamId"), i);
    memset(&x, 0, sizeof(x));
    x.table = c->cfg->tbl_teams;
    x.key_name = "teamId";
    x.key = json_str(team, "teamId");
    x.path = path;
    x.record = rec;
    x.email = json_str(m, "email");
    x.expected = json_int(m, "shareCents");
    x.why = why;
    return campaign_payment_unwanted(campaign_find(TEAM_CAMPAIGN), c, pe, &x, err);
}

static struct json_object *
activation_mail(const struct ctx *c, struct json_object *team, struct json_object *m,
                const char *until_day, time_t now)
{
    struct json_object *vars = json_object_new_object(), *w;
    char cause[64], url[512];

    json_add_str(vars, "memberName", json_str(m, "name"));
    json_add_str(vars, "planName", json_str(team, "planName"));
    json_add_str(vars, "leaderName", json_str(team, "leaderFirstName"));
    json_object_object_add(vars, "memberCount",
                           json_object_new_int64(json_int(team, "totalMembers")));
    json_add_str(vars, "accessUntil", until_day);
    snprintf(url, sizeof(url), "%s/login", c->cfg->frontend_url);
    json_add_str(vars, "loginUrl", url);
    snprintf(cause, sizeof(cause), "%s#activated", json_str(team, "teamId"));
    w = outbox_txn_mail(c->cfg, cause, "team-activated", json_str(m, "email"), json_str(m, "name"),
                        vars, now);
    return w;
}

static int
paid(const struct campaign *kind, const struct ctx *c, const struct pay_event *pe, int attempt,
     struct app_error *err)
{
    struct json_object *team = NULL, *m, *items, *v, *x;
    const char *tid = json_str(pe->meta, "teamId"), *st, *mst, *plan_id;
    long long k, n;
    char ts[32], until[32], day[48], upd[600], cond[300], rec[64], token[TXN_TOKEN_LEN];
    struct payment_row pr;
    time_t end;
    long i, j;
    int rc, last;

    (void)kind;
    if (!member_index(pe->meta, &i) || !pe->payment_intent)
        return APP_OK;
    rc = team_load(c, tid, &team, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    m = team_member(team, i);
    st = json_str(team, "status");
    mst = json_str(m, "status");
    if (!m || !st || !mst) {
        json_object_put(team);
        return APP_OK;
    }
    if (strcmp(mst, "unpaid") != 0) {
        rc = APP_OK;                  /* a repeat, or a second session paid: refund that */
        if (json_str(m, "paymentIntentId") &&
            strcmp(json_str(m, "paymentIntentId"), pe->payment_intent) != 0)
            rc = unwanted(c, team, i, pe, "share paid twice", err);
        json_object_put(team);
        return rc;
    }
    if (strcmp(st, "pending") != 0 && strcmp(st, "partially_paid") != 0) {
        rc = unwanted(c, team, i, pe, "team expired", err);
        json_object_put(team);
        return rc;
    }
    if (!campaign_paid_matches(pe, json_int(m, "shareCents"), json_str(team, "currency"))) {
        rc = unwanted(c, team, i, pe, "amount mismatch", err);
        json_object_put(team);
        return rc;
    }
    rc = payment_get(c->ddb, c->cfg, pe->payment_intent, &pr, err);
    if (rc != APP_OK || pr.refunded_full) {
        /* Refunded (or lost in a dispute) before we heard it was paid: it pays nothing. */
        if (rc == APP_OK)
            ctx_log(c, LL_INFO, "team %s: share %ld paid by %s, refunded already", tid, i,
                    pe->payment_intent);
        payment_free(&pr);
        json_object_put(team);
        return rc;
    }
    k = json_int(team, "paidCount");
    n = json_int(team, "totalMembers");
    last = k + 1 >= n;
    plan_id = json_str(team, "planId");
    rc = campaign_access_until(c, plan_id, pe->now, &end, err);
    if (rc != APP_OK) {
        payment_free(&pr);
        json_object_put(team);
        return rc;
    }
    time_iso(pe->now, ts, sizeof(ts));
    time_iso(end, until, sizeof(until));
    fmt_date(end, day, sizeof(day));

    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":paid", ddb_av_s("paid"));
    json_object_object_add(v, ":unpaid", ddb_av_s("unpaid"));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    json_object_object_add(v, ":pi", ddb_av_s(pe->payment_intent));
    json_object_object_add(v, ":k", ddb_av_n(k));
    json_object_object_add(v, ":k1", ddb_av_n(k + 1));
    json_object_object_add(v, ":was", ddb_av_s(st));
    json_object_object_add(v, ":st", ddb_av_s(last ? "fully_paid" : "partially_paid"));
    if (last) {
        json_object_object_add(v, ":until", ddb_av_s(until));
        json_object_object_add(v, ":keep", ddb_av_n(retention_records_ttl(c->cfg, pe->now)));
        snprintf(upd, sizeof(upd), "SET members[%ld].#st = :paid, members[%ld].paidAt = :now, "
                 "members[%ld].paymentIntentId = :pi, paidCount = :k1, #st = :st, "
                 "activatedAt = :now, expiresAt = :until, updatedAt = :now, #ttl = :keep", i, i,
                 i);
    } else {
        snprintf(upd, sizeof(upd), "SET members[%ld].#st = :paid, members[%ld].paidAt = :now, "
                 "members[%ld].paymentIntentId = :pi, paidCount = :k1, #st = :st, "
                 "updatedAt = :now", i, i, i);
    }
    snprintf(cond, sizeof(cond), "members[%ld].#st = :unpaid AND paidCount = :k AND #st = :was",
             i);
    json_object_array_add(items, txn_update(c->cfg->tbl_teams, ddb_key_s("teamId", tid), upd,
                                            cond, v));
    snprintf(rec, sizeof(rec), "%s#%ld", tid, i);
    json_object_array_add(items, payment_link_txn(c->cfg, pe->payment_intent, &pr,
                                                  kind->id, rec, json_str(m, "email"),
                                                  pe->amount, pe->currency, ts));
    team_invite(c, team, i, pe, items);
    for (j = 0; last && j < (long)n; j++) {
        x = team_member(team, j);
        if (!x || !json_str(x, "email"))
            continue;
        json_object_array_add(items, grant_put_txn(c->cfg, json_str(x, "email"), tid,
                                                   plan_id, ts, until, kind->id));
        json_object_array_add(items, activation_mail(c, team, x, day, pe->now));
    }
    txn_token(token, rec, pe->payment_intent, attempt);
    rc = txn_run(c->ddb, items, token, err);
    if (rc == APP_OK)
        ctx_log(c, LL_INFO, "team %s: share %ld paid (%lld of %lld)%s", tid, i, k + 1, n,
                last ? ", team active" : "");
    payment_free(&pr);
    json_object_put(team);
    return rc;
}

static int
declined(const struct campaign *kind, const struct ctx *c, const struct pay_event *pe,
         struct app_error *err)
{
    struct json_object *team = NULL, *m, *vars, *items;
    char cause[96], amount[48];
    long i;
    int rc;

    (void)kind;
    if (!member_index(pe->meta, &i) || !pe->payment_intent)
        return APP_OK;
    rc = team_load(c, json_str(pe->meta, "teamId"), &team, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    m = team_member(team, i);
    if (!m || !json_str(m, "status") || strcmp(json_str(m, "status"), "unpaid") != 0) {
        json_object_put(team);
        return APP_OK;
    }
    vars = json_object_new_object();
    json_add_str(vars, "customerName", json_str(m, "name"));
    json_add_str(vars, "planName", json_str(team, "planName"));
    fmt_money(json_int(m, "shareCents"), "aud", amount, sizeof(amount));
    json_add_str(vars, "amount", amount);
    json_add_str(vars, "reason", pe->reason);
    json_add_str(vars, "retryUrl", json_str(m, "sessionUrl") ? json_str(m, "sessionUrl") :
            c->cfg->frontend_url);
    snprintf(cause, sizeof(cause), "%s#declined", pe->payment_intent);
    items = json_object_new_array();
    json_object_array_add(items, outbox_txn_mail(c->cfg, cause, "payment-failed",
                                                 json_str(m, "email"), json_str(m, "name"), vars,
                                                 pe->now));
    json_object_array_add(items, mail_limit_txn(c, json_str(m, "email")));
    rc = txn_run(c->ddb, items, NULL, err);
    json_object_put(team);
    return rc == APP_ECONDITION ? APP_OK : rc;    /* queued already, or over the day's limit */
}

/* The share m was paid by pi and counts towards a team not active yet. */
static int
share_counted(struct json_object *team, struct json_object *m, const char *pi)
{
    const char *st = json_str(team, "status");

    return m && pi && st && json_str(m, "paymentIntentId") &&
           strcmp(json_str(m, "paymentIntentId"), pi) == 0 &&
           json_str(m, "status") && strcmp(json_str(m, "status"), "paid") == 0 &&
           (strcmp(st, "pending") == 0 || strcmp(st, "partially_paid") == 0);
}

static int
refunded(const struct campaign *kind, const struct ctx *c, const struct payment_row *pr,
         long long amount, int full, struct app_error *err)
{
    struct json_object *team = NULL, *items, *v, *m;
    char tid[48], upd[500], cond[200], ts[32];
    const char *pi = json_str(pr->row, "paymentIntentId");
    long i;
    int rc;

    (void)kind;
    if (!split_record(pr->record, tid, sizeof(tid), &i))
        return APP_OK;
    rc = team_load(c, tid, &team, err);
    if (rc != APP_OK)
        return rc == APP_ENOTFOUND ? APP_OK : rc;
    m = team_member(team, i);
    time_iso(c->now, ts, sizeof(ts));
    items = json_object_new_array();
    v = json_object_new_object();
    json_object_object_add(v, ":r", ddb_av_n(amount));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    if (full && share_counted(team, m, pi)) {
        /* Before activation the share is unpaid again: the count drops (as read) and the
         * member may pay anew; the team activates only with every share paid. */
        long long k = json_int(team, "paidCount");

        json_object_object_add(v, ":unpaid", ddb_av_s("unpaid"));
        json_object_object_add(v, ":pi", ddb_av_s(pi));
        json_object_object_add(v, ":k", ddb_av_n(k));
        json_object_object_add(v, ":k1", ddb_av_n(k - 1));
        json_object_object_add(v, ":was", ddb_av_s(json_str(team, "status")));
        json_object_object_add(v, ":st", ddb_av_s(k - 1 > 0 ? "partially_paid" : "pending"));
        snprintf(upd, sizeof(upd), "SET members[%ld].#st = :unpaid, members[%ld].refundedAt = "
                 ":now, members[%ld].amountRefundedCents = :r, paidCount = :k1, #st = :st, "
                 "updatedAt = :now REMOVE members[%ld].paymentIntentId, members[%ld].paidAt, "
                 "members[%ld].sessionId, members[%ld].sessionUrl, "
                 "members[%ld].sessionExpiresAt", i, i, i, i, i, i, i, i);
        snprintf(cond, sizeof(cond), "members[%ld].paymentIntentId = :pi AND paidCount = :k "
                 "AND #st = :was", i);
    } else if (full) {
        json_object_object_add(v, ":refunded", ddb_av_s("refunded"));
        json_object_object_add(v, ":pi", ddb_av_s(pi));
        snprintf(upd, sizeof(upd), "SET members[%ld].#st = :refunded, members[%ld].refundedAt = "
                 ":now, members[%ld].amountRefundedCents = :r, updatedAt = :now", i, i, i);
        snprintf(cond, sizeof(cond), "members[%ld].paymentIntentId = :pi", i);
    } else {
        snprintf(upd, sizeof(upd), "SET members[%ld].amountRefundedCents = :r, updatedAt = :now",
                 i);
        snprintf(cond, sizeof(cond), "attribute_exists(teamId)");
    }
    json_object_array_add(items, txn_update(c->cfg->tbl_teams, ddb_key_s("teamId", tid), upd,
                                            cond, v));
    /* A refunded member of an active team loses the access the team gave them. */
    if (full && m && json_str(team, "status") && !strcmp(json_str(team, "status"), "fully_paid")
        && json_str(m, "email"))
        json_object_array_add(items, grant_revoke_txn(c->cfg, json_str(m, "email"), tid,
                                                      "refund", ts));
    json_object_array_add(items, payment_refund_txn(c->cfg, pi, amount, full, ts));
    rc = txn_run(c->ddb, items, NULL, err);
    json_object_put(team);
    return rc;
}

static int
disputed(const struct campaign *kind, const struct ctx *c, const struct payment_row *pr,
         const char *dispute, const char *reason, struct app_error *err)
{
    struct json_object *items = json_object_new_array(), *v = json_object_new_object(), *alert;
    char tid[48], upd[200], ts[32];
    long i;

    if (!split_record(pr->record, tid, sizeof(tid), &i)) {
        json_object_put(items);
        json_object_put(v);
        return APP_OK;
    }
    time_iso(c->now, ts, sizeof(ts));
    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    snprintf(upd, sizeof(upd), "SET members[%ld].disputeId = :d, reviewNeeded = :d, "
             "updatedAt = :now", i);
    json_object_array_add(items, txn_update(c->cfg->tbl_teams, ddb_key_s("teamId", tid), upd,
                                            "attribute_exists(teamId)", v));
    json_object_array_add(items, payment_dispute_txn(c->cfg, json_str(pr->row,
                                                     "paymentIntentId"), dispute, reason, ts));
    alert = dispute_alert_txn(c->cfg, kind->record_type, pr->record, pr, dispute, reason,
                              c->now);
    if (alert)
        json_object_array_add(items, alert);
    return txn_run(c->ddb, items, NULL, err);
}

/* A share's dispute closed in our favour: the share says so, the team's flag is cleared. */
static int
undisputed(const struct campaign *kind, const struct ctx *c, const struct payment_row *pr,
           const char *dispute, const char *status, struct app_error *err)
{
    struct json_object *items, *v;
    char tid[48], upd[200], ts[32];
    long i;

    (void)kind;
    if (!split_record(pr->record, tid, sizeof(tid), &i))
        return APP_OK;
    time_iso(c->now, ts, sizeof(ts));
    v = json_object_new_object();
    json_object_object_add(v, ":d", ddb_av_s(dispute));
    json_object_object_add(v, ":st", ddb_av_s(status));
    json_object_object_add(v, ":now", ddb_av_s(ts));
    snprintf(upd, sizeof(upd), "SET members[%ld].disputeId = :d, members[%ld].disputeStatus = "
             ":st, updatedAt = :now REMOVE reviewNeeded", i, i);
    items = json_object_new_array();
    json_object_array_add(items, txn_update(c->cfg->tbl_teams, ddb_key_s("teamId", tid), upd,
                                            "attribute_exists(teamId)", v));
    return txn_run(c->ddb, items, NULL, err);
}

/* A Checkout Session of a team is a share's: metadata memberIndex names it. */
static void
view(const struct campaign *kind, struct json_object *team, struct json_object *meta,
     struct campaign_view *out)
{
    struct json_object *m;
    long i;

    (void)kind;
    out->amount = -1;
    out->currency = json_str(team, "currency");
    if (!member_index(meta, &i))
        return;
    m = team_member(team, i);
    if (!m)
        return;
    out->status = json_str(m, "status");
    out->amount = json_object_object_get_ex(m, "shareCents", NULL) ? json_int(m, "shareCents")
                                                                   : -1;
    out->session = json_str(m, "sessionId");
}

const struct campaign_ops team_ops = {
    paid, record_unpaid_op, declined, refunded, disputed, undisputed, view,
};

/* --- expiry (prodenthubctl expire-teams) ------------------------------------------------ */

static int
set_member(const struct ctx *c, const char *tid, long i, const char *from, const char *to,
           struct app_error *err)
{
    struct json_object *k = ddb_key_s("teamId", tid), *names = json_object_new_object();
    struct json_object *v = json_object_new_object();
    char upd[100], cond[100];
    int rc;

    json_object_object_add(names, "#st", json_object_new_string("status"));
    json_object_object_add(v, ":from", ddb_av_s(from));
    json_object_object_add(v, ":to", ddb_av_s(to));
    snprintf(upd, sizeof(upd), "SET members[%ld].#st = :to", i);
    snprintf(cond, sizeof(cond), "members[%ld].#st = :from", i);
    rc = ddb_update_item(c->ddb, c->cfg->tbl_teams, k, upd, cond, names, v, NULL, NULL, err);
    json_object_put(k);
    json_object_put(names);
    json_object_put(v);
    return rc;
}

int
team_expire(const struct ctx *c, struct json_object *team, struct app_error *err)
{
    const char *tid = json_str(team, "teamId"), *status = json_str(team, "status"), *sid;
    struct json_object *k, *names, *v, *m, *out;
    char ts[32], path[120], key[120];
    int rc, failed = 0;
    long i;

    if (!tid || !status)
        return 0;
    if (strcmp(status, "expired") != 0) {
        time_iso(c->now, ts, sizeof(ts));
        k = ddb_key_s("teamId", tid);
        names = json_object_new_object();
        json_object_object_add(names, "#st", json_object_new_string("status"));
        v = json_object_new_object();
        json_object_object_add(v, ":expired", ddb_av_s("expired"));
        json_object_object_add(v, ":seen", ddb_av_s(status));
        json_object_object_add(v, ":k", ddb_av_n(json_int(team, "paidCount")));
        json_object_object_add(v, ":now", ddb_av_s(ts));
        rc = ddb_update_item(c->ddb, c->cfg->tbl_teams, k, "SET #st = :expired, expiredAt = :now, "
                             "updatedAt = :now", "#st = :seen AND paidCount = :k", names, v,
                             NULL, NULL, err);
        json_object_put(k);
        json_object_put(names);
        json_object_put(v);
        if (rc == APP_ECONDITION) {
            app_error_clear(err);
            return 0;             /* a share was paid meanwhile: the next run looks again */
        }
        if (rc != APP_OK)
            return -1;
        ctx_log(c, LL_INFO, "team %s expired with %lld of %lld shares paid", tid,
                json_int(team, "paidCount"), json_int(team, "totalMembers"));
    }
    for (i = 0; i < TEAM_MAX_MEMBERS; i++) {
        m = team_member(team, i);
        if (!m || !json_str(m, "status"))
            break;
        if (!strcmp(json_str(m, "status"), "paid") && json_str(m, "paymentIntentId")) {
            if (campaign_refund(c, json_str(m, "paymentIntentId"), "team expired", err) != APP_OK ||
                set_member(c, tid, i, "paid", "refund_pending", err) != APP_OK) {
                ctx_log(c, LL_ERROR, "team %s: refunding share %ld failed (next run retries): %s",
                        tid, i, err->msg);
                failed++;
            }
        } else if (!strcmp(json_str(m, "status"), "unpaid")) {
            sid = json_str(m, "sessionId");
            if (!sid)
                continue;
            /* So the link cannot take money any more; a payment racing this is refunded. */
            snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/expire", sid);
            snprintf(key, sizeof(key), "expire-%s", sid);
            out = NULL;
            if (stripe_post(c->stripe, path, NULL, key, &out, err) != APP_OK)
                app_error_clear(err);
            if (out)
                json_object_put(out);
        }
    }
    return failed ? -1 : strcmp(status, "expired") != 0;
}
