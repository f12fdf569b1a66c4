#include "config.h"

#include <check.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../lib/buf.h"
#include "../../lib/errors.h"
#include "../../lib/jwks.h"
#include "../../lib/jwt.h"
#include "../b64url.h"
#include "unit.h"

/*
 * Tokens are signed here with RSA keys generated once per run (an unchecked fixture, before
 * Check forks), and verified at the fixed time NOW against a JWKS built from the same keys.
 */
#define NOW ((time_t)1767225600)            /* 2026-01-01T00:00:00Z */
#define ISS "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example1"
#define CLIENT "5example6client7id8"
#define KID "kid-main"
#define HDR "{\"alg\":\"RS256\",\"kid\":\"" KID "\"}"
#define ID_BASE "\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"sub\":\"u-1\""

static EVP_PKEY *key_main, *key_small, *key_other;

static void
keys_setup(void)
{
    key_main = EVP_RSA_gen(2048);
    key_other = EVP_RSA_gen(2048);
    key_small = EVP_RSA_gen(1024);
    ck_assert_ptr_nonnull(key_main);
    ck_assert_ptr_nonnull(key_other);
    ck_assert_ptr_nonnull(key_small);
}

static void
keys_teardown(void)
{
    EVP_PKEY_free(key_main);
    EVP_PKEY_free(key_other);
    EVP_PKEY_free(key_small);
}

/* Append base64url (no padding) of p to b. */
static void
b64u(struct buf *b, const void *p, size_t n)
{
    ck_assert_int_eq(t_b64url(b, p, n), 0);
}

/* A JWK member "name":"<base64url of the key's parameter>" appended to b. */
static void
jwk_param(struct buf *b, EVP_PKEY *k, const char *param, const char *name)
{
    unsigned char raw[1024];
    BIGNUM *bn = NULL;
    int n;

    ck_assert_int_eq(EVP_PKEY_get_bn_param(k, param, &bn), 1);
    n = BN_bn2bin(bn, raw);
    BN_free(bn);
    buf_printf(b, "\"%s\":\"", name);
    b64u(b, raw, (size_t)n);
    buf_puts(b, "\"");
}

