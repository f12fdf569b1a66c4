/*
 * The mail transports (see mailer.h).  Both take the same MIME bytes, so what a recipient
 * sees does not depend on the transport: SES's SendEmail is used with raw content.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "aws.h"
#include "cfg.h"
#include "http.h"
#include "mailer.h"
#include "mem.h"

#define SES_PATH "/v2/email/outbound-emails"

/* One attempt: a message that could not be sent waits in the outbox for its next try. */
static const struct aws_service ses_service = {
    .name = "ses",
    .endpoint_label = "email",
    .answer_max = 64 * 1024,
    .attempt_min_ms = 1,
    .net_code = APP_EUNAVAILABLE,
    .toolarge_code = APP_EUNAVAILABLE,
};

struct mailer {
    const struct cfg *cfg;
    int ses;                        /* EMAIL_TRANSPORT=ses */
    struct aws aws;                 /* SES */
    struct http_conn smtp;
};

struct upload {
    const char *p;
    size_t left;
};

struct mailer *
mailer_new(const struct cfg *cfg, struct creds_provider *creds)
{
    struct mailer *m = xcalloc(1, sizeof(*m));
    int rc;

    m->cfg = cfg;
    m->ses = strcmp(cfg->email_transport, "ses") == 0;
    if (m->ses)
        rc = aws_init(&m->aws, &ses_service, cfg, creds, cfg->aws_endpoint_url_sesv2,
                      cfg->smtp_timeout_ms);
    else
        rc = http_conn_init(&m->smtp, 0);
    if (rc != 0) {
        mailer_free(m);
        return NULL;
    }
    return m;
}

void
mailer_free(struct mailer *m)
{
    if (!m)
        return;
    if (m->ses)
        aws_free(&m->aws);
    else
        http_conn_free(&m->smtp);
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
smtp_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
          struct app_error *err)
{
    const struct cfg *c = m->cfg;
    struct curl_slist *rcpt = NULL;
    struct upload u = { msg, len };
    char addr[300];
    long reply = 0;
    CURL *h = m->smtp.curl;
    CURLcode cc;

    snprintf(addr, sizeof(addr), "<%s>", to);
    rcpt = curl_slist_append(rcpt, addr);
    snprintf(addr, sizeof(addr), "<%s>", from);
    m->smtp.errbuf[0] = '\0';
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, c->smtp_url);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     strcmp(c->smtp_starttls, "required") == 0 ? (long)CURLUSESSL_ALL :
                     strcmp(c->smtp_starttls, "try") == 0 ? (long)CURLUSESSL_TRY :
                     (long)CURLUSESSL_NONE);
    if (*c->smtp_username) {
        curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->smtp_password);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->smtp_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->smtp_timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, m->smtp.errbuf);
    cc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    if (cc == CURLE_OK)
        return APP_OK;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    /* 550-554: the mailbox or the message is refused for good; anything else may pass
     * later (4xx, a server down, 530 until the operator fixes the credentials). */
    if (reply >= 550 && reply <= 554)
        return app_error_set(err, APP_EUNPROCESSABLE, "smtp: refused with %ld: %s", reply,
                             http_conn_error(&m->smtp, cc));
    return app_error_set(err, cc == CURLE_OPERATION_TIMEDOUT ? APP_ETIMEOUT : APP_EUNAVAILABLE,
                         "smtp: %s", http_conn_error(&m->smtp, cc));
}

/* SES's answer: 200 sent; else the code says whether to try again later. */
static enum aws_outcome
ses_answer(void *ud, const struct aws_answer *a, int *code, struct app_error *err)
{
    struct json_object *v;
    char type[96] = "";

    (void)ud;
    if (a->status == 200) {
        *code = APP_OK;
        return AWS_OK;
    }
    if (a->body && (json_object_object_get_ex(a->body, "__type", &v) ||
                    json_object_object_get_ex(a->body, "code", &v)))
        snprintf(type, sizeof(type), "%s", json_object_get_string(v));
    if (a->status == 429 || a->status >= 500 || strstr(type, "TooManyRequests") ||
        strstr(type, "LimitExceeded") || strstr(type, "Throttl"))
        *code = APP_EUNAVAILABLE;
    else if (a->status == 400 && (strstr(type, "MessageRejected") ||
                                  strstr(type, "BadRequest")))
        *code = APP_EUNPROCESSABLE;
    else
        *code = APP_EUPSTREAM;  /* 403 signature/permission, account states: fix, then retry */
    app_error_set(err, *code, "ses: HTTP %ld %s", a->status, type);
    return AWS_FAIL;
}

static int
ses_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
         struct app_error *err)
{
    static const struct sigv4_header h[1] = {{"Content-Type", "application/json"}};
    struct json_object *req, *dest, *tos, *content, *raw, *data;
    unsigned char *b64;
    struct aws_call k;
    int rc;

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

    /* not .json: the body keeps the '/'s of its base64 escaped, as SES has always had it */
    k = (struct aws_call){
        .path = SES_PATH, .headers = h, .nheaders = 1,
        .body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
        .budget_ms = m->cfg->smtp_timeout_ms, .max_attempts = 1, .answer = ses_answer,
    };
    k.body_len = strlen(k.body);
    rc = aws_call(&m->aws, &k, NULL, err);
    json_object_put(req);
    return rc;
}

int
mailer_send(struct mailer *m, const char *from, const char *to, const char *msg, size_t len,
            struct app_error *err)
{
    if (m->ses)
        return ses_send(m, from, to, msg, len, err);
    return smtp_send(m, from, to, msg, len, err);
}
