/*
 * The email suppression list (see suppress.h), and what an SES bounce or complaint does to it.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "cfg.h"
#include "ddb.h"
#include "ddbjson.h"
#include "ids.h"
#include "log.h"
#include "suppress.h"

#define ADDR_MAX 320
#define HASH_PREFIX "prodenthub/suppress/v1:"

int
suppress_hash(const char *addr, char *out)
{
    char norm[ADDR_MAX + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    const char *p = addr, *lt, *gt;
    size_t n;
    EVP_MD_CTX *mc;

    out[0] = '\0';
    if (!p)
        return -1;
    lt = strchr(p, '<');
    gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt) {
        p = lt + 1;
        n = (size_t)(gt - p);
    } else {
        n = strlen(p);
    }
    while (n > 0 && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    if (n == 0 || n > ADDR_MAX || !memchr(p, '@', n))
        return -1;
    for (i = 0; i < n; i++)
        norm[i] = (char)tolower((unsigned char)p[i]);
    norm[n] = '\0';
    mc = EVP_MD_CTX_new();
    if (!mc || EVP_DigestInit_ex(mc, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(mc, HASH_PREFIX, strlen(HASH_PREFIX)) != 1 ||
        EVP_DigestUpdate(mc, norm, n) != 1 || EVP_DigestFinal_ex(mc, md, &mdlen) != 1) {
        EVP_MD_CTX_free(mc);
        return -1;
    }
    EVP_MD_CTX_free(mc);
    hex_encode(md, mdlen < SUPPRESS_HASH_LEN / 2 ? mdlen : SUPPRESS_HASH_LEN / 2, out);
    return 0;
}

int
suppress_add(struct ddb *ddb, const struct cfg *cfg, const char *addr, const char *reason,
             const char *detail, const char *message_id, time_t now, int *dup,
             struct app_error *err)
{
    struct json_object *k, *vals, *names;
    char h[SUPPRESS_HASH_LEN + 1], ts[32];
    int rc;

    *dup = 0;
    if (suppress_hash(addr, h) != 0)
        return app_error_set(err, APP_EBADREQUEST, "not an email address");
    time_iso(now, ts, sizeof(ts));
    k = ddb_key_s("addressHash", h);
    names = json_object_new_object();
    json_object_object_add(names, "#r", json_object_new_string("reason"));
    vals = json_object_new_object();
    json_object_object_add(vals, ":r", ddb_av_s(reason));
    json_object_object_add(vals, ":d", ddb_av_s(detail && *detail ? detail : "-"));
    json_object_object_add(vals, ":m", ddb_av_s(message_id));
    json_object_object_add(vals, ":now", ddb_av_s(ts));
    json_object_object_add(vals, ":one", ddb_av_n(1));
    rc = ddb_update_item(ddb, cfg->tbl_email_suppressions, k,
                         "SET #r = :r, detail = :d, lastMessageId = :m, updatedAt = :now, "
                         "suppressedAt = if_not_exists(suppressedAt, :now) ADD events :one",
                         "attribute_not_exists(lastMessageId) OR lastMessageId <> :m",
                         names, vals, NULL, NULL, err);
    json_object_put(k);
    json_object_put(names);
    json_object_put(vals);
    if (rc == APP_ECONDITION) {
        app_error_clear(err);
        *dup = 1;
        return APP_OK;
    }
    return rc;
}

int
suppress_get(struct ddb *ddb, const struct cfg *cfg, const char *addr, struct json_object **row,
             struct app_error *err)
{
    char h[SUPPRESS_HASH_LEN + 1];

    *row = NULL;
    if (suppress_hash(addr, h) != 0)
        return APP_OK;                 /* no address: the mailer refuses it on its own */
    return ddb_read(ddb, cfg->tbl_email_suppressions, ddb_key_s("addressHash", h), row, err);
}

int
suppress_check(struct ddb *ddb, const struct cfg *cfg, const char *addr, int *out,
               struct app_error *err)
{
    struct json_object *row = NULL;
    int rc = suppress_get(ddb, cfg, addr, &row, err);

    *out = row ? 1 : 0;
    if (row)
        json_object_put(row);
    return rc;
}

int
suppress_remove(struct ddb *ddb, const struct cfg *cfg, const char *addr, struct app_error *err)
{
    struct json_object *key;
    char h[SUPPRESS_HASH_LEN + 1];
    int rc;

    if (suppress_hash(addr, h) != 0)
        return app_error_set(err, APP_EVALIDATION, "not an email address");
    key = ddb_key_s("addressHash", h);
    rc = ddb_delete_item(ddb, cfg->tbl_email_suppressions, key, NULL, NULL, NULL, err);
    json_object_put(key);
    return rc;
}

