/*
 * prodenthubctl's periodic jobs (ctl.h): the checkout sweep, team expiry, mock exam
 * reminders and results, and the mailer.  Each runs the campaign layer on the tool's clients.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/coupon.h"
#include "../lib/creds.h"
#include "../lib/ctx.h"
#include "../lib/ddb.h"
#include "../lib/ddbjson.h"
#include "../lib/ids.h"
#include "../lib/fmt.h"
#include "../lib/log.h"
#include "../lib/mailer.h"
#include "../lib/outbox.h"
#include "../lib/reservation.h"
#include "../lib/stripe.h"
#include "../lib/strparse.h"
#include "../campaign/mock.h"
#include "../campaign/purchase.h"
#include "../campaign/team.h"
#include "ctl.h"


/* The context the campaign layer runs in, on the tool's clients. */
static void
ctl_ctx(struct ctl *c, struct stripe *st, const char *command, struct ctx *out)
{
    memset(out, 0, sizeof(*out));
    out->cfg = &c->cfg;
    out->ddb = c->ddb;
    out->stripe = st;
    out->cache = c->cache;
    out->now = ctx_clock(&c->cfg);
    out->request_id = "-";
    out->route = command;
}

/* Decide for one pending purchase (plain item): 1 released, 0 left alone, -1 error. */
static int
sweep_one(struct ctl *c, struct stripe *st, struct json_object *p, time_t now)
{
    const char *pid = json_str(p, "purchaseId"), *sid = json_str(p, "stripeSessionId");
    const char *code = json_str(p, "couponCode"), *email = json_str(p, "email"), *state;
    struct json_object *session = NULL, *v;
    struct reservation r;
    struct app_error e;
    struct ctx x;
    char path[160], key[64], ts[32];
    int rc;

    if (!pid || !id_valid(pid, "pur_") || !email)
        return -1;
    app_error_clear(&e);
    if (sid) {
        snprintf(path, sizeof(path), "/v1/checkout/sessions/%s", sid);
        rc = stripe_get(st, path, NULL, &session, &e);
        if (rc == APP_ENOTFOUND) {
            /* Stripe has no such session: nobody can pay it; release. */
            if (session)
                json_object_put(session);
            session = json_tokener_parse("{\"status\":\"expired\"}");
            rc = APP_OK;
        }
        if (rc != APP_OK) {
            fprintf(stderr, "%s: cannot read session: %s\n", pid, e.msg);
            if (session)
                json_object_put(session);
            return -1;
        }
        state = json_str(session, "status");
        if (state && strcmp(state, "open") == 0 &&
            json_object_object_get_ex(session, "expires_at", &v) &&
            json_object_get_int64(v) < (int64_t)now) {
            /* Past its time but not yet expired by Stripe: expire it, so it cannot be paid
             * after its reservation is gone. */
            snprintf(path, sizeof(path), "/v1/checkout/sessions/%s/expire", sid);
            snprintf(key, sizeof(key), "expire-%s", pid);
            json_object_put(session);
            session = NULL;
            struct stripe_params *none = stripe_params_new();

            rc = stripe_post(st, path, none, key, &session, &e);
            stripe_params_free(none);
            if (rc != APP_OK) {
                fprintf(stderr, "%s: cannot expire session: %s\n", pid, e.msg);
                if (session)
                    json_object_put(session);
                return -1;
            }
            state = json_str(session, "status");
        }
        rc = state && strcmp(state, "expired") == 0;
        json_object_put(session);
        if (!rc)
            return 0;               /* open, or paid: the webhook will settle it */
    }
    r.purchase_id = pid;
    r.code = code ? code : "";
    r.email = email;
    r.usage_limit = 0;
    r.per_user_limit = 0;
    time_iso(now, ts, sizeof(ts));
    rc = reservation_release(c->ddb, &c->cfg, &r, "expired", ts, &e);
    if (rc == APP_ECONDITION)
        return 0;                   /* paid or released meanwhile */
    if (rc != APP_OK) {
        fprintf(stderr, "%s: release failed: %s\n", pid, e.msg);
        return -1;
    }
    ctl_ctx(c, st, "sweep-checkouts", &x);
    purchase_coupon_uses_changed(&x, r.code, email);
    printf("%s released%s%s\n", pid, code ? " coupon " : "", code ? code : "");
    return 1;
}

