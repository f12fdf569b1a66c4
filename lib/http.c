#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

int
http_conn_init(struct http_conn *c, size_t resp_max)
{
    memset(c, 0, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl)
        return -1;
    buf_init(&c->resp, resp_max);
    c->seed = (unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)(uintptr_t)c;
    return 0;
}

void
http_conn_free(struct http_conn *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
    buf_free(&c->resp);
}

void
http_conn_prepare(struct http_conn *c, const struct http_req *r)
{
    CURL *h = c->curl;

    buf_reset(&c->resp);
    c->errbuf[0] = '\0';
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
    if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
    } else if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     r->connect_ms < r->left_ms ? r->connect_ms : r->left_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->left_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, buf_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
}

const char *
http_conn_error(const struct http_conn *c, CURLcode cc)
{
    return c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
}

long
http_backoff_ms(struct http_conn *c, long base_ms, long cap_ms, int k)
{
    long cap = base_ms << (k > 6 ? 6 : k < 0 ? 0 : k);

    if (cap > cap_ms)
        cap = cap_ms;
    return (long)(rand_r(&c->seed) % (unsigned)(cap + 1));
}

void
http_pause_ms(long ms)
{
    if (ms > 0)
        usleep((useconds_t)ms * 1000);
}
