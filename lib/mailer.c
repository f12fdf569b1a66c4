/*
 * The mail transports (see mailer.h).  Both take the same MIME bytes, so what a recipient
 * sees does not depend on the transport: SES's SendEmail is used with raw content.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "buf.h"
#include "cfg.h"
#include "creds.h"
#include "log.h"
#include "mailer.h"
#include "mem.h"
#include "sigv4.h"

#define SES_PATH "/v2/email/outbound-emails"
#define RESP_MAX (64 * 1024)

struct mailer {
    const struct cfg *cfg;
    struct creds_provider *creds;
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
};

struct upload {
    const char *p;
    size_t left;
};

struct mailer *
mailer_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct mailer *m = xmalloc(sizeof(*m));

    memset(m, 0, sizeof(*m));
    m->cfg = cfg;
    m->creds = creds;
    m->curl = curl_easy_init();
    if (!m->curl) {
        free(m);
        return NULL;
    }
    return m;
}

void
mailer_free(struct mailer *m)
{
    if (!m)
        return;
    curl_easy_cleanup(m->curl);
    free(m);
}

static size_t
read_cb(char *dst, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t k = size * n < u->left ? size * n : u->left;

    memcpy(dst, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

static int
curl_failure(struct mailer *m, CURLcode cc, const char *what, struct app_error *err)
{
    int code = cc == CURLE_OPERATION_TIMEDOUT ? APP_ETIMEOUT : APP_EUNAVAILABLE;

    return app_error_set(err, code, "%s: %s", what, m->errbuf[0] ? m->errbuf :
                         curl_easy_strerror(cc));
}

static int
smtp_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
          struct app_error *err)
{
    const struct cfg *c = m->cfg;
    struct curl_slist *rcpt = NULL;
    struct upload u = { msg, len };
    char addr[300];
    long reply = 0;
    CURLcode cc;

    snprintf(addr, sizeof(addr), "<%s>", to);
    rcpt = curl_slist_append(rcpt, addr);
    snprintf(addr, sizeof(addr), "<%s>", from);
    m->errbuf[0] = '\0';
    curl_easy_reset(m->curl);
    curl_easy_setopt(m->curl, CURLOPT_URL, c->smtp_url);
    curl_easy_setopt(m->curl, CURLOPT_MAIL_FROM, addr);
    curl_easy_setopt(m->curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(m->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(m->curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(m->curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(m->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(m->curl, CURLOPT_USE_SSL,
                     strcmp(c->smtp_starttls, "required") == 0 ? (long)CURLUSESSL_ALL :
                     strcmp(c->smtp_starttls, "try") == 0 ? (long)CURLUSESSL_TRY :
                     (long)CURLUSESSL_NONE);
    if (*c->smtp_username) {
        curl_easy_setopt(m->curl, CURLOPT_USERNAME, c->smtp_username);
        curl_easy_setopt(m->curl, CURLOPT_PASSWORD, c->smtp_password);
    }
    curl_easy_setopt(m->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS, c->smtp_timeout_ms);
    curl_easy_setopt(m->curl, CURLOPT_TIMEOUT_MS, c->smtp_timeout_ms);
    curl_easy_setopt(m->curl, CURLOPT_ERRORBUFFER, m->errbuf);
    cc = curl_easy_perform(m->curl);
    curl_slist_free_all(rcpt);
    if (cc == CURLE_OK)
        return APP_OK;
    curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &reply);
    /* 550-554: the mailbox or the message is refused for good; anything else may pass
     * later (4xx, a server down, 530 until the operator fixes the credentials). */
    if (reply >= 550 && reply <= 554)
        return app_error_set(err, APP_EUNPROCESSABLE, "smtp: refused with %ld: %s", reply,
                             m->errbuf[0] ? m->errbuf : curl_easy_strerror(cc));
    return curl_failure(m, cc, "smtp", err);
}

/* http[s]://host[:port] of the SES v2 endpoint into host, and the full URL into url. */
static void
ses_endpoint(const struct cfg *c, char *host, size_t hostlen, char *url, size_t urllen)
{
    const char *base = *c->aws_endpoint_url_sesv2 ? c->aws_endpoint_url_sesv2 :
                       *c->aws_endpoint_url ? c->aws_endpoint_url : NULL;
    char tmp[256];
    const char *p;
    size_t n;

    if (!base) {
        snprintf(tmp, sizeof(tmp), "https://email.%s.amazonaws.com", cfg_region(c));
        base = tmp;
    }
    n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    snprintf(url, urllen, "%.*s%s", (int)n, base, SES_PATH);
    p = strstr(base, "://");
    p = p ? p + 3 : base;
    snprintf(host, hostlen, "%.*s", (int)strcspn(p, "/"), p);
}

