/*
 * Stub clients for the campaign layer's unit tests: a scripted HTTP server (forked, on a free
 * loopback port) that answers each request with the next reply of its script and records what
 * it was sent.  Point DynamoDB (AWS_ENDPOINT_URL_DYNAMODB) and Stripe (STRIPE_API_BASE) at
 * two of them, build a struct ctx with stub_ctx(), call the campaign function, then assert on
 * the requests: the code under test speaks the real wire format and never knows.
 *
 * A reply's match is a substring the request must hold (the DynamoDB operation, such as
 * "DynamoDB_20120810.GetItem", or a path); a request that does not match gets a 400 naming
 * what was expected, so a test fails at the first unexpected call.
 */
#ifndef PH_UNIT_STUB_H
#define PH_UNIT_STUB_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "../../lib/creds.h"
#include "../../lib/ctx.h"
#include "../../lib/ddb.h"
#include "../../lib/stripe.h"
#include "unit.h"

#define STUB_SEEN_MAX 32

struct stub_reply {
    const char *match;          /* substring the request must hold, or NULL */
    int status;
    const char *body;
};

struct stub {
    pid_t pid;
    int rec;
    char base[64];
    size_t nseen;
    char *seen[STUB_SEEN_MAX];  /* each request, head and body, after stub_stop */
};

/* Read one request (head and Content-Length body) into buf; its length, or -1 at EOF. */
static inline long
stub_read_request(int fd, char *buf, size_t size)
{
    size_t n = 0, want;
    const char *end, *cl;
    long body_len = 0;
    ssize_t r;

    for (;;) {
        r = read(fd, buf + n, size - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end)
            break;
        if (n == size - 1)
            return -1;
    }
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl && cl < end)
        body_len = strtol(cl + 17, NULL, 10);    /* checksrc: ok (the test's own bytes) */
    want = (size_t)(end + 4 - buf) + (size_t)body_len;
    if (want > size - 1)
        return -1;
    while (n < want) {
        r = read(fd, buf + n, want - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return (long)n;
}

static inline void
stub_serve(int lfd, int wfd, const struct stub_reply *script, size_t nscript)
{
    static char req[262144], out[65536];
    char tag[32], miss[512];
    size_t next = 0;

    alarm(30);                  /* never outlive a test that failed before stopping us */
    for (;;) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        for (;;) {
            const struct stub_reply *r = next < nscript ? &script[next] : NULL;
            long len = stub_read_request(fd, req, sizeof(req));
            const char *body;
            int status, n;

            if (len < 0)
                break;
            n = snprintf(tag, sizeof(tag), "%ld\n", len);
            unit_write_all(wfd, tag, (size_t)n);
            unit_write_all(wfd, req, (size_t)len);
            next++;
            if (!r || (r->match && !strstr(req, r->match))) {
                snprintf(miss, sizeof(miss), "{\"__type\":\"com.amazon.coral.validate#"
                         "ValidationException\",\"message\":\"stub: expected %s\","
                         "\"error\":{\"type\":\"invalid_request_error\",\"message\":"
                         "\"stub: expected %s\"}}", r && r->match ? r->match : "nothing",
                         r && r->match ? r->match : "nothing");
                status = 400;
                body = miss;
            } else {
                status = r->status;
                body = r->body ? r->body : "{}";
            }
            n = snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n%s", status, strlen(body), body);
            if (n > 0 && (size_t)n < sizeof(out))
                unit_write_all(fd, out, (size_t)n);
        }
        close(fd);
    }
}

/* Fork a server on a free loopback port: 1 in the child (serve on *lfd, record to *wfd, then
 * _exit), 0 in the parent (s->base and s->rec set). */
static inline int
stub_fork(struct stub *s, int *lfd, int *wfd)
{
    int fd, p[2];

    memset(s, 0, sizeof(*s));
    fd = unit_listen_loopback(s->base, sizeof(s->base));
    ck_assert_int_eq(pipe(p), 0);
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        close(p[0]);
        *lfd = fd;
        *wfd = p[1];
        return 1;
    }
    close(fd);
    close(p[1]);
    s->rec = p[0];
    return 0;
}