/* A JWK object for k with kid and the extra members (",..." or ""). */
static void
jwk(struct buf *b, EVP_PKEY *k, const char *kid, const char *extra)
{
    buf_printf(b, "{\"kid\":\"%s\",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",", kid);
    jwk_param(b, k, OSSL_PKEY_PARAM_RSA_N, "n");
    buf_puts(b, ",");
    jwk_param(b, k, OSSL_PKEY_PARAM_RSA_E, "e");
    buf_printf(b, "%s}", extra);
}

/* The token header.payload.signature signed with k (RS256 over the two encoded parts). */
static void
token(struct buf *out, EVP_PKEY *k, const char *header, const char *payload)
{
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    buf_init(out, 16384);
    b64u(out, header, strlen(header));
    buf_puts(out, ".");
    b64u(out, payload, strlen(payload));
    ck_assert_int_eq(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    ck_assert_int_eq(EVP_DigestSign(md, sig, &siglen, (unsigned char *)out->data, out->len), 1);
    EVP_MD_CTX_free(md);
    buf_puts(out, ".");
    b64u(out, sig, siglen);
}

/* The fetch hook: the document in ud (a struct buf), or a failure when its len is 0. */
struct doc_source {
    struct buf doc;
    int calls;
};

static int
fetch_doc(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    struct doc_source *d = ud;

    (void)url;
    d->calls++;
    if (d->doc.len == 0)
        return app_error_set(err, APP_EUNAVAILABLE, "test: the JWKS is down");
    return buf_append(out, d->doc.data, d->doc.len);
}

/* A cache over the main key (KID) alone. */
static void
cache_main(struct jwks_cache *c, struct doc_source *d)
{
    struct app_error err;

    memset(d, 0, sizeof(*d));
    buf_init(&d->doc, JWKS_MAX_DOC);
    buf_puts(&d->doc, "{\"keys\":[");
    jwk(&d->doc, key_main, KID, "");
    buf_puts(&d->doc, "]}");
    app_error_clear(&err);
    ck_assert_int_eq(jwks_cache_init(c, "https://cognito-idp.example/jwks.json", 300, fetch_doc,
                                     d, &err), 0);
}

static const struct jwt_config CFG = {ISS, CLIENT ",second", -1};

/* Verify tok at now; the reason, with rc and err checked to agree with it. */
static enum jwt_reason
verify(struct jwks_cache *c, const char *tok, size_t len, time_t now, struct jwt_claims *cl)
{
    struct app_error err;
    enum jwt_reason why = JWT_JWKS_UNAVAILABLE;
    int rc;

    app_error_clear(&err);
    rc = jwt_verify(cl, &why, c, &CFG, tok, len, now, &err);
    if (why == JWT_OK) {
        ck_assert_int_eq(rc, 0);
    } else {
        ck_assert_int_eq(rc, why == JWT_JWKS_UNAVAILABLE ? APP_EUNAVAILABLE : APP_EUNAUTHORIZED);
        ck_assert_str_eq(err.reason, jwt_reason_slug(why));
    }
    return why;
}

/* --- base64url -------------------------------------------------------------------------- */
static const struct {
    const char *in;
    long want;               /* decoded length, -1 refused */
    const char *bytes;
} b64_cases[] = {
    {"", 0, ""},
    {"QQ", 1, "A"},
    {"QUI", 2, "AB"},
    {"QUJD", 3, "ABC"},
    {"QUJDRA", 4, "ABCD"},
    {"-_8", 2, "\xfb\xff"},
    {"Q", -1, NULL},          /* a length of 1 mod 4 */
    {"QQ==", -1, NULL},       /* padding */
    {"QQ=", -1, NULL},
    {"+/8", -1, NULL},        /* the standard alphabet */
    {"QR", -1, NULL},         /* stray bits in the last character */
    {"QUJ", -1, NULL},
    {"QU D", -1, NULL},       /* white space */
    {"QU\nD", -1, NULL},
    {"QUJ\x80", -1, NULL},
};

START_TEST(test_b64url)
{
    unsigned char out[16];
    long n = jwt_b64url_decode(out, sizeof(out), b64_cases[_i].in, strlen(b64_cases[_i].in));

    ck_assert_msg(n == b64_cases[_i].want, "%s: %ld, want %ld", b64_cases[_i].in, n,
                  b64_cases[_i].want);
    if (n > 0)
        ck_assert_mem_eq(out, b64_cases[_i].bytes, (size_t)n);
}
END_TEST

START_TEST(test_b64url_bound)
{
    unsigned char out[3];

    ck_assert_int_eq(jwt_b64url_decode(out, 3, "QUJD", 4), 3);
    ck_assert_int_eq(jwt_b64url_decode(out, 2, "QUJD", 4), -1);
    ck_assert_int_eq(jwt_b64url_decode(out, 2, "QUJDRA", 6), -1);
}
END_TEST

/* --- structure and header ---------------------------------------------------------------- */
static const struct {
    const char *header;
    enum jwt_reason want;
} header_cases[] = {
    {HDR, JWT_OK},
    {"{\"alg\":\"RS256\",\"kid\":\"" KID "\",\"typ\":\"JWT\"}", JWT_OK},
    {"{\"alg\":\"none\",\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"alg\":\"HS256\",\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"alg\":\"RS512\",\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"alg\":\"rs256\",\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"alg\":\"RS256 \",\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"alg\":[\"RS256\"],\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"kid\":\"" KID "\"}", JWT_ALG_NOT_ALLOWED},
    {"{\"alg\":\"RS256\"}", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"\"}", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":7}", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"" KID "\",\"typ\":\"at+jwt\"}", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"" KID "\",\"typ\":1}", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"" KID "\",\"crit\":[\"exp\"]}", JWT_MALFORMED},
    {"[\"RS256\"]", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"" KID "\"} x", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"" KID "\"", JWT_MALFORMED},
    {"", JWT_MALFORMED},
    {"{\"alg\":\"RS256\",\"kid\":\"other-kid\"}", JWT_UNKNOWN_KID},
};

START_TEST(test_header)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    struct buf t;

    cache_main(&c, &d);
    token(&t, key_main, header_cases[_i].header, "{" ID_BASE ",\"exp\":1767229200}");
    ck_assert_msg(verify(&c, t.data, t.len, NOW, &cl) == header_cases[_i].want, "case %d: %s",
                  _i, header_cases[_i].header);
    buf_free(&t);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

/* Damage done to a valid token's text. */
static const struct {
    const char *name;
    int op;                  /* 0 append suffix, 1 cut after the 2nd dot, 2 flip char at pos */
    const char *suffix;
    size_t sufflen;          /* for op 0 */
    long pos;                /* for op 2: from the start (>= 0) or the end (< 0) */
    enum jwt_reason want;
} damage_cases[] = {
    {"valid", 0, "", 0, 0, JWT_OK},
    {"padding", 0, "=", 1, 0, JWT_MALFORMED},
    {"fourth part", 0, ".AA", 3, 0, JWT_MALFORMED},
    {"trailing dot", 0, ".", 1, 0, JWT_MALFORMED},
    {"NUL inside", 0, "\0", 1, 0, JWT_MALFORMED},
    {"no signature", 1, "", 0, 0, JWT_MALFORMED},
    {"last signature char", 2, "", 0, -1, JWT_MALFORMED},     /* stray bits or a bad signature */
    {"signature byte", 2, "", 0, -5, JWT_BAD_SIGNATURE},
    {"payload char", 2, "", 0, 60, JWT_BAD_SIGNATURE},
};

START_TEST(test_damage)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    struct buf t;
    size_t len, dots = 0, i, at;
    enum jwt_reason got;

    cache_main(&c, &d);
    token(&t, key_main, HDR, "{" ID_BASE ",\"exp\":1767229200,\"zz\":\"" "0123456789" "\"}");
    len = t.len;
    switch (damage_cases[_i].op) {
    case 0:
        buf_append(&t, damage_cases[_i].suffix, damage_cases[_i].sufflen);
        len = t.len;
        break;
    case 1:
        for (i = 0; i < t.len; i++)
            if (t.data[i] == '.' && ++dots == 2)
                len = i + 1;
        break;
    default:
        at = damage_cases[_i].pos >= 0 ? (size_t)damage_cases[_i].pos
                                       : t.len - (size_t)(-damage_cases[_i].pos);
        t.data[at] = t.data[at] == 'A' ? 'B' : 'A';
        break;
    }
    got = verify(&c, t.data, len, NOW, &cl);
    if (damage_cases[_i].op == 2 && damage_cases[_i].pos == -1)
        ck_assert(got == JWT_MALFORMED || got == JWT_BAD_SIGNATURE);
    else
        ck_assert_msg(got == damage_cases[_i].want, "%s: %s", damage_cases[_i].name,
                      jwt_reason_slug(got));
    buf_free(&t);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

START_TEST(test_too_long)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    struct buf t, p;

    cache_main(&c, &d);
    buf_init(&p, 16384);
    buf_puts(&p, "{" ID_BASE ",\"exp\":1767229200,\"pad\":\"");
    while (p.len < 6200)
        buf_puts(&p, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    buf_puts(&p, "\"}");
    token(&t, key_main, HDR, p.data);
    ck_assert_uint_gt(t.len, JWT_MAX_TOKEN);
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW, &cl), JWT_MALFORMED);
    ck_assert_int_eq(d.calls, 0);           /* refused before any key is looked up */
    ck_assert_int_eq(verify(&c, "", 0, NOW, &cl), JWT_MALFORMED);
    buf_free(&p);
    buf_free(&t);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

/* --- claims at a fixed now ---------------------------------------------------------------- */
#define ACC_BASE "\"iss\":\"" ISS "\",\"token_use\":\"access\",\"client_id\":\"" CLIENT "\"," \
    "\"sub\":\"u-1\""
static const struct {
    const char *payload;
    enum jwt_reason want;
} claim_cases[] = {
    {"{" ID_BASE ",\"exp\":1767229200}", JWT_OK},
    {"{" ACC_BASE ",\"exp\":1767229200}", JWT_OK},
    {"{" ID_BASE ",\"exp\":1767229200,\"iat\":1767225500,\"nbf\":1767225500}", JWT_OK},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":\"second\",\"sub\":\"u\",\"exp\":"
     "1767229200}", JWT_OK},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":[\"x\",\"" CLIENT "\"],\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_OK},
    {"{" ID_BASE ",\"exp\":1767225541}", JWT_OK},                 /* 59 s past, in the skew */
    {"{" ID_BASE ",\"exp\":1767225540}", JWT_EXPIRED},            /* 60 s past */
    {"{" ID_BASE ",\"exp\":1767225540,\"nbf\":1767225700}", JWT_EXPIRED},
    {"{" ID_BASE ",\"exp\":1767229200,\"nbf\":1767225660}", JWT_OK},
    {"{" ID_BASE ",\"exp\":1767229200,\"nbf\":1767225661}", JWT_NOT_YET_VALID},
    {"{" ID_BASE ",\"exp\":1767229200,\"iat\":1767225661}", JWT_NOT_YET_VALID},
    {"{" ID_BASE "}", JWT_MISSING_CLAIM},
    {"{" ID_BASE ",\"exp\":\"1767229200\"}", JWT_MALFORMED},
    {"{" ID_BASE ",\"exp\":1767229200.5}", JWT_MALFORMED},
    {"{" ID_BASE ",\"exp\":1767229200,\"nbf\":\"soon\"}", JWT_MALFORMED},
    {"{\"iss\":\"" ISS "x\",\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_ISSUER},
    {"{\"iss\":\"" ISS "/\",\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_ISSUER},
    {"{\"iss\":7,\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"sub\":\"u\",\"exp\":1767229200}",
     JWT_WRONG_ISSUER},
    {"{\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"sub\":\"u\",\"exp\":1767229200}",
     JWT_MISSING_CLAIM},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":\"nope\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_AUDIENCE},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":\"" CLIENT ",second\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_AUDIENCE},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":[],\"sub\":\"u\",\"exp\":1767229200}",
     JWT_WRONG_AUDIENCE},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"client_id\":\"" CLIENT "\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_MISSING_CLAIM},                   /* an ID token needs aud */
    {"{\"iss\":\"" ISS "\",\"token_use\":\"access\",\"aud\":\"" CLIENT "\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_MISSING_CLAIM},                   /* access needs client_id */
    {"{\"iss\":\"" ISS "\",\"token_use\":\"access\",\"client_id\":\"nope\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_AUDIENCE},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"refresh\",\"aud\":\"" CLIENT "\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_TOKEN_USE},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"ID\",\"aud\":\"" CLIENT "\",\"sub\":\"u\","
     "\"exp\":1767229200}", JWT_WRONG_TOKEN_USE},
    {"{\"iss\":\"" ISS "\",\"aud\":\"" CLIENT "\",\"sub\":\"u\",\"exp\":1767229200}",
     JWT_MISSING_CLAIM},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"exp\":1767229200}",
     JWT_MISSING_CLAIM},
    {"{\"iss\":\"" ISS "\",\"token_use\":\"id\",\"aud\":\"" CLIENT "\",\"sub\":\"\","
     "\"exp\":1767229200}", JWT_MALFORMED},
    {"[1,2]", JWT_MALFORMED},
    {"{" ID_BASE ",\"exp\":1767229200", JWT_MALFORMED},
};

START_TEST(test_claims)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    enum jwt_reason got;
    struct buf t;

    cache_main(&c, &d);
    token(&t, key_main, HDR, claim_cases[_i].payload);
    got = verify(&c, t.data, t.len, NOW, &cl);
    ck_assert_msg(got == claim_cases[_i].want, "case %d: %s, want %s: %s", _i,
                  jwt_reason_slug(got), jwt_reason_slug(claim_cases[_i].want),
                  claim_cases[_i].payload);
    if (got == JWT_OK) {
        ck_assert(cl.sub[0]);
        ck_assert(strcmp(cl.token_use, "id") == 0 || strcmp(cl.token_use, "access") == 0);
        ck_assert(jwt_client_listed(CFG.client_ids, cl.client_id));
    } else {
        ck_assert_str_eq(cl.sub, "");
    }
    buf_free(&t);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

START_TEST(test_claims_copied)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    struct buf t;

    cache_main(&c, &d);
    token(&t, key_main, HDR, "{" ID_BASE ",\"exp\":1767229200,\"iat\":1767225000,"
          "\"email\":\"ada@example.com\"}");
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW, &cl), JWT_OK);
    ck_assert_str_eq(cl.sub, "u-1");
    ck_assert_str_eq(cl.email, "ada@example.com");
    ck_assert_str_eq(cl.token_use, "id");
    ck_assert_str_eq(cl.client_id, CLIENT);
    ck_assert_int_eq(cl.exp, 1767229200);
    ck_assert_int_eq(cl.iat, 1767225000);
    buf_free(&t);
    token(&t, key_other, HDR, "{" ID_BASE ",\"exp\":1767229200}");
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW, &cl), JWT_BAD_SIGNATURE);
    buf_free(&t);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

