/*
 * jwt-cli: lib/jwt.c on stdin, for t/jwt/crosscheck.py.
 *
 *   jwt-cli JWKS-FILE
 *
 * The JWKS document is read from JWKS-FILE through the cache's fetch hook (no network).  One
 * JSON case per input line:
 *   {"id", "token", "now" (epoch seconds), "issuer", "client_ids" (comma-separated)}
 * One JSON line out for each:
 *   {"id", "rc", "reason", "sub", "email", "token_use", "client_id", "exp"}
 * "rc" is the APP_E* code, "reason" the slug ("ok" on success); the claims are there when
 * rc is 0.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/jwks.h"
#include "../../lib/jwt.h"

/* The fetch hook: the file named by ud. */
static int
fetch_file(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    (void)url;
    if (buf_read_file(out, (const char *)ud) != APP_OK)
        return app_error_set(err, APP_EUNAVAILABLE, "cannot read the JWKS file");
    return APP_OK;
}

static const char *
str_member(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Verify the case o; the reply object (the caller releases it). */
static struct json_object *
handle(struct jwks_cache *cache, struct json_object *o)
{
    struct json_object *reply = json_object_new_object(), *v;
    const char *token = str_member(o, "token");
    struct jwt_config cfg;
    struct jwt_claims claims;
    struct app_error err;
    enum jwt_reason why = JWT_OK;
    long long now = 0;
    int rc;

    if (json_object_object_get_ex(o, "id", &v))
        json_object_object_add(reply, "id", json_object_get(v));
    if (json_object_object_get_ex(o, "now", &v))
        now = (long long)json_object_get_int64(v);
    cfg.issuer = str_member(o, "issuer");
    cfg.client_ids = str_member(o, "client_ids");
    cfg.skew_s = -1;
    app_error_clear(&err);
    rc = jwt_verify(&claims, &why, cache, &cfg, token ? token : "", token ? strlen(token) : 0,
                    (time_t)now, &err);
    json_object_object_add(reply, "rc", json_object_new_int(rc));
    json_object_object_add(reply, "reason", json_object_new_string(jwt_reason_slug(why)));
    json_object_object_add(reply, "err_reason",
                           err.reason ? json_object_new_string(err.reason) : NULL);
    if (rc == APP_OK) {
        json_object_object_add(reply, "sub", json_object_new_string(claims.sub));
        json_object_object_add(reply, "email", json_object_new_string(claims.email));
        json_object_object_add(reply, "token_use", json_object_new_string(claims.token_use));
        json_object_object_add(reply, "client_id", json_object_new_string(claims.client_id));
        json_object_object_add(reply, "exp", json_object_new_int64(claims.exp));
    }
    return reply;
}

int
main(int argc, char **argv)
{
    struct jwks_cache cache;
    struct app_error err;
    struct json_object *o, *reply;
    char line[65536];
    int status = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: jwt-cli JWKS-FILE < cases\n");
        return 2;
    }
    app_error_clear(&err);
    if (jwks_cache_init(&cache, "https://jwks.invalid/.well-known/jwks.json", 300, fetch_file,
                        argv[1], &err) != APP_OK) {
        fprintf(stderr, "jwt-cli: %s\n", err.msg);
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        o = json_tokener_parse(line);
        if (!o) {
            fprintf(stderr, "jwt-cli: a line is not JSON\n");
            status = 1;
            continue;
        }
        reply = handle(&cache, o);
        printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
        json_object_put(reply);
        json_object_put(o);
    }
    jwks_cache_free(&cache);
    return status;
}
