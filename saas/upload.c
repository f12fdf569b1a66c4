#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "../lib/buf.h"
#include "../lib/cfg.h"
#include "../lib/ids.h"
#include "../lib/s3.h"
#include "upload.h"

#define SAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

int
saas_upload_type_ok(const struct ctx *c, const char *type)
{
    const char *p = c->cfg->saas_upload_types;
    size_t n = strlen(type);

    while (*p) {
        size_t len;

        p += strspn(p, " ,");
        len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len > 0 && len == n && strncasecmp(p, type, n) == 0)
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

/* The user's folder: the sub itself when it is made of safe characters (Cognito's are
 * UUIDs), else its SHA-256, so no sub can name another user's folder. */
void
saas_upload_folder(const char *user_id, char *out, size_t n)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];

    if (strspn(user_id, SAFE) == strlen(user_id) && strncmp(user_id, "h-", 2) != 0) {
        snprintf(out, n, "%s", user_id);
        return;
    }
    SHA256((const unsigned char *)user_id, strlen(user_id), md);
    hex_encode(md, sizeof(md), hex);
    snprintf(out, n, "h-%s", hex);
}

/* The file name as it goes in the key: safe bytes only, never "" or a dot segment. */
static void
safe_name(const char *name, char *out, size_t n)
{
    size_t i, j = 0;

    for (i = 0; name[i] && j + 1 < n && j < SAAS_UPLOAD_NAME_MAX; i++)
        out[j++] = strchr(SAFE ".", name[i]) ? name[i] : '_';
    out[j] = '\0';
    if (strspn(out, ".") == j)              /* "", ".", "..": not a name */
        snprintf(out, n, "file");
}

int
saas_upload_url(const struct ctx *c, const char *user_id, const char *file_name,
                const char *type, long long size, struct saas_upload *out,
                struct app_error *err)
{
    char folder[80], name[SAAS_UPLOAD_NAME_MAX + 1], id[40];
    struct buf url;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!saas_upload_type_ok(c, type))
        return app_error_field(err, "contentType", "must be one of: %s",
                               c->cfg->saas_upload_types);
    if (size < 1 || size > c->cfg->s3_upload_max_bytes)
        return app_error_field(err, "size", "must be from 1 to %ld bytes",
                               c->cfg->s3_upload_max_bytes);
    if (!c->s3)
        return app_error_set(err, APP_EUNAVAILABLE, "uploads: no S3 client");
    if (id_new(id, sizeof(id), "upl_") != 0)
        return app_error_set(err, APP_EINTERNAL, "no random bytes");
    saas_upload_folder(user_id, folder, sizeof(folder));
    safe_name(file_name, name, sizeof(name));
    snprintf(out->key, sizeof(out->key), "uploads/%s/%s/%s", folder, id, name);
    buf_init_fixed(&url, out->url, sizeof(out->url));
    rc = s3_presign_put(c->s3, out->key, type, size, c->cfg->saas_upload_expires_s, c->now,
                        &url, err);
    if (rc != APP_OK)
        return rc;
    time_iso(c->now + c->cfg->saas_upload_expires_s, out->expires_at,
             sizeof(out->expires_at));
    return APP_OK;
}
