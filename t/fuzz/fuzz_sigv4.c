/*
 * Fuzz target "sigv4": the SigV4 signer (lib/sigv4.h) with any bytes in its path, query,
 * header names and values, checked against the invariants of its canonical forms:
 *
 *   - signing is deterministic, and a refusal is never half a signature;
 *   - the canonical query is sorted and canonicalising it again changes nothing (a fixpoint),
 *     so the order of the query's parameters does not change the signature;
 *   - the canonical path (S3's) is a fixpoint too, and a dot segment or a doubled '/' does
 *     not change the signature of the others;
 *   - header names sign case-blind and values with their spaces trimmed and folded, so the
 *     order of distinct headers, the case of their names and spaces around values do not
 *     change the signature;
 *   - presigning never crashes and ends in X-Amz-Signature.
 *
 * Input: the first byte (bit 0: S3, bit 1: a session token, bits 2-3: the method), then the
 * pieces host, path, query and up to three header name/value pairs, 0x1e apart; the rest
 * is the payload.
 */
#include "config.h"

#include <ctype.h>
#include <strings.h>

#include "t/fuzz/fuzz.h"
#include "lib/errors.h"
#include "lib/sigv4.h"
#include "lib/sigv4_int.h"

#define NHDR 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sigv4_creds creds_plain = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL,
};
static const struct sigv4_creds creds_token = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEJr//////////token",
};

/* --- the canonical forms, through the signer's own functions (lib/sigv4_int.h) ------------ */

/* The canonical query of the wire query q into out, as sigv4_sign makes it; APP_OK or a code. */
static int
canon_query(const char *q, struct buf *out)
{
    struct sv_work w;
    struct sv_pair *p;
    size_t n, i;
    int rc;

    sv_work_init(&w);
    rc = buf_append(&w.scratch, "", 0);
    if (rc == APP_OK)
        rc = sv_query_parse(&w, q, 0);
    if (rc == APP_OK) {
        p = sv_pairs(&w, &n);
        if (n > 0)
            qsort(p, n, sizeof(*p), sv_pair_cmp);
        for (i = 1; i < n; i++)
            FZ_ASSERT(sv_pair_cmp(&p[i - 1], &p[i]) <= 0);
        rc = sv_pairs_join(out, p, n);
    }
    sv_work_free(&w);
    return rc;
}

/* Only unreserved characters, '%' with two upper-case hex digits, and the extra ones. */
static void
check_encoded(const char *s, size_t n, const char *extra)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            FZ_ASSERT(i + 2 < n);
            FZ_ASSERT(isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2]));
            FZ_ASSERT(!islower((unsigned char)s[i + 1]) && !islower((unsigned char)s[i + 2]));
            i += 2;
            continue;
        }
        FZ_ASSERT(isalnum((unsigned char)s[i]) || strchr("-_.~", s[i]) || strchr(extra, s[i]));
    }
}