static int
ses_classify(long status, const char *body, struct app_error *err)
{
    struct json_object *j = json_tokener_parse(body), *v;
    char type[96] = "";
    int code;

    if (j && (json_object_object_get_ex(j, "__type", &v) ||
              json_object_object_get_ex(j, "code", &v)))
        snprintf(type, sizeof(type), "%s", json_object_get_string(v));
    if (j)
        json_object_put(j);
    if (status == 429 || status >= 500 || strstr(type, "TooManyRequests") ||
        strstr(type, "LimitExceeded") || strstr(type, "Throttl"))
        code = APP_EUNAVAILABLE;
    else if (status == 400 && (strstr(type, "MessageRejected") ||
                               strstr(type, "BadRequest")))
        code = APP_EUNPROCESSABLE;
    else
        code = APP_EUPSTREAM;  /* 403 signature/permission, account states: fix, then retry */
    return app_error_set(err, code, "ses: HTTP %ld %s", status, type);
}

static int
ses_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
         struct app_error *err)
{
    const struct aws_creds *c = NULL;
    struct json_object *req, *dest, *tos, *content, *raw, *data;
    struct sigv4_header sh[1] = { { "Content-Type", "application/json" } };
    struct sigv4_request sr;
    struct sigv4_creds sc;
    struct sigv4_signed sig;
    struct curl_slist *h = NULL;
    char host[256], url[512], line[1200];
    unsigned char *b64;
    const char *body;
    struct buf resp, tok;
    long status = 0;
    CURLcode cc;
    int rc;

    rc = creds_get(m->creds, time(NULL), &c, err);
    if (rc != APP_OK)
        return rc;
    b64 = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock(b64, (const unsigned char *)msg, (int)len);
    req = json_object_new_object();
    json_object_object_add(req, "FromEmailAddress", json_object_new_string(from));
    dest = json_object_new_object();
    tos = json_object_new_array();
    json_object_array_add(tos, json_object_new_string(to));
    json_object_object_add(dest, "ToAddresses", tos);
    json_object_object_add(req, "Destination", dest);
    content = json_object_new_object();
    raw = json_object_new_object();
    data = json_object_new_string((const char *)b64);
    free(b64);
    json_object_object_add(raw, "Data", data);
    json_object_object_add(content, "Raw", raw);
    json_object_object_add(req, "Content", content);
    body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);

    ses_endpoint(m->cfg, host, sizeof(host), url, sizeof(url));
    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.host = host;
    sr.path = SES_PATH;
    sr.headers = sh;
    sr.nheaders = 1;
    sr.payload = body;
    sr.payload_len = strlen(body);
    sr.region = cfg_region(m->cfg);
    sr.service = "ses";
    sr.now = time(NULL);
    sc.access_key = c->access_key;
    sc.secret_key = c->secret_key;
    sc.session_token = c->session_token;
    rc = sigv4_sign(&sr, &sc, &sig);
    if (rc != APP_OK) {
        json_object_put(req);
        return app_error_set(err, rc, "ses: cannot sign the request");
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    snprintf(line, sizeof(line), "X-Amz-Date: %s", sig.amz_date);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "Authorization: %s", sig.authorization);
    h = curl_slist_append(h, line);
    if (c->session_token[0]) {
        buf_init(&tok, sizeof(c->session_token) + 32);
        buf_printf(&tok, "X-Amz-Security-Token: %s", c->session_token);
        h = curl_slist_append(h, tok.data);
        buf_free(&tok);
    }
    h = curl_slist_append(h, "Expect:");
    buf_init(&resp, RESP_MAX);
    m->errbuf[0] = '\0';
    curl_easy_reset(m->curl);
    curl_easy_setopt(m->curl, CURLOPT_URL, url);
    curl_easy_setopt(m->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(m->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(m->curl, CURLOPT_POSTFIELDSIZE, (long)sr.payload_len);
    curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(m->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS, m->cfg->smtp_timeout_ms);
    curl_easy_setopt(m->curl, CURLOPT_TIMEOUT_MS, m->cfg->smtp_timeout_ms);
    curl_easy_setopt(m->curl, CURLOPT_ERRORBUFFER, m->errbuf);
    curl_easy_setopt(m->curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(m->curl, CURLOPT_WRITEDATA, &resp);
    cc = curl_easy_perform(m->curl);
    curl_slist_free_all(h);
    json_object_put(req);
    curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
        rc = curl_failure(m, cc, "ses", err);
    else if (status != 200)
        rc = ses_classify(status, resp.data ? resp.data : "", err);
    buf_free(&resp);
    return rc;
}

int
mailer_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
            struct app_error *err)
{
    if (strcmp(m->cfg->email_transport, "ses") == 0)
        return ses_send(m, from, to, msg, len, err);
    return smtp_send(m, from, to, msg, len, err);
}
