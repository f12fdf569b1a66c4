/*
 * Shared helpers for the Check unit tests: a main() that runs one suite, a clean
 * environment for cfg_load(), and a request harness (arena + default cfg + struct request
 * built from a NULL-terminated "NAME=value" array, as the FastCGI worker would).
 *
 * Everything here is static inline so a test that does not use a helper does not warn.
 */
#ifndef PH_UNIT_H
#define PH_UNIT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../../fcgi/request.h"
#include "../../lib/cfg.h"
#include "../../lib/mem.h"

/* Run suite s with Check's normal output; the exit status automake's harness expects. */
static inline int
unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define UNIT_MAIN(suite_fn) \
    int \
    main(void) \
    { \
        return unit_run(suite_fn()); \
    }

/*
 * Unset every setting cfg_load() reads (and the NAME_FILE and NAME_SSM forms of the
 * secrets), so a test starts from the built-in defaults whatever the caller's environment
 * holds.
 */
static inline void
unit_clean_env(void)
{
    char file[160];
    const char *n;
    size_t i;

    for (i = 0; (n = cfg_setting_name(i)); i++) {   /* checksrc: ok */
        unsetenv(n);
        snprintf(file, sizeof(file), "%s_FILE", n);
        unsetenv(file);
        snprintf(file, sizeof(file), "%s_SSM", n);
        unsetenv(file);
    }
}

/* A request as a handler sees it, with everything it points to. */
struct unit_req {
    struct arena arena;
    struct cfg cfg;
    struct request req;
};

/*
 * Load the cfg from the current environment (set what the test needs before calling),
 * then build the request from envp, which must outlive u.
 */
static inline void
unit_req_init(struct unit_req *u, char **envp)
{
    char err[512];

    err[0] = '\0';
    ck_assert_msg(cfg_load(&u->cfg, NULL, 0, err, sizeof(err)) == 0, "cfg_load: %s", err);
    arena_init(&u->arena, 0);
    req_init(&u->req, &u->arena, envp, &u->cfg, NULL);
}

static inline void
unit_req_free(struct unit_req *u)
{
    req_free(&u->req);
    arena_destroy(&u->arena);
    cfg_free(&u->cfg);
}

/* The response body parsed as JSON (the caller puts it), failing the test if it is not. */
static inline struct json_object *
unit_resp_json(const struct request *req)
{
    struct json_object *o;

    ck_assert_ptr_nonnull(req->resp_body.data);
    o = json_tokener_parse(req->resp_body.data);
    ck_assert_msg(o, "response body is not JSON: %s", req->resp_body.data);
    return o;
}

/* The string member key of o, or NULL when absent or not a string. */
static inline const char *
unit_json_str(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The response's "code" member (the error slug), copied into out; "" when absent. */
static inline const char *
unit_resp_code(const struct request *req, char *out, size_t outlen)
{
    struct json_object *o = unit_resp_json(req);
    const char *code = unit_json_str(o, "code");

    snprintf(out, outlen, "%s", code ? code : "");
    json_object_put(o);
    return out;
}

/*
 * Capture what is written to stderr (the log) between start and end.  A pipe holds 64 KiB,
 * plenty for the few log lines of one test.
 */
struct unit_capture {
    int fds[2];
    int saved;
};

static inline void
unit_capture_start(struct unit_capture *c)
{
    ck_assert_int_eq(pipe(c->fds), 0);
    c->saved = dup(STDERR_FILENO);
    ck_assert_int_ge(c->saved, 0);
    ck_assert_int_ge(dup2(c->fds[1], STDERR_FILENO), 0);
    close(c->fds[1]);
}

/* Read fd to its end and close it; returns the bytes NUL-terminated (the caller frees). */
static inline char *
unit_read_fd(int fd)
{
    size_t len = 0, cap = 65536;
    char *out = malloc(cap);
    ssize_t n;

    ck_assert_ptr_nonnull(out);
    for (;;) {
        n = read(fd, out + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    ck_assert_uint_lt(len, cap - 1);
    out[len] = '\0';
    return out;
}

/* Restore stderr and return what was captured, NUL-terminated (the caller frees it). */
static inline char *
unit_capture_end(struct unit_capture *c)
{
    ck_assert_int_ge(dup2(c->saved, STDERR_FILENO), 0);
    close(c->saved);
    return unit_read_fd(c->fds[0]);
}

/* Write all of p to fd (fake servers); gives up quietly if the peer went away. */
static inline void
unit_write_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

/* A listening socket on 127.0.0.1 and a free port, for a forked fake server; its base URL
 * ("http://127.0.0.1:PORT") goes to url. */
static inline int
unit_listen_loopback(char *url, size_t urllen)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    snprintf(url, urllen, "http://127.0.0.1:%d", (int)ntohs(sa.sin_port));
    return fd;
}

#endif
