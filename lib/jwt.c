/*
 * Cognito JWT verification (see jwt.h for the checks and why OpenSSL directly).
 */
#include "config.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "jwt.h"

static const char *const reason_slugs[JWT_REASON_COUNT] = {
    [JWT_OK] = "ok",
    [JWT_MALFORMED] = "malformed",
    [JWT_ALG_NOT_ALLOWED] = "alg_not_allowed",
    [JWT_UNKNOWN_KID] = "unknown_kid",
    [JWT_BAD_SIGNATURE] = "bad_signature",
    [JWT_WRONG_ISSUER] = "wrong_issuer",
    [JWT_WRONG_AUDIENCE] = "wrong_audience",
    [JWT_WRONG_TOKEN_USE] = "wrong_token_use",
    [JWT_EXPIRED] = "expired",
    [JWT_NOT_YET_VALID] = "not_yet_valid",
    [JWT_MISSING_CLAIM] = "missing_claim",
    [JWT_JWKS_UNAVAILABLE] = "jwks_unavailable",
};

const char *
jwt_reason_slug(enum jwt_reason r)
{
    if ((int)r < 0 || r >= JWT_REASON_COUNT)
        return NULL;
    return reason_slugs[r];
}

/* The 6-bit value of a base64url character, or -1. */
static int
b64url_val(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-')
        return 62;
    if (ch == '_')
        return 63;
    return -1;
}

long
jwt_b64url_decode(unsigned char *out, size_t outmax, const char *in, size_t len)
{
    unsigned long acc = 0;
    size_t i, n = 0;
    int bits = 0, v;

    if (len % 4 == 1 || len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > outmax)
        return -1;
    for (i = 0; i < len; i++) {
        v = b64url_val((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1UL << bits) - 1;
        }
    }
    if (acc != 0)           /* stray bits in the last character: not the canonical form */
        return -1;
    return (long)n;
}

int
jwt_client_listed(const char *list, const char *id)
{
    const char *p = list, *end;
    size_t idlen = strlen(id), n;

    if (!list || !id[0])
        return 0;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        n = (size_t)(end - p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0 && n == idlen && memcmp(p, id, n) == 0)
            return 1;
        p = end;
    }
    return 0;
}

/* A refusal: the reason to why and err, APP_EUNAUTHORIZED returned. */
static int
refuse(enum jwt_reason *why, struct app_error *err, enum jwt_reason r, const char *detail)
{
    if (why)
        *why = r;
    return app_error_reason(err, APP_EUNAUTHORIZED, reason_slugs[r], "jwt: %s", detail);
}

/* Decode part as base64url JSON into an object (the caller puts it); NULL when it is not. */
static struct json_object *
part_json(const char *part, size_t len)
{
    unsigned char raw[JWT_MAX_TOKEN / 4 * 3 + 3];
    struct json_tokener *tok;
    struct json_object *o = NULL;
    long n = jwt_b64url_decode(raw, sizeof(raw), part, len);

    if (n <= 0 || memchr(raw, '\0', (size_t)n))
        return NULL;
    tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, (const char *)raw, (int)n);
    if (o && (json_tokener_get_parse_end(tok) != (size_t)n
              || !json_object_is_type(o, json_type_object))) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* The string member key of o: 1 when a string (to *out), 0 when absent, -1 otherwise. */
static int
get_str(struct json_object *o, const char *key, const char **out)
{
    struct json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    *out = json_object_get_string(v);
    return 1;
}

/* The integer member key of o: 1 when an integer (to *out), 0 when absent, -1 otherwise. */
static int
get_int(struct json_object *o, const char *key, long long *out)
{
    struct json_object *v;

    *out = 0;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return -1;
    *out = (long long)json_object_get_int64(v);
    return 1;
}

