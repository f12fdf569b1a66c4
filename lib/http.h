/*
 * What every HTTP API client here (AWS's, Stripe's) does the same way with its connection:
 * one curl handle per client, reused for every request, so the connection (DNS, TCP, TLS)
 * stays up between them; each request set on it afresh with the same options (no signals,
 * no redirects, http and https only, a connect timeout within the attempt's); the answer's
 * body into a buffer with a ceiling (past it the transfer fails with CURLE_WRITE_ERROR); and
 * the pause between attempts, exponential back-off with full jitter.
 *
 * What differs between the clients (the headers, signing, which answers to retry, the
 * messages) stays with each client; lib/aws.h builds the AWS calls on top of this.
 */
#ifndef PH_HTTP_H
#define PH_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

struct http_conn {
    CURL *curl;
    struct buf resp;                /* the last answer's body, within its ceiling */
    unsigned seed;                  /* of the back-off's jitter */
    char errbuf[CURL_ERROR_SIZE];   /* curl's detail of the last failure */
};

/* One request; the caller keeps headers, body and url alive until curl_easy_perform returns. */
struct http_req {
    const char *method;             /* "GET", "POST" (with body) or "HEAD" */
    const char *url;
    struct curl_slist *headers;
    const char *body;
    size_t body_len;
    long connect_ms;                /* the most connecting may take (never more than left_ms) */
    long left_ms;                   /* the most the whole request may take */
};

/* A handle and an answer buffer of at most resp_max bytes: 0, or -1 when curl cannot. */
int http_conn_init(struct http_conn *c, size_t resp_max);
void http_conn_free(struct http_conn *c);

/* Reset the handle, empty the answer buffer and the error detail, and set r on it; the
 * caller may add options of its own, then runs curl_easy_perform(c->curl). */
void http_conn_prepare(struct http_conn *c, const struct http_req *r);

/* The detail of a failed transfer: curl's error buffer, else its generic message for cc. */
const char *http_conn_error(const struct http_conn *c, CURLcode cc);

/* The pause before the next attempt: a random number of ms in [0, min(cap_ms,
 * base_ms * 2^k)], k at most 6 (full jitter). */
long http_backoff_ms(struct http_conn *c, long base_ms, long cap_ms, int k);

/* Sleep ms milliseconds (nothing for ms <= 0). */
void http_pause_ms(long ms);

#endif
