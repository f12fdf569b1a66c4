#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "../lib/bedrock.h"
#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/creds.h"
#include "../lib/ddb.h"
#include "../lib/fmt.h"
#include "../lib/jwks.h"
#include "../lib/cognito.h"
#include "../lib/log.h"
#include "../lib/metrics.h"
#include "../lib/s3.h"
#include "../lib/stripe.h"
#include "request.h"
#include "routes.h"
#include "worker.h"

static const char *
status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
    }
}

static long
fcgx_read(void *ctx, char *dst, size_t n)
{
    FCGX_Stream *in = ctx;
    int want = n > (1u << 30) ? (1 << 30) : (int)n;

    return FCGX_GetStr(dst, want, in);
}

static int
send_response(FCGX_Request *fr, struct request *req)
{
    int has_body = req->status != 204 && req->method_bit != M_HEAD;
    size_t len = req->status == 204 ? 0 : req->resp_body.len;
    char head[512];
    int n;

    /* libfcgi's own printf knows no %zu: format with the C library, then copy out. */
    n = snprintf(head, sizeof(head),
                 "Status: %d %s\r\n"
                 "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "X-Request-Id: %s\r\n",
                 req->status, status_text(req->status),
                 req->resp_type ? req->resp_type : "application/json; charset=utf-8", len,
                 req->request_id);
    if (n < 0 || (size_t)n >= sizeof(head))
        return -1;
    if (FCGX_PutStr(head, n, fr->out) < 0)
        return -1;
    if (req->resp_headers.len &&
        FCGX_PutStr(req->resp_headers.data, (int)req->resp_headers.len, fr->out) < 0)
        return -1;
    if (FCGX_PutStr("\r\n", 2, fr->out) < 0)
        return -1;
    if (has_body && len && FCGX_PutStr(req->resp_body.data, (int)len, fr->out) < 0)
        return -1;
    return 0;
}

/* The access log line and the request's counters (by route pattern and status). */
static void
account(const struct request *req)
{
    size_t route = req->route ? (size_t)(req->route - routes) : METRICS_ROUTE_NONE;
    struct timespec t1;
    double s;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - req->start.tv_sec) + (double)(t1.tv_nsec - req->start.tv_nsec) / 1e9;
    metrics_inc(MF_HTTP_REQUESTS, route, metrics_code(req->status));
    metrics_observe(MF_HTTP_DURATION, route, s);
    if (LL_INFO < log_level_min)
        return;
    req_log(req, LL_INFO, "request status=%d duration_ms=%.3f", req->status, s * 1e3);
}

static void
serve_one(struct worker *w, FCGX_Request *fr, struct arena *arena)
{
    struct body_reader br = {fcgx_read, fr->in};
    struct request req;

    req_init(&req, arena, fr->envp, w->cfg, w);
    w->sb->busy = 1;
    snprintf(w->sb->request_id, sizeof(w->sb->request_id), "%s", req.request_id);
    snprintf(w->sb->route, sizeof(w->sb->route), "%s", "-");

    dispatch(&req, &br);

    if (req.route)
        snprintf(w->sb->route, sizeof(w->sb->route), "%s", req.route->name);
    if (send_response(fr, &req) != 0)
        req_log(&req, LL_DEBUG, "client went away before the response was sent");
    account(&req);
    req_free(&req);
    w->sb->requests++;
    w->sb->busy = 0;
}

/*
 * Signals and the accept loop.  SIGTERM and SIGINT stay blocked for the worker's whole life
 * and arrive through a signalfd, so no system call inside a request (libfcgi's reads and
 * writes, curl, memcached) is ever interrupted: an in-flight request always completes.
 * The worker waits with epoll for either a connection or a signal; the listen socket is
 * non-blocking (the master sets it), so a worker that loses the race for a connection gets
 * EAGAIN instead of sleeping in accept() where it could not hear SIGTERM.  EPOLLEXCLUSIVE
 * wakes one idle worker per connection rather than all of them.
 */
