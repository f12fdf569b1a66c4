#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../lib/buf.h"
#include "../../lib/cfg.h"
#include "../../lib/errors.h"
#include "../../lib/log.h"
#include "../../lib/metrics.h"
#include "../../lib/stripe.h"
#include "stub.h"
#include "unit.h"

/*
 * The Stripe client (lib/stripe.c): the form encoding, checked against what stripe-python
 * 5.0.0 (python3-stripe) produces for the same fields, and the client against a fake Stripe
 * forked by the test on 127.0.0.1, which answers a scripted sequence of HTTP/1.1 responses
 * and records every request it got (method, path, headers, body) into a pipe.
 */

#define SECRET "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
#define SESSION_JSON \
    "{\"id\":\"cs_test_a1\",\"object\":\"checkout.session\"," \
    "\"url\":\"https://checkout.stripe.com/c/pay/cs_test_a1\",\"payment_status\":\"unpaid\"}"
#define API_ERROR_JSON \
    "{\"error\":{\"type\":\"api_error\",\"message\":\"Something went wrong\"}}"

/* --- fixture ---------------------------------------------------------------------------- */

static void
stripe_setup(void)
{
    static const char *const extra[] = {
        "STRIPE_API_BASE", "STRIPE_API_VERSION", "STRIPE_TIMEOUT_MS", "STRIPE_MAX_ATTEMPTS",
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
        "no_proxy", "NO_PROXY",
    };
    size_t i;

    unit_clean_env();
    for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        unsetenv(extra[i]);
    setenv("STRIPE_SECRET_KEY", SECRET, 1);
    setenv("STRIPE_TIMEOUT_MS", "5000", 1);
    setenv("STRIPE_MAX_ATTEMPTS", "3", 1);
    log_level_min = LL_CRIT + 1;    /* quiet, unless a test captures the log */
}

static void
load_cfg(struct cfg *c)
{
    char err[512];

    err[0] = '\0';
    ck_assert_msg(cfg_load(c, NULL, 0, err, sizeof(err)) == 0, "cfg_load: %s", err);
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- form encoding ------------------------------------------------------------------------ */

/* Encode p and compare with want (the output of stripe-python for the same fields). */
static void
expect_encoded(const struct stripe_params *p, const char *want)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    ck_assert_int_eq(stripe_params_encode(p, &b), APP_OK);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, want);
    ck_assert_uint_eq(b.len, strlen(want));
    buf_free(&b);
}

START_TEST(test_encode_simple)
{
    struct stripe_params *p = stripe_params_new();

    expect_encoded(p, "");
    stripe_params_add(p, "mode", "payment");
    stripe_params_add(p, "customer_email", "a.b+c@example.com");
    /* stripe-python: mode=payment&customer_email=a.b%2Bc%40example.com */
    expect_encoded(p, "mode=payment&customer_email=a.b%2Bc%40example.com");
    stripe_params_free(p);
    expect_encoded(NULL, "");
}
END_TEST

START_TEST(test_encode_nested)
{
    struct stripe_params *p = stripe_params_new();

    /*
     * stripe-python for {"line_items": [{"price_data": {"currency": "eur", "unit_amount":
     * 4900, "product_data": {"name": "Mock exam – Cluster 1 & 2"}}, "quantity": 1}],
     * "metadata": {"campaignId": "spring 2024"}}: the brackets stay literal.
     */
    stripe_params_add(p, "line_items[0][price_data][currency]", "eur");
    stripe_params_add_long(p, "line_items[0][price_data][unit_amount]", 4900);
    stripe_params_add(p, "line_items[0][price_data][product_data][name]",
                      "Mock exam \xe2\x80\x93 Cluster 1 & 2");
    stripe_params_addf(p, "line_items[0][quantity]", "%d", 1);
    stripe_params_add(p, "metadata[campaignId]", "spring 2024");
    expect_encoded(p, "line_items[0][price_data][currency]=eur"
                   "&line_items[0][price_data][unit_amount]=4900"
                   "&line_items[0][price_data][product_data][name]="
                   "Mock+exam+%E2%80%93+Cluster+1+%26+2"
                   "&line_items[0][quantity]=1"
                   "&metadata[campaignId]=spring+2024");
    stripe_params_free(p);
}
END_TEST

START_TEST(test_encode_array)
{
    struct stripe_params *p = stripe_params_new();

    /* The caller's "expand[]" as given; stripe-python numbers lists: expand[0]=... */
    stripe_params_add(p, "expand[]", "payment_intent");
    stripe_params_add(p, "expand[]", "line_items");
    stripe_params_add(p, "payment_method_types[0]", "card");
    stripe_params_add(p, "payment_method_types[1]", "sepa_debit");
    expect_encoded(p, "expand[]=payment_intent&expand[]=line_items"
                   "&payment_method_types[0]=card&payment_method_types[1]=sepa_debit");
    stripe_params_free(p);
}
END_TEST

