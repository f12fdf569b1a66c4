#include "config.h"

#include <ctype.h>
#include <string.h>

#include "fields.h"
#include "request.h"

static void
bad(struct request *req, const char *name, const char *why)
{
    if (!req->field_errors)
        req->field_errors = json_object_new_object();
    if (!json_object_object_get_ex(req->field_errors, name, NULL))
        json_object_object_add(req->field_errors, name, json_object_new_string(why));
}

/* The member name of the body; NULL when absent or null. */
static struct json_object *
member(struct request *req, const char *name)
{
    struct json_object *v = NULL;

    if (!req->json || !json_object_object_get_ex(req->json, name, &v))
        return NULL;
    return v;
}

/* The member key of obj; NULL when obj is not an object or the member is absent or null. */
static struct json_object *
member_of(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

void
field_string(struct request *req, const char *name, size_t min, size_t max, int required,
             const char **out)
{
    field_string_at(req, req->json, name, name, min, max, required, out);
}

void
field_string_at(struct request *req, struct json_object *obj, const char *key,
                const char *name, size_t min, size_t max, int required, const char **out)
{
    struct json_object *v = member_of(obj, key);
    size_t n;

    *out = NULL;
    if (!v) {
        if (required)
            bad(req, name, "is required");
        return;
    }
    if (!json_object_is_type(v, json_type_string)) {
        bad(req, name, "must be a string");
        return;
    }
    n = (size_t)json_object_get_string_len(v);
    if (n < min || n > max || memchr(json_object_get_string(v), '\0', n)) {
        bad(req, name, n < min ? "is too short" : "is too long");
        return;
    }
    *out = json_object_get_string(v);
}

int
field_int(struct request *req, const char *name, long long min, long long max, int required,
          long long *out)
{
    struct json_object *v = member(req, name);
    long long n;

    if (!v) {
        if (required)
            bad(req, name, "is required");
        return 0;
    }
    if (!json_object_is_type(v, json_type_int)) {
        bad(req, name, "must be a whole number");
        return 0;
    }
    n = json_object_get_int64(v);
    if (n < min || n > max) {
        bad(req, name, "is out of range");
        return 0;
    }
    *out = n;
    return 1;
}

void
field_email(struct request *req, const char *name, int required, const char **out)
{
    field_email_at(req, req->json, name, name, required, out);
}

void
field_email_at(struct request *req, struct json_object *obj, const char *key, const char *name,
               int required, const char **out)
{
    const char *s, *at, *dot, *p;
    size_t n, i;
    char *low;

    field_string_at(req, obj, key, name, 3, 254, required, &s);
    *out = NULL;
    if (!s)
        return;
    at = strchr(s, '@');
    dot = at ? strrchr(at, '.') : NULL;
    for (p = s; *p; p++) {
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || *p == ',' ||
            *p == '<' || *p == '>' || *p == '"')
            break;
    }
    if (*p || !at || at == s || strchr(at + 1, '@') || !dot || dot == at + 1 || !dot[1]) {
        bad(req, name, "must be an email address");
        return;
    }
    n = strlen(s);
    low = arena_alloc(req->arena, n + 1);
    for (i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    *out = low;
}

int
field_bool(struct request *req, const char *name, int required, int *out)
{
    struct json_object *v = member(req, name);

    if (!v) {
        if (required)
            bad(req, name, "is required");
        return 0;
    }
    if (!json_object_is_type(v, json_type_boolean)) {
        bad(req, name, "must be true or false");
        return 0;
    }
    *out = json_object_get_boolean(v);
    return 1;
}

struct json_object *
field_array(struct request *req, const char *name, size_t min, size_t max, int required)
{
    struct json_object *v = member(req, name);
    size_t n;

    if (!v) {
        if (required)
            bad(req, name, "is required");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_array)) {
        bad(req, name, "must be a list");
        return NULL;
    }
    n = json_object_array_length(v);
    if (n < min || n > max) {
        bad(req, name, n < min ? "has too few entries" : "has too many entries");
        return NULL;
    }
    return v;
}

struct json_object *
field_object(struct request *req, struct json_object *v, const char *name, int required)
{
    if (!v) {
        if (required)
            bad(req, name, "is required");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_object)) {
        bad(req, name, "must be an object");
        return NULL;
    }
    return v;
}

void
field_error(struct request *req, const char *name, const char *why)
{
    bad(req, name, why);
}

int
fields_done(struct request *req)
{
    struct json_object *d;

    if (!req->field_errors)
        return APP_OK;
    d = json_object_new_object();
    json_object_object_add(d, "fields", req->field_errors);
    req->field_errors = NULL;
    reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
    return APP_EVALIDATION;
}
