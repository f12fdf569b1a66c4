/*
 * Uploads of signed-in users: a presigned S3 PUT for a key the server chooses under the
 * user's own prefix, uploads/<user>/<random id>/<file name>, in the bucket of the S3 client
 * (S3_SCORE_REPORTS_BUCKET; the score reports live under score-reports/).  The content type
 * and length are signed, so S3 refuses any other type or size; the URL lives
 * SAAS_UPLOAD_EXPIRES_S seconds.
 */
#ifndef PH_SAAS_UPLOAD_H
#define PH_SAAS_UPLOAD_H

#include "../lib/ctx.h"
#include "../lib/errors.h"
#include "saas.h"

#define SAAS_UPLOAD_NAME_MAX 128   /* bytes of a file name as stored in the key */

struct saas_upload {
    char key[SAAS_UPLOAD_NAME_MAX + SAAS_MAX_USER_ID + 64];
    char url[4096];
    char expires_at[32];
};

/* The user's folder under uploads/ (out: at least 80 bytes): the sub itself when it is made
 * of safe characters, else "h-" and its SHA-256 (prodenthubctl forget deletes it). */
void saas_upload_folder(const char *user_id, char *out, size_t n);

/* 1 when type is one of SAAS_UPLOAD_TYPES (exact, case-insensitive). */
int saas_upload_type_ok(const struct ctx *c, const char *type);

/*
 * A presigned PUT for the user's file: file_name is reduced to letters, digits, '.', '-'
 * and '_' (others become '_', at most SAAS_UPLOAD_NAME_MAX bytes), type must be allowed,
 * size 1 to S3_UPLOAD_MAX_BYTES.  APP_OK; APP_EVALIDATION naming the field; APP_EUNAVAILABLE
 * without an S3 client or credentials.
 */
int saas_upload_url(const struct ctx *c, const char *user_id, const char *file_name,
                    const char *type, long long size, struct saas_upload *out,
                    struct app_error *err);

#endif
