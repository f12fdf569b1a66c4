/*
 * SNS message verification (see sns.h): the string to sign, the hosts a certificate or a
 * confirmation may come from, the certificate cache and the RSA check.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "http.h"
#include "log.h"
#include "sns.h"
#include "strparse.h"

#define SIG_B64_MAX 1400               /* an 8192-bit RSA signature in base64 */
#define AUTH_MAX 256

struct field {
    const char *name;
    size_t off;
    int optional;
};

#define F(n, m, o) {n, offsetof(struct sns_msg, m), o}

/* The members signed, in the order AWS lists them (byte order of the names). */
static const struct field notification_fields[] = {
    F("Message", message, 0), F("MessageId", message_id, 0), F("Subject", subject, 1),
    F("Timestamp", timestamp, 0), F("TopicArn", topic_arn, 0), F("Type", type_name, 0),
};
static const struct field confirmation_fields[] = {
    F("Message", message, 0), F("MessageId", message_id, 0),
    F("SubscribeURL", subscribe_url, 0), F("Timestamp", timestamp, 0), F("Token", token, 0),
    F("TopicArn", topic_arn, 0), F("Type", type_name, 0),
};

static const char **
member(const struct sns_msg *m, size_t off)
{
    return (const char **)((char *)(uintptr_t)m + off);
}

/* A string member without NUL bytes: 1 and *out; 0 when absent or null; -1 when not one. */
static int
str_member(struct json_object *o, const char *name, const char **out)
{
    struct json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(o, name, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string) ||
        strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
        return -1;
    *out = json_object_get_string(v);
    return 1;
}

int
sns_parse(struct sns_msg *out, struct json_object *body, struct app_error *err)
{
    const struct field *fs;
    const char *v;
    size_t i, n;

    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(body, json_type_object) ||
        str_member(body, "Type", &out->type_name) != 1)
        return app_error_reason(err, APP_EBADREQUEST, "malformed", "not an SNS message");
    if (strcmp(out->type_name, "Notification") == 0)
        out->type = SNS_NOTIFICATION;
    else if (strcmp(out->type_name, "SubscriptionConfirmation") == 0)
        out->type = SNS_SUBSCRIBE;
    else if (strcmp(out->type_name, "UnsubscribeConfirmation") == 0)
        out->type = SNS_UNSUBSCRIBE;
    else
        return app_error_reason(err, APP_EBADREQUEST, "unknown_type",
                                "unknown SNS message type");
    fs = out->type == SNS_NOTIFICATION ? notification_fields : confirmation_fields;
    n = out->type == SNS_NOTIFICATION ? sizeof(notification_fields) / sizeof(fs[0]) :
        sizeof(confirmation_fields) / sizeof(fs[0]);
    for (i = 0; i < n; i++) {
        int got = str_member(body, fs[i].name, member(out, fs[i].off));

        if (got < 0 || (got == 0 && !fs[i].optional))
            return app_error_reason(err, APP_EBADREQUEST, "malformed",
                                    "SNS message without a usable %s", fs[i].name);
    }
    if (str_member(body, "SigningCertURL", &out->signing_cert_url) != 1 ||
        str_member(body, "Signature", &out->signature) != 1 ||
        str_member(body, "SignatureVersion", &v) != 1)
        return app_error_reason(err, APP_EBADREQUEST, "malformed",
                                "SNS message without its signature");
    if (strcmp(v, "1") == 0)
        out->version = 1;
    else if (strcmp(v, "2") == 0)
        out->version = 2;
    else
        return app_error_reason(err, APP_EBADREQUEST, "malformed",
                                "unknown SNS SignatureVersion");
    return APP_OK;
}

int
sns_string_to_sign(const struct sns_msg *m, struct buf *out, struct app_error *err)
{
    const struct field *fs = m->type == SNS_NOTIFICATION ? notification_fields :
                             confirmation_fields;
    size_t i, n = m->type == SNS_NOTIFICATION ?
                  sizeof(notification_fields) / sizeof(fs[0]) :
                  sizeof(confirmation_fields) / sizeof(fs[0]);

    for (i = 0; i < n; i++) {
        const char *v = *member(m, fs[i].off);

        if (!v)
            continue;
        if (buf_printf(out, "%s\n", fs[i].name) != 0 || buf_puts(out, v) != 0 ||
            buf_puts(out, "\n") != 0)
            return app_error_set(err, APP_ENOMEM, "sns: the string to sign is too long");
    }
    return APP_OK;
}

