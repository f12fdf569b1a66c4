#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cfg_int.h"
#include "cognito.h"
#include "jwks.h"
#include "jwt.h"

/* A pool id or region as AWS spells them: letters, digits, '-' and '_'. */
static int
word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

/* The client id list: comma-separated ids of letters and digits, none empty. */
static int
client_ids_ok(const char *list)
{
    const char *p = list;

    for (;;) {
        size_t n;

        p += strspn(p, " ");
        n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        if (n == 0 || n > 127)
            return 0;
        p += n;
        p += strspn(p, " ");
        if (*p == '\0')
            return 1;
        if (*p++ != ',')
            return 0;
    }
}

int
cognito_resolve(struct cfg *c, char *err, size_t errlen)
{
    const char *region = *c->cognito_region ? c->cognito_region : c->region;
    size_t n;

    c->cognito_iss[0] = c->cognito_jwks[0] = '\0';
    if (*c->cognito_region && !word_ok(c->cognito_region, 32))
        return cfg_errf(err, errlen, "COGNITO_REGION must be a region name (e.g. ap-southeast-2)");
    if (*c->cognito_pool_id && !word_ok(c->cognito_pool_id, 55))
        return cfg_errf(err, errlen, "COGNITO_USER_POOL_ID must be a pool id "
                    "(<region>_<id>: letters, digits, '-' and '_')");
    if (*c->cognito_issuer) {
        n = strlen(c->cognito_issuer);
        if (n >= sizeof(c->cognito_iss) || !jwks_url_ok(c->cognito_issuer) ||
            c->cognito_issuer[n - 1] == '/')
            return cfg_errf(err, errlen, "COGNITO_ISSUER must be an https:// URL (http:// only for "
                        "a loopback host) without a trailing '/'");
        snprintf(c->cognito_iss, sizeof(c->cognito_iss), "%s", c->cognito_issuer);
    } else if (*c->cognito_pool_id) {
        snprintf(c->cognito_iss, sizeof(c->cognito_iss),
                 "https://cognito-idp.%s.amazonaws.com/%s", region, c->cognito_pool_id);
    }
    if (*c->cognito_jwks_url && !*c->cognito_iss)
        return cfg_errf(err, errlen, "COGNITO_JWKS_URL is set but no user pool is: set "
                    "COGNITO_USER_POOL_ID or COGNITO_ISSUER");
    if (*c->cognito_client_id && !*c->cognito_iss)
        return cfg_errf(err, errlen, "COGNITO_CLIENT_ID is set but no user pool is: set "
                    "COGNITO_USER_POOL_ID or COGNITO_ISSUER");
    if (!*c->cognito_iss)
        return 0;
    if (!client_ids_ok(c->cognito_client_id))
        return cfg_errf(err, errlen, "COGNITO_CLIENT_ID must list the pool's app client ids "
                    "(letters and digits, comma-separated) when a user pool is configured");
    if (*c->cognito_jwks_url) {
        if (strlen(c->cognito_jwks_url) >= sizeof(c->cognito_jwks) ||
            !jwks_url_ok(c->cognito_jwks_url))
            return cfg_errf(err, errlen, "COGNITO_JWKS_URL must be an https:// URL (http:// only "
                        "for a loopback host)");
        snprintf(c->cognito_jwks, sizeof(c->cognito_jwks), "%s", c->cognito_jwks_url);
    } else {
        snprintf(c->cognito_jwks, sizeof(c->cognito_jwks), "%s/.well-known/jwks.json",
                 c->cognito_iss);
    }
    return 0;
}

int
cognito_enabled(const struct cfg *c)
{
    return c->cognito_iss[0] != '\0';
}

void
cognito_jwt_config(const struct cfg *c, struct jwt_config *out)
{
    out->issuer = c->cognito_iss;
    out->client_ids = c->cognito_client_id;
    out->skew_s = JWT_SKEW_S;
}
