/*
 * Fuzz target "request": a FastCGI request as the worker hands it over (its parameters and
 * its body) through what we parse of it.  The first byte chooses
 *
 *   0  dispatch(): the request line, the query, the router (404/405, path parameters), CORS,
 *      the admin token, the Cognito bearer token (verified against a JWKS of our own), the
 *      body's ceiling and JSON parse, and the handlers that need no backend (health, ready,
 *      metrics, scholarships.calculate and personal.assess with the rules of sql/rules);
 *      the routes that need DynamoDB, Stripe, S3 or Bedrock stop at their 503, with no
 *      network;
 *   1  the field validators (fcgi/fields.h) on the body, called as the handlers call them;
 *   2  req_parse_line() and route_match() against every route of the table.
 *
 * (the low four bits, modulo 3).  Then the parameters, one NAME=value a line, up to a 0x1e
 * byte; the rest is the body (CONTENT_LENGTH is its length unless a parameter says
 * otherwise).  Bits 4-5 of the first byte cut the body into reads of 1, 7 or 64 bytes (0: one
 * read).
 */
#include "config.h"

#include <json-c/json.h>

#include "t/fuzz/fuzz.h"
#include "fcgi/fields.h"
#include "fcgi/request.h"
#include "fcgi/routes.h"
#include "fcgi/worker.h"
#include "lib/jwks.h"
#include "lib/mem.h"

#define MAX_PARAMS 64
#define ORIGIN "https://app.prodenthub.example"

static struct cfg cfg;
static struct worker worker;
static struct sb_slot slot;
static struct jwks_cache jwks;
static struct buf jwks_doc;


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const kv[] = {
        "CORS_ALLOWED_ORIGINS", ORIGIN,
        "PRODENTHUB_ADMIN_TOKEN", "fuzz-admin-token-0123456789abcdef",
        "COGNITO_ISSUER", "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_Fuzz",
        "COGNITO_CLIENT_ID", "fuzzclient",
        "SCHOLARSHIP_RULES_FILE", PH_SRCDIR "/sql/rules/scholarship.json",
        "CLUSTER_RULES_FILE", PH_SRCDIR "/sql/rules/clusters.json",
        NULL,
    };
    struct app_error err;
    EVP_PKEY *key;

    (void)argc;
    (void)argv;
    fz_settings(kv);
    fz_cfg(&cfg, 1);
    key = fz_rsa_key();
    buf_init(&jwks_doc, 1 << 16);
    fz_jwks(&jwks_doc, key, "fuzz-kid");
    EVP_PKEY_free(key);
    app_error_clear(&err);
    if (jwks_cache_init(&jwks, "https://cognito-idp.example/jwks.json", 0, fz_fetch_jwks, &jwks_doc,
                        &err) != APP_OK)
        abort();
    worker.cfg = &cfg;
    worker.sb = &slot;
    worker.jwks = &jwks;
    return 0;
}

/* --- the body, served in reads of a chosen size ------------------------------------------- */

struct body {
    const char *p;
    size_t len, pos, chunk;
};

static long
body_read(void *ctx, char *dst, size_t n)
{
    struct body *b = ctx;

    if (n > b->len - b->pos)
        n = b->len - b->pos;
    if (b->chunk && n > b->chunk)
        n = b->chunk;
    memcpy(dst, b->p + b->pos, n);
    b->pos += n;
    return (long)n;
}

/* --- what every answer must be ------------------------------------------------------------ */

/* Header lines "Name: value\r\n" with no other CR or LF. */
static void
check_headers(const struct buf *h)
{
    const char *p = h->data, *end, *eol;

    if (!h->data)
        return;
    end = h->data + h->len;
    FZ_ASSERT(strlen(h->data) == h->len);
    while (p < end) {
        eol = strstr(p, "\r\n");
        FZ_ASSERT(eol);
        FZ_ASSERT(!memchr(p, '\n', (size_t)(eol - p)) && !memchr(p, '\r', (size_t)(eol - p)));
        FZ_ASSERT(memchr(p, ':', (size_t)(eol - p)));
        p = eol + 2;
    }
}

/* A status, and a JSON envelope whose success agrees with it (unless another type was set). */
static void
check_answer(const struct request *req)
{
    struct json_object *o, *ok;

    if (fz_verbose())
        fprintf(stderr, "%d %s\n%s\n", req->status,
                req->resp_headers.data ? req->resp_headers.data : "",
                req->resp_body.data ? req->resp_body.data : "");
    FZ_ASSERT(req->status >= 100 && req->status <= 599);
    check_headers(&req->resp_headers);
    if (req->resp_type || !req->resp_body.len)
        return;
    o = json_tokener_parse(req->resp_body.data);
    FZ_ASSERT(json_object_is_type(o, json_type_object));
    FZ_ASSERT(json_object_object_get_ex(o, "success", &ok));
    FZ_ASSERT(json_object_get_boolean(ok) == (req->status < 400));
    json_object_put(o);
}