START_TEST(test_encode_reserved)
{
    struct stripe_params *p = stripe_params_new();

    /* stripe-python: r=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23[]%25~-._ */
    stripe_params_add(p, "r", "!*'();:@&=+$,/?#[]%~-._");
    /* ...and the Checkout template placeholder in a URL. */
    stripe_params_add(p, "success_url",
                      "https://x.test/ok?session_id={CHECKOUT_SESSION_ID}&a=1");
    /* Spaces, "&" and "=" in a key. */
    stripe_params_add(p, "metadata[a b&c=d]", "v");
    expect_encoded(p, "r=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23[]%25~-._"
                   "&success_url=https%3A%2F%2Fx.test%2Fok%3Fsession_id%3D"
                   "%7BCHECKOUT_SESSION_ID%7D%26a%3D1"
                   "&metadata[a+b%26c%3Dd]=v");
    stripe_params_free(p);
}
END_TEST

START_TEST(test_encode_utf8_control_empty)
{
    struct stripe_params *p = stripe_params_new();

    /* stripe-python: u=Z%C3%BCrich+%E2%82%AC%F0%9F%98%80, c=%01%09%0A%7F, e= */
    stripe_params_add(p, "u", "Z\xc3\xbcrich \xe2\x82\xac\xf0\x9f\x98\x80");
    stripe_params_add(p, "c", "\x01\t\n\x7f");
    stripe_params_add(p, "e", "");
    stripe_params_add(p, "skipped", NULL);          /* None is left out */
    stripe_params_add(p, "x y", "a  b");
    expect_encoded(p, "u=Z%C3%BCrich+%E2%82%AC%F0%9F%98%80&c=%01%09%0A%7F&e=&x+y=a++b");
    stripe_params_free(p);
}
END_TEST

START_TEST(test_encode_numbers)
{
    struct stripe_params *p = stripe_params_new();

    stripe_params_add_long(p, "n", -42);
    stripe_params_add_long(p, "min", LLONG_MIN);
    stripe_params_add_long(p, "max", LLONG_MAX);
    stripe_params_addf(p, "f", "%s-%05d", "plan", 42);
    expect_encoded(p, "n=-42&min=-9223372036854775808&max=9223372036854775807&f=plan-00042");
    stripe_params_free(p);
}
END_TEST

START_TEST(test_encode_appends_and_ceiling)
{
    struct stripe_params *p = stripe_params_new();
    struct buf b;
    char small[16];

    stripe_params_add(p, "k", "v w");
    buf_init(&b, 1024);
    ck_assert_int_eq(buf_puts(&b, "/v1/x?"), APP_OK);
    ck_assert_int_eq(stripe_params_encode(p, &b), APP_OK);
    ck_assert_str_eq(b.data, "/v1/x?k=v+w");
    buf_free(&b);

    stripe_params_add(p, "long", "0123456789abcdef");
    buf_init_fixed(&b, small, sizeof(small));
    ck_assert_int_eq(stripe_params_encode(p, &b), APP_ETOOLARGE);
    stripe_params_free(p);
}
END_TEST

/* --- the fake Stripe ---------------------------------------------------------------------- */

struct fake_reply {
    int status;                 /* 0: read the request, never answer; -1: close, no answer */
    const char *headers;        /* extra header lines, each ending "\r\n", or NULL */
    const char *body;           /* NULL: none */
};

struct fake {
    pid_t pid;
    int rec;                    /* read end of the record pipe */
    char base[64];
};

/* A request the fake got, as raw bytes: head and body. */
struct seen {
    int conn;                   /* 1 for the first connection accepted */
    char *raw;
};

#define SEEN_MAX 16

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Whatever";
    }
}

/*
 * The fake: HTTP/1.1 with keep-alive.  Each request is recorded into wfd as
 * "<conn> <len>\n" and its bytes, then answered with the next reply of the script
 * (with a Request-Id: req_<n>); past the script's end, a 500 that must not be retried.
 */
static void
fake_serve(int lfd, int wfd, const struct fake_reply *script, size_t nscript)
{
    static const struct fake_reply exhausted = {
        500, "Stripe-Should-Retry: false\r\n",
        "{\"error\":{\"type\":\"api_error\",\"message\":\"the test's script is exhausted\"}}",
    };
    char req[32768], out[8192], tag[32];
    size_t next = 0;
    int conn = 0;

    alarm(30);                      /* never outlive a test that failed before killing us */
    for (;;) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        conn++;
        for (;;) {
            const struct fake_reply *r;
            long len = stub_read_request(fd, req, sizeof(req));
            int n;

            if (len < 0)
                break;
            n = snprintf(tag, sizeof(tag), "%d %ld\n", conn, len);
            unit_write_all(wfd, tag, (size_t)n);
            unit_write_all(wfd, req, (size_t)len);
            r = next < nscript ? &script[next] : &exhausted;
            next++;
            if (r->status == 0) {
                for (;;)
                    pause();
            }
            if (r->status < 0)
                break;
            n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nRequest-Id: req_%zu\r\n%s\r\n%s",
                         r->status, reason(r->status), r->body ? strlen(r->body) : 0, next,
                         r->headers ? r->headers : "", r->body ? r->body : "");
            if (n > 0 && (size_t)n < sizeof(out))
                unit_write_all(fd, out, (size_t)n);
        }
        close(fd);
    }
}

