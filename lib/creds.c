#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "awsconfig.h"
#include "buf.h"
#include "cfg.h"
#include "creds.h"
#include "ids.h"
#include "log.h"
#include "mem.h"

#define IMDS_TOKEN_TTL 21600          /* seconds asked for an IMDSv2 session token */
#define IMDS_TIMEOUT_MS 1000          /* the SDKs' default */
#define REFRESH_WINDOW_MAX 300        /* refresh at most 5 minutes before expiry */
#define RETRY_PAUSE 10                /* after a failed refresh, while still valid */

struct creds_provider {
    const struct cfg *cfg;
    struct aws_creds cur;
    int have;
    time_t refresh_at;                /* refresh when now >= this (temporary creds only) */
    time_t next_try;                  /* no IMDS call before this after a failure */
    CURL *curl;                       /* IMDS, reused */
    char token[256];
    time_t token_expires;
    unsigned long fetches;
    unsigned jitter;                  /* per-process spread of refresh points */
};

struct creds_provider *
creds_new(const struct cfg *cfg)
{
    struct creds_provider *p = xcalloc(1, sizeof(*p));

    p->cfg = cfg;
    p->jitter = (unsigned)getpid() % 30;
    return p;
}

void
creds_free(struct creds_provider *p)
{
    if (!p)
        return;
    if (p->curl)
        curl_easy_cleanup(p->curl);
    free(p);
}

unsigned long
creds_fetches(const struct creds_provider *p)
{
    return p->fetches;
}

static int
set_static(struct creds_provider *p, const char *ak, const char *sk, const char *tok,
           const char *source)
{
    snprintf(p->cur.access_key, sizeof(p->cur.access_key), "%s", ak);
    snprintf(p->cur.secret_key, sizeof(p->cur.secret_key), "%s", sk);
    snprintf(p->cur.session_token, sizeof(p->cur.session_token), "%s", tok ? tok : "");
    p->cur.expires = 0;
    p->cur.source = source;
    p->have = 1;
    p->fetches++;
    return APP_OK;
}

static int
from_profile(struct creds_provider *p)
{
    char creds[1024], conf[1024], ak[128], sk[128], tok[4096];
    const char *profile = awsconfig_profile();

    awsconfig_paths(creds, sizeof(creds), conf, sizeof(conf));
    if (awsconfig_lookup(creds, profile, "aws_access_key_id", ak, sizeof(ak)) != 0 ||
        awsconfig_lookup(creds, profile, "aws_secret_access_key", sk, sizeof(sk)) != 0)
        return -1;
    if (awsconfig_lookup(creds, profile, "aws_session_token", tok, sizeof(tok)) != 0)
        tok[0] = '\0';
    return set_static(p, ak, sk, tok, "profile");
}

/* One IMDS call; the body goes to out.  Returns the HTTP status, or -1. */
static long
imds_call(struct creds_provider *p, const char *method, const char *path, struct buf *out)
{
    struct curl_slist *h = NULL;
    char url[512], hdr[320];
    long status = -1;

    snprintf(url, sizeof(url), "%s%s", p->cfg->imds_endpoint, path);
    if (strcmp(method, "PUT") == 0)
        snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token-ttl-seconds: %d", IMDS_TOKEN_TTL);
    else
        snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", p->token);
    h = curl_slist_append(h, hdr);
    curl_easy_reset(p->curl);
    curl_easy_setopt(p->curl, CURLOPT_URL, url);
    curl_easy_setopt(p->curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, (long)IMDS_TIMEOUT_MS);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(p->curl) == CURLE_OK)
        curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