static inline void
stub_start(struct stub *s, const struct stub_reply *script, size_t nscript)
{
    int fd, w;

    if (stub_fork(s, &fd, &w)) {
        stub_serve(fd, w, script, nscript);
        _exit(0);
    }
}

/* Stop the stub and collect the requests it was sent (s->seen, s->nseen). */
static inline void
stub_stop(struct stub *s)
{
    char *all, *p, *end;
    int status;

    ck_assert_int_eq(kill(s->pid, SIGKILL), 0);
    waitpid(s->pid, &status, 0);
    all = unit_read_fd(s->rec);
    end = all + strlen(all);
    for (p = all; p < end && s->nseen < STUB_SEEN_MAX;) {
        char *nl = strchr(p, '\n');
        long len;

        if (!nl)
            break;
        len = strtol(p, NULL, 10);               /* checksrc: ok (our own record) */
        s->seen[s->nseen] = strndup(nl + 1, (size_t)len);
        s->nseen++;
        p = nl + 1 + len;
    }
    free(all);
}

static inline void
stub_free(struct stub *s)
{
    size_t i;

    for (i = 0; i < s->nseen; i++)
        free(s->seen[i]);
    s->nseen = 0;
}

/* The clients of a campaign test: DynamoDB and Stripe on two stubs. */
struct stub_env {
    struct stub ddb_stub, stripe_stub;
    struct cfg cfg;
    struct creds_provider *creds;
    struct ctx ctx;
    struct app_error err;
};

/* Start both stubs with their scripts and build e->ctx on them (now fixed at now). */
static inline void
stub_env_start(struct stub_env *e, const struct stub_reply *ddb_script, size_t nddb,
               const struct stub_reply *stripe_script, size_t nstripe, time_t now)
{
    char err[256];

    memset(e, 0, sizeof(*e));
    stub_start(&e->ddb_stub, ddb_script, nddb);
    stub_start(&e->stripe_stub, stripe_script, nstripe);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", e->ddb_stub.base, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDSTUB", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "stub-secret", 1);
    setenv("AWS_REGION", "ap-southeast-2", 1);
    setenv("STRIPE_API_BASE", e->stripe_stub.base, 1);
    setenv("STRIPE_SECRET_KEY", "sk_test_stub", 1);
    setenv("DYNAMODB_MAX_ATTEMPTS", "1", 1);
    setenv("STRIPE_MAX_ATTEMPTS", "1", 1);
    ck_assert_msg(cfg_load(&e->cfg, NULL, 0, err, sizeof(err)) == 0, "%s", err);
    e->creds = creds_new(&e->cfg);
    e->ctx.cfg = &e->cfg;
    e->ctx.ddb = ddb_new(&e->cfg, e->creds);
    e->ctx.stripe = stripe_new(&e->cfg);
    ck_assert_ptr_nonnull(e->ctx.ddb);
    ck_assert_ptr_nonnull(e->ctx.stripe);
    e->ctx.now = now;
    e->ctx.request_id = "unit";
    e->ctx.route = "unit";
    app_error_clear(&e->err);
}

/* Stop the stubs (their requests stay in e->ddb_stub.seen / e->stripe_stub.seen). */
static inline void
stub_env_stop(struct stub_env *e)
{
    ddb_free(e->ctx.ddb);
    stripe_free(e->ctx.stripe);
    creds_free(e->creds);
    stub_stop(&e->ddb_stub);
    stub_stop(&e->stripe_stub);
}

static inline void
stub_env_free(struct stub_env *e)
{
    stub_free(&e->ddb_stub);
    stub_free(&e->stripe_stub);
    cfg_free(&e->cfg);
}

/* The body of a recorded request (after the blank line). */
static inline const char *
stub_body(const char *raw)
{
    const char *b = strstr(raw, "\r\n\r\n");

    return b ? b + 4 : "";
}

