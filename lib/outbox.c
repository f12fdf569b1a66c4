/*
 * The outbox (see outbox.h): queueing rows, and the drain that renders and sends them.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "buf.h"
#include "cfg.h"
#include "ddb.h"
#include "ddbjson.h"
#include "ids.h"
#include "log.h"
#include "mailer.h"
#include "mem.h"
#include "mime.h"
#include "outbox.h"
#include "retention.h"
#include "seal.h"
#include "suppress.h"
#include "template.h"

#define DUE_AT_ONCE "1970-01-01T00:00:00.000Z"    /* a new row's nextAttemptAt */
#define LEASE_MS 60000LL
#define RETRY_CAP_MS 3600000LL
#define MAIL_MAX (2 * 1024 * 1024)
#define PART_MAX (512 * 1024)
#define MAX_ATTACHMENTS 4

static long long
wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 2026-11-25T10:35:58.123Z: fixed width, so strings sort as times. */
static void
iso_ms(long long ms, char *out, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char s[24];

    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03lldZ", s, ms % 1000);
}

static char *
outbox_id(const struct outbox_mail *m)
{
    struct buf b;
    size_t i;

    buf_init(&b, 4096);
    buf_printf(&b, "%s#%s#", m->cause, m->tmpl);
    for (i = 0; m->to[i]; i++)
        buf_printf(&b, "%c", tolower((unsigned char)m->to[i]));
    return b.data;                 /* the caller frees */
}

/*
 * The variables carry pay links with their tokens: with OUTBOX_KEY set (required in
 * production) they are kept sealed to the row (lib/seal.h), and dropped once the row is done.
 */
static void
add_vars(struct json_object *o, const struct cfg *cfg, const char *id,
         struct json_object *vars)
{
    const char *text = json_object_to_json_string_ext(vars, JSON_C_TO_STRING_PLAIN);
    unsigned char key[SEAL_KEY_LEN];
    struct buf b;

    if (!*cfg->outbox_key) {
        json_object_object_add(o, "vars", json_object_new_string(text));
        return;
    }
    buf_init(&b, SEAL_TEXT_MAX);
    if (seal_key_parse(cfg->outbox_key, key) != 0 || seal(key, id, text, strlen(text), &b) != 0) {
        /* As out of memory: cfg_load checked the key, so only the RNG can fail here. */
        log_msg(LL_ERROR, "outbox: cannot seal a row's variables");
        abort();
    }
    json_object_object_add(o, "varsSealed", json_object_new_string(b.data));
    buf_free(&b);
    OPENSSL_cleanse(key, sizeof(key));
}

static struct json_object *
row(const struct cfg *cfg, const struct outbox_mail *m, time_t now)
{
    struct json_object *o = json_object_new_object();
    char ts[40];
    char *id = outbox_id(m);

    json_object_object_add(o, "outboxId", json_object_new_string(id));
    add_vars(o, cfg, id, m->vars);
    free(id);
    json_object_object_add(o, "status", json_object_new_string("pending"));
    /* Due at once on any sender's clock: a row queued by a node whose clock runs ahead is
     * not left waiting for the others' to catch up. */
    json_object_object_add(o, "nextAttemptAt", json_object_new_string(DUE_AT_ONCE));
    iso_ms((long long)now * 1000, ts, sizeof(ts));
    json_object_object_add(o, "createdAt", json_object_new_string(ts));
    json_object_object_add(o, "attempts", json_object_new_int(0));
    json_object_object_add(o, "cause", json_object_new_string(m->cause));
    json_object_object_add(o, "template", json_object_new_string(m->tmpl));
    json_object_object_add(o, "toAddr", json_object_new_string(m->to));
    if (m->to_name && *m->to_name)
        json_object_object_add(o, "toName", json_object_new_string(m->to_name));
    if (m->attachments)
        json_object_object_add(o, "attachments", json_object_get(m->attachments));
    json_object_object_add(o, "ttl", json_object_new_int64(retention_outbox_ttl(cfg, now)));
    return o;
}