/* --- JWKS parsing ------------------------------------------------------------------------- */
enum { K_MAIN, K_SMALL, K_RAW };
static const struct {
    const char *name;
    int which;               /* K_MAIN / K_SMALL: a JWK of that key with extra; K_RAW: doc */
    const char *extra;       /* members appended to the JWK (K_RAW: the whole document) */
    int rc;
    size_t nkeys;
} jwks_cases[] = {
    {"good", K_MAIN, "", 0, 1},
    {"1024-bit modulus", K_SMALL, "", 0, 0},
    {"kty EC", K_MAIN, ",\"kty\":\"EC\"", 0, 0},
    {"use enc", K_MAIN, ",\"use\":\"enc\"", 0, 0},
    {"alg RS512", K_MAIN, ",\"alg\":\"RS512\"", 0, 0},
    {"alg HS256", K_MAIN, ",\"alg\":\"HS256\"", 0, 0},
    {"e even", K_MAIN, ",\"e\":\"AQAC\"", 0, 0},
    {"e one", K_MAIN, ",\"e\":\"AQ\"", 0, 0},
    {"e padded", K_MAIN, ",\"e\":\"AQAB==\"", 0, 0},
    {"e too long", K_MAIN, ",\"e\":\"AQABAQABAQABAQAB\"", 0, 0},
    {"n not base64url", K_MAIN, ",\"n\":\"not base64!\"", 0, 0},
    {"n empty", K_MAIN, ",\"n\":\"\"", 0, 0},
    {"n a number", K_MAIN, ",\"n\":12345", 0, 0},
    {"no kid", K_MAIN, ",\"kid\":null", 0, 0},
    {"not JSON", K_RAW, "{\"keys\":", APP_EUPSTREAM, 0},
    {"no keys", K_RAW, "{\"other\":[]}", APP_EUPSTREAM, 0},
    {"keys not an array", K_RAW, "{\"keys\":{}}", APP_EUPSTREAM, 0},
    {"an array", K_RAW, "[]", APP_EUPSTREAM, 0},
    {"empty keys", K_RAW, "{\"keys\":[]}", 0, 0},
    {"keys of junk", K_RAW, "{\"keys\":[1,\"x\",null,{}]}", 0, 0},
};