static int
from_imds(struct creds_provider *p, time_t now, struct app_error *err)
{
    struct json_object *j = NULL, *v;
    const char *ak, *sk, *tok, *exp;
    struct buf b;
    char path[320], role[256];
    long st;
    int rc = APP_EUNAVAILABLE;

    if (!p->curl)
        p->curl = curl_easy_init();
    if (!p->curl)
        return app_error_set(err, APP_ENOMEM, "imds: curl handle");
    buf_init(&b, 64 * 1024);
    if (!p->token[0] || now >= p->token_expires - 60) {
        st = imds_call(p, "PUT", "/latest/api/token", &b);
        if (st != 200 || b.len == 0 || b.len >= sizeof(p->token)) {
            app_error_set(err, APP_EUNAVAILABLE, "imds: token request failed (HTTP %ld)", st);
            goto done;
        }
        snprintf(p->token, sizeof(p->token), "%s", b.data);
        p->token_expires = now + IMDS_TOKEN_TTL;
        buf_reset(&b);
    }
    st = imds_call(p, "GET", "/latest/meta-data/iam/security-credentials/", &b);
    if (st != 200 || b.len == 0 || b.len >= sizeof(role)) {
        if (st == 401)
            p->token[0] = '\0';
        app_error_set(err, APP_EUNAVAILABLE, "imds: no instance role (HTTP %ld)", st);
        goto done;
    }
    snprintf(role, sizeof(role), "%.*s", (int)strcspn(b.data, "\r\n"), b.data);
    buf_reset(&b);
    snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
    st = imds_call(p, "GET", path, &b);
    j = st == 200 ? json_tokener_parse(b.data ? b.data : "") : NULL;
    if (!j) {
        app_error_set(err, APP_EUNAVAILABLE, "imds: role credentials unreadable (HTTP %ld)", st);
        goto done;
    }
    ak = json_object_object_get_ex(j, "AccessKeyId", &v) ? json_object_get_string(v) : NULL;
    sk = json_object_object_get_ex(j, "SecretAccessKey", &v) ? json_object_get_string(v) : NULL;
    tok = json_object_object_get_ex(j, "Token", &v) ? json_object_get_string(v) : NULL;
    exp = json_object_object_get_ex(j, "Expiration", &v) ? json_object_get_string(v) : NULL;
    if (!ak || !sk || !tok || !exp || !time_parse_iso(exp)) {
        app_error_set(err, APP_EUNAVAILABLE, "imds: role credentials incomplete");
        goto done;
    }
    set_static(p, ak, sk, tok, "imds");
    p->cur.expires = time_parse_iso(exp);
    {
        /* Refresh ahead: at most 5 minutes, at most half the lifetime, spread per worker. */
        time_t life = p->cur.expires - now, window = life / 2;

        if (window > REFRESH_WINDOW_MAX)
            window = REFRESH_WINDOW_MAX;
        window -= (time_t)((unsigned)window * p->jitter / 100);
        p->refresh_at = p->cur.expires - window;
    }
    LOG(LL_INFO, "aws credentials from the instance role %s, valid until %s", role, exp);
    rc = APP_OK;
done:
    if (j)
        json_object_put(j);
    buf_free(&b);
    return rc;
}

int
creds_get(struct creds_provider *p, time_t now, const struct aws_creds **out,
          struct app_error *err)
{
    const struct cfg *c = p->cfg;
    struct app_error e;
    int rc;

    *out = NULL;
    if (p->have && (p->cur.expires == 0 || now < p->refresh_at || now < p->next_try)) {
        if (p->cur.expires == 0 || now < p->cur.expires) {
            *out = &p->cur;
            return APP_OK;
        }
    }
    if (!p->have || p->cur.expires == 0) {
        if (*c->aws_access_key_id) {
            set_static(p, c->aws_access_key_id, c->aws_secret_access_key, c->aws_session_token,
                       "environment");
            *out = &p->cur;
            return APP_OK;
        }
        if (from_profile(p) == 0) {
            *out = &p->cur;
            return APP_OK;
        }
    }
    if (now < p->next_try)
        return app_error_set(err, APP_EUNAVAILABLE, "no valid aws credentials; IMDS is retried "
                             "in %ld s", (long)(p->next_try - now));
    if (strcmp(c->imds_disabled, "true") == 0)
        return app_error_set(err, APP_EUNAVAILABLE, "no AWS credentials: none in the "
                             "environment or profile, and IMDS is disabled");
    app_error_clear(&e);
    rc = from_imds(p, now, &e);
    if (rc == APP_OK) {
        *out = &p->cur;
        return APP_OK;
    }
    p->next_try = now + RETRY_PAUSE;
    if (p->have && now < p->cur.expires) {
        /* Still valid: keep serving with them, try again after the pause. */
        log_msg(LL_WARN, "refreshing aws credentials failed, using the current ones: %s", e.msg);
        *out = &p->cur;
        return APP_OK;
    }
    return app_error_set(err, rc, "no AWS credentials: %s", e.msg);
}