static int
sweep_cb(struct ctl *c, void *st, struct json_object *p)
{
    return sweep_one(c, st, p, ctx_clock(&c->cfg));
}

int
ctl_sweep_checkouts(struct ctl *c, int argc, char **argv)
{
    long older_than = PURCHASE_HOLD_S;
    struct stripe *st;
    char cutoff[32];
    int released = 0, failed;

    if (ctl_older_than(argc, argv, 86400 * 30, &older_than) != 0)
        return 2;
    st = stripe_new(&c->cfg);
    if (!st)
        return 1;
    time_iso(ctx_clock(&c->cfg) - older_than, cutoff, sizeof(cutoff));
    failed = ctl_each_old(c, c->cfg.tbl_discount_purchases, CTL_BY_STATUS_CREATED, "pending",
                          cutoff, sweep_cb, st, &released);
    stripe_free(st);
    printf("released %d, failed %d\n", released, failed);
    return failed ? 1 : 0;
}

static int
expire_cb(struct ctl *c, void *st, struct json_object *team)
{
    struct ctx x;
    struct app_error e;
    int rc;

    ctl_ctx(c, st, "expire-teams", &x);
    app_error_clear(&e);
    rc = team_expire(&x, team, &e);
    if (rc < 0)
        fprintf(stderr, "prodenthubctl: team %s: %s\n", json_str(team, "teamId"), e.msg);
    return rc;
}

/* Teams not fully paid in time: expired, and the shares paid so far refunded. */
int
ctl_expire_teams(struct ctl *c, int argc, char **argv)
{
    /* Teams still open, and expired ones whose refunds failed last time. */
    static const char *const statuses[] = {"pending", "partially_paid", "expired"};
    long older_than = c->cfg.team_pay_days * 86400;
    struct stripe *st;
    char cutoff[32];
    int expired = 0, failed = 0;
    size_t i;

    if (ctl_older_than(argc, argv, 86400 * 365, &older_than) != 0)
        return 2;
    st = stripe_new(&c->cfg);
    if (!st)
        return 1;
    time_iso(ctx_clock(&c->cfg) - older_than, cutoff, sizeof(cutoff));
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        failed += ctl_each_old(c, c->cfg.tbl_teams, CTL_BY_STATUS_CREATED, statuses[i], cutoff,
                               expire_cb, st, &expired);
    stripe_free(st);
    printf("{\"expired\":%d,\"failed\":%d}\n", expired, failed);
    return failed ? 1 : 0;
}

int
ctl_send_reminders(struct ctl *c, int argc, char **argv)
{
    struct app_error e;
    int queued = 0, rc;

    (void)argc, (void)argv;
    app_error_clear(&e);
    rc = mock_send_reminders(c->ddb, &c->cfg, ctx_clock(&c->cfg), &queued, &e);
    if (rc != APP_OK)
        fprintf(stderr, "prodenthubctl: %s\n", e.msg);
    printf("{\"queued\":%d}\n", queued);
    return rc == APP_OK ? 0 : 1;
}

/* Split one CSV line in place on commas (no quoting: names and numbers only). */
static size_t
csv_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line, *q;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        f[n++] = p;
        q = strchr(p, ',');
        if (!q)
            break;
        *q = '\0';
        p = q + 1;
    }
    return n;
}

