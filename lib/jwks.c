/*
 * A Cognito user pool's JWKS: parsing into OpenSSL 3 public keys (EVP_PKEY_fromdata with n
 * and e), and the per-process cache that fetches it over HTTPS with libcurl.
 */
#include "config.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jwks.h"
#include "strparse.h"
#include "jwt.h"
#include "log.h"

/* The string member key of o; NULL when absent or not a string. */
static const char *
member_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* A big-endian base64url integer as a BIGNUM (the caller frees it); NULL when not valid. */
static BIGNUM *
b64url_bn(const char *s, size_t maxbytes)
{
    unsigned char raw[JWKS_MAX_BITS / 8 + 8];
    long n;

    if (!s)
        return NULL;
    n = jwt_b64url_decode(raw, sizeof(raw), s, strlen(s));
    if (n <= 0 || (size_t)n > maxbytes)
        return NULL;
    return BN_bin2bn(raw, (int)n, NULL);
}

/* An RSA public key from n and e; NULL when OpenSSL refuses them. */
static EVP_PKEY *
rsa_from_ne(const BIGNUM *n, const BIGNUM *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (!bld)
        goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (!params)
        goto done;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto done;
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* The key described by jwk, or NULL (with why) when it is not a usable RS256 signing key. */
static EVP_PKEY *
jwk_key(struct json_object *jwk, const char **why)
{
    const char *kty = member_str(jwk, "kty"), *alg, *use;
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY *pkey = NULL;
    int bits;

    if (!kty || strcmp(kty, "RSA") != 0) {
        *why = "kty is not RSA";
        return NULL;
    }
    alg = member_str(jwk, "alg");
    use = member_str(jwk, "use");
    if ((json_object_object_get_ex(jwk, "alg", NULL) && (!alg || strcmp(alg, "RS256") != 0))
        || (json_object_object_get_ex(jwk, "use", NULL) && (!use || strcmp(use, "sig") != 0))) {
        *why = "not an RS256 signing key";
        return NULL;
    }
    n = b64url_bn(member_str(jwk, "n"), JWKS_MAX_BITS / 8 + 1);
    e = b64url_bn(member_str(jwk, "e"), 8);
    if (!n || !e) {
        *why = "n or e is not base64url";
        goto done;
    }
    bits = BN_num_bits(n);
    if (bits < JWKS_MIN_BITS || bits > JWKS_MAX_BITS) {
        *why = "modulus size out of range";
        goto done;
    }
    if (!BN_is_odd(e) || BN_is_one(e) || BN_num_bits(e) > 33) {
        *why = "bad public exponent";
        goto done;
    }
    pkey = rsa_from_ne(n, e);
    if (!pkey)
        *why = "OpenSSL refused n and e";
done:
    BN_free(e);
    BN_free(n);
    return pkey;
}

void
jwks_set_free(struct jwks_set *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        EVP_PKEY_free(s->keys[i].pkey);
    memset(s, 0, sizeof(*s));
}

EVP_PKEY *
jwks_set_find(const struct jwks_set *s, const char *kid)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->keys[i].kid, kid) == 0)
            return s->keys[i].pkey;
    return NULL;
}

int
jwks_parse(struct jwks_set *out, const char *doc, size_t len, struct app_error *err)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *root = NULL, *keys, *jwk;
    const char *kid, *why;
    EVP_PKEY *pkey;
    size_t i, nkeys;
    int rc = APP_EUPSTREAM;

    memset(out, 0, sizeof(*out));
    if (!tok)
        return app_error_set(err, APP_ENOMEM, "jwks: no tokener");
    if (len > JWKS_MAX_DOC || len > (size_t)INT32_MAX) {
        app_error_set(err, rc, "jwks: document too large");
        goto done;
    }
    root = json_tokener_parse_ex(tok, doc, (int)len);
    if (!root || json_tokener_get_parse_end(tok) != len
        || !json_object_is_type(root, json_type_object)
        || !json_object_object_get_ex(root, "keys", &keys)
        || !json_object_is_type(keys, json_type_array)) {
        app_error_set(err, rc, "jwks: not a JSON object with a keys array");
        goto done;
    }
    nkeys = json_object_array_length(keys);
    for (i = 0; i < nkeys && out->n < JWKS_MAX_KEYS; i++) {
        jwk = json_object_array_get_idx(keys, i);
        kid = json_object_is_type(jwk, json_type_object) ? member_str(jwk, "kid") : NULL;
        if (!kid || !kid[0] || strlen(kid) >= JWKS_MAX_KID) {
            LOG(LL_WARN, "jwks: key %zu skipped: no usable kid", i);
            continue;
        }
        if (jwks_set_find(out, kid)) {
            LOG(LL_WARN, "jwks: key %zu skipped: duplicate kid", i);
            continue;
        }
        why = NULL;
        pkey = jwk_key(jwk, &why);
        if (!pkey) {
            LOG(LL_WARN, "jwks: key %zu skipped: %s", i, why ? why : "unusable");
            continue;
        }
        snprintf(out->keys[out->n].kid, sizeof(out->keys[0].kid), "%s", kid);
        out->keys[out->n].pkey = pkey;
        out->n++;
    }
    rc = APP_OK;