static int
wait_setup(int listen_fd, int *out_sigfd)
{
    struct epoll_event ev;
    sigset_t set;
    int ep, sfd;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_SETMASK, &set, NULL);
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || ep < 0)
        fatal("worker: signalfd/epoll");
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = listen_fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
        fatal("worker: epoll_ctl listen socket");
    ev.events = EPOLLIN;
    ev.data.fd = sfd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
        fatal("worker: epoll_ctl signalfd");
    *out_sigfd = sfd;
    return ep;
}

/* Block until a connection may be waiting (1) or a stop signal came (0). */
static int
wait_for_work(int ep, int sigfd)
{
    struct epoll_event evs[2];
    int i, n;

    for (;;) {
        n = epoll_wait(ep, evs, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_warn("epoll_wait");
            usleep(10000);
            continue;
        }
        for (i = 0; i < n; i++) {
            if (evs[i].data.fd == sigfd)
                return 0;
        }
        return 1;
    }
}

/* The user pool's key cache, empty until the first signed-in request fetches the keys. */
static struct jwks_cache *
worker_jwks(const struct cfg *cfg)
{
    struct jwks_cache *c;
    struct app_error err;

    if (!cognito_enabled(cfg))
        return NULL;
    c = xcalloc(1, sizeof(*c));
    app_error_clear(&err);
    if (jwks_cache_init(c, cfg->cognito_jwks, cfg->cognito_jwks_refetch_s, NULL, NULL,
                        &err) != APP_OK) {
        log_warnx("sign-in is off: %s", err.msg);
        free(c);
        return NULL;
    }
    return c;
}

void
worker_main(int slot, int listen_fd, const struct cfg *cfg, struct sb_slot *sb)
{
    struct sigaction sa;
    struct worker w;
    struct arena arena;
    FCGX_Request fr;
    int ep, sigfd, rc;

    log_set_role("worker");
    fmt_init(cfg->email_timezone);   /* dates in emails queued by handlers */
    ep = wait_setup(listen_fd, &sigfd);
    /* If the master dies, so do we: an orphan would keep accepting with stale config. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        _exit(0);

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);

    memset(&w, 0, sizeof(w));
    w.slot = slot;
    w.cfg = cfg;
    w.sb = sb;
    memset(sb, 0, sizeof(*sb));
    sb->pid = getpid();
    metrics_attach((size_t)slot);
    w.creds = creds_new(cfg);
    w.ddb = ddb_new(cfg, w.creds);
    w.cache = cache_new(cfg);
    w.stripe = stripe_new(cfg);
    w.s3 = s3_new(cfg, w.creds);
    w.bedrock = bedrock_new(cfg, w.creds);
    if (!w.ddb)
        log_warnx("cannot create the DynamoDB client; /v1/ready will say so");
    w.jwks = worker_jwks(cfg);
    arena_init(&arena, 16384);

    if (FCGX_InitRequest(&fr, listen_fd, 0) != 0)
        fatalx("FCGX_InitRequest failed");
    sb->ready = 1;
    LOG(LL_DEBUG, "worker %d ready", slot);

    while (wait_for_work(ep, sigfd)) {
        rc = FCGX_Accept_r(&fr);
        if (rc < 0) {
            /* Another worker took the connection, or the client gave up: wait again. */
            if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -ECONNABORTED)
                log_msg(LL_WARN, "accept failed: %s", strerror(-rc));
            continue;
        }
        serve_one(&w, &fr, &arena);
        FCGX_Finish_r(&fr);
        arena_reset(&arena);
    }

    FCGX_Free(&fr, 0);
    arena_destroy(&arena);
    ddb_free(w.ddb);
    creds_free(w.creds);
    cache_free(w.cache);
    stripe_free(w.stripe);
    s3_free(w.s3);
    if (w.jwks)
        jwks_cache_free(w.jwks);
    free(w.jwks);
    bedrock_free(w.bedrock);
    curl_global_cleanup();
    close(ep);
    close(sigfd);
    LOG(LL_DEBUG, "worker %d stopped after %lu requests", slot, sb->requests);
    exit(0);
}