static void
fake_start(struct fake *f, const struct fake_reply *script, size_t nscript)
{
    int fd = unit_listen_loopback(f->base, sizeof(f->base)), p[2];

    ck_assert_int_eq(pipe(p), 0);
    f->pid = fork();
    ck_assert_int_ge(f->pid, 0);
    if (f->pid == 0) {
        close(p[0]);
        fake_serve(fd, p[1], script, nscript);
        _exit(0);
    }
    close(fd);
    close(p[1]);
    f->rec = p[0];
}

/* Stop the fake and collect what it recorded; returns how many requests. */
static size_t
fake_stop(struct fake *f, struct seen *seen)
{
    char *all, *p, *nl;
    size_t n = 0;
    int status;

    ck_assert_int_eq(kill(f->pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
    all = unit_read_fd(f->rec);
    for (p = all; *p; n++) {
        int conn = 0;
        long len = 0;

        ck_assert_uint_lt(n, SEEN_MAX);
        ck_assert_int_eq(sscanf(p, "%d %ld", &conn, &len), 2);
        nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        seen[n].conn = conn;
        seen[n].raw = strndup(nl + 1, (size_t)len);
        ck_assert_ptr_nonnull(seen[n].raw);
        p = nl + 1 + len;
    }
    free(all);
    return n;
}

static void
seen_free(struct seen *seen, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(seen[i].raw);
}

/* The value of header name in a recorded request, copied into out; NULL when absent. */
static const char *
seen_header(const struct seen *r, const char *name, char *out, size_t outlen)
{
    const char *end = strstr(r->raw, "\r\n\r\n"), *p = strstr(r->raw, "\r\n");
    size_t nlen = strlen(name);

    while (p && p < end) {
        const char *line = p + 2, *eol = strstr(line, "\r\n");

        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            line += nlen + 1;
            while (*line == ' ')
                line++;
            snprintf(out, outlen, "%.*s", (int)(eol - line), line);
            return out;
        }
        p = eol;
    }
    return NULL;
}

static const char *
seen_body(const struct seen *r)
{
    return strstr(r->raw, "\r\n\r\n") + 4;
}

/* The request line must be "method target HTTP/1.1". */
static void
expect_request_line(const struct seen *r, const char *method, const char *target)
{
    char want[1024];

    snprintf(want, sizeof(want), "%s %s HTTP/1.1\r\n", method, target);
    ck_assert_msg(strncmp(r->raw, want, strlen(want)) == 0, "request line: %.80s", r->raw);
}

static void
expect_header(const struct seen *r, const char *name, const char *want)
{
    char v[512];

    ck_assert_msg(seen_header(r, name, v, sizeof(v)), "no %s header", name);
    ck_assert_str_eq(v, want);
}

static void
expect_no_header(const struct seen *r, const char *name)
{
    char v[512];

    ck_assert_msg(!seen_header(r, name, v, sizeof(v)), "unexpected %s: %s", name, v);
}

/* The headers every request carries. */
static void
expect_common_headers(const struct seen *r)
{
    expect_header(r, "Authorization", "Bearer " SECRET);
    expect_header(r, "Stripe-Version", "2024-06-20");
    expect_header(r, "User-Agent", "prodenthub/" PACKAGE_VERSION);
    expect_header(r, "Accept", "application/json");
}

/* --- the client against the fake ---------------------------------------------------------- */

struct client {
    struct fake fake;
    struct cfg cfg;
    struct stripe *s;
    struct seen seen[SEEN_MAX];
    size_t nseen;
    struct app_error err;
    struct json_object *out;
};

static void
client_start(struct client *c, const struct fake_reply *script, size_t nscript)
{
    memset(c, 0, sizeof(*c));
    fake_start(&c->fake, script, nscript);
    setenv("STRIPE_API_BASE", c->fake.base, 1);
    load_cfg(&c->cfg);
    c->s = stripe_new(&c->cfg);
    ck_assert_ptr_nonnull(c->s);
    app_error_clear(&c->err);
}

/* Stop the fake (collecting its records); the client stays for assertions. */
static void
client_stop(struct client *c)
{
    c->nseen = fake_stop(&c->fake, c->seen);
}

static void
client_free(struct client *c)
{
    if (c->out)
        json_object_put(c->out);
    seen_free(c->seen, c->nseen);
    stripe_free(c->s);
    cfg_free(&c->cfg);
}

static struct stripe_params *
session_params(void)
{
    struct stripe_params *p = stripe_params_new();

    stripe_params_add(p, "mode", "payment");
    stripe_params_add(p, "customer_email", "jane.doe+1@example.com");
    stripe_params_add(p, "line_items[0][price]", "price_123");
    stripe_params_add_long(p, "line_items[0][quantity]", 1);
    stripe_params_add(p, "metadata[campaignId]", "spring 2024");
    stripe_params_add(p, "success_url", "https://x.test/ok?session_id={CHECKOUT_SESSION_ID}");
    return p;
}

#define SESSION_BODY \
    "mode=payment&customer_email=jane.doe%2B1%40example.com&line_items[0][price]=price_123" \
    "&line_items[0][quantity]=1&metadata[campaignId]=spring+2024" \
    "&success_url=https%3A%2F%2Fx.test%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"

static const char *
error_member(struct json_object *body, const char *key)
{
    struct json_object *e;

    ck_assert_ptr_nonnull(body);
    ck_assert(json_object_object_get_ex(body, "error", &e));
    return unit_json_str(e, key);
}

START_TEST(test_post_retries_then_succeeds)
{
    static const struct fake_reply script[] = {
        {500, "Stripe-Should-Retry: true\r\n", API_ERROR_JSON},
        {500, NULL, API_ERROR_JSON},
        {200, NULL, SESSION_JSON},
    };
    struct stripe_params *p = session_params();
    struct unit_capture cap;
    struct client c;
    char key[3][128], *log;
    struct buf want;
    size_t i;
    int rc;

    ck_assert_int_eq(metrics_create(1), 0);
    metrics_slot_used(0);
    metrics_attach(0);
    client_start(&c, script, 3);
    log_level_min = LL_DEBUG;
    unit_capture_start(&cap);
    rc = stripe_post(c.s, "/v1/checkout/sessions", p, "ph-checkout-7f3a", &c.out, &c.err);
    log = unit_capture_end(&cap);
    client_stop(&c);
    /* The worker's counters: one call of resource "checkout", two retries, no failure. */
    i = metrics_index(MF_STRIPE_REQUESTS, 0, "checkout");
    ck_assert_uint_eq(metrics_sum(MF_STRIPE_REQUESTS, i), 1);
    ck_assert_uint_eq(metrics_sum(MF_STRIPE_RETRIES, i), 2);
    ck_assert_uint_eq(metrics_sum(MF_STRIPE_FAILURES, i), 0);
    metrics_destroy();

    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    ck_assert_int_eq(c.err.code, APP_OK);
    ck_assert_int_eq(stripe_last_attempts(c.s), 3);
    ck_assert_str_eq(stripe_last_request_id(c.s), "req_3");
    ck_assert_str_eq(unit_json_str(c.out, "id"), "cs_test_a1");
    ck_assert_str_eq(unit_json_str(c.out, "object"), "checkout.session");

    buf_init(&want, 4096);
    ck_assert_int_eq(stripe_params_encode(p, &want), APP_OK);
    ck_assert_str_eq(want.data, SESSION_BODY);
    ck_assert_uint_eq(c.nseen, 3);
    for (i = 0; i < 3; i++) {
        expect_request_line(&c.seen[i], "POST", "/v1/checkout/sessions");
        expect_common_headers(&c.seen[i]);
        expect_header(&c.seen[i], "Content-Type", "application/x-www-form-urlencoded");
        ck_assert_ptr_nonnull(seen_header(&c.seen[i], "Idempotency-Key", key[i], 128));
        ck_assert_str_eq(key[i], "ph-checkout-7f3a");
        expect_no_header(&c.seen[i], "Expect");
        ck_assert_str_eq(seen_body(&c.seen[i]), want.data);
    }
    ck_assert_str_eq(key[0], key[1]);
    ck_assert_str_eq(key[1], key[2]);

    /* The log: the retries and the answer, never the key, the body or its email. */
    ck_assert_ptr_nonnull(strstr(log, "POST /v1/checkout/sessions: HTTP 500 api_error"));
    ck_assert_ptr_nonnull(strstr(log, "retrying in"));
    ck_assert_ptr_nonnull(strstr(log, "HTTP 200 (request req_3, attempt 3)"));
    ck_assert_ptr_null(strstr(log, SECRET));
    ck_assert_ptr_null(strstr(log, "Bearer"));
    ck_assert_ptr_null(strstr(log, "example.com"));
    ck_assert_ptr_null(strstr(log, "Something went wrong"));
    free(log);
    buf_free(&want);
    stripe_params_free(p);
    client_free(&c);
}
END_TEST

START_TEST(test_should_retry_false_stops)
{
    static const struct fake_reply script[] = {
        {500, "Stripe-Should-Retry: false\r\n", API_ERROR_JSON},
        {200, NULL, SESSION_JSON},
    };
    struct client c;
    int rc;

    client_start(&c, script, 2);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k1", &c.out, &c.err);
    client_stop(&c);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_int_eq(c.err.code, APP_EUPSTREAM);
    ck_assert_int_eq(stripe_last_attempts(c.s), 1);
    ck_assert_uint_eq(c.nseen, 1);
    ck_assert_str_eq(c.err.msg, "stripe: api_error: Something went wrong");
    ck_assert_str_eq(error_member(c.out, "type"), "api_error");
    /* No fields: an empty body. */
    ck_assert_str_eq(seen_body(&c.seen[0]), "");
    expect_header(&c.seen[0], "Content-Length", "0");
    client_free(&c);
}
END_TEST

START_TEST(test_should_retry_true_overrides_400)
{
    static const struct fake_reply script[] = {
        {400, "Stripe-Should-Retry: true\r\n",
         "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"try again\"}}"},
        {200, NULL, SESSION_JSON},
    };
    struct client c;
    int rc;

    client_start(&c, script, 2);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k1", &c.out, &c.err);
    client_stop(&c);
    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    ck_assert_int_eq(stripe_last_attempts(c.s), 2);
    ck_assert_str_eq(unit_json_str(c.out, "id"), "cs_test_a1");
    client_free(&c);
}
END_TEST

START_TEST(test_card_error)
{
    static const struct fake_reply script[] = {
        {402, NULL, "{\"error\":{\"type\":\"card_error\",\"code\":\"card_declined\","
         "\"decline_code\":\"insufficient_funds\",\"message\":\"Your card has insufficient "
         "funds.\",\"param\":\"payment_method\"}}"},
    };
    struct client c;
    int rc;

    ck_assert_int_eq(metrics_create(1), 0);
    metrics_slot_used(0);
    metrics_attach(0);
    client_start(&c, script, 1);
    rc = stripe_post(c.s, "/v1/payment_intents/pi_1/confirm", NULL, "k2", &c.out, &c.err);
    client_stop(&c);
    /* A declined card is a failed call of resource "payment_intents". */
    ck_assert_uint_eq(metrics_sum(MF_STRIPE_FAILURES,
                                  metrics_index(MF_STRIPE_REQUESTS, 0, "payment_intents")), 1);
    metrics_destroy();
    ck_assert_int_eq(rc, APP_EUNPROCESSABLE);
    ck_assert_int_eq(stripe_last_attempts(c.s), 1);
    ck_assert_str_eq(c.err.msg, "stripe: card_error/card_declined: Your card has "
                     "insufficient funds. (param payment_method) (decline_code "
                     "insufficient_funds)");
    ck_assert_str_eq(error_member(c.out, "decline_code"), "insufficient_funds");
    ck_assert_str_eq(error_member(c.out, "code"), "card_declined");
    client_free(&c);
}
END_TEST

START_TEST(test_get_not_found)
{
    static const struct fake_reply script[] = {
        {404, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":"
         "\"resource_missing\",\"message\":\"No such checkout.session: 'cs_nope'\","
         "\"param\":\"session\"}}"},
    };
    struct client c;
    int rc;

    client_start(&c, script, 1);
    rc = stripe_get(c.s, "/v1/checkout/sessions/cs_nope", NULL, &c.out, &c.err);
    client_stop(&c);
    ck_assert_int_eq(rc, APP_ENOTFOUND);
    ck_assert_int_eq(stripe_last_attempts(c.s), 1);
    ck_assert_str_eq(c.err.msg, "stripe: invalid_request_error/resource_missing: No such "
                     "checkout.session: 'cs_nope' (param session)");
    ck_assert_str_eq(error_member(c.out, "code"), "resource_missing");
    ck_assert_uint_eq(c.nseen, 1);
    expect_request_line(&c.seen[0], "GET", "/v1/checkout/sessions/cs_nope");
    expect_common_headers(&c.seen[0]);
    expect_no_header(&c.seen[0], "Idempotency-Key");
    expect_no_header(&c.seen[0], "Content-Type");
    ck_assert_str_eq(seen_body(&c.seen[0]), "");
    client_free(&c);
}
END_TEST

START_TEST(test_unauthorized)
{
    static const struct fake_reply script[] = {
        {401, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API "
         "Key provided: sk_test_********************7dc\"}}"},
        {200, NULL, SESSION_JSON},
    };
    struct unit_capture cap;
    struct client c;
    char *log;
    int rc;

    client_start(&c, script, 2);
    log_level_min = LL_DEBUG;
    unit_capture_start(&cap);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k3", &c.out, &c.err);
    log = unit_capture_end(&cap);
    client_stop(&c);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_int_eq(stripe_last_attempts(c.s), 1);
    ck_assert_ptr_nonnull(c.out);
    ck_assert_ptr_nonnull(strstr(log, "\"level\":\"error\""));
    ck_assert_ptr_nonnull(strstr(log, "HTTP 401 invalid_request_error (request req_1"));
    ck_assert_ptr_nonnull(strstr(log, "check STRIPE_SECRET_KEY"));
    ck_assert_ptr_null(strstr(log, "sk_test"));
    ck_assert_ptr_null(strstr(log, "Bearer"));
    free(log);
    client_free(&c);
}
END_TEST

START_TEST(test_invalid_request_and_idempotency)
{
    static const struct fake_reply script[] = {
        {400, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":"
         "\"parameter_unknown\",\"message\":\"Received unknown parameter: foo\","
         "\"param\":\"foo\"}}"},
        {400, NULL, "{\"error\":{\"type\":\"idempotency_error\",\"message\":\"Keys for "
         "idempotent requests can only be used with the same parameters\"}}"},
        {502, NULL, "<html>Bad gateway</html>"},
    };
    struct client c;
    int rc;

    client_start(&c, script, 3);
    setenv("STRIPE_MAX_ATTEMPTS", "1", 1);
    cfg_free(&c.cfg);
    load_cfg(&c.cfg);

    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k4", &c.out, &c.err);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_str_eq(c.err.msg, "stripe: invalid_request_error/parameter_unknown: Received "
                     "unknown parameter: foo (param foo)");
    json_object_put(c.out);
    app_error_clear(&c.err);

    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k4", &c.out, &c.err);
    ck_assert_int_eq(rc, APP_ECONFLICT);
    ck_assert_str_eq(error_member(c.out, "type"), "idempotency_error");
    json_object_put(c.out);
    app_error_clear(&c.err);

    /* Not JSON (a proxy's page): no *out, the status in the message. */
    rc = stripe_get(c.s, "/v1/balance", NULL, &c.out, &c.err);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_ptr_null(c.out);
    ck_assert_str_eq(c.err.msg, "stripe: HTTP 502");
    client_stop(&c);
    ck_assert_uint_eq(c.nseen, 3);
    client_free(&c);
}
END_TEST

