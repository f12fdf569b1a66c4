#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "../lib/cache.h"
#include "../lib/cfg.h"
#include "../lib/ddb.h"
#include "../lib/log.h"
#include "request.h"
#include "routes.h"
#include "worker.h"

static volatile sig_atomic_t worker_stop;

static void
on_term(int sig)
{
    (void)sig;
    worker_stop = 1;
    FCGX_ShutdownPending();
}

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
                 "Content-Type: application/json; charset=utf-8\r\n"
                 "Content-Length: %zu\r\n"
                 "Cache-Control: no-store\r\n"
                 "X-Request-Id: %s\r\n",
                 req->status, status_text(req->status), len, req->request_id);
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

static void
access_log(const struct request *req)
{
    struct timespec t1;
    double ms;

    if (LL_INFO < log_level_min)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (double)(t1.tv_sec - req->start.tv_sec) * 1e3 +
         (double)(t1.tv_nsec - req->start.tv_nsec) / 1e6;
    req_log(req, LL_INFO, "request status=%d duration_ms=%.3f", req->status, ms);
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
    access_log(&req);
    req_free(&req);
    w->sb->requests++;
    w->sb->busy = 0;
}

void
worker_main(int slot, int listen_fd, const struct cfg *cfg, struct sb_slot *sb)
{
    struct sigaction sa;
    struct worker w;
    struct arena arena;
    FCGX_Request fr;
    sigset_t none;

    log_set_role("worker");
    /* If the master dies, so do we: an orphan would keep accepting with stale config. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
        _exit(0);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;         /* no SA_RESTART: accept() must return on SIGTERM */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    memset(&w, 0, sizeof(w));
    w.slot = slot;
    w.cfg = cfg;
    w.sb = sb;
    memset(sb, 0, sizeof(*sb));
    sb->pid = getpid();
    w.ddb = ddb_new(cfg);
    w.cache = cache_new(cfg);
    if (!w.ddb)
        log_warnx("cannot create the DynamoDB client; /v1/ready will say so");
    arena_init(&arena, 16384);

    if (FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
        fatalx("FCGX_InitRequest failed");
    sb->ready = 1;
    LOG(LL_DEBUG, "worker %d ready", slot);

    while (!worker_stop) {
        if (FCGX_Accept_r(&fr) < 0) {
            if (worker_stop)
                break;
            /* EINTR from a stray signal, or a dropped connection: try again. */
            if (errno != EINTR) {
                log_warn("accept failed");
                usleep(10000);
            }
            continue;
        }
        serve_one(&w, &fr, &arena);
        FCGX_Finish_r(&fr);
        arena_reset(&arena);
    }

    FCGX_Free(&fr, 0);
    arena_destroy(&arena);
    ddb_free(w.ddb);
    cache_free(w.cache);
    curl_global_cleanup();
    LOG(LL_DEBUG, "worker %d stopped after %lu requests", slot, sb->requests);
    exit(0);
}