/* One comma-separated entry at a time: *p moves past it; 0 when the list is done. */
static int
next_entry(const char **p, const char **s, size_t *n)
{
    const char *q = *p + strspn(*p, " ,");

    if (*q == '\0')
        return 0;
    *s = q;
    *n = strcspn(q, ", ");
    *p = q + *n;
    return 1;
}

int
sns_topic_allowed(const char *list, const char *arn)
{
    const char *p = list, *s;
    size_t n;

    if (!arn || !list)
        return 0;
    while (next_entry(&p, &s, &n))
        if (n == strlen(arn) && memcmp(s, arn, n) == 0)
            return 1;
    return 0;
}

/* The scheme and authority (host[:port], lowercased) of an http(s) URL: 0, or -1. */
static int
url_authority(const char *url, int *https, char *out, size_t outlen)
{
    const char *p;
    size_t i, n;

    for (i = 0; url[i]; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return -1;
    if (strncmp(url, "https://", 8) == 0) {
        *https = 1;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        *https = 0;
        p = url + 7;
    } else {
        return -1;
    }
    n = strcspn(p, "/?#");
    if (n == 0 || n >= outlen)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (!isalnum(c) && !strchr(".-:[]", c))
            return -1;                 /* no user info, no escapes */
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return 0;
}

/* sns.<region>.amazonaws.com (.com.cn in China) for arn:<partition>:sns:<region>:... */
static int
default_host(const char *arn, char *out, size_t outlen)
{
    char part[32], region[32];
    const char *p = arn, *q;
    size_t n;

    if (!arn || strncmp(p, "arn:", 4) != 0)
        return -1;
    p += 4;
    q = strchr(p, ':');
    if (!q || (size_t)(q - p) >= sizeof(part))
        return -1;
    memcpy(part, p, (size_t)(q - p));
    part[q - p] = '\0';
    p = q + 1;
    if (strncmp(p, "sns:", 4) != 0)
        return -1;
    p += 4;
    n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (n == 0 || n >= sizeof(region) || p[n] != ':')
        return -1;
    memcpy(region, p, n);
    region[n] = '\0';
    snprintf(out, outlen, "sns.%s.amazonaws.com%s", region,
             strcmp(part, "aws-cn") == 0 ? ".cn" : "");
    return 0;
}

int
sns_url_allowed(const char *hosts, const char *topic_arn, const char *url)
{
    char auth[AUTH_MAX], def[AUTH_MAX];
    const char *p = hosts ? hosts : "", *s;
    size_t n;
    int https;

    if (!url || url_authority(url, &https, auth, sizeof(auth)) != 0)
        return 0;
    if (!https && !str_host_is_loopback(auth))
        return 0;
    if (!*p) {
        return https && default_host(topic_arn, def, sizeof(def)) == 0 &&
               strcmp(def, auth) == 0;
    }
    while (next_entry(&p, &s, &n))
        if (n == strlen(auth) && strncasecmp(s, auth, n) == 0)
            return 1;
    return 0;
}

int
sns_settings_check(const char *topics, const char *hosts, char *err, size_t errlen)
{
    char def[AUTH_MAX], one[AUTH_MAX];
    const char *p = topics ? topics : "", *s;
    size_t n, i;

    while (next_entry(&p, &s, &n)) {
        if (n >= sizeof(one)) {
            snprintf(err, errlen, "SES_EVENTS_TOPIC_ARN: an entry is too long");
            return -1;
        }
        memcpy(one, s, n);
        one[n] = '\0';
        if (default_host(one, def, sizeof(def)) != 0 || strchr(one, ';')) {
            snprintf(err, errlen, "SES_EVENTS_TOPIC_ARN must list SNS topic ARNs "
                     "(arn:aws:sns:<region>:<account>:<name>, comma-separated)");
            return -1;
        }
    }
    p = hosts ? hosts : "";
    while (next_entry(&p, &s, &n)) {
        for (i = 0; i < n; i++) {
            if (!isalnum((unsigned char)s[i]) && !strchr(".-:[]", s[i])) {
                snprintf(err, errlen, "SNS_ALLOWED_HOSTS must list host or host:port "
                         "entries, comma-separated");
                return -1;
            }
        }
        if (n >= AUTH_MAX) {
            snprintf(err, errlen, "SNS_ALLOWED_HOSTS: an entry is too long");
            return -1;
        }
    }
    return 0;
}

int
sns_check_signature(const struct sns_msg *m, X509 *cert, time_t now, struct app_error *err)
{
    unsigned char sig[SIG_B64_MAX];
    EVP_PKEY *pk = X509_get0_pubkey(cert);
    EVP_MD_CTX *mc = NULL;
    size_t b64len = strlen(m->signature);
    int siglen, rc = APP_OK;
    struct buf tbs;

    buf_init(&tbs, 256 * 1024);
    if (!pk || EVP_PKEY_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_bits(pk) < 2048) {
        rc = app_error_reason(err, APP_EFORBIDDEN, "bad_certificate",
                              "sns: the certificate's key is not RSA of 2048 bits or more");
        goto done;
    }
    if (X509_cmp_time(X509_get0_notBefore(cert), &now) != -1 ||
        X509_cmp_time(X509_get0_notAfter(cert), &now) != 1) {
        rc = app_error_reason(err, APP_EFORBIDDEN, "bad_certificate",
                              "sns: the certificate is not valid now");
        goto done;
    }
    siglen = b64len > 0 && b64len % 4 == 0 && b64len < SIG_B64_MAX ?
             EVP_DecodeBlock(sig, (const unsigned char *)m->signature, (int)b64len) : -1;
    if (siglen > 0 && m->signature[b64len - 1] == '=')
        siglen -= m->signature[b64len - 2] == '=' ? 2 : 1;
    rc = sns_string_to_sign(m, &tbs, err);
    if (rc != APP_OK)
        goto done;
    mc = EVP_MD_CTX_new();
    if (siglen <= 0 || !mc ||
        EVP_DigestVerifyInit(mc, NULL, m->version == 2 ? EVP_sha256() : EVP_sha1(), NULL,
                             pk) != 1 ||
        EVP_DigestVerify(mc, sig, (size_t)siglen, (const unsigned char *)tbs.data,
                         tbs.len) != 1)
        rc = app_error_reason(err, APP_EFORBIDDEN, "bad_signature",
                              "sns: the signature does not verify");
done:
    if (mc)
        EVP_MD_CTX_free(mc);
    buf_free(&tbs);
    return rc;
}

/* --- the certificate cache --------------------------------------------------------------- */

struct slot {
    char url[512];
    X509 *cert;
    time_t at;
};

static struct slot slots[SNS_CERT_SLOTS];

void
sns_cache_clear(void)
{
    size_t i;

    for (i = 0; i < SNS_CERT_SLOTS; i++) {
        if (slots[i].cert)
            X509_free(slots[i].cert);
        memset(&slots[i], 0, sizeof(slots[i]));
    }
}

static int
cert_for(X509 **out, const char *url, const struct sns_policy *p, time_t now,
         struct app_error *err)
{
    struct slot *s = NULL, *oldest = &slots[0];
    struct app_error e2;
    struct buf doc;
    BIO *bio;
    size_t i;
    int rc;

    for (i = 0; i < SNS_CERT_SLOTS; i++) {
        if (slots[i].cert && strcmp(slots[i].url, url) == 0)
            s = &slots[i];
        if (!slots[i].cert || (oldest->cert && slots[i].at < oldest->at))
            oldest = &slots[i];
    }
    if (s && now >= s->at && now - s->at < SNS_CERT_KEEP_S) {
        *out = s->cert;
        return APP_OK;
    }
    if (strlen(url) >= sizeof(s->url))
        return app_error_reason(err, APP_EFORBIDDEN, "host_not_allowed",
                                "sns: SigningCertURL is too long");
    if (!s)
        s = oldest;
    app_error_clear(&e2);
    buf_init(&doc, SNS_CERT_MAX);
    rc = (p->fetch ? p->fetch : sns_fetch_curl)(&doc, url, p->fetch_ud, &e2);
    if (rc != APP_OK) {
        LOG(LL_ERROR, "sns: cannot fetch the certificate %s: %s", url, e2.msg);
        buf_free(&doc);
        return app_error_reason(err, APP_EUNAVAILABLE, "certificate_unavailable",
                                "sns: the signing certificate could not be fetched");
    }
    bio = BIO_new_mem_buf(doc.data ? doc.data : "", (int)doc.len);
    *out = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    if (bio)
        BIO_free(bio);
    buf_free(&doc);
    if (!*out)
        return app_error_reason(err, APP_EFORBIDDEN, "bad_certificate",
                                "sns: SigningCertURL holds no PEM certificate");
    if (s->cert)
        X509_free(s->cert);
    snprintf(s->url, sizeof(s->url), "%s", url);
    s->cert = *out;
    s->at = now;
    return APP_OK;
}

int
sns_verify(const struct sns_msg *m, const struct sns_policy *p, time_t now,
           struct app_error *err)
{
    X509 *cert = NULL;
    int rc;

    if (!sns_topic_allowed(p->topics, m->topic_arn))
        return app_error_reason(err, APP_EFORBIDDEN, "topic_not_allowed",
                                "sns: the topic is not one this endpoint accepts");
    if (!sns_url_allowed(p->hosts, m->topic_arn, m->signing_cert_url) ||
        (m->type != SNS_NOTIFICATION &&
         !sns_url_allowed(p->hosts, m->topic_arn, m->subscribe_url)))
        return app_error_reason(err, APP_EFORBIDDEN, "host_not_allowed",
                                "sns: a URL of the message is not on an allowed SNS host");
    rc = cert_for(&cert, m->signing_cert_url, p, now, err);
    if (rc != APP_OK)
        return rc;
    return sns_check_signature(m, cert, now, err);
}

int
sns_confirm(const struct sns_msg *m, const struct sns_policy *p, struct app_error *err)
{
    struct buf doc;
    int rc;

    if (m->type != SNS_SUBSCRIBE || !sns_url_allowed(p->hosts, m->topic_arn, m->subscribe_url))
        return app_error_reason(err, APP_EFORBIDDEN, "host_not_allowed",
                                "sns: SubscribeURL is not on an allowed SNS host");
    buf_init(&doc, SNS_CERT_MAX);
    rc = (p->fetch ? p->fetch : sns_fetch_curl)(&doc, m->subscribe_url, p->fetch_ud, err);
    buf_free(&doc);
    return rc;
}

/* --- fetching ---------------------------------------------------------------------------- */

static struct http_conn conn;          /* the worker's, reused */
static int conn_ready;

int
sns_fetch_curl(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    struct http_req r;
    long status = 0;
    CURLcode cc;

    (void)ud;
    if (!conn_ready) {
        if (http_conn_init(&conn, SNS_CERT_MAX) != 0)
            return app_error_set(err, APP_ENOMEM, "sns: curl_easy_init failed");
        conn_ready = 1;
    }
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.url = url;
    r.connect_ms = SNS_FETCH_TIMEOUT_MS;
    r.left_ms = SNS_FETCH_TIMEOUT_MS;
    http_conn_prepare(&conn, &r);
    curl_easy_setopt(conn.curl, CURLOPT_PROTOCOLS_STR,
                     strncmp(url, "https://", 8) == 0 ? "https" : "http");
    curl_easy_setopt(conn.curl, CURLOPT_FOLLOWLOCATION, 0L);
    cc = curl_easy_perform(conn.curl);
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return app_error_set(err, APP_ETIMEOUT, "sns: GET timed out");
    if (cc != CURLE_OK)
        return app_error_set(err, APP_EUNAVAILABLE, "sns: GET failed: %s",
                             http_conn_error(&conn, cc));
    curl_easy_getinfo(conn.curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return app_error_set(err, APP_EUPSTREAM, "sns: GET answered %ld", status);
    if (buf_append(out, conn.resp.data ? conn.resp.data : "", conn.resp.len) != 0)
        return app_error_set(err, APP_ENOMEM, "sns: the answer is too large");
    return APP_OK;
}
