#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "buf.h"
#include "erase.h"
#include "ids.h"
#include "mem.h"

#define NAMES_MAX 16

/* Names of things, not of people, though they end in "Name". */
static const char *const thing_names[] = {
    "planName", "productName", "clusterName", "brandName", "examName", "templateName",
    "couponName", "campaignName", "TableName", "IndexName",
};

/* Free text a person wrote about themselves. */
static const char *const free_text[] = { "statement", "hardshipStatement" };

int
erase_who_init(struct erase_who *w, const char *email)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char salted[ERASE_EMAIL_MAX + 32], h[17];
    size_t i, n = email ? strlen(email) : 0;

    memset(w, 0, sizeof(*w));
    if (n < 3 || n > ERASE_EMAIL_MAX || !strchr(email, '@'))
        return -1;
    for (i = 0; i < n; i++) {
        if (isspace((unsigned char)email[i]) || (unsigned char)email[i] < 0x20)
            return -1;
        w->email[i] = (char)tolower((unsigned char)email[i]);
    }
    SHA256((const unsigned char *)w->email, n, md);
    hex_encode(md, sizeof(md), w->hash);
    snprintf(salted, sizeof(salted), "prodenthub-erased:%s", w->email);
    SHA256((const unsigned char *)salted, strlen(salted), md);
    hex_encode(md, 8, h);
    snprintf(w->token, sizeof(w->token), "erased-%s@invalid", h);
    return 0;
}

/* Where needle (lower case) is in s, ignoring case, from s on; with word, only where it is a
 * whole word (no letter or digit on either side).  NULL when not. */
static const char *
find_in(const char *s0, const char *s, const char *needle, int word)
{
    size_t n = strlen(needle), i;

    if (n == 0)
        return NULL;
    for (; *s; s++) {
        for (i = 0; i < n && s[i] && tolower((unsigned char)s[i]) == needle[i]; i++)
            ;
        if (i == n && (!word || ((s == s0 || !isalnum((unsigned char)s[-1])) &&
                                 !isalnum((unsigned char)s[n]))))
            return s;
    }
    return NULL;
}

static const char *
find_ci(const char *s, const char *needle)
{
    return find_in(s, s, needle, 0);
}

static int
str_matches(const struct erase_who *w, const char *s)
{
    return find_ci(s, w->email) || find_ci(s, w->hash);
}

/* The attribute value av (or any string below it) holds the address. */
static int
av_matches(const struct erase_who *w, struct json_object *av)
{
    struct json_object *v;
    size_t i;

    if (json_object_object_get_ex(av, "S", &v))
        return str_matches(w, json_object_get_string(v));
    if (json_object_object_get_ex(av, "SS", &v)) {
        for (i = 0; i < json_object_array_length(v); i++) {
            if (str_matches(w, json_object_get_string(json_object_array_get_idx(v, i))))
                return 1;
        }
        return 0;
    }
    if (json_object_object_get_ex(av, "M", &v))
        return erase_matches(w, v);
    if (json_object_object_get_ex(av, "L", &v)) {
        for (i = 0; i < json_object_array_length(v); i++) {
            if (av_matches(w, json_object_array_get_idx(v, i)))
                return 1;
        }
    }
    return 0;
}

int
erase_matches(const struct erase_who *w, struct json_object *item)
{
    if (!json_object_is_type(item, json_type_object))
        return 0;
    json_object_object_foreach(item, k, av) {
        if (str_matches(w, k) || av_matches(w, av))
            return 1;
    }
    return 0;
}

static int
in_list(const char *k, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(k, list[i]) == 0)
            return 1;
    }
    return 0;
}

static int
is_person_name(const char *k)
{
    size_t n = strlen(k);

    if (in_list(k, thing_names, sizeof(thing_names) / sizeof(thing_names[0])))
        return 0;
    return strcmp(k, "name") == 0 || (n > 4 && strcmp(k + n - 4, "Name") == 0);
}

struct names {
    char *v[NAMES_MAX];
    size_t n;
};

static void
names_add(struct names *nm, const char *s)
{
    size_t i;

    if (strlen(s) < 2 || strcmp(s, "erased") == 0 || nm->n == NAMES_MAX)
        return;
    for (i = 0; i < nm->n; i++) {
        if (strcasecmp(nm->v[i], s) == 0)
            return;
    }
    nm->v[nm->n++] = xstrdup(s);
}

/* Pass one, on a map of attribute values (changed in place): names and free text of every
 * map that holds the address in a direct string. */