struct json_object *
outbox_txn_put(const struct cfg *cfg, const struct outbox_mail *m, time_t now)
{
    struct json_object *plain = row(cfg, m, now), *put = json_object_new_object(), *w;

    json_object_object_add(put, "TableName", json_object_new_string(cfg->tbl_email_outbox));
    json_object_object_add(put, "Item", ddb_marshal_item(plain));
    json_object_object_add(put, "ConditionExpression",
                           json_object_new_string("attribute_not_exists(outboxId)"));
    json_object_put(plain);
    w = json_object_new_object();
    json_object_object_add(w, "Put", put);
    return w;
}

struct json_object *
outbox_txn_mail(const struct cfg *cfg, const char *cause, const char *tmpl, const char *to,
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
    w = outbox_txn_put(cfg, &m, now);
    json_object_put(vars);
    return w;
}

int
outbox_put(struct ddb *ddb, const struct cfg *cfg, const struct outbox_mail *m, time_t now,
           struct app_error *err)
{
    struct json_object *plain = row(cfg, m, now), *item = ddb_marshal_item(plain);
    int rc;

    rc = ddb_put_item(ddb, cfg->tbl_email_outbox, item, "attribute_not_exists(outboxId)",
                      NULL, NULL, err);
    json_object_put(plain);
    json_object_put(item);
    if (rc == APP_ECONDITION) {
        app_error_clear(err);
        return APP_OK;             /* queued before: once per key */
    }
    return rc;
}

/* --- the drain ------------------------------------------------------------------------ */

/*
 * Move a row from status `from` (as read) to `to`, guarded so that only one sender wins:
 * the row must still be as we saw it (claim) or still ours (finish).
 */
static int
transition(struct ddb *ddb, const struct cfg *cfg, const char *id, const char *update,
           const char *condition, struct json_object *vals, struct app_error *err)
{
    struct json_object *k = ddb_key_s("outboxId", id), *names = json_object_new_object();
    int rc;

    json_object_object_add(names, "#st", json_object_new_string("status"));
    rc = ddb_update_item(ddb, cfg->tbl_email_outbox, k, update, condition, names, vals, NULL,
                         NULL, err);
    json_object_put(k);
    json_object_put(names);
    return rc;
}

static int
claim(struct ddb *ddb, const struct cfg *cfg, struct json_object *r, const char *me,
      long long now, struct app_error *err)
{
    struct json_object *vals = json_object_new_object();
    char lease[40];
    int rc;

    iso_ms(now + LEASE_MS, lease, sizeof(lease));
    json_object_object_add(vals, ":sending", ddb_av_s("sending"));
    json_object_object_add(vals, ":lease", ddb_av_s(lease));
    json_object_object_add(vals, ":me", ddb_av_s(me));
    json_object_object_add(vals, ":one", ddb_av_n(1));
    json_object_object_add(vals, ":seen", ddb_av_s(json_str(r, "status")));
    json_object_object_add(vals, ":seenNext", ddb_av_s(json_str(r, "nextAttemptAt")));
    rc = transition(ddb, cfg, json_str(r, "outboxId"),
                    "SET #st = :sending, nextAttemptAt = :lease, claimedBy = :me, "
                    "attempts = attempts + :one",
                    "#st = :seen AND nextAttemptAt = :seenNext", vals, err);
    json_object_put(vals);
    return rc;
}

static int
finish(struct ddb *ddb, const struct cfg *cfg, const char *id, const char *me,
       const char *status, const char *next, const char *error, long long now,
       struct app_error *err)
{
    struct json_object *vals = json_object_new_object();
    char ts[40];
    int rc;

