/*
 * s3-cli: lib/s3.c on stdin, for t/sigv4/s3_crosscheck.py and live checks.
 *
 * One JSON object per input line:
 *   {"id", "op": "presign" (default) or "head",
 *    "endpoint_s3" (AWS_ENDPOINT_URL_S3), "endpoint" (AWS_ENDPOINT_URL): string or null,
 *    "region", "bucket", "style" ("virtual" or "path"), "key",
 *    "access_key", "secret_key", "session_token" (string or null),
 *    presign: "content_type", "content_length", "expires" (seconds; 0: the setting),
 *             "now" (epoch seconds), "max_bytes" (S3_UPLOAD_MAX_BYTES; default 104857600)
 *    head:    "timeout_ms" (S3_TIMEOUT_MS; default 5000)}
 * One JSON line out for each:
 *   {"id", "rc", "url"}                          (presign)
 *   {"id", "rc", "size", "content_type"}         (head)
 * "rc" is the APP_E* code; the other members are there when it is 0, "msg" when it is not.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/errors.h"
#include "../../lib/s3.h"

/* The string member key of o; def when absent, null or not a string. */
static const char *
str_member(struct json_object *o, const char *key, const char *def)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return def;
    return json_object_get_string(v);
}

static long long
int_member(struct json_object *o, const char *key, long long def)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return def;
    return (long long)json_object_get_int64(v);
}

/* Run the case o with settings derived from base; the reply object (the caller's). */
static struct json_object *
handle(const struct cfg *base, struct json_object *o)
{
    struct json_object *reply = json_object_new_object(), *v;
    struct cfg c = *base;           /* shallow: the strings below belong to o */
    struct creds_provider *cp = NULL;
    struct s3 *s = NULL;
    struct app_error err;
    const char *op = str_member(o, "op", "presign");
    struct buf url;
    int rc;

    app_error_clear(&err);
    buf_init(&url, 1 << 16);
    if (json_object_object_get_ex(o, "id", &v))
        json_object_object_add(reply, "id", json_object_get(v));
    c.aws_endpoint_url_s3 = (char *)str_member(o, "endpoint_s3", "");
    c.aws_endpoint_url = (char *)str_member(o, "endpoint", "");
    snprintf(c.region, sizeof(c.region), "%s", str_member(o, "region", "us-east-1"));
    c.s3_bucket = (char *)str_member(o, "bucket", "");
    c.s3_addressing_style = (char *)str_member(o, "style", "virtual");
    c.aws_access_key_id = (char *)str_member(o, "access_key", "");
    c.aws_secret_access_key = (char *)str_member(o, "secret_key", "");
    c.aws_session_token = (char *)str_member(o, "session_token", "");
    c.imds_disabled = (char *)"true";
    c.s3_upload_max_bytes = (long)int_member(o, "max_bytes", 104857600);
    c.s3_timeout_ms = (long)int_member(o, "timeout_ms", 5000);

    cp = creds_new(&c);
    s = s3_new(&c, cp);
    if (!s) {
        rc = app_error_set(&err, APP_ECONFIG, "s3_new failed");
    } else if (strcmp(op, "head") == 0) {
        long long size = -1;
        char ctype[256];

        rc = s3_head(s, str_member(o, "key", NULL), &size, ctype, sizeof(ctype), &err);
        if (rc == APP_OK) {
            json_object_object_add(reply, "size", json_object_new_int64(size));
            json_object_object_add(reply, "content_type", json_object_new_string(ctype));
        }
    } else {
        rc = s3_presign_put(s, str_member(o, "key", NULL), str_member(o, "content_type", NULL),
                            int_member(o, "content_length", 0),
                            (long)int_member(o, "expires", 0),
                            (time_t)int_member(o, "now", 0), &url, &err);
        if (rc == APP_OK)
            json_object_object_add(reply, "url", json_object_new_string_len(url.data,
                                                                            (int)url.len));
    }
    json_object_object_add(reply, "rc", json_object_new_int(rc));
    if (rc != APP_OK)
        json_object_object_add(reply, "msg", json_object_new_string(err.msg));
    s3_free(s);
    creds_free(cp);
    buf_free(&url);
    return reply;
}

int
main(void)
{
    struct cfg base;
    char *line = NULL, msg[256];
    size_t cap = 0;
    ssize_t len;
    int status = 0;

    if (cfg_load(&base, NULL, 0, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "s3-cli: %s\n", msg);
        return 1;
    }
    for (;;) {
        struct json_object *o, *reply;

        len = getline(&line, &cap, stdin);
        if (len < 0)
            break;
        if (len == 0 || line[0] == '\n')
            continue;
        o = json_tokener_parse(line);
        if (!o || !json_object_is_type(o, json_type_object)) {
            fprintf(stderr, "s3-cli: not a JSON object: %s", line);
            json_object_put(o);
            status = 1;
            continue;
        }
        reply = handle(&base, o);
        printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(stdout);
        json_object_put(reply);
        json_object_put(o);
    }
    free(line);
    cfg_free(&base);
    return status;
}
