#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddbjson.h"

static struct json_object *
av(const char *type, struct json_object *v)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, type, v);
    return o;
}

struct json_object *
ddb_av_s(const char *s)
{
    return av("S", json_object_new_string(s));
}

const char *
json_str(struct json_object *o, const char *k)
{
    struct json_object *v;

    if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

struct json_object *
ddb_key_s(const char *name, const char *value)
{
    struct json_object *k = json_object_new_object();

    json_object_object_add(k, name, ddb_av_s(value));
    return k;
}

struct json_object *
ddb_av_n(long long n)
{
    char tmp[32];

    snprintf(tmp, sizeof(tmp), "%lld", n);
    return av("N", json_object_new_string(tmp));
}

struct json_object *
ddb_av_string_set(struct json_object *plain_array)
{
    struct json_object *a = json_object_new_array();
    size_t i;

    for (i = 0; i < json_object_array_length(plain_array); i++)
        json_object_array_add(a, json_object_new_string(
            json_object_get_string(json_object_array_get_idx(plain_array, i))));
    return av("SS", a);
}

struct json_object *
ddb_marshal(struct json_object *plain)
{
    struct json_object *m;
    size_t i;

    switch (json_object_get_type(plain)) {
    case json_type_null:
        return av("NULL", json_object_new_boolean(1));
    case json_type_boolean:
        return av("BOOL", json_object_new_boolean(json_object_get_boolean(plain)));
    case json_type_int:
    case json_type_double:
        /* json_object_get_string gives the number's own text (json-c keeps it for doubles
         * it parsed), so 0.1 stays "0.1" and 12.50 stays "12.50". */
        return av("N", json_object_new_string(json_object_get_string(plain)));
    case json_type_string:
        return av("S", json_object_new_string_len(json_object_get_string(plain),
                                                  json_object_get_string_len(plain)));
    case json_type_array:
        m = json_object_new_array();
        for (i = 0; i < json_object_array_length(plain); i++)
            json_object_array_add(m, ddb_marshal(json_object_array_get_idx(plain, i)));
        return av("L", m);
    case json_type_object:
        return av("M", ddb_marshal_item(plain));
    }
    return av("NULL", json_object_new_boolean(1));
}

struct json_object *
ddb_marshal_item(struct json_object *plain_object)
{
    struct json_object *m = json_object_new_object();

    json_object_object_foreach(plain_object, k, v)
        json_object_object_add(m, k, ddb_marshal(v));
    return m;
}

/* A DynamoDB number (its text) to a plain number, exactly; NULL if it is not a number. */
static struct json_object *
number(struct json_object *n)
{
    const char *s;
    char *end;
    long long v;
    double d;

    if (!json_object_is_type(n, json_type_string))
        return NULL;
    s = json_object_get_string(n);
    /* DynamoDB's numbers: an optional sign, digits, an optional fraction and exponent. */
    if (!*s || strspn(s, "+-0123456789.eE") != strlen(s))
        return NULL;
    errno = 0;
    v = strtoll(s, &end, 10); /* checksrc: ok, a whole-string check follows */
    if (errno == 0 && *end == '\0')
        return json_object_new_int64(v);
    errno = 0;
    d = strtod(s, &end);
    if (*end != '\0' || end == s)
        return NULL;
    /* Keep the text: serialising the double writes s back, unchanged. */
    return json_object_new_double_s(d, s);
}

/* A string attribute's value, NUL bytes and all; NULL if it is not a string. */
static struct json_object *
string(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_new_string_len(json_object_get_string(v), json_object_get_string_len(v));
}

/* A set (SS, NS, BS) to an array; NULL if it is not an array of strings (numbers). */
static struct json_object *
array_of(struct json_object *arr, int numbers)
{
    struct json_object *a;
    size_t i;

    if (!json_object_is_type(arr, json_type_array))
        return NULL;
    a = json_object_new_array();
    for (i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct json_object *p = numbers ? number(e) : string(e);

        if (!p) {
            json_object_put(a);
            return NULL;
        }
        json_object_array_add(a, p);
    }
    return a;
}

int
ddb_unmarshal(struct json_object *a, struct json_object **out)
{
    struct json_object *v;
    size_t i;

    *out = NULL;
    if (!json_object_is_type(a, json_type_object) || json_object_object_length(a) != 1)
        return -1;
    if (json_object_object_get_ex(a, "S", &v) || json_object_object_get_ex(a, "B", &v))
        *out = string(v);
    else if (json_object_object_get_ex(a, "N", &v))
        *out = number(v);
    else if (json_object_object_get_ex(a, "BOOL", &v))
        *out = json_object_is_type(v, json_type_boolean) ?
               json_object_new_boolean(json_object_get_boolean(v)) : NULL;
    else if (json_object_object_get_ex(a, "NULL", &v))
        return 0;
    else if (json_object_object_get_ex(a, "SS", &v) || json_object_object_get_ex(a, "BS", &v))
        *out = array_of(v, 0);
    else if (json_object_object_get_ex(a, "NS", &v))
        *out = array_of(v, 1);
    else if (json_object_object_get_ex(a, "M", &v))
        *out = ddb_unmarshal_item(v);
    else if (json_object_object_get_ex(a, "L", &v) && json_object_is_type(v, json_type_array)) {
        *out = json_object_new_array();
        for (i = 0; i < json_object_array_length(v); i++) {
            struct json_object *e;

            if (ddb_unmarshal(json_object_array_get_idx(v, i), &e) != 0) {
                json_object_put(*out);
                *out = NULL;
                return -1;
            }
            json_object_array_add(*out, e);
        }
    }
    return *out ? 0 : -1;
}

struct json_object *
ddb_unmarshal_item(struct json_object *item)
{
    struct json_object *out;

    if (!json_object_is_type(item, json_type_object))
        return NULL;
    out = json_object_new_object();
    json_object_object_foreach(item, k, v) {
        struct json_object *p;

        if (ddb_unmarshal(v, &p) != 0) {
            json_object_put(out);
            return NULL;
        }
        json_object_object_add(out, k, p);
    }
    return out;
}

long long
json_int(struct json_object *o, const char *k)
{
    struct json_object *v;

    return o && json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

void
json_add_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

void
json_put_cb(void *o)
{
    json_object_put(o);
}