    iso_ms(now, ts, sizeof(ts));
    json_object_object_add(vals, ":st", ddb_av_s(status));
    json_object_object_add(vals, ":me", ddb_av_s(me));
    json_object_object_add(vals, ":now", ddb_av_s(ts));
    json_object_object_add(vals, ":error", ddb_av_s(error ? error : ""));
    if (next) {
        json_object_object_add(vals, ":next", ddb_av_s(next));
        rc = transition(ddb, cfg, id, "SET #st = :st, nextAttemptAt = :next, lastError = "
                        ":error, updatedAt = :now REMOVE claimedBy", "claimedBy = :me",
                        vals, err);
    } else {
        /* Done with: what the email said (tokens included) is not kept. */
        rc = transition(ddb, cfg, id, strcmp(status, "sent") == 0 ?
                        "SET #st = :st, sentAt = :now, updatedAt = :now, lastError = :error "
                        "REMOVE nextAttemptAt, claimedBy, vars, varsSealed, attachments" :
                        "SET #st = :st, updatedAt = :now, lastError = :error "
                        "REMOVE nextAttemptAt, claimedBy, vars, varsSealed, attachments",
                        "claimedBy = :me", vals, err);
    }
    json_object_put(vals);
    return rc;
}

static void
add_default(struct json_object *vars, const char *k, const char *v)
{
    if (!json_object_object_get_ex(vars, k, NULL))
        json_object_object_add(vars, k, json_object_new_string(v ? v : ""));
}

/* The row's variables, unsealed when sealed; *out NULL when the row has none readable. */
static int
row_vars(const struct cfg *cfg, struct json_object *r, struct json_object **out,
         struct app_error *err)
{
    const char *sealed = json_str(r, "varsSealed"), *id = json_str(r, "outboxId");
    unsigned char key[SEAL_KEY_LEN];
    struct buf b;

    *out = NULL;
    if (!sealed) {
        *out = json_str(r, "vars") ? json_tokener_parse(json_str(r, "vars")) : NULL;
        return APP_OK;
    }
    /* A sender without the key may be a config mistake: retried, not given up. */
    if (!*cfg->outbox_key || seal_key_parse(cfg->outbox_key, key) != 0)
        return app_error_set(err, APP_ECONFIG, "row is sealed and OUTBOX_KEY is not set");
    buf_init(&b, SEAL_TEXT_MAX);
    if (unseal(key, id ? id : "", sealed, &b) != 0) {
        buf_free(&b);
        OPENSSL_cleanse(key, sizeof(key));
        return app_error_set(err, APP_ECONFIG, "row's variables do not unseal with this "
                             "OUTBOX_KEY");
    }
    OPENSSL_cleanse(key, sizeof(key));
    *out = json_tokener_parse(b.data);
    buf_free(&b);
    return APP_OK;
}

