/*
 * Verify a Cognito user pool's JWT (ID or access token) as aws-jwt-verify does.
 *
 * Written on OpenSSL directly: Debian's libjwt (1.10) has no JWK support and trusts the
 * algorithm the token's header names, and libcjose would bring a second JSON library next
 * to json-c.  The checks, in order:
 *   - three base64url parts, strictly (no padding, no other character, no stray bits), at most
 *     JWT_MAX_TOKEN bytes in all;
 *   - the header a JSON object with "alg" exactly "RS256" (never "none", never HS*), a "kid",
 *     "typ" "JWT" when present, and no "crit";
 *   - the key named by kid from the pool's JWKS (jwks.h), the RSASSA-PKCS1-v1_5 SHA-256
 *     signature over "header.payload";
 *   - the payload a JSON object: "iss" equal to the issuer; "token_use" "id" (then "aud" one
 *     of the client ids) or "access" (then "client_id" one of them); "exp" required, "nbf"
 *     and "iat" when present, each with skew seconds of tolerance against now; "sub".
 *
 * A refusal returns APP_EUNAUTHORIZED with the reason's slug set on err (app_error_reason);
 * APP_EUNAVAILABLE (reason "jwks_unavailable") when the keys could not be fetched.  Nothing
 * of the token is logged.
 */
#ifndef PH_JWT_H
#define PH_JWT_H

#include <stddef.h>
#include <time.h>

#include "errors.h"
#include "jwks.h"

#define JWT_MAX_TOKEN 8192
#define JWT_SKEW_S 60

enum jwt_reason {
    JWT_OK = 0,
    JWT_MALFORMED,
    JWT_ALG_NOT_ALLOWED,
    JWT_UNKNOWN_KID,
    JWT_BAD_SIGNATURE,
    JWT_WRONG_ISSUER,
    JWT_WRONG_AUDIENCE,
    JWT_WRONG_TOKEN_USE,
    JWT_EXPIRED,
    JWT_NOT_YET_VALID,
    JWT_MISSING_CLAIM,
    JWT_JWKS_UNAVAILABLE,
    JWT_REASON_COUNT
};

/* "malformed", "alg_not_allowed", ...; "ok" for JWT_OK; NULL out of range. */
const char *jwt_reason_slug(enum jwt_reason r);

struct jwt_config {
    const char *issuer;        /* e.g. https://cognito-idp.<region>.amazonaws.com/<pool> */
    const char *client_ids;    /* comma-separated app client ids (spaces around ignored) */
    long skew_s;               /* tolerance on exp, nbf and iat; < 0 takes JWT_SKEW_S */
};

/* What a verified token says; strings are NUL-terminated copies ("" when absent; an email
 * longer than the buffer is left out rather than cut). */
struct jwt_claims {
    char sub[128];
    char email[256];
    char token_use[8];         /* "id" or "access" */
    char client_id[128];       /* the client id that matched (aud or client_id) */
    long long exp;
    long long iat;             /* 0 when absent */
};

/*
 * Verify token (len bytes, not necessarily NUL-terminated) at time now with keys from cache.
 * On APP_OK out holds the claims.  why, when not NULL, gets the reason (JWT_OK on success).
 */
int jwt_verify(struct jwt_claims *out, enum jwt_reason *why, struct jwks_cache *cache,
               const struct jwt_config *cfg, const char *token, size_t len, time_t now,
               struct app_error *err);

/*
 * Decode base64url (RFC 4648 section 5) without padding, strictly: only [A-Za-z0-9_-],
 * a length that is not 1 mod 4, and zero unused bits in the last character.  Writes at most
 * outmax bytes.  The decoded length, or -1.
 */
long jwt_b64url_decode(unsigned char *out, size_t outmax, const char *in, size_t len);

/* 1 when id is one of the comma-separated ids in list (exact match), 0 otherwise. */
int jwt_client_listed(const char *list, const char *id);

#endif
