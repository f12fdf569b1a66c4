/*
 * The Cognito user pool the SaaS routes trust: its settings (COGNITO_*) resolved into the
 * issuer, the JWKS URL and the app client ids the token verifier checks (lib/jwt.h).
 *
 * The issuer is COGNITO_ISSUER when set, else https://cognito-idp.<region>.amazonaws.com/<pool>
 * from COGNITO_USER_POOL_ID and COGNITO_REGION (default: the AWS region).  An http:// issuer
 * or JWKS URL is accepted only for a loopback host (the local pool, tests).  With neither a
 * pool nor an issuer, sign-in is off and the signed-in routes answer 503.
 */
#ifndef PH_COGNITO_H
#define PH_COGNITO_H

#include <stddef.h>

struct cfg;
struct jwt_config;

/* Resolve cfg's COGNITO_* settings into cfg->cognito_iss and cfg->cognito_jwks, checking
 * them.  0, or -1 with a message naming the setting in err. */
int cognito_resolve(struct cfg *c, char *err, size_t errlen);

/* 1 when a user pool is configured (sign-in on). */
int cognito_enabled(const struct cfg *c);

/* The verifier's settings for cfg (valid as long as cfg is). */
void cognito_jwt_config(const struct cfg *c, struct jwt_config *out);

#endif