/* Render and send one claimed row: APP_OK, or the mailer's / renderer's error. */
static int
send_row(const struct cfg *cfg, struct mailer *ml, struct json_object *r, struct app_error *err)
{
    struct mail_attachment att[MAX_ATTACHMENTS];
    struct json_object *vars, *atts = NULL, *a;
    struct buf subject, text, html, msg;
    unsigned char md[EVP_MAX_MD_SIZE];
    const char *to = json_str(r, "toAddr"), *id;
    char mid[40], year[16];
    unsigned int mdlen = 0;
    struct mail m;
    struct tmpl t;
    time_t now = time(NULL);
    struct tm tm;
    size_t i, n = 0;
    int rc;

    id = json_str(r, "outboxId");
    rc = row_vars(cfg, r, &vars, err);
    if (rc != APP_OK)
        return rc;
    if (!json_object_is_type(vars, json_type_object) || !to || !json_str(r, "template")) {
        if (vars)
            json_object_put(vars);
        return app_error_set(err, APP_EUNPROCESSABLE, "row is malformed");
    }
    rc = tmpl_load(cfg->email_template_dir, json_str(r, "template"), &t, err);
    if (rc != APP_OK) {
        json_object_put(vars);
        return APP_EUNPROCESSABLE;
    }
    gmtime_r(&now, &tm);
    snprintf(year, sizeof(year), "%d", tm.tm_year + 1900);
    add_default(vars, "brandName", cfg->email_from_name);
    add_default(vars, "frontendUrl", cfg->frontend_url);
    add_default(vars, "supportEmail", cfg->support_email);
    add_default(vars, "recipientName", json_str(r, "toName"));
    add_default(vars, "year", year);
    buf_init(&subject, 2048);
    buf_init(&text, PART_MAX);
    buf_init(&html, PART_MAX);
    buf_init(&msg, MAIL_MAX);
    rc = tmpl_render(t.subject, vars, TMPL_HEADER, &subject, err);
    if (rc == APP_OK)
        rc = tmpl_render(t.text, vars, TMPL_TEXT, &text, err);
    if (rc == APP_OK)
        rc = tmpl_render(t.html, vars, TMPL_HTML, &html, err);
    if (rc != APP_OK)
        rc = APP_EUNPROCESSABLE;
    json_object_object_get_ex(r, "attachments", &atts);
    for (i = 0; rc == APP_OK && json_object_is_type(atts, json_type_array) &&
         i < json_object_array_length(atts) && n < MAX_ATTACHMENTS; i++) {
        a = json_object_array_get_idx(atts, i);
        att[n].filename = json_str(a, "filename");
        att[n].content_type = json_str(a, "contentType");
        att[n].data = json_str(a, "data");
        if (!att[n].filename || !att[n].content_type || !att[n].data)
            continue;
        att[n].len = strlen(att[n].data);
        n++;
    }
    if (rc == APP_OK) {
        EVP_Digest(id, strlen(id), md, &mdlen, EVP_sha256(), NULL);
        hex_encode(md, mdlen < 16 ? mdlen : 16, mid);
        memset(&m, 0, sizeof(m));
        m.from_addr = cfg->ses_from;
        m.from_name = cfg->email_from_name;
        m.to_addr = to;
        m.to_name = json_str(r, "toName");
        m.subject = subject.data ? subject.data : "";
        m.text = text.data ? text.data : "";
        m.html = html.data ? html.data : "";
        m.message_id = mid;
        m.date = now;
        m.att = att;
        m.natt = n;
        rc = mime_build(&m, &msg, err);
        if (rc == APP_EVALIDATION || rc == APP_EINTERNAL)
            rc = APP_EUNPROCESSABLE;
    }
    if (rc == APP_OK)
        rc = mailer_send(ml, cfg->ses_from, to, msg.data, msg.len, err);
    buf_free(&subject);
    buf_free(&text);
    buf_free(&html);
    buf_free(&msg);
    tmpl_free(&t);
    json_object_put(vars);
    return rc;
}

static long long
retry_delay_ms(const struct cfg *cfg, long attempts)
{
    long long d = cfg->outbox_retry_base_ms;
    unsigned char r[2] = { 0, 0 };

    while (--attempts > 0 && d < RETRY_CAP_MS)
        d *= 2;
    if (d > RETRY_CAP_MS)
        d = RETRY_CAP_MS;
    RAND_bytes(r, sizeof(r));
    /* Half fixed, half random: senders that failed together do not retry together. */
    return d / 2 + (d / 2) * ((r[0] << 8) | r[1]) / 65535;
}