START_TEST(test_jwks_parse)
{
    struct jwks_set s;
    struct app_error err;
    struct buf doc;
    int rc;

    buf_init(&doc, JWKS_MAX_DOC);
    if (jwks_cases[_i].which == K_RAW) {
        buf_puts(&doc, jwks_cases[_i].extra);
    } else {
        /* json-c keeps the last of duplicate members, so extra overrides the JWK's own. */
        buf_puts(&doc, "{\"keys\":[");
        jwk(&doc, jwks_cases[_i].which == K_MAIN ? key_main : key_small, KID,
            jwks_cases[_i].extra);
        buf_puts(&doc, "]}");
    }
    app_error_clear(&err);
    rc = jwks_parse(&s, doc.data, doc.len, &err);
    ck_assert_msg(rc == jwks_cases[_i].rc, "%s: rc %d", jwks_cases[_i].name, rc);
    ck_assert_msg(s.n == jwks_cases[_i].nkeys, "%s: %zu keys", jwks_cases[_i].name, s.n);
    if (s.n)
        ck_assert_ptr_nonnull(jwks_set_find(&s, KID));
    jwks_set_free(&s);
    buf_free(&doc);
}
END_TEST

START_TEST(test_jwks_several)
{
    struct jwks_set s;
    struct app_error err;
    struct buf doc;

    buf_init(&doc, JWKS_MAX_DOC);
    buf_puts(&doc, "{\"keys\":[");
    jwk(&doc, key_small, "small", "");
    buf_puts(&doc, ",");
    jwk(&doc, key_main, "a", "");
    buf_puts(&doc, ",");
    jwk(&doc, key_other, "a", "");          /* a duplicate kid: the first one stays */
    buf_puts(&doc, ",");
    jwk(&doc, key_other, "b", ",\"alg\":null,\"use\":null,\"x5c\":[]");
    buf_puts(&doc, "]}");
    app_error_clear(&err);
    ck_assert_int_eq(jwks_parse(&s, doc.data, doc.len, &err), 0);
    ck_assert_uint_eq(s.n, 1);              /* alg null is not "RS256": b is skipped too */
    ck_assert_ptr_null(jwks_set_find(&s, "small"));
    ck_assert_int_eq(EVP_PKEY_eq(jwks_set_find(&s, "a"), key_main), 1);
    jwks_set_free(&s);
    buf_free(&doc);
}
END_TEST

