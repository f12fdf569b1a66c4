#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../lib/strparse.h"
#include "fields.h"
#include "request.h"

#define SEEN_MAX 256          /* members a handler may read in one body */
#define SCOPES_MAX 16         /* objects whose members are checked: the body, leader, ... */
#define ALIASES_MAX 8
#define NAME_MAX_SHOWN 64

/* What the handler read of the body, so fields_done() can name what it did not. */
struct fields_state {
    struct {
        const struct json_object *obj;
        const char *key;
    } seen[SEEN_MAX];
    size_t nseen;
    struct {
        const struct json_object *obj;
        const char *prefix;           /* "" for the body, "leader." for a member object */
    } scope[SCOPES_MAX];
    size_t nscope;
    struct {
        const char *name;             /* the field as we name it: "code", "leader.email" */
        const char *alias;            /* as the client sent it: "couponCode" */
    } alias[ALIASES_MAX];
    size_t nalias;
};

static struct fields_state *
state(struct request *req)
{
    if (!req->fields) {
        req->fields = arena_calloc(req->arena, sizeof(*req->fields));
        if (req->json) {
            req->fields->scope[0].obj = req->json;
            req->fields->scope[0].prefix = "";
            req->fields->nscope = 1;
        }
    }
    return req->fields;
}

static void
bad(struct request *req, const char *name, const char *why)
{
    struct fields_state *fs = state(req);
    size_t i;

    for (i = 0; i < fs->nalias; i++) {
        if (strcmp(fs->alias[i].name, name) == 0) {
            name = fs->alias[i].alias;          /* speak of the field the client sent */
            break;
        }
    }
    if (!req->field_errors)
        req->field_errors = json_object_new_object();
    if (!json_object_object_get_ex(req->field_errors, name, NULL))
        json_object_object_add(req->field_errors, name, json_object_new_string(why));
}

static void
mark(struct request *req, const struct json_object *obj, const char *key)
{
    struct fields_state *fs = state(req);
    size_t i;

    for (i = 0; i < fs->nseen && i < SEEN_MAX; i++) {
        if (fs->seen[i].obj == obj && strcmp(fs->seen[i].key, key) == 0)
            return;
    }
    /* A handler reading more members than this is a bug: fields_done() then refuses the
     * body rather than let an unread member pass. */
    if (fs->nseen < SEEN_MAX) {
        fs->seen[fs->nseen].obj = obj;
        fs->seen[fs->nseen].key = key;
    }
    fs->nseen++;
}

static int
was_seen(const struct fields_state *fs, const struct json_object *obj, const char *key)
{
    size_t i;

    for (i = 0; i < fs->nseen && i < SEEN_MAX; i++) {
        if (fs->seen[i].obj == obj && strcmp(fs->seen[i].key, key) == 0)
            return 1;
    }
    return 0;
}

static void
open_scope(struct request *req, const struct json_object *obj, const char *name)
{
    struct fields_state *fs = state(req);
    size_t n = strlen(name), i;
    char *prefix;

    for (i = 0; i < fs->nscope; i++) {
        if (fs->scope[i].obj == obj)
            return;
    }
    if (fs->nscope == SCOPES_MAX) {
        bad(req, name, "is nested too often");
        return;
    }
    prefix = arena_alloc(req->arena, n + 2);
    memcpy(prefix, name, n);
    prefix[n] = '.';
    prefix[n + 1] = '\0';
    fs->scope[fs->nscope].obj = obj;
    fs->scope[fs->nscope].prefix = prefix;
    fs->nscope++;
}

/* The member key of obj, marked as read; NULL when obj is not an object or the member is
 * absent or null. */
static struct json_object *
member_of(struct request *req, struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_is_type(obj, json_type_object))
        return NULL;
    mark(req, obj, key);
    if (!json_object_object_get_ex(obj, key, &v))
        return NULL;
    return v;
}

/* The member name of the body. */
static struct json_object *
member(struct request *req, const char *name)
{
    return member_of(req, req->json, name);
}

struct json_object *
field_known(struct request *req, struct json_object *obj, const char *key)
{
    return member_of(req, obj ? obj : req->json, key);
}