/* Check the header; the kid copied to kid.  JWT_OK or the reason. */
static enum jwt_reason
check_header(struct json_object *h, char *kid, size_t kidlen, const char **detail)
{
    const char *alg, *k, *typ;
    int has;

    has = get_str(h, "alg", &alg);
    if (has <= 0 || strcmp(alg, "RS256") != 0) {
        *detail = "alg is not RS256";
        return JWT_ALG_NOT_ALLOWED;
    }
    if (get_str(h, "kid", &k) <= 0 || !k[0] || strlen(k) >= kidlen) {
        *detail = "no usable kid in the header";
        return JWT_MALFORMED;
    }
    has = get_str(h, "typ", &typ);
    if (has < 0 || (has > 0 && strcmp(typ, "JWT") != 0)) {
        *detail = "typ is not JWT";
        return JWT_MALFORMED;
    }
    if (json_object_object_get_ex(h, "crit", NULL)) {
        *detail = "crit header not supported";
        return JWT_MALFORMED;
    }
    snprintf(kid, kidlen, "%s", k);
    return JWT_OK;
}

/* 1 when sig is a valid RS256 signature of msg under pkey. */
static int
sig_ok(EVP_PKEY *pkey, const char *msg, size_t msglen, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;

    if (!md)
        return 0;
    if (siglen != (size_t)EVP_PKEY_get_size(pkey))
        goto done;
    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1)
        goto done;
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto done;
    ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)msg, msglen) == 1;
done:
    EVP_MD_CTX_free(md);
    return ok;
}

/* The audience of an ID token (a string or an array of strings) that is listed, or NULL. */
static const char *
aud_match(struct json_object *p, const char *list, int *present)
{
    struct json_object *v, *el;
    size_t i, n;

    *present = json_object_object_get_ex(p, "aud", &v);
    if (!*present)
        return NULL;
    if (json_object_is_type(v, json_type_string))
        return jwt_client_listed(list, json_object_get_string(v)) ? json_object_get_string(v)
                                                                  : NULL;
    if (!json_object_is_type(v, json_type_array))
        return NULL;
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
        el = json_object_array_get_idx(v, i);
        if (json_object_is_type(el, json_type_string)
            && jwt_client_listed(list, json_object_get_string(el)))
            return json_object_get_string(el);
    }
    return NULL;
}

/* Check the payload's claims and fill out.  JWT_OK or the reason. */
static enum jwt_reason
check_claims(struct jwt_claims *out, struct json_object *p, const struct jwt_config *cfg,
             time_t now, const char **detail)
{
    long long skew = cfg->skew_s >= 0 ? cfg->skew_s : JWT_SKEW_S, nbf, t = (long long)now;
    const char *s, *matched;
    int has;

    has = get_str(p, "iss", &s);
    if (has == 0) {
        *detail = "no iss";
        return JWT_MISSING_CLAIM;
    }
    if (has < 0 || !cfg->issuer || strcmp(s, cfg->issuer) != 0) {
        *detail = "iss is not the user pool";
        return JWT_WRONG_ISSUER;
    }
    has = get_str(p, "token_use", &s);
    if (has == 0) {
        *detail = "no token_use";
        return JWT_MISSING_CLAIM;
    }
    if (has < 0 || (strcmp(s, "id") != 0 && strcmp(s, "access") != 0)) {
        *detail = "token_use is neither id nor access";
        return JWT_WRONG_TOKEN_USE;
    }
    snprintf(out->token_use, sizeof(out->token_use), "%s", s);
    if (strcmp(s, "id") == 0) {
        matched = aud_match(p, cfg->client_ids, &has);
    } else {
        has = get_str(p, "client_id", &s);
        matched = has > 0 && jwt_client_listed(cfg->client_ids, s) ? s : NULL;
    }
    if (!has) {
        *detail = "no aud or client_id";
        return JWT_MISSING_CLAIM;
    }
    if (!matched || strlen(matched) >= sizeof(out->client_id)) {
        *detail = "not issued to a configured client";
        return JWT_WRONG_AUDIENCE;
    }
    snprintf(out->client_id, sizeof(out->client_id), "%s", matched);
    has = get_int(p, "exp", &out->exp);
    if (has <= 0) {
        *detail = has == 0 ? "no exp" : "exp is not an integer";
        return has == 0 ? JWT_MISSING_CLAIM : JWT_MALFORMED;
    }
    if (t >= out->exp + skew) {
        *detail = "expired";
        return JWT_EXPIRED;
    }
    has = get_int(p, "nbf", &nbf);
    if (has < 0 || get_int(p, "iat", &out->iat) < 0) {
        *detail = "nbf or iat is not an integer";
        return JWT_MALFORMED;
    }
    if ((has > 0 && nbf > t + skew) || out->iat > t + skew) {
        *detail = "not valid yet";
        return JWT_NOT_YET_VALID;
    }
    has = get_str(p, "sub", &s);
    if (has <= 0 || !s[0] || strlen(s) >= sizeof(out->sub)) {
        *detail = has == 0 ? "no sub" : "sub is not a usable string";
        return has == 0 ? JWT_MISSING_CLAIM : JWT_MALFORMED;
    }
    snprintf(out->sub, sizeof(out->sub), "%s", s);
    if (get_str(p, "email", &s) > 0 && strlen(s) < sizeof(out->email))
        snprintf(out->email, sizeof(out->email), "%s", s);
    return JWT_OK;
}

