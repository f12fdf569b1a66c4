#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fcgi/request.h"
#include "../../fcgi/routes.h"
#include "../../lib/errors.h"
#include "../../lib/log.h"
#include "unit.h"

#define REQ_ID "0123456789abcdef0123456789abcdef"

/* Build u from envp and parse the request line, which must succeed. */
static void
parse_ok(struct unit_req *u, char **envp)
{
    unit_req_init(u, envp);
    ck_assert_int_eq(req_parse_line(&u->req), APP_OK);
}

/* The member key of object o (which must exist). */
static struct json_object *
member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no member '%s' in %s", key,
                  json_object_to_json_string(o));
    return v;
}

/* Check the error envelope in u's response; returns the parsed body (caller puts it). */
static struct json_object *
check_error_envelope(const struct request *req, int status, const char *code, const char *msg)
{
    struct json_object *o = unit_resp_json(req), *details;

    ck_assert_int_eq(req->status, status);
    ck_assert(json_object_is_type(member(o, "success"), json_type_boolean));
    ck_assert(!json_object_get_boolean(member(o, "success")));
    ck_assert_pstr_eq(unit_json_str(o, "code"), code);
    if (msg)
        ck_assert_pstr_eq(unit_json_str(o, "error"), msg);
    details = member(o, "details");
    ck_assert(json_object_is_type(details, json_type_object));
    ck_assert_pstr_eq(unit_json_str(details, "requestId"), req->request_id);
    ck_assert_int_eq(json_object_object_length(o), 4);
    return o;
}

/* --- req_init and req_env --------------------------------------------------------------- */