/* --- the cache ----------------------------------------------------------------------------- */
START_TEST(test_cache_refetch)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    struct buf t, t2;

    cache_main(&c, &d);
    token(&t, key_main, HDR, "{" ID_BASE ",\"exp\":1767229200}");
    token(&t2, key_other, "{\"alg\":\"RS256\",\"kid\":\"rotated\"}",
          "{" ID_BASE ",\"exp\":1767229200}");
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW, &cl), JWT_OK);
    ck_assert_int_eq(d.calls, 1);
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW + 1000, &cl), JWT_OK);
    ck_assert_int_eq(d.calls, 1);           /* a known kid never refetches */
    /* An unknown kid refetches at most once per interval (300 s here). */
    ck_assert_int_eq(verify(&c, t2.data, t2.len, NOW + 1000, &cl), JWT_UNKNOWN_KID);
    ck_assert_int_eq(d.calls, 2);
    ck_assert_int_eq(verify(&c, t2.data, t2.len, NOW + 1100, &cl), JWT_UNKNOWN_KID);
    ck_assert_int_eq(d.calls, 2);
    /* The pool rotates its keys: the next refetch finds the new one. */
    buf_reset(&d.doc);
    buf_puts(&d.doc, "{\"keys\":[");
    jwk(&d.doc, key_other, "rotated", "");
    buf_puts(&d.doc, "]}");
    ck_assert_int_eq(verify(&c, t2.data, t2.len, NOW + 1200, &cl), JWT_UNKNOWN_KID);
    ck_assert_int_eq(d.calls, 2);
    ck_assert_int_eq(verify(&c, t2.data, t2.len, NOW + 1300, &cl), JWT_OK);
    ck_assert_int_eq(d.calls, 3);
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW + 1300, &cl), JWT_UNKNOWN_KID);
    buf_free(&t);
    buf_free(&t2);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