int
jwt_verify(struct jwt_claims *out, enum jwt_reason *why, struct jwks_cache *cache,
           const struct jwt_config *cfg, const char *token, size_t len, time_t now,
           struct app_error *err)
{
    unsigned char sig[JWKS_MAX_BITS / 8 + 3];
    struct json_object *header = NULL, *payload = NULL;
    const char *dot1, *dot2, *detail = "";
    char kid[JWKS_MAX_KID];
    enum jwt_reason r;
    EVP_PKEY *pkey;
    long siglen;
    int rc;

    memset(out, 0, sizeof(*out));
    if (why)
        *why = JWT_OK;
    if (!token || len == 0 || len > JWT_MAX_TOKEN)
        return refuse(why, err, JWT_MALFORMED, "token empty or too long");
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return refuse(why, err, JWT_MALFORMED, "not three parts");
    header = part_json(token, (size_t)(dot1 - token));
    if (!header) {
        rc = refuse(why, err, JWT_MALFORMED, "header is not base64url JSON");
        goto done;
    }
    r = check_header(header, kid, sizeof(kid), &detail);
    if (r != JWT_OK) {
        rc = refuse(why, err, r, detail);
        goto done;
    }
    siglen = jwt_b64url_decode(sig, sizeof(sig), dot2 + 1, len - (size_t)(dot2 + 1 - token));
    if (siglen <= 0 || dot2 == dot1 + 1) {
        rc = refuse(why, err, JWT_MALFORMED, "signature or payload is not base64url");
        goto done;
    }
    rc = jwks_cache_key(&pkey, cache, kid, now, err);
    if (rc != APP_OK) {
        if (why)
            *why = rc == APP_EUNAVAILABLE ? JWT_JWKS_UNAVAILABLE : JWT_UNKNOWN_KID;
        goto done;
    }
    if (!sig_ok(pkey, token, (size_t)(dot2 - token), sig, (size_t)siglen)) {
        rc = refuse(why, err, JWT_BAD_SIGNATURE, "signature does not verify");
        goto done;
    }
    payload = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!payload) {
        rc = refuse(why, err, JWT_MALFORMED, "payload is not base64url JSON");
        goto done;
    }
    r = check_claims(out, payload, cfg, now, &detail);
    if (r != JWT_OK) {
        memset(out, 0, sizeof(*out));
        rc = refuse(why, err, r, detail);
        goto done;
    }
    rc = APP_OK;
done:
    json_object_put(payload);
    json_object_put(header);
    return rc;
}
