/*
 * Fuzz target "strparse": the small parsers of text from outside (lib/strparse.h, money,
 * dates, ids, addresses, base64url, the allow-lists of settings), each against what it
 * promises.  The first byte chooses the parser (modulo the table's size), the rest is its
 * input (one piece, or two separated by 0x1e).
 */
#include "config.h"

#include <limits.h>
#include <time.h>

#include "t/fuzz/fuzz.h"
#include "lib/aws.h"
#include "lib/ids.h"
#include "lib/jwks.h"
#include "lib/jwt.h"
#include "lib/mime.h"
#include "lib/money.h"
#include "lib/sns.h"
#include "lib/strparse.h"
#include "saas/subscription.h"

#define ISO_MAX 253402300799LL        /* 9999-12-31T23:59:59Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checked integers: what is accepted is in range, and prints back to the same value. */
static void
integers(const char *s)
{
    char text[64];
    size_t z;
    long v, w;

    if (str_to_long(s, -1000, LONG_MAX, &v) == 0) {
        FZ_ASSERT(v >= -1000);
        snprintf(text, sizeof(text), "%ld", v);
        FZ_ASSERT(str_to_long(text, -1000, LONG_MAX, &w) == 0 && w == v);
    }
    if (str_to_size(s, (size_t)1 << 40, &z) == 0) {
        FZ_ASSERT(z <= (size_t)1 << 40);
        FZ_ASSERT(strspn(s, "0123456789") == strlen(s));
    }
    if (str_to_octal(s, 07777, &v) == 0)
        FZ_ASSERT(v >= 0 && v <= 07777);
}

/* Percent-decoding: never longer than its input, no NUL inside, and what our own encoding
 * of the result decodes to is the result again. */
static void
pct(const char *s, size_t n)
{
    char *out = malloc(n + 1), *enc = malloc(3 * n + 1), *back = malloc(3 * n + 1);
    long len, len2;
    size_t i, k = 0;
    int plus;

    for (plus = 0; plus < 2; plus++) {
        len = str_pct_decode(out, s, n, plus);
        if (len < 0)
            continue;
        FZ_ASSERT((size_t)len <= n && strlen(out) == (size_t)len);
        for (i = 0, k = 0; i < (size_t)len; i++)
            k += (size_t)snprintf(enc + k, 4, "%%%02X", (unsigned char)out[i]);
        len2 = str_pct_decode(back, enc, k, plus);
        FZ_ASSERT(len2 == len && memcmp(back, out, (size_t)len) == 0);
    }
    free(back);
    free(enc);
    free(out);
}

/* Text and names: a name is text; trimming leaves no white space at either end. */
static void
text(const char *s, size_t n)
{
    char *t;
    size_t k;

    if (str_name_ok(s, n, 121))
        FZ_ASSERT(str_text_ok(s, n, 0) && n > 0 && s[0] != ' ' && s[n - 1] != ' ');
    if (str_text_ok(s, n, 0))
        FZ_ASSERT(str_text_ok(s, n, 1) && !memchr(s, '\n', n) && !memchr(s, '\r', n));
    t = strdup(s);
    if (!t)
        abort();
    str_trim(t);
    k = strlen(t);
    FZ_ASSERT(k == 0 || (t[0] != ' ' && t[0] != '\t' && t[k - 1] != ' ' && t[k - 1] != '\n'));
    free(t);
}

/* Money: what parses prints back to the same cents, within the ceiling. */
static void
money(const char *s)
{
    long long cents, again, shares[8];
    char text[32];
    size_t n, i;

    if (money_parse_decimal(s, &cents) == 0) {
        FZ_ASSERT(cents >= 0 && cents <= MONEY_MAX_CENTS);
        money_decimal(cents, text);
        FZ_ASSERT(money_parse_decimal(text, &again) == 0 && again == cents);
        n = (size_t)(cents % 8) + 1;
        if (money_split(cents, n, shares) == 0) {
            for (i = 0, again = 0; i < n; i++)
                again += shares[i];
            FZ_ASSERT(again == cents);
        }
    }
}

/* ISO dates: a time we print parses back to itself. */
static void
dates(const char *s)
{
    time_t t = time_parse_iso(s), back;
    char text[64];

    if (t <= 0 || (long long)t > ISO_MAX)
        return;
    time_iso(t, text, sizeof(text));
    back = time_parse_iso(text);
    FZ_ASSERT(back == t);
}

/* base64url: what decodes is canonical, so encoding it again gives the input back. */
static void
b64url(const char *s, size_t n)
{
    unsigned char *out = malloc(n + 1);
    struct buf b;
    long len = jwt_b64url_decode(out, n + 1, s, n);

    if (len >= 0) {
        buf_init(&b, 4 * n + 8);
        fz_b64url(&b, out, (size_t)len);
        FZ_ASSERT(b.len == n && (n == 0 || memcmp(b.data, s, n) == 0));
        buf_free(&b);
    }
    free(out);
}

/* Addresses and identifiers: what is accepted carries nothing a header or a URL would break
 * on. */
static void
addresses(const char *s)
{
    char h[65];
    size_t i;

    if (mail_addr_ok(s)) {
        FZ_ASSERT(strchr(s, '@') && !strpbrk(s, "\r\n <>\",;"));
        for (i = 0; s[i]; i++)
            FZ_ASSERT((unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f);
    }
    if (id_valid(s, "team_"))
        FZ_ASSERT(strlen(s) == 5 + ID_HEX);
    if (saas_user_id_ok(s))
        FZ_ASSERT(!strpbrk(s, "#\r\n"));
    saas_stripe_id_ok(s, "cus_");
    token_hash(s, h);
    FZ_ASSERT(strlen(h) == 64);
    FZ_ASSERT(token_ok(s, h) == (strlen(s) <= 64));
}

/* Allow-lists and URLs of the settings, matched against a value from outside. */
static void
lists(const char *list, const char *v)
{
    struct aws_endpoint ep;
    char err[256];

    jwt_client_listed(list, v);
    if (jwt_client_listed(v, v) && *v)
        FZ_ASSERT(!strchr(v, ',') && v[0] != ' ' && v[strlen(v) - 1] != ' ');
    sns_topic_allowed(list, v);
    sns_url_allowed(list, v, v);
    sns_url_allowed("", list, v);
    sns_settings_check(list, v, err, sizeof(err));
    if (jwks_url_ok(v))
        FZ_ASSERT(strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0);
    if (aws_endpoint_parse(&ep, v) == 0) {
        FZ_ASSERT(!strpbrk(ep.host, " ?#@/"));
        FZ_ASSERT(strncmp(ep.url, ep.origin, strlen(ep.origin)) == 0);
    }
    str_host_is_loopback(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned sel = fz_byte(&f);
    size_t n;
    char *a = fz_piece(&f, &n), *b = fz_rest(&f, NULL);

    switch (sel % 8) {
    case 0:
        integers(a);
        break;
    case 1:
        pct(a, strlen(a));      /* the service decodes C strings */
        break;
    case 2:
        text(a, n);
        break;
    case 3:
        money(a);
        break;
    case 4:
        dates(a);
        break;
    case 5:
        b64url(a, n);
        break;
    case 6:
        addresses(a);
        break;
    default:
        lists(a, b);
        break;
    }
    free(b);
    free(a);
    return 0;
}