done:
    json_object_put(root);
    json_tokener_free(tok);
    return rc;
}

int
jwks_url_ok(const char *url)
{
    if (!url)
        return 0;
    if (strncmp(url, "https://", 8) == 0)
        return url[8] != '\0' && url[8] != '/';
    if (strncmp(url, "http://", 7) == 0)
        return str_host_is_loopback(url + 7);
    return 0;
}

int
jwks_cache_init(struct jwks_cache *c, const char *url, long refetch_s, jwks_fetch_fn fetch,
                void *fetch_ud, struct app_error *err)
{
    memset(c, 0, sizeof(*c));
    if (!jwks_url_ok(url))
        return app_error_set(err, APP_ECONFIG,
                             "jwks: the URL must be https:// (http:// only for loopback)");
    if (strlen(url) >= sizeof(c->url))
        return app_error_set(err, APP_ECONFIG, "jwks: the URL is too long");
    snprintf(c->url, sizeof(c->url), "%s", url);
    c->refetch_s = refetch_s > 0 ? refetch_s : JWKS_REFETCH_S;
    c->fetch = fetch ? fetch : jwks_fetch_curl;
    c->fetch_ud = fetch_ud;
    return APP_OK;
}

void
jwks_cache_free(struct jwks_cache *c)
{
    jwks_set_free(&c->set);
}

/* Fetch and parse the document; on success the new set replaces the old.  0 or a code. */
static int
cache_refresh(struct jwks_cache *c, time_t now, struct app_error *err)
{
    struct app_error e2;
    struct jwks_set fresh;
    struct buf doc;
    int rc;

    app_error_clear(&e2);
    buf_init(&doc, JWKS_MAX_DOC);
    c->last_attempt = now;
    c->fetches++;
    rc = c->fetch(&doc, c->url, c->fetch_ud, &e2);
    if (rc == APP_OK)
        rc = jwks_parse(&fresh, doc.data ? doc.data : "", doc.len, &e2);
    if (rc == APP_OK && fresh.n == 0) {
        jwks_set_free(&fresh);
        rc = app_error_set(&e2, APP_EUPSTREAM, "jwks: no usable RS256 key in the document");
    }
    if (rc != APP_OK) {
        c->last_failed = 1;
        LOG(LL_ERROR, "jwks: fetch failed url=%s code=%d: %s", c->url, rc, e2.msg);
        rc = app_error_reason(err, APP_EUNAVAILABLE, "jwks_unavailable",
                              "jwks: the signing keys could not be fetched");
        goto done;
    }
    jwks_set_free(&c->set);
    c->set = fresh;
    c->last_failed = 0;
    LOG(LL_INFO, "jwks: loaded keys=%zu url=%s", c->set.n, c->url);
done:
    buf_free(&doc);
    return rc;
}

int
jwks_cache_key(EVP_PKEY **out, struct jwks_cache *c, const char *kid, time_t now,
               struct app_error *err)
{
    long wait;
    int rc;

    *out = jwks_set_find(&c->set, kid);
    if (*out)
        return APP_OK;
    wait = c->last_failed ? JWKS_RETRY_S : c->refetch_s;
    if (c->last_attempt == 0 || now - c->last_attempt >= wait || now < c->last_attempt) {
        rc = cache_refresh(c, now, err);
        if (rc != APP_OK)
            return rc;
        *out = jwks_set_find(&c->set, kid);
        if (*out)
            return APP_OK;
    } else if (c->set.n == 0) {
        return app_error_reason(err, APP_EUNAVAILABLE, "jwks_unavailable",
                                "jwks: no signing keys yet (the last fetch failed)");
    }
    return app_error_reason(err, APP_EUNAUTHORIZED, "unknown_kid",
                            "jwt: the token's key is not one of the user pool's");
}

int
jwks_fetch_curl(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    CURL *curl = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE];
    long status = 0;
    CURLcode cc;
    int rc = APP_OK;

    (void)ud;
    if (!curl)
        return app_error_set(err, APP_ENOMEM, "jwks: curl_easy_init failed");
    errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
                     strncmp(url, "https://", 8) == 0 ? "https" : "http");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)JWKS_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)JWKS_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    cc = curl_easy_perform(curl);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        rc = app_error_set(err, APP_ETIMEOUT, "jwks: GET timed out");
        goto done;
    }
    if (cc != CURLE_OK) {
        rc = app_error_set(err, APP_EUNAVAILABLE, "jwks: GET failed: %s",
                           errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        rc = app_error_set(err, APP_EUPSTREAM, "jwks: GET answered %ld", status);
done:
    curl_easy_cleanup(curl);
    return rc;
}