START_TEST(test_cache_unavailable)
{
    struct jwks_cache c;
    struct doc_source d;
    struct jwt_claims cl;
    struct buf t, good;

    cache_main(&c, &d);
    good = d.doc;
    buf_init(&d.doc, 16);                   /* len 0: the fetch fails */
    token(&t, key_main, HDR, "{" ID_BASE ",\"exp\":1767229200}");
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW, &cl), JWT_JWKS_UNAVAILABLE);
    ck_assert_int_eq(d.calls, 1);
    /* No hammering: within JWKS_RETRY_S the answer stays unavailable without a fetch. */
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW + JWKS_RETRY_S - 1, &cl),
                     JWT_JWKS_UNAVAILABLE);
    ck_assert_int_eq(d.calls, 1);
    /* A document without one usable key is a failure too. */
    buf_puts(&d.doc, "{\"keys\":[]}");
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW + JWKS_RETRY_S, &cl), JWT_JWKS_UNAVAILABLE);
    ck_assert_int_eq(d.calls, 2);
    buf_free(&d.doc);
    d.doc = good;
    ck_assert_int_eq(verify(&c, t.data, t.len, NOW + 2 * JWKS_RETRY_S, &cl), JWT_OK);
    ck_assert_int_eq(d.calls, 3);
    buf_free(&t);
    jwks_cache_free(&c);
    buf_free(&d.doc);
}
END_TEST

