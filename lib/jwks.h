/*
 * The signing keys of a Cognito user pool: its JWKS document parsed into OpenSSL public keys,
 * and a per-process cache that fetches the document and refetches it when an unknown kid
 * appears (key rotation), at most once per interval.
 *
 * The cache lives in the worker's memory only, never in memcached: anyone who can write to a
 * shared cache could plant a key of their own and forge any user.
 *
 * Only RSA keys for RS256 signatures are kept ("kty" "RSA"; "alg", when present, "RS256";
 * "use", when present, "sig"), with a modulus of 2048 to 8192 bits and an odd public
 * exponent; any other key in the document is skipped, not an error.
 */
#ifndef PH_JWKS_H
#define PH_JWKS_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "buf.h"
#include "errors.h"

#define JWKS_MAX_KEYS 16
#define JWKS_MAX_KID 128             /* bytes with the NUL */
#define JWKS_MAX_DOC (64 * 1024)     /* the document's ceiling */
#define JWKS_MIN_BITS 2048
#define JWKS_MAX_BITS 8192
#define JWKS_REFETCH_S 300           /* default: at most one refetch per 5 minutes */
#define JWKS_RETRY_S 10              /* after a failed fetch, the next try at the earliest */
#define JWKS_TIMEOUT_MS 5000

struct jwks_key {
    char kid[JWKS_MAX_KID];
    EVP_PKEY *pkey;
};

struct jwks_set {
    struct jwks_key keys[JWKS_MAX_KEYS];
    size_t n;
};

/*
 * Fetch the document at url into out (a buffer whose ceiling the caller set).  0, or an APP_E*
 * code with a detail in err.  jwks_fetch_curl is the real one; tests pass their own.
 */
typedef int (*jwks_fetch_fn)(struct buf *out, const char *url, void *ud,
                             struct app_error *err);

struct jwks_cache {
    char url[512];
    long refetch_s;                  /* least seconds between two fetches after a success */
    jwks_fetch_fn fetch;
    void *fetch_ud;
    struct jwks_set set;             /* the keys of the last good document */
    time_t last_attempt;             /* 0: never fetched */
    int last_failed;                 /* the last attempt failed (retry after JWKS_RETRY_S) */
    unsigned long fetches;           /* attempts so far (tests and logs) */
};

/*
 * Parse a JWKS document into out (emptied first; the caller frees it with jwks_set_free).
 * APP_OK when it is a JSON object with a "keys" array, however many keys were usable;
 * APP_EUPSTREAM when it is not.
 */
int jwks_parse(struct jwks_set *out, const char *doc, size_t len, struct app_error *err);
void jwks_set_free(struct jwks_set *s);
/* The key named kid in s, or NULL. */
EVP_PKEY *jwks_set_find(const struct jwks_set *s, const char *kid);

/*
 * Prepare a cache for the document at url: https://, or http:// only for a loopback host
 * (127.0.0.1, [::1], localhost).  refetch_s <= 0 takes JWKS_REFETCH_S; fetch NULL takes
 * jwks_fetch_curl.  Nothing is fetched yet.  APP_OK or APP_ECONFIG.
 */
int jwks_cache_init(struct jwks_cache *c, const char *url, long refetch_s, jwks_fetch_fn fetch,
                    void *fetch_ud, struct app_error *err);
void jwks_cache_free(struct jwks_cache *c);

/*
 * The key named kid, fetching the document first when the kid is not known and the interval
 * allows (the first call always fetches).  The key stays owned by the cache: valid until the
 * next call.  APP_OK; APP_EUNAUTHORIZED when the kid is not in the pool's keys;
 * APP_EUNAVAILABLE when no key can be had because the document could not be fetched.
 */
int jwks_cache_key(EVP_PKEY **out, struct jwks_cache *c, const char *kid, time_t now,
                   struct app_error *err);

/* GET url with libcurl: no redirects, https only (http for loopback), JWKS_TIMEOUT_MS,
 * status 200 required.  APP_OK, APP_EUNAVAILABLE, APP_ETIMEOUT or APP_EUPSTREAM. */
int jwks_fetch_curl(struct buf *out, const char *url, void *ud, struct app_error *err);

/* 1 when url is https://, or http:// to a loopback host; 0 otherwise. */
int jwks_url_ok(const char *url);

#endif