static void
canonical_forms(const char *path, const char *query)
{
    struct buf a, b;

    buf_init(&a, SV_MAX_WORK);
    buf_init(&b, SV_MAX_WORK);
    if (canon_query(query, &a) == APP_OK) {
        check_encoded(a.data ? a.data : "", a.len, "=&");
        FZ_ASSERT(canon_query(a.data ? a.data : "", &b) == APP_OK);
        FZ_ASSERT(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    }
    buf_reset(&a);
    buf_reset(&b);
    if (sv_canon_component(&a, path, strlen(path), 1) == APP_OK && a.len) {
        check_encoded(a.data, a.len, "/");
        FZ_ASSERT(sv_canon_component(&b, a.data, a.len, 1) == APP_OK);
        FZ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    }
    buf_reset(&a);
    if (sigv4_uri_encode(&a, path, strlen(path), 0) == APP_OK && a.len)
        check_encoded(a.data, a.len, "");
    buf_free(&b);
    buf_free(&a);
}

/* --- signatures ------------------------------------------------------------------------- */

/* The query's '&'-separated parameters in the reverse order, into out. */
static void
reversed_query(const char *q, struct buf *out)
{
    const char *end = q + strlen(q), *start;

    buf_append(out, "", 0);
    for (;;) {
        start = end;
        while (start > q && start[-1] != '&')
            start--;
        buf_append(out, start, (size_t)(end - start));
        if (start == q)
            break;
        buf_append(out, "&", 1);
        end = start - 1;
    }
}

/* 1 when the headers' names differ even ignoring case (then their order cannot matter) and
 * each fits the copies below. */
static int
distinct(const struct sigv4_header *h, size_t n)
{
    size_t i, j;

    for (i = 0; i < n; i++) {
        if (strlen(h[i].name) >= 120 || strlen(h[i].value) >= 500)
            return 0;
        for (j = i + 1; j < n; j++)
            if (strcasecmp(h[i].name, h[j].name) == 0)
                return 0;
    }
    return 1;
}

static void
same_signature(const struct sigv4_signed *a, const struct sigv4_request *r,
               const struct sigv4_creds *c)
{
    struct sigv4_signed b;

    FZ_ASSERT(sigv4_sign(r, c, &b) == APP_OK);
    FZ_ASSERT(strcmp(a->authorization, b.authorization) == 0);
}

static void
signatures(struct sigv4_request *r, const struct sigv4_creds *c, int s3)
{
    struct sigv4_header hv[NHDR];
    struct sigv4_signed a, b;
    char names[NHDR][128], values[NHDR][512], *sig, *u;
    const struct sigv4_header *orig = r->headers;
    const char *path = r->path, *query = r->query;
    struct buf q, p;
    size_t i, k;
    int rc = sigv4_sign(r, c, &a);

    FZ_ASSERT(sigv4_sign(r, c, &b) == rc);
    if (rc != APP_OK) {
        FZ_ASSERT(!a.authorization[0] && !b.authorization[0]);
        return;
    }
    FZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
    FZ_ASSERT(strncmp(a.authorization, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40) == 0);
    sig = strstr(a.authorization, ", Signature=");
    FZ_ASSERT(sig && strlen(sig + 12) == 64 && strspn(sig + 12, "0123456789abcdef") == 64);
    FZ_ASSERT(!strpbrk(a.authorization, "\r\n"));

    /* the query's order */
    buf_init(&q, SV_MAX_WORK);
    if (query) {
        reversed_query(query, &q);
        r->query = q.data;
        same_signature(&a, r, c);
        r->query = query;
    }
    /* a dot segment and a doubled slash (not for S3, whose paths are not normalised) */
    buf_init(&p, SV_MAX_WORK);
    if (!s3 && buf_printf(&p, "/.%s", path) == APP_OK) {
        r->path = p.data;
        same_signature(&a, r, c);
        buf_reset(&p);
        if (*path == '/' && buf_printf(&p, "/%s", path) == APP_OK) {
            r->path = p.data;
            same_signature(&a, r, c);
        }
        r->path = path;
    }
    /* names' case, spaces around values, the order of distinct headers */
    for (i = 0; i < r->nheaders; i++) {
        k = r->nheaders - 1 - i;
        snprintf(names[i], sizeof(names[i]), "%s", orig[k].name);
        for (u = names[i]; *u; u++)
            *u = (char)toupper((unsigned char)*u);
        snprintf(values[i], sizeof(values[i]), " \t%s  ", orig[k].value);
        hv[i].name = names[i];
        hv[i].value = values[i];
    }
    if (r->nheaders && distinct(orig, r->nheaders)) {
        r->headers = hv;
        same_signature(&a, r, c);
        r->headers = orig;
    }
    buf_free(&p);
    buf_free(&q);
}

static void
presign(const struct sigv4_request *r, const struct sigv4_creds *c)
{
    struct buf out;
    const char *s;

    buf_init(&out, SV_MAX_WORK);
    if (sigv4_presign(r, c, 600, &out) == APP_OK) {
        FZ_ASSERT(out.data && !strpbrk(out.data, "\r\n #"));
        FZ_ASSERT(out.len > 17 + 64);
        s = out.data + out.len - 17 - 64;
        FZ_ASSERT(strncmp(s, "&X-Amz-Signature=", 17) == 0);
        FZ_ASSERT(strspn(s + 17, "0123456789abcdef") == 64);
    }
    buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "HEAD" };
    struct fz f = { data, size };
    struct sigv4_header h[NHDR];
    struct sigv4_request r;
    char *host, *path, *query, *hp[2 * NHDR], *payload;
    unsigned sel = fz_byte(&f);
    size_t i, plen, nh = 0;
    int s3 = sel & 1;

    host = fz_piece(&f, NULL);
    path = fz_piece(&f, NULL);
    query = fz_piece(&f, NULL);
    for (i = 0; i < 2 * NHDR; i++)
        hp[i] = fz_piece(&f, NULL);
    payload = fz_rest(&f, &plen);
    for (i = 0; i < NHDR; i++) {
        if (!*hp[2 * i])
            continue;
        h[nh].name = hp[2 * i];
        h[nh].value = hp[2 * i + 1];
        nh++;
    }
    memset(&r, 0, sizeof(r));
    r.method = methods[(sel >> 2) & 3];
    r.host = *host ? host : "dynamodb.ap-southeast-2.amazonaws.com";
    r.path = path;
    r.query = *query ? query : NULL;
    r.headers = h;
    r.nheaders = nh;
    r.payload = payload;
    r.payload_len = plen;
    r.region = "ap-southeast-2";
    r.service = s3 ? "s3" : "dynamodb";
    r.now = 1440938160;
    canonical_forms(path, query);
    signatures(&r, (sel & 2) ? &creds_token : &creds_plain, s3);
    presign(&r, (sel & 2) ? &creds_token : &creds_plain);
    free(payload);
    for (i = 0; i < 2 * NHDR; i++)
        free(hp[i]);
    free(query);
    free(path);
    free(host);
    return 0;
}