START_TEST(test_conflict_retried_then_upstream)
{
    static const struct fake_reply script[] = {
        {409, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"lock_timeout\","
         "\"message\":\"This object cannot be accessed right now\"}}"},
        {409, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"lock_timeout\","
         "\"message\":\"This object cannot be accessed right now\"}}"},
        {409, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"lock_timeout\","
         "\"message\":\"This object cannot be accessed right now\"}}"},
    };
    struct client c;
    int rc;

    client_start(&c, script, 3);
    rc = stripe_post(c.s, "/v1/customers", NULL, "k5", &c.out, &c.err);
    client_stop(&c);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_int_eq(stripe_last_attempts(c.s), 3);
    ck_assert_uint_eq(c.nseen, 3);
    ck_assert_str_eq(error_member(c.out, "code"), "lock_timeout");
    client_free(&c);
}
END_TEST

START_TEST(test_rate_limited_then_ok)
{
    static const struct fake_reply script[] = {
        {429, NULL, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"rate_limit\","
         "\"message\":\"Too many requests\"}}"},
        {200, NULL, SESSION_JSON},
    };
    struct client c;
    int rc;

    client_start(&c, script, 2);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k6", &c.out, &c.err);
    client_stop(&c);
    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    ck_assert_int_eq(stripe_last_attempts(c.s), 2);
    client_free(&c);
}
END_TEST