/* --- the real fetch, against a one-shot server on loopback ------------------------------- */
static const struct {
    const char *name;
    const char *reply;       /* the raw HTTP response */
    int rc;
} fetch_cases[] = {
    {"200", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
     "Connection: close\r\n\r\n{\"keys\":[]}", APP_OK},
    {"404", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
     APP_EUPSTREAM},
    {"redirect not followed", "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/x\r\n"
     "Content-Length: 0\r\nConnection: close\r\n\r\n", APP_EUPSTREAM},
};

START_TEST(test_fetch_curl)
{
    char url[96], req[4096], full[160];
    struct app_error err;
    struct buf out;
    int fd, conn, status, rc;
    pid_t pid;

    fd = unit_listen_loopback(url, sizeof(url));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        conn = accept(fd, NULL, NULL);
        if (conn >= 0 && read(conn, req, sizeof(req)) > 0)
            unit_write_all(conn, fetch_cases[_i].reply, strlen(fetch_cases[_i].reply));
        _exit(0);
    }
    close(fd);
    snprintf(full, sizeof(full), "%s/.well-known/jwks.json", url);
    buf_init(&out, JWKS_MAX_DOC);
    app_error_clear(&err);
    rc = jwks_fetch_curl(&out, full, NULL, &err);
    ck_assert_msg(rc == fetch_cases[_i].rc, "%s: rc %d (%s)", fetch_cases[_i].name, rc, err.msg);
    if (rc == APP_OK)
        ck_assert_str_eq(out.data, "{\"keys\":[]}");
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    buf_free(&out);
}
END_TEST

START_TEST(test_fetch_refused)
{
    struct app_error err;
    struct buf out;

    buf_init(&out, JWKS_MAX_DOC);
    app_error_clear(&err);
    /* Port 1 on loopback: nothing listens, the connection is refused at once. */
    ck_assert_int_eq(jwks_fetch_curl(&out, "http://127.0.0.1:1/jwks.json", NULL, &err),
                     APP_EUNAVAILABLE);
    buf_free(&out);
}
END_TEST

