/*
 * The canonical headers and query of a SigV4 signature (sigv4_int.h), built in the working
 * buffers of one signature.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errors.h"
#include "sigv4_int.h"

/* --- canonical headers ------------------------------------------------------------------ */

/* A header the signer adds itself, never the caller's. */
static int
sv_owned(const char *name, int content_sha256_owned)
{
    return !strcasecmp(name, "host") || !strcasecmp(name, "authorization") ||
        !strcasecmp(name, "x-amz-date") || !strcasecmp(name, "x-amz-security-token") ||
        (content_sha256_owned && !strcasecmp(name, "x-amz-content-sha256"));
}

/* Append the value trimmed, each inner run of spaces and tabs made one space. */
static int
sv_trimall(struct buf *out, const char *s)
{
    const char *end = s + strlen(s), *run;
    int rc = APP_OK;

    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    while (s < end && rc == APP_OK) {
        run = s;
        while (s < end && *s != ' ' && *s != '\t')
            s++;
        rc = buf_append(out, run, (size_t)(s - run));
        if (s < end && rc == APP_OK) {
            rc = buf_append(out, " ", 1);
            while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        }
    }
    return rc;
}

static int
sv_hdr_push(struct sv_work *w, const char *name, const char *value, size_t idx)
{
    struct sv_hdr h;
    size_t i;
    int rc;

    memset(&h, 0, sizeof(h));
    h.idx = idx;
    h.noff = w->scratch.len;
    h.nlen = strlen(name);
    rc = buf_append(&w->scratch, name, h.nlen);
    if (rc != APP_OK)
        return rc;
    for (i = 0; i < h.nlen; i++) {
        char *p = w->scratch.data + h.noff + i;

        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    h.voff = w->scratch.len;
    rc = sv_trimall(&w->scratch, value);
    if (rc != APP_OK)
        return rc;
    h.vlen = w->scratch.len - h.voff;
    return buf_append(&w->items, &h, sizeof(h));
}

static int
sv_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

static int
sv_hdr_cmp(const void *a, const void *b)
{
    const struct sv_hdr *x = a, *y = b;
    int c = sv_bytes_cmp(x->n, x->nlen, y->n, y->nlen);

    if (c)
        return c;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * The canonical headers block and the signed header list of the caller's headers plus the
 * signer's own (extra, nextra pairs of name, value).
 */
int
sv_headers(struct sv_work *w, const struct sigv4_request *r, const char *const *extra,
           size_t nextra, int content_sha256_owned)
{
    struct sv_hdr *h;
    size_t i, n;
    int rc = APP_OK;

    buf_reset(&w->scratch);
    buf_reset(&w->items);
    rc = buf_append(&w->scratch, "", 0);         /* never NULL below */
    for (i = 0; i < r->nheaders && rc == APP_OK; i++) {
        if (sv_owned(r->headers[i].name, content_sha256_owned))
            return APP_EINTERNAL;
        rc = sv_hdr_push(w, r->headers[i].name, r->headers[i].value, i);
    }
    for (i = 0; i < nextra && rc == APP_OK; i++)
        rc = sv_hdr_push(w, extra[2 * i], extra[2 * i + 1], r->nheaders + i);
    if (rc != APP_OK)
        return rc;
    h = (struct sv_hdr *)(void *)w->items.data;
    n = w->items.len / sizeof(*h);
    for (i = 0; i < n; i++) {
        h[i].n = w->scratch.data + h[i].noff;
        h[i].v = w->scratch.data + h[i].voff;
    }
    qsort(h, n, sizeof(*h), sv_hdr_cmp);
    for (i = 0; i < n && rc == APP_OK; i++) {
        if (i > 0 && sv_bytes_cmp(h[i].n, h[i].nlen, h[i - 1].n, h[i - 1].nlen) == 0) {
            rc = buf_append(&w->chdr, ",", 1);
        } else {
            if (i > 0) {
                rc = buf_append(&w->chdr, "\n", 1);
                if (rc == APP_OK)
                    rc = buf_append(&w->shdr, ";", 1);
            }
            if (rc == APP_OK)
                rc = buf_append(&w->shdr, h[i].n, h[i].nlen);
            if (rc == APP_OK)
                rc = buf_append(&w->chdr, h[i].n, h[i].nlen);
            if (rc == APP_OK)
                rc = buf_append(&w->chdr, ":", 1);
        }
        if (rc == APP_OK)
            rc = buf_append(&w->chdr, h[i].v, h[i].vlen);
    }
    if (rc == APP_OK)
        rc = buf_append(&w->chdr, "\n", 1);
    return rc;
}

/* --- canonical query -------------------------------------------------------------------- */

/* Add one parameter: decoded then encoded again (wire), or encoded as given (raw). */
int
sv_pair_push(struct sv_work *w, const char *k, size_t klen, const char *v, size_t vlen,
             int wire)
{
    struct sv_pair p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.koff = w->scratch.len;
    rc = wire ? sv_canon_component(&w->scratch, k, klen, 0)
              : sigv4_uri_encode(&w->scratch, k, klen, 0);
    if (rc != APP_OK)
        return rc;
    p.klen = w->scratch.len - p.koff;
    p.voff = w->scratch.len;
    rc = wire ? sv_canon_component(&w->scratch, v, vlen, 0)
              : sigv4_uri_encode(&w->scratch, v, vlen, 0);
    if (rc != APP_OK)
        return rc;
    p.vlen = w->scratch.len - p.voff;
    return buf_append(&w->items, &p, sizeof(p));
}

/*
 * Split the wire query on '&' and each piece at its first '='.  botocore signs an empty
 * piece ("a&&b") as "="; skip_empty drops it instead (presigning rebuilds the query, as
 * botocore's parse_qs does).
 */
int
sv_query_parse(struct sv_work *w, const char *q, int skip_empty)
{
    const char *piece, *eq, *end;
    int rc = APP_OK;

    if (!q || !*q)
        return APP_OK;
    for (;;) {
        piece = q;
        end = strchr(piece, '&');
        if (!end)
            end = piece + strlen(piece);
        eq = memchr(piece, '=', (size_t)(end - piece));
        if (end > piece || !skip_empty) {
            if (eq)
                rc = sv_pair_push(w, piece, (size_t)(eq - piece), eq + 1,
                                  (size_t)(end - eq - 1), 1);
            else
                rc = sv_pair_push(w, piece, (size_t)(end - piece), "", 0, 1);
        }
        if (rc != APP_OK || !*end)
            return rc;
        q = end + 1;
    }
}

int
sv_pair_cmp(const void *a, const void *b)
{
    const struct sv_pair *x = a, *y = b;
    int c = sv_bytes_cmp(x->k, x->klen, y->k, y->klen);

    return c ? c : sv_bytes_cmp(x->v, x->vlen, y->v, y->vlen);
}

struct sv_pair *
sv_pairs(struct sv_work *w, size_t *n)
{
    struct sv_pair *p = (struct sv_pair *)(void *)w->items.data;
    size_t i;

    *n = w->items.len / sizeof(*p);
    for (i = 0; i < *n; i++) {
        p[i].k = w->scratch.data + p[i].koff;
        p[i].v = w->scratch.data + p[i].voff;
    }
    return p;
}

/* Append k=v&k=v for the n pairs, in the order they are in. */
int
sv_pairs_join(struct buf *out, const struct sv_pair *p, size_t n)
{
    size_t i;
    int rc = APP_OK;

    for (i = 0; i < n && rc == APP_OK; i++) {
        if (i > 0)
            rc = buf_append(out, "&", 1);
        if (rc == APP_OK)
            rc = buf_append(out, p[i].k, p[i].klen);
        if (rc == APP_OK)
            rc = buf_append(out, "=", 1);
        if (rc == APP_OK)
            rc = buf_append(out, p[i].v, p[i].vlen);
    }
    return rc;
}