START_TEST(test_request_id_kept)
{
    char *envp[] = {"REQUEST_ID=" REQ_ID, NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    ck_assert_str_eq(u.req.request_id, REQ_ID);
    ck_assert_int_eq(u.req.status, 0);
    ck_assert_ptr_eq(u.req.cfg, &u.cfg);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_request_id_replaced)
{
    static char *bad[] = {
        "REQUEST_ID=abc\r\nSet-Cookie: x=1",
        "REQUEST_ID=abc\n",
        "REQUEST_ID=abc def",
        "REQUEST_ID=xyz",
        "REQUEST_ID=",
        "REQUEST_ID=\"abc\"",
        "REQUEST_ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *envp[] = {bad[i], NULL};
        struct unit_req u;

        unit_req_init(&u, envp);
        ck_assert_msg(strcmp(u.req.request_id, "-") == 0, "'%s' was kept as '%s'",
                      bad[i], u.req.request_id);
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_request_id_absent)
{
    char *envp[] = {"REQUEST_METHOD=GET", NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    ck_assert_str_eq(u.req.request_id, "-");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_req_env)
{
    char *envp[] = {"HTTP_ORIGIN_X=wrong", "HTTP_ORIGIN=https://a.example", "EMPTY=",
                    "NOEQUALS", NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    ck_assert_pstr_eq(req_env(&u.req, "HTTP_ORIGIN"), "https://a.example");
    ck_assert_pstr_eq(req_env(&u.req, "HTTP_ORIGIN_X"), "wrong");
    ck_assert_pstr_eq(req_env(&u.req, "EMPTY"), "");
    ck_assert_ptr_null(req_env(&u.req, "HTTP"));
    ck_assert_ptr_null(req_env(&u.req, "NOEQUALS"));
    ck_assert_ptr_null(req_env(&u.req, "MISSING"));
    unit_req_free(&u);

    unit_req_init(&u, NULL);
    ck_assert_ptr_null(req_env(&u.req, "HTTP_ORIGIN"));
    unit_req_free(&u);
}
END_TEST

/* --- req_parse_line --------------------------------------------------------------------- */

START_TEST(test_parse_line_query)
{
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/v1/mock-exams?city=New+York&x=%2Fa%20b",
                    "QUERY_STRING=city=New+York&x=%2Fa%20b&flag&empty=&a%3Db=c%26d", NULL};
    struct unit_req u;

    parse_ok(&u, envp);
    ck_assert_str_eq(u.req.method, "GET");
    ck_assert_uint_eq(u.req.method_bit, M_GET);
    ck_assert_str_eq(u.req.path, "/v1/mock-exams");
    ck_assert_uint_eq(u.req.nquery, 5);
    ck_assert_pstr_eq(req_query(&u.req, "city"), "New York");
    ck_assert_pstr_eq(req_query(&u.req, "x"), "/a b");
    ck_assert_pstr_eq(req_query(&u.req, "flag"), "");
    ck_assert_pstr_eq(req_query(&u.req, "empty"), "");
    ck_assert_pstr_eq(req_query(&u.req, "a=b"), "c&d");
    ck_assert_ptr_null(req_query(&u.req, "missing"));
    ck_assert_ptr_null(req_query(&u.req, "New York"));
    /* In order. */
    ck_assert_str_eq(u.req.query[0].key, "city");
    ck_assert_str_eq(u.req.query[2].key, "flag");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_parse_line_query_from_uri)
{
    char *envp[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/v1/x?q=a+b&n=1", NULL};
    struct unit_req u;

    parse_ok(&u, envp);
    ck_assert_uint_eq(u.req.method_bit, M_POST);
    ck_assert_str_eq(u.req.path, "/v1/x");
    ck_assert_uint_eq(u.req.nquery, 2);
    ck_assert_pstr_eq(req_query(&u.req, "q"), "a b");
    ck_assert_pstr_eq(req_query(&u.req, "n"), "1");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_parse_line_no_query)
{
    char *envp[] = {"REQUEST_METHOD=DELETE", "REQUEST_URI=/v1/teams/t1", "QUERY_STRING=",
                    NULL};
    struct unit_req u;

    parse_ok(&u, envp);
    ck_assert_uint_eq(u.req.method_bit, M_DELETE);
    ck_assert_str_eq(u.req.path, "/v1/teams/t1");
    ck_assert_uint_eq(u.req.nquery, 0);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_parse_line_empty_pairs)
{
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", "QUERY_STRING=&&a=1&&b=2&", NULL};
    struct unit_req u;

    parse_ok(&u, envp);
    ck_assert_uint_eq(u.req.nquery, 2);
    ck_assert_pstr_eq(req_query(&u.req, "a"), "1");
    ck_assert_pstr_eq(req_query(&u.req, "b"), "2");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_parse_line_duplicate_first_wins)
{
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", "QUERY_STRING=k=1&k=2", NULL};
    struct unit_req u;

    parse_ok(&u, envp);
    ck_assert_uint_eq(u.req.nquery, 2);
    ck_assert_pstr_eq(req_query(&u.req, "k"), "1");
    ck_assert_str_eq(u.req.query[1].value, "2");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_parse_line_methods)
{
    static const struct {
        char *env;
        unsigned bit;
    } m[] = {
        {"REQUEST_METHOD=GET", M_GET}, {"REQUEST_METHOD=HEAD", M_HEAD},
        {"REQUEST_METHOD=POST", M_POST}, {"REQUEST_METHOD=PUT", M_PUT},
        {"REQUEST_METHOD=DELETE", M_DELETE}, {"REQUEST_METHOD=PATCH", M_PATCH},
        {"REQUEST_METHOD=OPTIONS", M_OPTIONS}, {"REQUEST_METHOD=get", 0},
        {"REQUEST_METHOD=BREW", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        char *envp[] = {m[i].env, "REQUEST_URI=/v1/health", NULL};
        struct unit_req u;

        parse_ok(&u, envp);
        ck_assert_msg(u.req.method_bit == m[i].bit, "%s: bit %#x", m[i].env, u.req.method_bit);
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_parse_line_max_query)
{
    char qs[512];
    size_t len, i;
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", qs, NULL};
    struct unit_req u;

    len = (size_t)snprintf(qs, sizeof(qs), "QUERY_STRING=");
    for (i = 0; i < REQ_MAX_QUERY; i++)
        len += (size_t)snprintf(qs + len, sizeof(qs) - len, "%sk%zu=%zu", i ? "&" : "", i, i);
    ck_assert_uint_lt(len, sizeof(qs) - 8);
    parse_ok(&u, envp);
    ck_assert_uint_eq(u.req.nquery, REQ_MAX_QUERY);
    ck_assert_pstr_eq(req_query(&u.req, "k31"), "31");
    unit_req_free(&u);

    /* One more is refused. */
    snprintf(qs + len, sizeof(qs) - len, "&extra=1");
    unit_req_init(&u, envp);
    ck_assert_int_eq(req_parse_line(&u.req), APP_EBADREQUEST);
    ck_assert_int_eq(u.req.err.code, APP_EBADREQUEST);
    ck_assert_ptr_nonnull(strstr(u.req.err.msg, "query"));
    ck_assert_uint_eq(u.req.nquery, REQ_MAX_QUERY);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_parse_line_bad_pct)
{
    static char *bad[] = {"QUERY_STRING=a=%zz", "QUERY_STRING=a=%4", "QUERY_STRING=%zz=1",
                          "QUERY_STRING=a=%00", "QUERY_STRING=ok=1&b=%"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/v1/health", bad[i], NULL};
        struct unit_req u;

        unit_req_init(&u, envp);
        ck_assert_msg(req_parse_line(&u.req) == APP_EBADREQUEST, "%s accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(u.req.err.msg, "percent"));
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_parse_line_refused)
{
    char *no_method[] = {"REQUEST_URI=/v1/health", NULL};
    char *no_uri[] = {"REQUEST_METHOD=GET", NULL};
    char *rel_uri[] = {"REQUEST_METHOD=GET", "REQUEST_URI=v1/health", NULL};
    char *abs_uri[] = {"REQUEST_METHOD=GET", "REQUEST_URI=http://x/v1/health", NULL};
    char **cases[] = {no_method, no_uri, rel_uri, abs_uri};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct unit_req u;

        unit_req_init(&u, cases[i]);
        ck_assert_int_eq(req_parse_line(&u.req), APP_EBADREQUEST);
        ck_assert_int_eq(u.req.err.code, APP_EBADREQUEST);
        ck_assert_str_ne(u.req.err.msg, "");
        unit_req_free(&u);
    }
}
END_TEST

/* --- path parameters -------------------------------------------------------------------- */

START_TEST(test_path_params)
{
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/v1/teams/t%201/members/m2", NULL};
    struct unit_req u;

    parse_ok(&u, envp);
    ck_assert_int_eq(route_match("/v1/teams/{teamId}/members/{memberId}", u.req.path, &u.req),
                     1);
    ck_assert_uint_eq(u.req.nparams, 2);
    ck_assert_pstr_eq(req_path_param(&u.req, "teamId"), "t 1");
    ck_assert_pstr_eq(req_path_param(&u.req, "memberId"), "m2");
    ck_assert_ptr_null(req_path_param(&u.req, "teamid"));
    ck_assert_ptr_null(req_path_param(&u.req, "missing"));
    unit_req_free(&u);
}
END_TEST

/* --- response headers ------------------------------------------------------------------- */

START_TEST(test_add_header)
{
    char *envp[] = {NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    req_add_header(&u.req, "X-One", "1");
    req_add_header(&u.req, "Cache-Control", "no-store");
    ck_assert_str_eq(u.req.resp_headers.data, "X-One: 1\r\nCache-Control: no-store\r\n");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_add_header_refuses_crlf)
{
    char *envp[] = {NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    req_add_header(&u.req, "X-Ok", "yes");
    req_add_header(&u.req, "X-Bad", "a\r\nSet-Cookie: session=evil");
    req_add_header(&u.req, "X-Bad", "a\nb");
    req_add_header(&u.req, "X-Bad", "a\rb");
    req_add_header(&u.req, "X-Bad\r\nSet-Cookie", "x");
    req_add_header(&u.req, "X-Bad\n", "x");
    ck_assert_str_eq(u.req.resp_headers.data, "X-Ok: yes\r\n");
    unit_req_free(&u);
}
END_TEST

/* --- replies ---------------------------------------------------------------------------- */

START_TEST(test_reply_json)
{
    char *envp[] = {"REQUEST_ID=" REQ_ID, NULL};
    struct unit_req u;
    struct json_object *data = json_object_new_object(), *o, *d;

    unit_req_init(&u, envp);
    json_object_object_add(data, "status", json_object_new_string("ok"));
    json_object_object_add(data, "path", json_object_new_string("/v1/x"));
    ck_assert_int_eq(reply_json(&u.req, 201, data), APP_OK);
    ck_assert_int_eq(u.req.status, 201);
    o = unit_resp_json(&u.req);
    ck_assert(json_object_get_boolean(member(o, "success")));
    d = member(o, "data");
    ck_assert_pstr_eq(unit_json_str(d, "status"), "ok");
    ck_assert_int_eq(json_object_object_length(o), 2);
    json_object_put(o);
    /* Slashes are not escaped: the body is plain JSON. */
    ck_assert_ptr_nonnull(strstr(u.req.resp_body.data, "\"/v1/x\""));
    ck_assert_ptr_null(strchr(u.req.resp_body.data, '\n'));
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_json_null)
{
    char *envp[] = {NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    reply_json(&u.req, 200, NULL);
    ck_assert_int_eq(u.req.status, 200);
    ck_assert_str_eq(u.req.resp_body.data, "{\"success\":true,\"data\":null}");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_replaces_previous)
{
    char *envp[] = {NULL};
    struct unit_req u;

    unit_req_init(&u, envp);
    reply_json(&u.req, 200, json_object_new_string("first"));
    reply_json(&u.req, 202, json_object_new_string("second"));
    ck_assert_int_eq(u.req.status, 202);
    ck_assert_str_eq(u.req.resp_body.data, "{\"success\":true,\"data\":\"second\"}");
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_error_client)
{
    char *envp[] = {"REQUEST_ID=" REQ_ID, NULL};
    struct unit_req u;
    struct json_object *o;

    unit_req_init(&u, envp);
    ck_assert_int_eq(reply_error(&u.req, APP_ENOTFOUND, "team t1 not found", NULL), APP_OK);
    o = check_error_envelope(&u.req, 404, "NOT_FOUND", "team t1 not found");
    ck_assert_str_eq(unit_json_str(member(o, "details"), "requestId"), REQ_ID);
    ck_assert_int_eq(json_object_object_length(member(o, "details")), 1);
    json_object_put(o);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_error_default_message)
{
    char *envp[] = {NULL};
    struct unit_req u;
    struct json_object *o;

    unit_req_init(&u, envp);
    reply_error(&u.req, APP_EMETHOD, NULL, NULL);
    o = check_error_envelope(&u.req, 405, "METHOD_NOT_ALLOWED",
                             app_error_info(APP_EMETHOD)->message);
    ck_assert_str_eq(unit_json_str(member(o, "details"), "requestId"), "-");
    json_object_put(o);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_error_details)
{
    char *envp[] = {"REQUEST_ID=abc-123", NULL};
    struct unit_req u;
    struct json_object *o, *details = json_object_new_object(), *d;

    unit_req_init(&u, envp);
    json_object_object_add(details, "field", json_object_new_string("email"));
    reply_error(&u.req, APP_EVALIDATION, "email is invalid", details);
    o = check_error_envelope(&u.req, 400, "VALIDATION_ERROR", "email is invalid");
    d = member(o, "details");
    ck_assert_pstr_eq(unit_json_str(d, "field"), "email");
    ck_assert_pstr_eq(unit_json_str(d, "requestId"), "abc-123");
    json_object_put(o);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_error_5xx_hides_message)
{
    char *envp[] = {"REQUEST_ID=" REQ_ID, NULL};
    static const int codes[] = {APP_EUNAVAILABLE, APP_EINTERNAL, APP_EUPSTREAM, APP_ETIMEOUT,
                                APP_ENOMEM, APP_ECONFIG, APP_ENOTIMPL};
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const struct app_error_info *info = app_error_info(codes[i]);
        struct unit_req u;
        struct json_object *o;

        unit_req_init(&u, envp);
        reply_error(&u.req, codes[i], "secret host 10.0.0.1", NULL);
        ck_assert_ptr_null(strstr(u.req.resp_body.data, "10.0.0.1"));
        ck_assert_ptr_null(strstr(u.req.resp_body.data, "secret host"));
        o = check_error_envelope(&u.req, info->status, info->slug, info->message);
        json_object_put(o);
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_reply_error_5xx_hides_err_slot)
{
    char *envp[] = {NULL};
    struct unit_req u;

    /* The dispatcher's path: the detail is in req->err, msg is NULL. */
    unit_req_init(&u, envp);
    app_error_set(&u.req.err, APP_EUNAVAILABLE, "connect to 10.0.0.1:8000 refused");
    reply_error(&u.req, APP_EUNAVAILABLE, u.req.err.msg, NULL);
    ck_assert_int_eq(u.req.status, 503);
    ck_assert_ptr_null(strstr(u.req.resp_body.data, "10.0.0.1"));
    unit_req_free(&u);
}
END_TEST

/* A refusal set below HTTP reaches the client with its reason or field, 5xx never. */
START_TEST(test_reply_app_error_table)
{
    static const struct {
        int code;
        const char *reason, *field;
        int status;
        const char *error, *want_reason, *want_field;
    } cases[] = {
        {APP_EUNPROCESSABLE, "BELOW_MINIMUM_CHARGE", NULL, 422, "too little",
         "BELOW_MINIMUM_CHARGE", NULL},
        {APP_ECONDITION, "NO_SEATS", NULL, 409, "too little", "NO_SEATS", NULL},
        {APP_EVALIDATION, NULL, "planId", 400, "Some fields are invalid", NULL, "planId"},
        {APP_EUPSTREAM, "SECRET", NULL, 502, NULL, NULL, NULL},
        {APP_ENOTFOUND, NULL, NULL, 404, "too little", NULL, NULL},
    };
    char *envp[] = {NULL};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct app_error_info *info = app_error_info(cases[i].code);
        struct unit_req u;
        struct json_object *o, *d, *f;

        unit_req_init(&u, envp);
        if (cases[i].field)
            app_error_field(&u.req.err, cases[i].field, "too little");
        else
            app_error_reason(&u.req.err, cases[i].code, cases[i].reason, "too little");
        reply_app_error(&u.req, cases[i].code);
        o = check_error_envelope(&u.req, cases[i].status, info->slug,
                                 cases[i].error ? cases[i].error : info->message);
        d = member(o, "details");
        ck_assert_pstr_eq(unit_json_str(d, "reason"), cases[i].want_reason);
        if (cases[i].want_field) {
            f = member(d, "fields");
            ck_assert_pstr_eq(unit_json_str(f, cases[i].want_field), "too little");
        } else {
            ck_assert(!json_object_object_get_ex(d, "fields", NULL));
        }
        json_object_put(o);
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_reply_error_unknown_code)
{
    char *envp[] = {NULL};
    struct unit_req u;
    struct json_object *o;

    unit_req_init(&u, envp);
    reply_error(&u.req, -4242, "oops at 10.0.0.1", NULL);
    o = check_error_envelope(&u.req, 500, "INTERNAL_ERROR", "Internal server error");
    ck_assert_ptr_null(strstr(u.req.resp_body.data, "10.0.0.1"));
    json_object_put(o);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_error_escapes_message)
{
    char *envp[] = {NULL};
    struct unit_req u;
    struct json_object *o;

    unit_req_init(&u, envp);
    reply_error(&u.req, APP_EBADREQUEST, "bad \"quote\"\nnext", NULL);
    o = check_error_envelope(&u.req, 400, "BAD_REQUEST", "bad \"quote\"\nnext");
    json_object_put(o);
    unit_req_free(&u);
}
END_TEST

/* --- the JSON body ---------------------------------------------------------------------- */

/* Build u with the given Content-Type (NULL: none) and body, and parse the body. */
static int
parse_body(struct unit_req *u, char **envp, const char *body, int depth)
{
    unit_req_init(u, envp);
    u->req.body = body;
    u->req.body_len = strlen(body);
    return req_parse_json_body(&u->req, depth);
}

START_TEST(test_json_body_ok)
{
    static char *types[] = {"CONTENT_TYPE=application/json",
                            "CONTENT_TYPE=application/json; charset=utf-8",
                            "CONTENT_TYPE=Application/JSON",
                            "CONTENT_TYPE=application/json;charset=UTF-8"};
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char *envp[] = {types[i], NULL};
        struct unit_req u;

        ck_assert_msg(parse_body(&u, envp, " {\"code\":\"SAVE10\",\"n\":[1,2]}\r\n", 20) ==
                      APP_OK, "%s refused", types[i]);
        ck_assert_ptr_nonnull(u.req.json);
        ck_assert_pstr_eq(unit_json_str(u.req.json, "code"), "SAVE10");
        ck_assert_int_eq(u.req.status, 0);
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_json_body_media_type)
{
    static char *types[] = {"CONTENT_TYPE=text/plain", "CONTENT_TYPE=application/jsonp",
                            "CONTENT_TYPE=application/x-www-form-urlencoded",
                            "CONTENT_TYPE=", "NO_CONTENT_TYPE=1"};
    size_t i;

    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        char *envp[] = {types[i], NULL};
        struct unit_req u;

        ck_assert_msg(parse_body(&u, envp, "{}", 20) == APP_EMEDIATYPE, "%s accepted",
                      types[i]);
        ck_assert_ptr_null(u.req.json);
        unit_req_free(&u);
    }
}
END_TEST

START_TEST(test_json_body_empty)
{
    char *envp[] = {"CONTENT_TYPE=application/json", NULL};
    struct unit_req u;

    ck_assert_int_eq(parse_body(&u, envp, "", 20), APP_EBADJSON);
    ck_assert_int_eq(u.req.err.code, APP_EBADJSON);
    ck_assert_ptr_null(u.req.json);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_json_body_not_object)
{
    static const char *bodies[] = {"[1,2]", "\"str\"", "[]", "4.5 ", "null\n", "true "};
    char *envp[] = {"CONTENT_TYPE=application/json", NULL};
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct unit_req u;

        ck_assert_msg(parse_body(&u, envp, bodies[i], 20) == APP_EVALIDATION, "%s",
                      bodies[i]);
        unit_req_free(&u);
    }
}
END_TEST

/* Parse a malformed body and check the 400 reply it leaves, with where it broke. */
static void
check_bad_json(const char *body, int depth, long offset, int line, int column)
{
    char *envp[] = {"CONTENT_TYPE=application/json", NULL};
    struct unit_req u;
    struct json_object *o, *d;

    ck_assert_int_eq(parse_body(&u, envp, body, depth), APP_EBADJSON);
    ck_assert_ptr_null(u.req.json);
    o = check_error_envelope(&u.req, 400, "INVALID_JSON", NULL);
    d = member(o, "details");
    ck_assert_ptr_nonnull(unit_json_str(d, "reason"));
    if (offset >= 0)
        ck_assert_int_eq(json_object_get_int64(member(d, "offset")), offset);
    ck_assert_int_eq(json_object_get_int(member(d, "line")), line);
    ck_assert_int_eq(json_object_get_int(member(d, "column")), column);
    json_object_put(o);
    unit_req_free(&u);
}

START_TEST(test_json_body_malformed)
{
    /* '}' where a value belongs: offset 10, line 2, column 9. */
    check_bad_json("{\n\"code\": }", 20, 10, 2, 9);
    /* Cut short: the end of input, line 1. */
    check_bad_json("{\"a\":1", 20, 6, 1, 7);
    /* Trailing garbage after a complete value. */
    check_bad_json("{} x", 20, 3, 1, 4);
    check_bad_json("{}\n\n{}", 20, 4, 3, 1);
}
END_TEST

/*
 * Fixed (fcgi/request.c, req_parse_json_body): a body that is a bare number or literal ("42",
 * "true", "null") is valid JSON, but json_tokener_parse_ex() is never told the input has
 * ended, so it returns json_tokener_continue (the token may go on) and the client gets
 * 400 INVALID_JSON
 * "unexpected end of input" instead of 400 VALIDATION_ERROR "must be a JSON object".
 * Pass body_len + 1 (the body is NUL-terminated) or make a final parse_ex call with "" and
 * length 1.
 */
START_TEST(test_json_body_bare_number)
{
    char *envp[] = {"CONTENT_TYPE=application/json", NULL};
    struct unit_req u;

    ck_assert_int_eq(parse_body(&u, envp, "42", 20), APP_EVALIDATION);
    unit_req_free(&u);
    ck_assert_int_eq(parse_body(&u, envp, "true", 20), APP_EVALIDATION);
    unit_req_free(&u);
    ck_assert_int_eq(parse_body(&u, envp, "null", 20), APP_EVALIDATION);
    unit_req_free(&u);
}
END_TEST

/* n nested arrays around 1. */
static char *
nested(int n)
{
    char *s = malloc((size_t)n * 2 + 2);
    int i;

    ck_assert_ptr_nonnull(s);
    for (i = 0; i < n; i++) {
        s[i] = '[';
        s[n + 1 + i] = ']';
    }
    s[n] = '1';
    s[2 * n + 1] = '\0';
    return s;
}

START_TEST(test_json_body_depth)
{
    char *envp[] = {"CONTENT_TYPE=application/json", NULL};
    struct unit_req u;
    char *shallow = nested(5), *deep = nested(30);
    char body[256];

    /* Depth is enforced: the limit decides, not the shape of the document. */
    snprintf(body, sizeof(body), "{\"a\":%s}", shallow);
    ck_assert_int_eq(parse_body(&u, envp, body, 20), APP_OK);
    unit_req_free(&u);
    ck_assert_int_eq(parse_body(&u, envp, body, 3), APP_EBADJSON);
    ck_assert_int_eq(u.req.status, 400);
    unit_req_free(&u);
    snprintf(body, sizeof(body), "{\"a\":%s}", deep);
    ck_assert_int_eq(parse_body(&u, envp, body, 20), APP_EBADJSON);
    ck_assert_int_eq(u.req.status, 400);
    unit_req_free(&u);
    ck_assert_int_eq(parse_body(&u, envp, body, 64), APP_OK);
    unit_req_free(&u);
    free(shallow);
    free(deep);
}
END_TEST

/* --- logging ---------------------------------------------------------------------------- */

START_TEST(test_req_log_one_json_line)
{
    char *envp[] = {"REQUEST_METHOD=GET", "REQUEST_ID=" REQ_ID, NULL};
    struct unit_req u;
    struct unit_capture cap;
    const char *evil = "user said \"hi\"\n{\"level\":\"crit\",\"msg\":\"forged\"}";
    struct json_object *o;
    char *out;
    size_t len;

    unit_req_init(&u, envp);
    u.req.method = "GET";
    unit_capture_start(&cap);
    req_log(&u.req, LL_ERROR, "%s", evil);
    out = unit_capture_end(&cap);
    len = strlen(out);

    /* One line, and it is one JSON object carrying the message intact. */
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(out[len - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
    o = json_tokener_parse(out);
    ck_assert_ptr_nonnull(o);
    ck_assert_pstr_eq(unit_json_str(o, "msg"), evil);
    ck_assert_pstr_eq(unit_json_str(o, "level"), "error");
    ck_assert_pstr_eq(unit_json_str(o, "request_id"), REQ_ID);
    ck_assert_pstr_eq(unit_json_str(o, "method"), "GET");
    ck_assert_pstr_eq(unit_json_str(o, "route"), "-");
    json_object_put(o);
    free(out);
    unit_req_free(&u);
}
END_TEST

START_TEST(test_reply_error_5xx_logs_detail)
{
    char *envp[] = {"REQUEST_ID=" REQ_ID, NULL};
    struct unit_req u;
    struct unit_capture cap;
    char *out;

    /* The detail hidden from the client goes to the log instead. */
    unit_req_init(&u, envp);
    unit_capture_start(&cap);
    reply_error(&u.req, APP_EUNAVAILABLE, "secret host 10.0.0.1", NULL);
    out = unit_capture_end(&cap);
    ck_assert_ptr_nonnull(strstr(out, "10.0.0.1"));
    ck_assert_ptr_nonnull(strstr(out, "SERVICE_UNAVAILABLE"));
    ck_assert_ptr_nonnull(strstr(out, REQ_ID));
    free(out);
    unit_req_free(&u);
}
END_TEST

static Suite *
request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("init");

    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_request_id_kept);
    tcase_add_test(tc, test_request_id_replaced);
    tcase_add_test(tc, test_request_id_absent);
    tcase_add_test(tc, test_req_env);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse_line");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_parse_line_query);
    tcase_add_test(tc, test_parse_line_query_from_uri);
    tcase_add_test(tc, test_parse_line_no_query);
    tcase_add_test(tc, test_parse_line_empty_pairs);
    tcase_add_test(tc, test_parse_line_duplicate_first_wins);
    tcase_add_test(tc, test_parse_line_methods);
    tcase_add_test(tc, test_parse_line_max_query);
    tcase_add_test(tc, test_parse_line_bad_pct);
    tcase_add_test(tc, test_parse_line_refused);
    tcase_add_test(tc, test_path_params);
    suite_add_tcase(s, tc);

    tc = tcase_create("reply");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_add_header);
    tcase_add_test(tc, test_add_header_refuses_crlf);
    tcase_add_test(tc, test_reply_json);
    tcase_add_test(tc, test_reply_json_null);
    tcase_add_test(tc, test_reply_replaces_previous);
    tcase_add_test(tc, test_reply_error_client);
    tcase_add_test(tc, test_reply_error_default_message);
    tcase_add_test(tc, test_reply_error_details);
    tcase_add_test(tc, test_reply_error_5xx_hides_message);
    tcase_add_test(tc, test_reply_error_5xx_hides_err_slot);
    tcase_add_test(tc, test_reply_error_unknown_code);
    tcase_add_test(tc, test_reply_error_escapes_message);
    tcase_add_test(tc, test_reply_app_error_table);
    tcase_add_test(tc, test_req_log_one_json_line);
    tcase_add_test(tc, test_reply_error_5xx_logs_detail);
    suite_add_tcase(s, tc);

    tc = tcase_create("json_body");
    tcase_add_checked_fixture(tc, unit_clean_env, NULL);
    tcase_add_test(tc, test_json_body_ok);
    tcase_add_test(tc, test_json_body_media_type);
    tcase_add_test(tc, test_json_body_empty);
    tcase_add_test(tc, test_json_body_not_object);
    tcase_add_test(tc, test_json_body_malformed);
    tcase_add_test(tc, test_json_body_depth);
    tcase_add_test(tc, test_json_body_bare_number);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(request_suite)
