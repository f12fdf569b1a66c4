/*
 * sigv4-cli: lib/sigv4.c on stdin, for t/sigv4/crosscheck.py.
 *
 * One JSON request per input line:
 *   {"id", "method", "host", "path", "query" (string or null), "headers": [[name, value], ...],
 *    "body" (string) or "body_hex", "payload_hash" (string or null), "region", "service",
 *    "now" (epoch seconds), "access_key", "secret_key", "session_token" (string or null),
 *    "presign" (expires in seconds; absent or null to sign the headers)}
 * One JSON line out for each:
 *   {"id", "rc", "authorization", "amz_date", "payload_hash"}   (header signing)
 *   {"id", "rc", "query"}                                      (presigning)
 * "rc" is the APP_E* code; the other members are there when it is 0.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/sigv4.h"
#include "../../lib/strparse.h"

/* The string member key of o; NULL when absent, null or not a string. */
static const char *
str_member(struct json_object *o, const char *key, size_t *len)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    if (len)
        *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

/* Decode hex into a new allocation of len/2 bytes; NULL if it is not hex. */
static unsigned char *
unhex(const char *hex, size_t len, size_t *outlen)
{
    unsigned char *out;
    size_t i;

    if (len % 2)
        return NULL;
    out = malloc(len / 2 + 1);
    if (!out)
        return NULL;
    for (i = 0; i < len / 2; i++) {
        int hi = str_hexval((unsigned char)hex[2 * i]);
        int lo = str_hexval((unsigned char)hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    *outlen = len / 2;
    return out;
}

/* Sign or presign the request o; the reply object (the caller releases it). */
static struct json_object *
handle(struct json_object *o)
{
    struct json_object *reply = json_object_new_object(), *v, *hdrs = NULL;
    struct sigv4_request r;
    struct sigv4_creds c;
    struct sigv4_signed out;
    struct sigv4_header *h = NULL;
    unsigned char *body = NULL;
    const char *hex;
    size_t i, n = 0, hexlen = 0;
    struct buf q;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(&c, 0, sizeof(c));
    buf_init(&q, 1 << 20);
    if (json_object_object_get_ex(o, "id", &v))
        json_object_object_add(reply, "id", json_object_get(v));

    r.method = str_member(o, "method", NULL);
    r.host = str_member(o, "host", NULL);
    r.path = str_member(o, "path", NULL);
    r.query = str_member(o, "query", NULL);
    r.region = str_member(o, "region", NULL);
    r.service = str_member(o, "service", NULL);
    r.payload_hash = str_member(o, "payload_hash", NULL);
    if (json_object_object_get_ex(o, "now", &v))
        r.now = (time_t)json_object_get_int64(v);
    c.access_key = str_member(o, "access_key", NULL);
    c.secret_key = str_member(o, "secret_key", NULL);
    c.session_token = str_member(o, "session_token", NULL);

    hex = str_member(o, "body_hex", &hexlen);
    if (hex) {
        body = unhex(hex, hexlen, &r.payload_len);
        if (!body) {
            rc = APP_EBADREQUEST;
            goto done;
        }
        r.payload = body;
    } else {
        r.payload = str_member(o, "body", &r.payload_len);
    }

    if (json_object_object_get_ex(o, "headers", &hdrs) &&
        json_object_is_type(hdrs, json_type_array)) {
        n = json_object_array_length(hdrs);
        h = calloc(n ? n : 1, sizeof(*h));
        if (!h) {
            rc = APP_ENOMEM;
            goto done;
        }
        for (i = 0; i < n; i++) {
            struct json_object *pair = json_object_array_get_idx(hdrs, i);

            h[i].name = json_object_get_string(json_object_array_get_idx(pair, 0));
            h[i].value = json_object_get_string(json_object_array_get_idx(pair, 1));
        }
        r.headers = h;
        r.nheaders = n;
    }

    if (json_object_object_get_ex(o, "presign", &v) && !json_object_is_type(v, json_type_null)) {
        rc = sigv4_presign(&r, &c, (long)json_object_get_int64(v), &q);
        if (rc == APP_OK)
            json_object_object_add(reply, "query", json_object_new_string_len(q.data,
                                                                              (int)q.len));
    } else {
        rc = sigv4_sign(&r, &c, &out);
        if (rc == APP_OK) {
            json_object_object_add(reply, "authorization",
                                   json_object_new_string(out.authorization));
            json_object_object_add(reply, "amz_date", json_object_new_string(out.amz_date));
            json_object_object_add(reply, "payload_hash",
                                   json_object_new_string(out.payload_hash));
        }
    }

done:
    json_object_object_add(reply, "rc", json_object_new_int(rc));
    buf_free(&q);
    free(h);
    free(body);
    return reply;
}

int
main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;

    for (;;) {
        struct json_object *o, *reply;

        len = getline(&line, &cap, stdin);
        if (len < 0)
            break;
        if (len == 0 || line[0] == '\n')
            continue;
        o = json_tokener_parse(line);
        if (!o || !json_object_is_type(o, json_type_object)) {
            fprintf(stderr, "sigv4-cli: not a JSON object: %s", line);
            json_object_put(o);
            status = 1;
            continue;
        }
        reply = handle(o);
        printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(stdout);
        json_object_put(reply);
        json_object_put(o);
    }
    free(line);
    return status;
}