START_TEST(test_retry_after)
{
    static const struct fake_reply within[] = {
        {503, "Retry-After: 1\r\n", API_ERROR_JSON},
        {200, NULL, SESSION_JSON},
    };
    static const struct fake_reply beyond[] = {
        {503, "Retry-After: 30\r\n", API_ERROR_JSON},
        {200, NULL, SESSION_JSON},
    };
    struct timespec t0;
    struct client c;
    long ms;
    int rc;

    /* At least Retry-After... */
    client_start(&c, within, 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = stripe_post(c.s, "/v1/refunds", NULL, "k7", &c.out, &c.err);
    ms = ms_since(&t0);
    client_stop(&c);
    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    ck_assert_int_eq(stripe_last_attempts(c.s), 2);
    ck_assert_int_ge(ms, 1000);
    client_free(&c);

    /* ...and never past the budget: a wait longer than what is left ends the call now. */
    setenv("STRIPE_TIMEOUT_MS", "2000", 1);
    client_start(&c, beyond, 2);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = stripe_post(c.s, "/v1/refunds", NULL, "k7", &c.out, &c.err);
    ms = ms_since(&t0);
    client_stop(&c);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_int_eq(stripe_last_attempts(c.s), 1);
    ck_assert_int_lt(ms, 1000);
    client_free(&c);
}
END_TEST

START_TEST(test_closed_without_answer_retried)
{
    static const struct fake_reply script[] = {
        {-1, NULL, NULL},
        {200, NULL, SESSION_JSON},
    };
    struct client c;
    int rc;

    client_start(&c, script, 2);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k8", &c.out, &c.err);
    client_stop(&c);
    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    ck_assert_int_eq(stripe_last_attempts(c.s), 2);
    ck_assert_uint_eq(c.nseen, 2);
    expect_header(&c.seen[1], "Idempotency-Key", "k8");
    client_free(&c);
}
END_TEST

START_TEST(test_connection_refused)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    struct json_object *out = NULL;
    struct app_error err;
    struct timespec t0;
    struct stripe *s;
    struct cfg cfg;
    char base[64];
    long ms;
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

    /* A port bound but not listening: connections are refused. */
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", (int)ntohs(sa.sin_port));
    setenv("STRIPE_API_BASE", base, 1);
    load_cfg(&cfg);
    s = stripe_new(&cfg);
    ck_assert_ptr_nonnull(s);
    app_error_clear(&err);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = stripe_post(s, "/v1/checkout/sessions", NULL, "k9", &out, &err);
    ms = ms_since(&t0);
    ck_assert_int_eq(rc, APP_EUPSTREAM);
    ck_assert_int_eq(err.code, APP_EUPSTREAM);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(stripe_last_attempts(s), 3);
    ck_assert_msg(strncmp(err.msg, "stripe: POST /v1/checkout/sessions: ", 36) == 0, "%s",
                  err.msg);
    /* Two pauses of at most 500 and 1000 ms, well within the 5 s budget. */
    ck_assert_int_lt(ms, 2500);
    stripe_free(s);
    cfg_free(&cfg);
    close(fd);
}
END_TEST