static void
one(struct ddb *ddb, const struct cfg *cfg, struct mailer *ml, struct json_object *r,
    const char *me, struct outbox_stats *st)
{
    struct app_error e;
    const char *id = json_str(r, "outboxId");
    struct json_object *v;
    long attempts = 0;
    char next[40];
    long long now = wall_ms();
    int rc, suppressed = 0;

    app_error_clear(&e);
    if (!id || !json_str(r, "status") || !json_str(r, "nextAttemptAt"))
        return;
    rc = claim(ddb, cfg, r, me, now, &e);
    if (rc != APP_OK) {
        if (rc == APP_ECONDITION)
            st->lost_race++;
        else
            log_msg(LL_WARN, "outbox: cannot claim %s: %s", id, e.msg);
        return;
    }
    if (json_object_object_get_ex(r, "attempts", &v))
        attempts = (long)json_object_get_int64(v);
    attempts++;
    /* Checked after the claim, so a bounce recorded while the row waited still counts. */
    rc = suppress_check(ddb, cfg, json_str(r, "toAddr"), &suppressed, &e);
    if (rc == APP_OK && !suppressed)
        rc = send_row(cfg, ml, r, &e);
    now = wall_ms();
    if (rc == APP_OK && suppressed) {
        st->suppressed++;
        log_msg(LL_WARN, "outbox: %s (%s) not sent: the recipient is on the suppression list",
                json_str(r, "template"), json_str(r, "cause"));
        rc = finish(ddb, cfg, id, me, "suppressed", NULL,
                    "the recipient bounced or complained", now, &e);
    } else if (rc == APP_OK) {
        st->sent++;
        log_msg(LL_INFO, "outbox: sent %s (%s) after %ld attempt(s)", json_str(r, "template"),
                json_str(r, "cause"), attempts);
        rc = finish(ddb, cfg, id, me, "sent", NULL, NULL, now, &e);
    } else if (rc == APP_EUNPROCESSABLE || attempts >= cfg->outbox_max_attempts) {
        st->failed++;
        log_msg(LL_ERROR, "outbox: gave up on %s (%s) after %ld attempt(s): %s",
                json_str(r, "template"), json_str(r, "cause"), attempts, e.msg);
        rc = finish(ddb, cfg, id, me, "failed", NULL, e.msg, now, &e);
    } else {
        st->retry++;
        iso_ms(now + retry_delay_ms(cfg, attempts), next, sizeof(next));
        log_msg(LL_WARN, "outbox: %s (%s) not sent (attempt %ld), next at %s: %s",
                json_str(r, "template"), json_str(r, "cause"), attempts, next, e.msg);
        rc = finish(ddb, cfg, id, me, "pending", next, e.msg, now, &e);
    }
    if (rc != APP_OK)              /* the lease runs out and the row is taken up again */
        log_msg(LL_WARN, "outbox: cannot record the outcome for %s: %s", id, e.msg);
}

int
outbox_drain(struct ddb *ddb, const struct cfg *cfg, struct mailer *ml, const char *me,
             int max, struct outbox_stats *st, struct app_error *err)
{
    static const char *const due[] = { "pending", "sending" };   /* sending: lease over */
    struct json_object *q, *names, *vals, *items = NULL, *last = NULL, *r;
    char now[40];
    size_t i, k;
    int rc = APP_OK;

    memset(st, 0, sizeof(*st));
    iso_ms(wall_ms(), now, sizeof(now));
    for (k = 0; k < 2 && rc == APP_OK; k++) {
        q = json_object_new_object();
        json_object_object_add(q, "TableName", json_object_new_string(cfg->tbl_email_outbox));
        json_object_object_add(q, "IndexName", json_object_new_string(OUTBOX_STATUS_INDEX));
        json_object_object_add(q, "KeyConditionExpression",
                               json_object_new_string("#st = :st AND nextAttemptAt <= :now"));
        names = json_object_new_object();
        json_object_object_add(names, "#st", json_object_new_string("status"));
        json_object_object_add(q, "ExpressionAttributeNames", names);
        vals = json_object_new_object();
        json_object_object_add(vals, ":st", ddb_av_s(due[k]));
        json_object_object_add(vals, ":now", ddb_av_s(now));
        json_object_object_add(q, "ExpressionAttributeValues", vals);
        json_object_object_add(q, "Limit", json_object_new_int(max));
        rc = ddb_query(ddb, q, &items, &last, err);
        json_object_put(q);
        if (last)
            json_object_put(last);
        last = NULL;
        for (i = 0; rc == APP_OK && i < json_object_array_length(items); i++) {
            r = ddb_unmarshal_item(json_object_array_get_idx(items, i));
            if (!r)
                continue;
            one(ddb, cfg, ml, r, me, st);
            json_object_put(r);
        }
        if (items)
            json_object_put(items);
        items = NULL;
    }
    return rc;
}