static void
strip_map(const struct erase_who *w, struct json_object *map, struct names *nm)
{
    struct json_object *v, *s;
    int holds = 0;
    size_t i;

    json_object_object_foreach(map, k0, av0) {
        if (json_object_object_get_ex(av0, "S", &s) && str_matches(w, json_object_get_string(s)))
            holds = 1;
        (void)k0;
    }
    if (holds) {
        for (i = 0; i < sizeof(free_text) / sizeof(free_text[0]); i++)
            json_object_object_del(map, free_text[i]);
        json_object_object_foreach(map, k1, av1) {
            if (is_person_name(k1) && json_object_object_get_ex(av1, "S", &s)) {
                names_add(nm, json_object_get_string(s));
                json_object_object_add(map, k1, json_object_new_object());
                json_object_object_add(json_object_object_get(map, k1), "S",
                                       json_object_new_string("erased"));
            }
        }
    }
    json_object_object_foreach(map, k2, av2) {
        if (json_object_object_get_ex(av2, "M", &v))
            strip_map(w, v, nm);
        else if (json_object_object_get_ex(av2, "L", &v)) {
            for (i = 0; i < json_object_array_length(v); i++) {
                struct json_object *m;

                if (json_object_object_get_ex(json_object_array_get_idx(v, i), "M", &m))
                    strip_map(w, m, nm);
            }
        }
        (void)k2;
    }
}

/* s with every occurrence (any case; with word, as a whole word) of what replaced by with;
 * NULL when none. */
static char *
replace_ci(const char *s, const char *what, const char *with, int word)
{
    const char *p = s, *hit = find_in(s, s, what, word);
    struct buf b;
    char *out;
    size_t wl = strlen(what);

    if (!hit)
        return NULL;
    buf_init(&b, 1 << 20);
    while (hit) {
        buf_append(&b, p, (size_t)(hit - p));
        buf_puts(&b, with);
        p = hit + wl;
        hit = find_in(s, p, what, word);
    }
    buf_puts(&b, p);
    out = xstrdup(b.data ? b.data : "");
    buf_free(&b);
    return out;
}

/* A string with the address, its hash and the names replaced; NULL when unchanged. */
static char *
clean_str(const struct erase_who *w, const struct names *nm, const char *s)
{
    char *cur = NULL, *next;
    char low[NAMES_MAX][ERASE_EMAIL_MAX + 1];
    size_t i, j;

    next = replace_ci(s, w->email, w->token, 0);
    if (next)
        cur = next;
    next = replace_ci(cur ? cur : s, w->hash, "erased", 0);
    if (next) {
        free(cur);
        cur = next;
    }
    for (i = 0; i < nm->n; i++) {
        for (j = 0; nm->v[i][j] && j < ERASE_EMAIL_MAX; j++)
            low[i][j] = (char)tolower((unsigned char)nm->v[i][j]);
        low[i][j] = '\0';
        next = replace_ci(cur ? cur : s, low[i], "erased", 1);
        if (next) {
            free(cur);
            cur = next;
        }
    }
    return cur;
}

static struct json_object *clean_map(const struct erase_who *w, const struct names *nm,
                                     struct json_object *map);

static struct json_object *
clean_av(const struct erase_who *w, const struct names *nm, struct json_object *av)
{
    struct json_object *v, *out, *l;
    char *c;
    size_t i;

    if (json_object_object_get_ex(av, "S", &v)) {
        c = clean_str(w, nm, json_object_get_string(v));
        if (!c)
            return json_object_get(av);
        out = json_object_new_object();
        json_object_object_add(out, "S", json_object_new_string(c));
        free(c);
        return out;
    }
    if (json_object_object_get_ex(av, "SS", &v)) {
        out = json_object_new_object();
        l = json_object_new_array();
        for (i = 0; i < json_object_array_length(v); i++) {
            const char *s = json_object_get_string(json_object_array_get_idx(v, i));

            c = clean_str(w, nm, s);
            json_object_array_add(l, json_object_new_string(c ? c : s));
            free(c);
        }
        json_object_object_add(out, "SS", l);
        return out;
    }
    if (json_object_object_get_ex(av, "M", &v)) {
        out = json_object_new_object();
        json_object_object_add(out, "M", clean_map(w, nm, v));
        return out;
    }
    if (json_object_object_get_ex(av, "L", &v)) {
        out = json_object_new_object();
        l = json_object_new_array();
        for (i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(l, clean_av(w, nm, json_object_array_get_idx(v, i)));
        json_object_object_add(out, "L", l);
        return out;
    }
    return json_object_get(av);
}

static struct json_object *
clean_map(const struct erase_who *w, const struct names *nm, struct json_object *map)
{
    struct json_object *out = json_object_new_object();
    char *k2;

    json_object_object_foreach(map, k, av) {
        k2 = clean_str(w, nm, k);
        json_object_object_add(out, k2 ? k2 : k, clean_av(w, nm, av));
        free(k2);
    }
    return out;
}

struct json_object *
erase_anonymise(const struct erase_who *w, struct json_object *item, int *changed)
{
    struct json_object *copy = NULL, *out;
    struct names nm;
    size_t i;

    memset(&nm, 0, sizeof(nm));
    if (json_object_deep_copy(item, &copy, NULL) != 0)
        return NULL;
    strip_map(w, copy, &nm);
    out = clean_map(w, &nm, copy);
    json_object_put(copy);
    for (i = 0; i < nm.n; i++)
        free(nm.v[i]);
    *changed = !json_object_equal(out, item);
    return out;
}