START_TEST(test_never_answers)
{
    static const struct fake_reply script[] = {
        {0, NULL, NULL},
    };
    struct timespec t0;
    struct client c;
    long ms;
    int rc;

    setenv("STRIPE_TIMEOUT_MS", "400", 1);
    client_start(&c, script, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k10", &c.out, &c.err);
    ms = ms_since(&t0);
    client_stop(&c);
    ck_assert_int_eq(rc, APP_ETIMEOUT);
    ck_assert_int_eq(stripe_last_attempts(c.s), 1);
    ck_assert_ptr_null(c.out);
    ck_assert_str_eq(c.err.msg, "stripe: POST /v1/checkout/sessions: no answer within 400 ms");
    ck_assert_int_ge(ms, 390);
    ck_assert_int_lt(ms, 400 + 600);
    ck_assert_uint_eq(c.nseen, 1);
    client_free(&c);
}
END_TEST

START_TEST(test_get_expand_and_keepalive)
{
    static const struct fake_reply script[] = {
        {200, NULL, SESSION_JSON},
        {200, NULL, SESSION_JSON},
    };
    struct stripe_params *q = stripe_params_new();
    struct client c;
    int rc;

    stripe_params_add(q, "expand[]", "line_items");
    stripe_params_add(q, "expand[]", "payment_intent.latest_charge");
    client_start(&c, script, 2);
    rc = stripe_get(c.s, "/v1/checkout/sessions/cs_test_a1", q, &c.out, &c.err);
    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    ck_assert_str_eq(unit_json_str(c.out, "id"), "cs_test_a1");
    json_object_put(c.out);
    rc = stripe_get(c.s, "/v1/checkout/sessions/cs_test_a1", NULL, &c.out, &c.err);
    ck_assert_msg(rc == APP_OK, "rc %d: %s", rc, c.err.msg);
    client_stop(&c);

    ck_assert_uint_eq(c.nseen, 2);
    expect_request_line(&c.seen[0], "GET", "/v1/checkout/sessions/cs_test_a1"
                        "?expand[]=line_items&expand[]=payment_intent.latest_charge");
    expect_common_headers(&c.seen[0]);
    expect_no_header(&c.seen[0], "Idempotency-Key");
    expect_no_header(&c.seen[0], "Content-Type");
    expect_request_line(&c.seen[1], "GET", "/v1/checkout/sessions/cs_test_a1");
    /* One connection for both: the handle is reused. */
    ck_assert_int_eq(c.seen[0].conn, 1);
    ck_assert_int_eq(c.seen[1].conn, 1);
    stripe_params_free(q);
    client_free(&c);
}
END_TEST

START_TEST(test_refused_before_sending)
{
    static const struct fake_reply script[] = {
        {200, NULL, SESSION_JSON},
    };
    static const char *const bad_paths[] = {
        "v1/customers", "/v1/customers/../balance", "/v1/customers?email=x",
        "/v1/customers/cus 1", "/v1/customers/cus%2F1", "", "/v1/x\r\nX-Evil: 1",
    };
    struct client c;
    size_t i;
    int rc;

    client_start(&c, script, 1);
    /* A POST needs an Idempotency-Key, and a usable one. */
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, NULL, &c.out, &c.err);
    ck_assert_int_eq(rc, APP_EINTERNAL);
    ck_assert_ptr_null(c.out);
    ck_assert_int_eq(stripe_last_attempts(c.s), 0);
    app_error_clear(&c.err);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "", &c.out, &c.err);
    ck_assert_int_eq(rc, APP_EINTERNAL);
    app_error_clear(&c.err);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "a\r\nX-Evil: 1", &c.out, &c.err);
    ck_assert_int_eq(rc, APP_EINTERNAL);
    app_error_clear(&c.err);
    /* Paths: plain, so an id from a client cannot reach another resource. */
    for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        rc = stripe_get(c.s, bad_paths[i], NULL, &c.out, &c.err);
        ck_assert_msg(rc == APP_EINTERNAL, "%s: rc %d", bad_paths[i], rc);
        ck_assert_ptr_null(c.out);
        app_error_clear(&c.err);
    }
    rc = stripe_get(c.s, NULL, NULL, &c.out, &c.err);
    ck_assert_int_eq(rc, APP_EINTERNAL);
    client_stop(&c);
    ck_assert_uint_eq(c.nseen, 0);
    client_free(&c);
}
END_TEST