void
field_alias(struct request *req, const char *alias, const char *parent, const char *key)
{
    struct fields_state *fs = state(req);
    struct json_object *v = member(req, alias), *target = req->json, *have = NULL;
    size_t n;
    char *name;

    if (!v)
        return;
    if (parent) {
        if (!json_object_object_get_ex(req->json, parent, &target) || !target) {
            target = json_object_new_object();
            json_object_object_add(req->json, parent, target);
        }
        if (!json_object_is_type(target, json_type_object))
            return;                           /* the parent's own check reports it */
    }
    if (json_object_object_get_ex(target, key, &have) && have) {
        if (!json_object_equal(have, v))
            bad(req, alias, "disagrees with the field it stands for");
        return;
    }
    json_object_object_add(target, key, json_object_get(v));
    n = (parent ? strlen(parent) + 1 : 0) + strlen(key) + 1;
    name = arena_alloc(req->arena, n);
    snprintf(name, n, "%s%s%s", parent ? parent : "", parent ? "." : "", key);
    if (fs->nalias < ALIASES_MAX) {
        fs->alias[fs->nalias].name = name;
        fs->alias[fs->nalias].alias = alias;
        fs->nalias++;
    }
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
    struct json_object *v = member_of(req, obj, key);
    size_t n;

    *out = NULL;
    if (!v) {
        if (required & FIELD_REQUIRED)
            bad(req, name, "is required");
        return;
    }
    if (!json_object_is_type(v, json_type_string)) {
        bad(req, name, "must be a string");
        return;
    }
    n = (size_t)json_object_get_string_len(v);
    if (n < min || n > max) {
        bad(req, name, n < min ? "is too short" : "is too long");
        return;
    }
    if (!str_text_ok(json_object_get_string(v), n, (required & FIELD_MULTILINE) != 0)) {
        bad(req, name, "must be UTF-8 text without control characters");
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

void
field_name(struct request *req, const char *name, size_t max, int required, const char **out)
{
    field_name_at(req, req->json, name, name, max, required, out);
}

void
field_name_at(struct request *req, struct json_object *obj, const char *key, const char *name,
              size_t max, int required, const char **out)
{
    const char *s;

    /* At most four bytes a character: the length in characters is str_name_ok's. */
    field_string_at(req, obj, key, name, 1, 4 * max, required, &s);
    *out = NULL;
    if (!s)
        return;
    if (!str_name_ok(s, strlen(s), 4 * max))
        bad(req, name, "must be a plain name: letters, spaces, apostrophes, hyphens and periods");
    else if (!str_name_ok(s, strlen(s), max))
        bad(req, name, "is too long");
    else
        *out = s;
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
    open_scope(req, v, name);
    return v;
}

struct json_object *
field_object_at(struct request *req, struct json_object *obj, const char *key,
                const char *name, int required)
{
    return field_object(req, member_of(req, obj ? obj : req->json, key), name, required);
}

/* Name a member the handler did not read, as much of it as can be shown safely. */
static void
unknown(struct request *req, const char *prefix, const char *key)
{
    size_t n = strlen(key), np = strlen(prefix);
    char *name;

    if (n == 0 || n > NAME_MAX_SHOWN || !str_text_ok(key, n, 0)) {
        bad(req, np ? arena_strndup(req->arena, prefix, np - 1) : "(body)",
            "has a member whose name is not a short UTF-8 text");
        return;
    }
    name = arena_alloc(req->arena, np + n + 1);
    memcpy(name, prefix, np);
    memcpy(name + np, key, n + 1);
    bad(req, name, "is not a known field");
}

/* Stripe's "unknown parameter" rule: a member nobody read is an error, never ignored. */
static void
check_unknown(struct request *req)
{
    struct fields_state *fs = state(req);
    size_t i;

    if (fs->nseen > SEEN_MAX) {
        bad(req, "(body)", "has more fields than any request of this API");
        return;
    }
    for (i = 0; i < fs->nscope; i++) {
        json_object_object_foreach((struct json_object *)fs->scope[i].obj, k, v) {
            (void)v;
            if (!was_seen(fs, fs->scope[i].obj, k))
                unknown(req, fs->scope[i].prefix, k);
        }
    }
}

#define META_MAX_KEYS 20
#define META_KEY_MAX 40
#define META_VALUE_MAX 200

/* Flat string metadata with short [A-Za-z0-9_] keys; why it is not, or NULL. */
static const char *
metadata_problem(struct json_object *m)
{
    if (!json_object_is_type(m, json_type_object))
        return "must be an object of strings";
    if (json_object_object_length(m) > META_MAX_KEYS)
        return "has too many keys (at most 20)";
    json_object_object_foreach(m, k, v) {
        size_t n = strlen(k), i;

        if (n == 0 || n > META_KEY_MAX)
            return "keys must be 1-40 characters";
        for (i = 0; i < n; i++) {
            if (!isalnum((unsigned char)k[i]) && k[i] != '_')
                return "keys may hold only letters, digits and _";
        }
        if (!json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) > META_VALUE_MAX)
            return "values must be strings of at most 200 characters";
        if (!str_text_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v), 0))
            return "values must be UTF-8 text without control characters";
    }
    return NULL;
}

struct json_object *
field_metadata(struct request *req)
{
    struct json_object *m = member(req, "metadata");
    const char *why;

    if (!m)
        return NULL;
    why = metadata_problem(m);
    if (why) {
        bad(req, "metadata", why);
        return NULL;
    }
    return m;
}

void
field_campaign(struct request *req, const char *id)
{
    struct json_object *v = member(req, "campaignId");

    if (v && (!json_object_is_type(v, json_type_string) ||
              strcmp(json_object_get_string(v), id) != 0))
        bad(req, "campaignId", "is not this route's campaign");
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

    if (req->json)
        check_unknown(req);
    if (!req->field_errors)
        return APP_OK;
    d = json_object_new_object();
    json_object_object_add(d, "fields", req->field_errors);
    req->field_errors = NULL;
    reply_error(req, APP_EVALIDATION, "Some fields are invalid", d);
    return APP_EVALIDATION;
}
