/* memcached keys: literal while short and safe, hashed otherwise, always within the limit.
 * The hashes were computed with Python's hashlib. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "../../lib/cache.h"
#include "unit.h"

/* A namespace and a key, each given as text or as a letter repeated n times. */
static const struct key_case {
    const char *ns;
    size_t ns_n;
    const char *key;
    size_t key_n;
    const char *want;                 /* the whole key, or NULL: a literal of want_len */
    size_t want_len;
} cases[] = {
    {"plan", 0, "full-6months", 0, "ph:v2:plan:full-6months", 0},
    {"uses", 0, "", 0, "ph:v2:uses:", 0},
    {"plan", 0, "x", 239, NULL, 250},                       /* exactly memcached's limit */
    {"plan", 0, "x", 240,
     "ph:v2:plan:#718df6704d8a06104f8188195d17166c1276cffc91da8c756b925d29dcc60a71", 0},
    {"coupon", 0, "a b", 0,
     "ph:v2:coupon:#c8687a08aa5d6ed2044328fa6a697ab8e96dc34291e8c2034ae8c38e6fcc6d65", 0},
    {"guess", 0, "\xc3\xa9", 0,
     "ph:v2:guess:#4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c", 0},
    {"n", 200, "x", 50,
     "ph:v2:#a78d9dd0278437efa7393e42c2ec96a4ce81fc02c9ca686ca7e9ea92d40f0ac4", 0},
    {"n", 400, "k", 0,
     "ph:v2:#25cf613ee2f316f1ad9af1dd055c67afbf1aa024b5ce5b839e4e674e9d48fd07", 0},
};

static const char *
text(char *buf, const char *s, size_t n)
{
    if (n == 0)
        return s;
    memset(buf, s[0], n);
    buf[n] = '\0';
    return buf;
}

START_TEST(test_keys)
{
    const struct key_case *c = &cases[_i];
    static char ns[512], key[512];
    char out[CACHE_KEY_BUF];
    size_t len = cache_key(out, text(ns, c->ns, c->ns_n), text(key, c->key, c->key_n));

    ck_assert_msg(len <= CACHE_KEY_MAX && len == strlen(out), "case %d: length %zu", _i, len);
    if (c->want)
        ck_assert_str_eq(out, c->want);
    else
        ck_assert_msg(len == c->want_len && strncmp(out, "ph:v2:plan:xxx", 14) == 0,
                      "case %d: %zu bytes, not %zu", _i, len, c->want_len);
}
END_TEST

static Suite *
cache_key_suite(void)
{
    Suite *s = suite_create("cache_key");
    TCase *tc = tcase_create("keys");

    tcase_add_loop_test(tc, test_keys, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cache_key_suite)
