/*
 * Fuzz target "cursor_cache": the listings' cursors a client sends back (lib/cursor.h: the
 * mock exams' key cursor, the AI history's sealed or plain cursor) and what the worker keeps
 * of memcached's values (lib/cache_local.h) and reads back from them (a counter's text).
 * The first byte chooses (modulo 4):
 *
 *   0  a key cursor as sent: taken back only as exactly the listing's key; and the key made
 *      of three pieces round-trips through cursor_key_out / cursor_key_in;
 *   1  a sealed cursor as sent, with and without OUTBOX_KEY, for two users; and a value made
 *      of a piece round-trips through cursor_seal / cursor_unseal for its own user only;
 *   2  the worker's copies: put, get and drop of keys and values of any bytes, each value
 *      read back as put, an absent one as absent, a dropped one not at all;
 *   3  a counter as memcached may hand it back (purchase_lookups_left): any text is a count
 *      under, at or over the limit, or no count.
 */
#include "config.h"

#include <json-c/json.h>

#include "t/fuzz/fuzz.h"
#include "campaign/purchase.h"
#include "lib/cache_local.h"
#include "lib/ctx.h"
#include "lib/cursor.h"
#include "lib/mem.h"
#include "lib/strparse.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define AAD_1 "prodenthub ai-history cursor\nuser-1"
#define AAD_2 "prodenthub ai-history cursor\nuser-2"

static const char *const listing_keys[] = { "mockExamId", "listing", "examDate", NULL };
static struct cfg cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_settings(NULL);
    fz_cfg(&cfg, 0);
    return 0;
}

/* {"type": "s"}, as DynamoDB types an attribute. */
static struct json_object *
typed(const char *type, const char *s)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, type, json_object_new_string(s));
    return o;
}

static void
key_cursor(struct fz *f)
{
    struct json_object *k, *back;
    struct arena a;
    char *c = fz_piece(f, NULL), *id = fz_piece(f, NULL), *listing = fz_piece(f, NULL);
    char *date = fz_rest(f, NULL), *out;

    back = cursor_key_in(c, listing_keys);
    if (back) {
        FZ_ASSERT(json_object_object_length(back) == 3);
        json_object_put(back);
    }
    k = json_object_new_object();
    json_object_object_add(k, "mockExamId", typed("S", id));
    json_object_object_add(k, "listing", typed("S", listing));
    json_object_object_add(k, "examDate", typed("S", date));
    arena_init(&a, 0);
    out = cursor_key_out(&a, k);
    FZ_ASSERT(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
              == strlen(out));
    back = cursor_key_in(out, listing_keys);
    /* what fits is taken back as it was */
    FZ_ASSERT(strlen(out) > CURSOR_MAX - 4 || (back && json_object_equal(back, k)));
    json_object_put(back);
    arena_destroy(&a);
    json_object_put(k);
    free(date);
    free(listing);
    free(id);
    free(c);
}

static void
sealed_cursor(struct fz *f)
{
    static const char *const keys[] = { KEY_HEX, "" };
    char *c = fz_piece(f, NULL), *value = fz_rest(f, NULL);
    struct buf out, v;
    size_t k;

    buf_init(&out, CURSOR_MAX + 1);
    buf_init(&v, CURSOR_MAX);
    for (k = 0; k < 2; k++) {
        if (cursor_unseal(keys[k], AAD_1, c, &v) == 0)
            FZ_ASSERT(v.data && strlen(v.data) == v.len && v.len > 0);
        else
            FZ_ASSERT(v.len == 0);
        if (cursor_seal(keys[k], AAD_1, value, &out) != 0) {
            FZ_ASSERT(strlen(value) > CURSOR_MAX / 2 || !*value);
            continue;
        }
        FZ_ASSERT(out.len <= CURSOR_MAX && strlen(out.data) == out.len);
        FZ_ASSERT(strncmp(out.data, k ? "p1." : "s1.", 3) == 0);
        if (*value) {
            FZ_ASSERT(cursor_unseal(keys[k], AAD_1, out.data, &v) == 0);
            FZ_ASSERT(strcmp(v.data, value) == 0);
        }
        FZ_ASSERT(cursor_unseal(keys[1 - k], AAD_1, out.data, &v) != 0);
        if (k == 0)
            FZ_ASSERT(cursor_unseal(keys[k], AAD_2, out.data, &v) != 0);
    }
    buf_free(&v);
    buf_free(&out);
    free(value);
    free(c);
}

/* Operations on the worker's copies: each a byte (op, key of 1..8 from the input) then the
 * value's length and bytes; a model says what each get must find. */
static void
local_copies(struct fz *f)
{
    static struct {
        char key[8];
        size_t klen;
        int state;                  /* 0 unknown, 1 value, 2 absent */
        char value[300];
        size_t len;
    } model[16];
    struct cache_local *l = cache_local_new(60000);
    struct buf b;
    size_t i, n, m;
    unsigned op;
    int got;

    memset(model, 0, sizeof(model));
    buf_init(&b, CACHE_LOCAL_VALUE_MAX);
    while (f->n > 1) {
        op = fz_byte(f);
        m = op >> 4;                             /* which of 16 keys */
        model[m].klen = 1 + (op >> 4) % 8;
        for (i = 0; i < model[m].klen; i++)
            model[m].key[i] = (char)(m * 7 + i);
        switch (op & 3) {
        case 0:                                  /* put a value */
            n = fz_byte(f) % sizeof(model[m].value);
            n = n < f->n ? n : f->n;
            memcpy(model[m].value, f->p, n);
            f->p += n;
            f->n -= n;
            model[m].len = n;
            model[m].state = 1;
            cache_local_put(l, model[m].key, model[m].klen, model[m].value, n);
            break;
        case 1:                                  /* put "there is none" */
            model[m].state = 2;
            cache_local_put(l, model[m].key, model[m].klen, NULL, 0);
            break;
        case 2:                                  /* drop */
            model[m].state = 0;
            cache_local_drop(l, model[m].key, model[m].klen);
            break;
        default:                                 /* get */
            got = cache_local_get(l, model[m].key, model[m].klen, &b);
            /* another key of the same slot may have replaced it: then it is unknown */
            FZ_ASSERT(got == 0 || got == (model[m].state == 2 ? -1 : 1));
            if (got == 1)
                FZ_ASSERT(b.len == model[m].len && memcmp(b.data, model[m].value, b.len) == 0);
            if (model[m].state == 0)
                FZ_ASSERT(got == 0);
            break;
        }
    }
    buf_free(&b);
    cache_local_free(l);
}

static void
counter(struct fz *f)
{
    struct app_error err;
    struct ctx c;
    char *text = fz_rest(f, NULL);
    long n;
    int rc;

    memset(&c, 0, sizeof(c));
    c.cfg = &cfg;
    app_error_clear(&err);
    rc = purchase_lookups_left(&c, text, &err);
    FZ_ASSERT(rc == APP_OK || rc == APP_ERATELIMIT);
    FZ_ASSERT((rc == APP_ERATELIMIT) ==
              (str_to_long(text, 0, LONG_MAX, &n) == 0 && n >= cfg.coupon_guess_limit));
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_part *const parts[] = { key_cursor, sealed_cursor, local_copies, counter };

    fz_run_part(data, size, parts, sizeof(parts) / sizeof(parts[0]));
    return 0;
}