int
ctl_import_results(struct ctl *c, int argc, char **argv)
{
    const char *exam = argv[1], *path = argv[2];
    char head[4096], line[4096], *h[40], *f[40];
    struct json_object *row, *secs;
    struct app_error e;
    size_t nh, nf, i;
    int lineno = 1, ok = 0, bad = 0;
    long v;
    FILE *in = fopen(path, "r");

    (void)argc;

    if (!in) {
        fprintf(stderr, "prodenthubctl: %s: cannot open\n", path);
        return 1;
    }
    nh = fgets(head, sizeof(head), in) ? csv_fields(head, h, 40) : 0;
    if (nh < 4 || strcmp(h[0], "email") || strcmp(h[1], "totalScore") || strcmp(h[2], "maxScore") ||
        strcmp(h[3], "passed")) {
        fprintf(stderr, "prodenthubctl: %s: the header must be "
                "email,totalScore,maxScore,passed[,section...]\n", path);
        fclose(in);
        return 1;
    }
    while (fgets(line, sizeof(line), in)) {
        lineno++;
        if (line[strspn(line, " \r\n")] == '\0')
            continue;
        nf = csv_fields(line, f, 40);
        row = json_object_new_object();
        secs = json_object_new_object();
        json_object_object_add(row, "email", json_object_new_string(f[0]));
        for (i = 1; i < nf && i < nh; i++) {
            if (i == 3) {
                json_object_object_add(row, "passed", json_object_new_boolean(
                    !strcmp(f[i], "true") || !strcmp(f[i], "yes") || !strcmp(f[i], "1")));
                if (strcmp(f[i], "true") && strcmp(f[i], "yes") && strcmp(f[i], "1") &&
                    strcmp(f[i], "false") && strcmp(f[i], "no") && strcmp(f[i], "0"))
                    json_object_object_add(row, "passed", json_object_new_string(f[i]));
            } else if (str_to_long(f[i], 0, 100000, &v) == 0) {
                json_object_object_add(i < 4 ? row : secs, h[i], json_object_new_int64(v));
            } else {
                json_object_object_add(i < 4 ? row : secs, h[i], json_object_new_string(f[i]));
            }
        }
        json_object_object_add(row, "sections", secs);
        app_error_clear(&e);
        if (nf != nh)
            app_error_set(&e, APP_EVALIDATION, "%zu fields, the header has %zu", nf, nh);
        else
            mock_result_apply(c->ddb, &c->cfg, exam, row, &e);
        if (e.code) {
            fprintf(stderr, "%s:%d: %s\n", path, lineno, e.msg);
            bad++;
        } else {
            ok++;
        }
        json_object_put(row);
    }
    fclose(in);
    printf("{\"imported\":%d,\"failed\":%d}\n", ok, bad);
    return bad ? 1 : 0;
}

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

int
ctl_send_mail(struct ctl *c, int argc, char **argv)
{
    int loop = argc > 1 && strcmp(argv[1], "--loop") == 0;
    struct outbox_stats st, total;
    struct sigaction sa;
    struct app_error e;
    struct timespec ts;
    struct mailer *ml;
    char host[200], me[256];
    int rc = 0, worked;

    ml = mailer_new(&c->cfg, c->creds);
    if (!ml) {
        fprintf(stderr, "prodenthubctl: cannot create the mailer\n");
        return 1;
    }
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(me, sizeof(me), "%s:%ld", host, (long)getpid());
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;           /* no SA_RESTART: the poll sleep ends at once */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    memset(&total, 0, sizeof(total));
    if (loop)
        log_msg(LL_INFO, "mailer: polling the outbox every %ld ms via %s",
                c->cfg.outbox_poll_ms, c->cfg.email_transport);
    while (!stopping) {
        app_error_clear(&e);
        rc = outbox_drain(c->ddb, &c->cfg, ml, me, 25, &st, &e);
        if (rc != APP_OK) {
            log_msg(LL_WARN, "mailer: cannot read the outbox: %s", e.msg);
            if (!loop)
                break;
        }
        total.sent += st.sent;
        total.retry += st.retry;
        total.failed += st.failed;
        total.lost_race += st.lost_race;
        total.suppressed += st.suppressed;
        worked = st.sent + st.retry + st.failed + st.lost_race + st.suppressed > 0;
        if (!loop && !worked)
            break;
        if (loop && !worked) {
            ts.tv_sec = c->cfg.outbox_poll_ms / 1000;
            ts.tv_nsec = (c->cfg.outbox_poll_ms % 1000) * 1000000L;
            while (!stopping && nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
    }
    if (!loop)
        printf("{\"sent\":%d,\"retry\":%d,\"failed\":%d,\"lostRace\":%d,\"suppressed\":%d}\n",
               total.sent, total.retry, total.failed, total.lost_race, total.suppressed);
    mailer_free(ml);
    /* The loop ends only when asked to stop: a clean stop, whatever its last poll found. */
    return loop || rc == APP_OK ? 0 : 1;
}

