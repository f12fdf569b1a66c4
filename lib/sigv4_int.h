/*
 * What lib/sigv4.c (the signers) and lib/sigv4_check.c (the checks of their input) share.
 * Not for other modules: they include sigv4.h.
 */
#ifndef PH_SIGV4_INT_H
#define PH_SIGV4_INT_H

#include <time.h>

#include "buf.h"
#include "sigv4.h"

#define SV_MAX_SECRET 256
#define SV_MAX_KEY_ID 128
#define SV_MAX_SCOPE_PART 64           /* region, service */
#define SV_MAX_METHOD 16

/* A query parameter, canonically encoded, in the scratch buffer. */
struct sv_pair {
    size_t koff, klen, voff, vlen;
    const char *k, *v;                 /* set once the scratch buffer stops growing */
};

/* A header to sign: lowercase name and trimmed value, in the scratch buffer. */
struct sv_hdr {
    size_t noff, nlen, voff, vlen;
    size_t idx;                        /* the order given: repeated names keep it */
    const char *n, *v;
};

/* The working buffers of one signature, released together. */
struct sv_work {
    struct buf scratch;                /* the strings pairs and headers point into */
    struct buf items;                  /* an array of struct sv_pair or struct sv_hdr */
    struct buf chdr;                   /* canonical headers block, each line ending in \n */
    struct buf shdr;                   /* signed headers: a;b;c */
    struct buf creq;                   /* the canonical request */
};

/* The canonical forms (sigv4_canon.c), on the working buffers of one signature; sv_* is the
 * module's own prefix for what only its files share.  sv_canon_component is sigv4.c's. */
#define SV_MAX_WORK (1024 * 1024)      /* ceiling of each working buffer */
/* The working buffers, empty, each under SV_MAX_WORK; and freed. */
void sv_work_init(struct sv_work *w);
void sv_work_free(struct sv_work *w);
int sv_headers(struct sv_work *w, const struct sigv4_request *r, const char *const *extra,
               size_t nextra, int content_sha256_owned);
struct sv_pair *sv_pairs(struct sv_work *w, size_t *n);
int sv_pairs_join(struct buf *out, const struct sv_pair *p, size_t n);
int sv_pair_push(struct sv_work *w, const char *k, size_t klen, const char *v, size_t vlen,
                 int wire);
int sv_query_parse(struct sv_work *w, const char *q, int skip_empty);
int sv_canon_component(struct buf *out, const char *s, size_t n, int keep_slash);

/* Everything both signers need checked: APP_OK, or APP_EINTERNAL (a caller's bug); *s3 says
 * whether the service is S3. */
int sigv4_check_request(const struct sigv4_request *r, const struct sigv4_creds *c, int *s3);

/* 1 when the credentials carry a session token. */
int sigv4_has_token(const struct sigv4_creds *c);

/* X-Amz-Date (20150830T123600Z) and the scope's date (20150830). */
int sigv4_dates(time_t now, char *amz_date, char *date8);

/* qsort order of pairs: by name, then value, bytewise. */
int sv_pair_cmp(const void *a, const void *b);

#endif