/* --- the modes ---------------------------------------------------------------------------- */

/* Field checks in the shapes the handlers use (teams, scholarships, mock exams, uploads). */
static void
fields(struct request *req)
{
    struct json_object *leader, *members, *o;
    const char *s;
    long long n;
    size_t i, count;
    int b;
    char name[48];

    field_alias(req, "leaderEmail", "leader", "email");
    field_alias(req, "planType", NULL, "planId");
    field_alias(req, "couponCode", NULL, "code");
    field_campaign(req, "team-creation");
    field_metadata(req);
    leader = field_object_at(req, NULL, "leader", "leader", 0);
    field_name_at(req, leader, "firstName", "leader.firstName", FIELD_NAME_PART_MAX, 0, &s);
    field_name_at(req, leader, "lastName", "leader.lastName", FIELD_NAME_PART_MAX, 0, &s);
    field_email_at(req, leader, "email", "leader.email", 0, &s);
    field_string_at(req, leader, "country", "leader.country", 2, 64, 0, &s);
    field_string(req, "planId", 1, 64, 0, &s);
    field_string(req, "code", 1, 64, 0, &s);
    field_string(req, "statement", 0, 4000, FIELD_MULTILINE, &s);
    field_name(req, "name", FIELD_NAME_FULL_MAX, 0, &s);
    field_email(req, "email", 0, &s);
    field_int(req, "attempts", 0, 20, 0, &n);
    field_int(req, "amountCents", -1000000, 10000000, 0, &n);
    field_bool(req, "financialHardship", 0, &b);
    field_known(req, NULL, "sections");
    members = field_array(req, "members", 1, 5, 0);
    count = members ? json_object_array_length(members) : 0;
    for (i = 0; i < count; i++) {
        snprintf(name, sizeof(name), "members[%zu]", i);
        o = field_object(req, json_object_array_get_idx(members, i), name, 0);
        if (!o)
            continue;
        snprintf(name, sizeof(name), "members[%zu].name", i);
        field_name_at(req, o, "name", arena_strdup(req->arena, name), FIELD_NAME_FULL_MAX, 1,
                      &s);
        snprintf(name, sizeof(name), "members[%zu].email", i);
        field_email_at(req, o, "email", arena_strdup(req->arena, name), 1, &s);
    }
    if (fields_done(req) == APP_OK) {
        FZ_ASSERT(!req->field_errors);
    } else {
        FZ_ASSERT(req->status == 400);
        check_answer(req);
    }
}

/* The path against every route: a match that decodes its parameters is a match without. */
static void
routes_of(struct request *req)
{
    size_t i, k;

    if (req_parse_line(req) != APP_OK || !req->path)
        return;
    for (i = 0; i < routes_count; i++) {
        if (!route_match(routes[i].pattern, req->path, req))
            continue;
        FZ_ASSERT(route_match(routes[i].pattern, req->path, NULL));
        FZ_ASSERT(req->nparams <= REQ_MAX_PARAMS);
        for (k = 0; k < req->nparams; k++)
            FZ_ASSERT(req->params[k].value[0] != '\0');
    }
    FZ_ASSERT(req->nquery <= REQ_MAX_QUERY);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    char *envp[MAX_PARAMS + 3], *params, *line, *nl, *bodytext, cl[48];
    struct body body;
    struct body_reader br;
    struct request req;
    struct arena arena;
    unsigned sel = fz_byte(&f), mode = (sel & 15) % 3;
    size_t n = 0, blen;
    int has_cl = 0;

    params = fz_piece(&f, NULL);
    bodytext = fz_rest(&f, &blen);
    for (line = params; line && *line && n < MAX_PARAMS; line = nl) {
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = '\0';
        if (strncmp(line, "CONTENT_LENGTH=", 15) == 0)
            has_cl = 1;
        envp[n++] = line;
    }
    if (!has_cl) {
        snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", blen);
        envp[n++] = cl;
    }
    if (mode == 1)
        envp[n++] = (char *)"CONTENT_TYPE=application/json";
    envp[n] = NULL;

    arena_init(&arena, 0);
    req_init(&req, &arena, envp, &cfg, &worker);
    switch (mode) {
    case 0:
        body.p = bodytext;
        body.len = blen;
        body.pos = 0;
        body.chunk = (size_t[]){ 0, 1, 7, 64 }[(sel >> 4) & 3];
        br.read = body_read;
        br.ctx = &body;
        dispatch(&req, &br);
        check_answer(&req);
        break;
    case 1:
        req.body = bodytext;
        req.body_len = blen;
        if (req_parse_json_body(&req, (int)cfg.json_max_depth) == APP_OK)
            fields(&req);
        break;
    default:
        routes_of(&req);
        break;
    }
    req_free(&req);
    arena_destroy(&arena);
    free(bodytext);
    free(params);
    return 0;
}