/*
 * An S3 stub for HEAD Object (the score reports): every request is answered with one
 * object's status, Content-Length and Content-Type, without a body as a HEAD answer is.
 * stub_s3_start points AWS_ENDPOINT_URL_S3 (path style) at it, so start it before
 * stub_env_start reads the configuration, then make the client with s3_new on e->cfg.
 * Its requests are collected by stub_stop as for the other stubs.
 */
struct stub_object {
    int status;                 /* 200, 404, 503... */
    long long size;
    const char *type;
};

static inline void
stub_s3_serve(int lfd, int wfd, const struct stub_object *o)
{
    static char req[65536];
    char head[512];
    long len;
    int fd, n;

    alarm(30);
    for (;;) {
        fd = accept(lfd, NULL, NULL);
        len = fd < 0 ? -1 : stub_read_request(fd, req, sizeof(req));
        while (len >= 0) {
            n = snprintf(head, sizeof(head), "%ld\n", len);
            unit_write_all(wfd, head, (size_t)n);
            unit_write_all(wfd, req, (size_t)len);
            n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
                         "Content-Length: %lld\r\n\r\n", o->status, o->type, o->size);
            unit_write_all(fd, head, (size_t)n);
            len = stub_read_request(fd, req, sizeof(req));
        }
        if (fd >= 0)
            close(fd);
    }
}

static inline void
stub_s3_start(struct stub *s, const struct stub_object *o)
{
    int fd, w;

    if (stub_fork(s, &fd, &w)) {
        stub_s3_serve(fd, w, o);
        _exit(0);
    }
    setenv("AWS_ENDPOINT_URL_S3", s->base, 1);
    setenv("S3_ADDRESSING_STYLE", "path", 1);
}

/* Point the rule files (scholarships, clusters) at the source tree's: $PH_SRCDIR, which make
 * check exports, else ".".  Call it before stub_env_start; cfg_load_rules(&e->cfg, ...) then
 * loads them. */
static inline void
stub_rules_env(void)
{
    const char *src = getenv("PH_SRCDIR");
    char path[1024];

    snprintf(path, sizeof(path), "%s/sql/rules/scholarship.json", src && *src ? src : ".");
    setenv("SCHOLARSHIP_RULES_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/sql/rules/clusters.json", src && *src ? src : ".");
    setenv("CLUSTER_RULES_FILE", path, 1);
}

/* The first request s was sent that holds what, or NULL. */
static inline const char *
stub_sent(const struct stub *s, const char *what)
{
    size_t i;

    for (i = 0; i < s->nseen; i++)
        if (strstr(s->seen[i], what))
            return s->seen[i];
    return NULL;
}

/* What a campaign call did, for the case called name: its code and refusal reason (NULL:
 * any), and how many requests DynamoDB and Stripe were sent. */
static inline void
stub_env_expect(const struct stub_env *e, const char *name, int rc, int want_rc,
                const char *reason, size_t nddb, size_t nstripe)
{
    ck_assert_msg(rc == want_rc, "%s: rc %d (%s)", name, rc, e->err.msg);
    ck_assert_msg(e->ddb_stub.nseen == nddb, "%s: %zu DynamoDB requests", name,
                  e->ddb_stub.nseen);
    ck_assert_msg(e->stripe_stub.nseen == nstripe, "%s: %zu Stripe requests", name,
                  e->stripe_stub.nseen);
    if (reason)
        ck_assert_msg(e->err.reason && strcmp(e->err.reason, reason) == 0, "%s: reason %s",
                      name, e->err.reason ? e->err.reason : "(none)");
}

/* The request of s holding what, which must have been sent when want[0] is set and not
 * otherwise, holding each of want (NULL-ended, at most n); returned. */
static inline const char *
stub_expect_sent(const struct stub *s, const char *name, const char *what,
                 const char *const *want, size_t n)
{
    const char *got = stub_sent(s, what);
    size_t i;

    ck_assert_msg(!got == !want[0], "%s: %s %s", name, what, got ? "sent" : "missing");
    for (i = 0; got && i < n && want[i]; i++)
        ck_assert_msg(strstr(got, want[i]), "%s: no %s in %s", name, want[i], got);
    return got;
}

#endif