START_TEST(test_no_secret_key)
{
    static const struct fake_reply script[] = {
        {200, NULL, SESSION_JSON},
    };
    struct client c;
    int rc;

    unsetenv("STRIPE_SECRET_KEY");
    client_start(&c, script, 1);
    rc = stripe_post(c.s, "/v1/checkout/sessions", NULL, "k11", &c.out, &c.err);
    ck_assert_int_eq(rc, APP_ECONFIG);
    ck_assert_str_eq(c.err.msg, "stripe: STRIPE_SECRET_KEY is not set");
    ck_assert_int_eq(stripe_last_attempts(c.s), 0);
    client_stop(&c);
    ck_assert_uint_eq(c.nseen, 0);
    client_free(&c);
}
END_TEST

START_TEST(test_base_with_slash_and_null_out)
{
    static const struct fake_reply script[] = {
        {200, NULL, SESSION_JSON},
    };
    struct client c;
    char base[80];
    int rc;

    client_start(&c, script, 1);
    /* A trailing "/" on STRIPE_API_BASE is not doubled; out may be NULL. */
    stripe_free(c.s);
    snprintf(base, sizeof(base), "%s/", c.fake.base);
    setenv("STRIPE_API_BASE", base, 1);
    cfg_free(&c.cfg);
    load_cfg(&c.cfg);
    c.s = stripe_new(&c.cfg);
    ck_assert_ptr_nonnull(c.s);
    rc = stripe_post(c.s, "/v1/refunds", NULL, "k12", NULL, &c.err);
    ck_assert_int_eq(rc, APP_OK);
    client_stop(&c);
    ck_assert_uint_eq(c.nseen, 1);
    expect_request_line(&c.seen[0], "POST", "/v1/refunds");
    client_free(&c);
}
END_TEST

