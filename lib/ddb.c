#include "config.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cfg.h"
#include "ddb.h"
#include "log.h"
#include "mem.h"

#define DDB_RESPONSE_MAX (16 * 1024 * 1024)

struct ddb {
    CURL *curl;
    const struct cfg *cfg;
    char endpoint[512];
    char sigv4[128];
    char errbuf[CURL_ERROR_SIZE];
};

static size_t
write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;

    if (buf_append(b, p, size * n) != APP_OK)
        return 0; /* over the ceiling: curl aborts the transfer */
    return size * n;
}

struct ddb *
ddb_new(const struct cfg *cfg)
{
    struct ddb *d = xcalloc(1, sizeof(*d));
    char tmp[256];

    d->cfg = cfg;
    snprintf(d->endpoint, sizeof(d->endpoint), "%s",
             cfg_dynamodb_endpoint(cfg, tmp, sizeof(tmp)));
    snprintf(d->sigv4, sizeof(d->sigv4), "aws:amz:%s:dynamodb", cfg_region(cfg));
    d->curl = curl_easy_init();
    if (!d->curl) {
        free(d);
        return NULL;
    }
    return d;
}

void
ddb_free(struct ddb *d)
{
    if (!d)
        return;
    curl_easy_cleanup(d->curl);
    free(d);
}

int
ddb_call(struct ddb *d, const char *op, const char *body, long timeout_ms,
         struct buf *out, long *http_status, struct app_error *err)
{
    struct curl_slist *hdrs = NULL;
    char target[96];
    CURLcode cc;
    int rc = APP_OK;

    *http_status = 0;
    snprintf(target, sizeof(target), "X-Amz-Target: DynamoDB_20120810.%s", op);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.0");
    hdrs = curl_slist_append(hdrs, target);
    if (*d->cfg->aws_session_token) {
        struct buf tok;

        buf_init(&tok, 8192);
        buf_printf(&tok, "X-Amz-Security-Token: %s", d->cfg->aws_session_token);
        hdrs = curl_slist_append(hdrs, tok.data);
        buf_free(&tok);
    }
    if (!hdrs) {
        rc = app_error_set(err, APP_ENOMEM, "dynamodb: header list");
        goto done;
    }

    curl_easy_reset(d->curl);
    curl_easy_setopt(d->curl, CURLOPT_URL, d->endpoint);
    curl_easy_setopt(d->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     d->cfg->ddb_connect_timeout_ms < timeout_ms ?
                     d->cfg->ddb_connect_timeout_ms : timeout_ms);
    curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(d->curl, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, out);
    if (*d->cfg->aws_access_key_id) {
        curl_easy_setopt(d->curl, CURLOPT_AWS_SIGV4, d->sigv4);
        curl_easy_setopt(d->curl, CURLOPT_USERNAME, d->cfg->aws_access_key_id);
        curl_easy_setopt(d->curl, CURLOPT_PASSWORD, d->cfg->aws_secret_access_key);
    }
    d->errbuf[0] = '\0';

    cc = curl_easy_perform(d->curl);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = app_error_set(err, APP_ETIMEOUT, "dynamodb: no answer within %ld ms", timeout_ms);
        goto done;
    }
    if (cc != CURLE_OK) {
        rc = app_error_set(err, APP_EUNAVAILABLE, "dynamodb: %s",
                           d->errbuf[0] ? d->errbuf : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, http_status);
    if (*http_status != 200) {
        struct json_object *j = json_tokener_parse(out->data ? out->data : "");
        struct json_object *t = NULL;
        const char *type = "unknown error";

        if (j && json_object_object_get_ex(j, "__type", &t))
            type = json_object_get_string(t);
        rc = app_error_set(err, *http_status >= 500 ? APP_EUNAVAILABLE : APP_EUPSTREAM,
                           "dynamodb: HTTP %ld %s", *http_status, type);
        if (j)
            json_object_put(j);
    }
done:
    curl_slist_free_all(hdrs);
    return rc;
}

int
ddb_ping(struct ddb *d, long timeout_ms, struct app_error *err)
{
    struct buf out;
    long status;
    int rc;

    buf_init(&out, 64 * 1024);
    rc = ddb_call(d, "ListTables", "{\"Limit\":1}", timeout_ms, &out, &status, err);
    buf_free(&out);
    return rc;
}