/* The kinds we name, as static strings (the parsed event does not outlive the call). */
static const char *
known(const char *s, const char *const *names)
{
    size_t i;

    for (i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return names[i];
    return s ? "other" : NULL;
}

static int
add_all(struct ddb *ddb, const struct cfg *cfg, struct json_object *list, const char *reason,
        const char *detail, const char *message_id, time_t now, struct ses_outcome *out,
        struct app_error *err)
{
    size_t i, n;
    int dup, rc;

    if (!json_object_is_type(list, json_type_array))
        return app_error_set(err, APP_EBADREQUEST, "SES event without its recipients");
    n = json_object_array_length(list);
    if (n > SUPPRESS_MAX_RECIPIENTS)
        return app_error_set(err, APP_EBADREQUEST, "SES event with too many recipients");
    for (i = 0; i < n; i++) {
        const char *addr = json_str(json_object_array_get_idx(list, i), "emailAddress");
        char h[SUPPRESS_HASH_LEN + 1];

        if (suppress_hash(addr, h) != 0) {
            log_msg(LL_WARN, "ses: %s %s: a recipient without an address", reason, message_id);
            continue;
        }
        rc = suppress_add(ddb, cfg, addr, reason, detail, message_id, now, &dup, err);
        if (rc != APP_OK)
            return rc;
        if (dup)
            out->duplicates++;
        else
            out->suppressed++;
        /* The hash only: the address stays out of the logs. */
        log_msg(LL_INFO, "ses: %s suppresses %.12s... (%s)%s", reason, h, detail ? detail : "-",
                dup ? " again" : "");
    }
    return APP_OK;
}

int
suppress_ses_event(struct ddb *ddb, const struct cfg *cfg, const char *message,
                   const char *message_id, time_t now, struct ses_outcome *out,
                   struct app_error *err)
{
    static const char *const events[] = { "Bounce", "Complaint", NULL };
    static const char *const bounces[] = { "Permanent", "Transient", "Undetermined", NULL };
    struct json_object *ev = json_tokener_parse(message), *part = NULL, *list = NULL;
    const char *type;
    int rc = APP_OK;

    memset(out, 0, sizeof(*out));
    type = json_str(ev, "eventType");
    if (!type)
        type = json_str(ev, "notificationType");
    if (!json_object_is_type(ev, json_type_object) || !type) {
        rc = app_error_set(err, APP_EBADREQUEST, "the SNS message is not an SES event");
        goto done;
    }
    out->event = known(type, events);
    if (out->event == events[0]) {
        if (!json_object_object_get_ex(ev, "bounce", &part)) {
            rc = app_error_set(err, APP_EBADREQUEST, "SES Bounce without its bounce");
            goto done;
        }
        out->bounce_type = known(json_str(part, "bounceType"), bounces);
        json_object_object_get_ex(part, "bouncedRecipients", &list);
        if (out->bounce_type != bounces[0]) {
            /* Transient (a full mailbox, a message too large) or undetermined: SES retried
             * already; the address stays mailable. */
            out->ignored = json_object_is_type(list, json_type_array) ?
                           (int)json_object_array_length(list) : 0;
            log_msg(LL_INFO, "ses: %s bounce (%s) for %d recipient(s) of %s: not suppressed",
                    out->bounce_type ? out->bounce_type : "untyped",
                    json_str(part, "bounceSubType") ? json_str(part, "bounceSubType") : "-",
                    out->ignored, message_id);
            goto done;
        }
        rc = add_all(ddb, cfg, list, "bounce", json_str(part, "bounceSubType"), message_id,
                     now, out, err);
    } else if (out->event == events[1]) {
        if (!json_object_object_get_ex(ev, "complaint", &part)) {
            rc = app_error_set(err, APP_EBADREQUEST, "SES Complaint without its complaint");
            goto done;
        }
        json_object_object_get_ex(part, "complainedRecipients", &list);
        rc = add_all(ddb, cfg, list, "complaint", json_str(part, "complaintFeedbackType"),
                     message_id, now, out, err);
    } else {
        log_msg(LL_INFO, "ses: %s event %s ignored", type, message_id);
    }
done:
    if (ev)
        json_object_put(ev);
    return rc;
}