/* --- URLs, client lists, slugs -------------------------------------------------------------- */
static const struct {
    const char *url;
    int ok;
} url_cases[] = {
    {"https://cognito-idp.us-east-1.amazonaws.com/p/.well-known/jwks.json", 1},
    {"http://127.0.0.1:9229/p/.well-known/jwks.json", 1},
    {"http://localhost:9229/jwks.json", 1},
    {"http://[::1]:9229/jwks.json", 1},
    {"http://localhost", 1},
    {"http://cognito-idp.us-east-1.amazonaws.com/p/.well-known/jwks.json", 0},
    {"http://localhost.evil.example/jwks.json", 0},
    {"http://127.0.0.1.evil.example/jwks.json", 0},
    {"ftp://127.0.0.1/jwks.json", 0},
    {"file:///etc/jwks.json", 0},
    {"https://", 0},
    {"", 0},
};

START_TEST(test_url)
{
    struct jwks_cache c;
    struct app_error err;

    ck_assert_msg(jwks_url_ok(url_cases[_i].url) == url_cases[_i].ok, "%s", url_cases[_i].url);
    app_error_clear(&err);
    ck_assert_int_eq(jwks_cache_init(&c, url_cases[_i].url, 0, NULL, NULL, &err),
                     url_cases[_i].ok ? APP_OK : APP_ECONFIG);
    if (url_cases[_i].ok) {
        ck_assert(c.fetch == jwks_fetch_curl);
        ck_assert_int_eq(c.refetch_s, JWKS_REFETCH_S);
    }
    jwks_cache_free(&c);
}
END_TEST

static const struct {
    const char *list;
    const char *id;
    int want;
} client_cases[] = {
    {"abc", "abc", 1},
    {"abc,def", "def", 1},
    {" abc , def ", "def", 1},
    {"abc,,def,", "abc", 1},
    {"abc", "ab", 0},
    {"abc", "abcd", 0},
    {"abc,def", "abc,def", 0},
    {"abc", "", 0},
    {"", "abc", 0},
    {",", "", 0},
};

START_TEST(test_client_listed)
{
    ck_assert_int_eq(jwt_client_listed(client_cases[_i].list, client_cases[_i].id),
                     client_cases[_i].want);
}
END_TEST

START_TEST(test_slugs)
{
    static const char *const want[] = {
        "ok", "malformed", "alg_not_allowed", "unknown_kid", "bad_signature", "wrong_issuer",
        "wrong_audience", "wrong_token_use", "expired", "not_yet_valid", "missing_claim",
        "jwks_unavailable",
    };
    int i;

    ck_assert_int_eq(JWT_REASON_COUNT, (int)(sizeof(want) / sizeof(want[0])));
    for (i = 0; i < JWT_REASON_COUNT; i++)
        ck_assert_str_eq(jwt_reason_slug((enum jwt_reason)i), want[i]);
    ck_assert_ptr_null(jwt_reason_slug(JWT_REASON_COUNT));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *
jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("jwt");

    tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_b64url, 0, N(b64_cases));
    tcase_add_test(tc, test_b64url_bound);
    tcase_add_loop_test(tc, test_header, 0, N(header_cases));
    tcase_add_loop_test(tc, test_damage, 0, N(damage_cases));
    tcase_add_test(tc, test_too_long);
    tcase_add_loop_test(tc, test_claims, 0, N(claim_cases));
    tcase_add_test(tc, test_claims_copied);
    tcase_add_loop_test(tc, test_jwks_parse, 0, N(jwks_cases));
    tcase_add_test(tc, test_jwks_several);
    tcase_add_test(tc, test_cache_refetch);
    tcase_add_test(tc, test_cache_unavailable);
    tcase_add_loop_test(tc, test_fetch_curl, 0, N(fetch_cases));
    tcase_add_test(tc, test_fetch_refused);
    tcase_add_loop_test(tc, test_url, 0, N(url_cases));
    tcase_add_loop_test(tc, test_client_listed, 0, N(client_cases));
    tcase_add_test(tc, test_slugs);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(jwt_suite)