static Suite *
stripe_suite(void)
{
    Suite *s = suite_create("stripe");
    TCase *tc = tcase_create("encode");

    tcase_add_checked_fixture(tc, stripe_setup, NULL);
    tcase_add_test(tc, test_encode_simple);
    tcase_add_test(tc, test_encode_nested);
    tcase_add_test(tc, test_encode_array);
    tcase_add_test(tc, test_encode_reserved);
    tcase_add_test(tc, test_encode_utf8_control_empty);
    tcase_add_test(tc, test_encode_numbers);
    tcase_add_test(tc, test_encode_appends_and_ceiling);
    suite_add_tcase(s, tc);

    tc = tcase_create("client");
    tcase_add_checked_fixture(tc, stripe_setup, NULL);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_post_retries_then_succeeds);
    tcase_add_test(tc, test_should_retry_false_stops);
    tcase_add_test(tc, test_should_retry_true_overrides_400);
    tcase_add_test(tc, test_card_error);
    tcase_add_test(tc, test_get_not_found);
    tcase_add_test(tc, test_unauthorized);
    tcase_add_test(tc, test_invalid_request_and_idempotency);
    tcase_add_test(tc, test_conflict_retried_then_upstream);
    tcase_add_test(tc, test_rate_limited_then_ok);
    tcase_add_test(tc, test_retry_after);
    tcase_add_test(tc, test_closed_without_answer_retried);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_never_answers);
    tcase_add_test(tc, test_get_expand_and_keepalive);
    tcase_add_test(tc, test_refused_before_sending);
    tcase_add_test(tc, test_no_secret_key);
    tcase_add_test(tc, test_base_with_slash_and_null_out);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(stripe_suite)
