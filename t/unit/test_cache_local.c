/* lib/cache_local.c: the worker's own copies of hot cache entries, as a table of steps. */
#include "config.h"

#include <check.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/cache_local.h"
#include "unit.h"

enum op { PUT, PUT_NONE, DROP, GET, WAIT };

/* One step: put a value (or "none") for key, drop it, get it (expecting want: 1 with
 * value, -1 none, 0 unknown), or wait ms. */
static const struct step {
    enum op op;
    const char *key, *value;
    int want;
} steps[] = {
    {GET, "ph:v2:coupon:SAVE20", NULL, 0},                  /* nothing held yet */
    {PUT, "ph:v2:coupon:SAVE20", "{\"a\":1}", 0},
    {GET, "ph:v2:coupon:SAVE20", "{\"a\":1}", 1},
    {GET, "ph:v2:coupon:SAVE2", NULL, 0},                   /* another key, a prefix */
    {PUT, "ph:v2:coupon:SAVE20", "{\"a\":2}", 0},           /* replaced */
    {GET, "ph:v2:coupon:SAVE20", "{\"a\":2}", 1},
    {PUT, "ph:v2:coupon:SAVE20", "", 0},                    /* an empty value is a value */
    {GET, "ph:v2:coupon:SAVE20", "", 1},
    {PUT_NONE, "ph:v2:guess:10.0.0.1", NULL, 0},            /* memcached had none */
    {GET, "ph:v2:guess:10.0.0.1", NULL, -1},
    {PUT, "ph:v2:guess:10.0.0.1", "3", 0},
    {GET, "ph:v2:guess:10.0.0.1", "3", 1},
    {DROP, "ph:v2:guess:10.0.0.1", NULL, 0},
    {GET, "ph:v2:guess:10.0.0.1", NULL, 0},
    {DROP, "ph:v2:plan:never", NULL, 0},                    /* dropping what is not held */
    {PUT, "ph:v2:plan:p", "x", 0},
    {WAIT, NULL, NULL, 150},                                /* past the 100 ms of the test */
    {GET, "ph:v2:plan:p", NULL, 0},
    {GET, "ph:v2:coupon:SAVE20", NULL, 0},
    {PUT, "", "x", 0},                                      /* no key (a failed digest): */
    {GET, "", NULL, 0},                                     /* nothing held under it */
    {PUT_NONE, "", NULL, 0},
    {GET, "", NULL, 0},
};

START_TEST(test_steps)
{
    struct cache_local *l = cache_local_new(100);
    char storage[64];
    struct buf out;
    size_t i;

    ck_assert_ptr_nonnull(l);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const struct step *s = &steps[i];
        size_t klen = s->key ? strlen(s->key) : 0;
        int got;

        switch (s->op) {
        case PUT:
            cache_local_put(l, s->key, klen, s->value, strlen(s->value));
            break;
        case PUT_NONE:
            cache_local_put(l, s->key, klen, NULL, 0);
            break;
        case DROP:
            cache_local_drop(l, s->key, klen);
            break;
        case WAIT:
            usleep((useconds_t)s->want * 1000);
            break;
        case GET:
            buf_init_fixed(&out, storage, sizeof(storage));
            got = cache_local_get(l, s->key, klen, &out);
            ck_assert_msg(got == s->want, "step %zu: %s: %d, not %d", i, s->key, got, s->want);
            if (got == 1)
                ck_assert_str_eq(out.data, s->value);
            break;
        }
    }
    cache_local_free(l);
}
END_TEST

START_TEST(test_off_and_limits)
{
    static char big[CACHE_LOCAL_VALUE_MAX + 2];
    struct cache_local *l;
    char storage[64];
    struct buf out;

    ck_assert_ptr_null(cache_local_new(0));                 /* CACHE_LOCAL_MS=0: no layer */
    ck_assert_int_eq(cache_local_get(NULL, "k", 1, &out), 0);
    cache_local_put(NULL, "k", 1, "v", 1);                   /* a no-op, not a crash */
    cache_local_drop(NULL, "k", 1);
    l = cache_local_new(1000);
    memset(big, 'x', sizeof(big) - 1);
    cache_local_put(l, "big", 3, big, sizeof(big) - 1);      /* too big to hold */
    buf_init_fixed(&out, storage, sizeof(storage));
    ck_assert_int_eq(cache_local_get(l, "big", 3, &out), 0);
    cache_local_free(l);
}
END_TEST

static Suite *
cache_local_suite(void)
{
    Suite *s = suite_create("cache_local");
    TCase *tc = tcase_create("copies");

    tcase_add_test(tc, test_steps);
    tcase_add_test(tc, test_off_and_limits);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(cache_local_suite)
