/*
 * Field validation for JSON bodies, in the parse-or-collect style: each call checks one field
 * of req->json and, when it is wrong, records why under details.fields; fields_done() then
 * answers 400 VALIDATION_ERROR with every problem at once, or lets the handler go on.
 *
 *     const char *code, *email;
 *     long long amount;
 *     field_string(req, "code", 1, 64, FIELD_REQUIRED, &code);
 *     field_email(req, "email", 0, &email);
 *     field_int(req, "amountCents", 0, 10000000, 0, &amount);
 *     if (fields_done(req) != APP_OK)
 *         return APP_EVALIDATION;
 *
 * Every member read through these calls is remembered; fields_done() also refuses any member
 * of the body (or of an object opened with field_object) that nothing read, naming it:
 * Stripe's "unknown parameter" rule, so a misspelt field never means a silent default.
 * Strings must be UTF-8 text without control characters.
 */
#ifndef PH_FIELDS_H
#define PH_FIELDS_H

#include <stddef.h>

struct json_object;
struct request;

#define FIELD_REQUIRED 1
#define FIELD_MULTILINE 2    /* strings: line breaks and tabs allowed (a statement) */

/* A string of min..max bytes of UTF-8 text without control characters; *out NULL if absent. */
void field_string(struct request *req, const char *name, size_t min, size_t max, int required,
                  const char **out);
/* An integer in [min, max] (JSON numbers only, no strings, no fractions); *out untouched if
 * absent. Returns 1 when present and valid. */
int field_int(struct request *req, const char *name, long long min, long long max,
              int required, long long *out);
/* An email address (one @, a dot in the domain, no spaces, at most 254 bytes), lower-cased
 * into the request's arena; *out NULL if absent. */
void field_email(struct request *req, const char *name, int required, const char **out);

/* The same checks on member key of obj (a nested object), reported under name, e.g.
 * "members[2].email".  A missing or non-object obj counts as the member being absent. */
void field_string_at(struct request *req, struct json_object *obj, const char *key,
                     const char *name, size_t min, size_t max, int required, const char **out);
void field_email_at(struct request *req, struct json_object *obj, const char *key,
                    const char *name, int required, const char **out);
/* A person's name, or one part of it, of at most max characters (lib/strparse.h
 * str_name_ok: letters of any script, single spaces, apostrophes, hyphens, periods; no
 * digits, symbols or web addresses), so that what reaches an email is only a name; *out
 * NULL if absent or refused. */
#define FIELD_NAME_PART_MAX 60     /* characters of a first or a last name */
#define FIELD_NAME_FULL_MAX 121    /* of a whole name: first, a space, last */
void field_name(struct request *req, const char *name, size_t max, int required,
                const char **out);
void field_name_at(struct request *req, struct json_object *obj, const char *key,
                   const char *name, size_t max, int required, const char **out);
/* true or false (JSON booleans only); *out untouched if absent.  1 when present and valid. */
int field_bool(struct request *req, const char *name, int required, int *out);
/* The body's member name as an array of min..max entries, or NULL (recorded if wrong). */
struct json_object *field_array(struct request *req, const char *name, size_t min, size_t max,
                                int required);
/* v (a member, or an array entry) as an object reported under name, or NULL; its members are
 * then checked by fields_done() too. */
struct json_object *field_object(struct request *req, struct json_object *v, const char *name,
                                 int required);
/* The member key of obj (NULL: the body) as such an object. */
struct json_object *field_object_at(struct request *req, struct json_object *obj,
                                    const char *key, const char *name, int required);
/* The member key of obj (NULL: the body), counted as read, for a handler that checks it
 * itself (free-form metadata, the assessment's sections); NULL when absent. */
struct json_object *field_known(struct request *req, struct json_object *obj, const char *key);
/*
 * The seeds' name for a field: when the body has alias, it stands for key (of the member
 * object parent, created if needed, or of the body when parent is NULL).  Errors about the
 * field are then reported under alias; an alias and its field that disagree are an error.
 * Call before reading the field.
 */
void field_alias(struct request *req, const char *alias, const char *parent, const char *key);
/* The optional free-form "metadata" object passed on to Stripe: at most 20 string values of
 * at most 200 bytes of text, keys of 1-40 [A-Za-z0-9_]; NULL when absent or wrong (recorded).
 * Our own keys always win over it. */
struct json_object *field_metadata(struct request *req);
/* The optional "campaignId" of a campaign's create route (the seeds send it everywhere):
 * recorded as wrong unless it is id. */
void field_campaign(struct request *req, const char *id);

/* Record a problem the checks above cannot see (e.g. "appears twice"). */
void field_error(struct request *req, const char *name, const char *why);

/* APP_OK when every field passed; otherwise replies 400 with details.fields and returns
 * APP_EVALIDATION. */
int fields_done(struct request *req);

#endif
