/*
 * Fuzz target "documents": the readers of documents that come from outside.  The first byte
 * chooses (modulo 8):
 *
 *   0  a Cognito JWT as sent (jwt_verify against a JWKS of a key made at start);
 *   1  a JWT's header and payload (two pieces) signed here with that key, so the claims'
 *      checks run: what is accepted has a subject, a known token use and a listed client;
 *   2  a JWKS document (jwks_parse);
 *   3  a Stripe webhook: the Stripe-Signature header and the body (two pieces) checked by
 *      stripe_webhook_verify, the body signed here must pass and the same with a byte of its
 *      signature changed must not; then the event reader (id, type, data.object);
 *   4  DynamoDB's JSON (an item): unmarshalled, marshalled again and unmarshalled again to
 *      the same plain JSON;
 *   5  an SNS message (sns_parse, the string to sign, sns_verify against the certificate of
 *      t/unit/sns_vectors.h, whose signed messages are seeds);
 *   6  the rule files (sql/rules: scholarship, then clusters), and the rules used;
 *   7  an email template (tmpl_parse) rendered in its three modes with variables of a second
 *      piece.
 */
#include "config.h"

#include <json-c/json.h>
#include <openssl/evp.h>

#include "t/fuzz/fuzz.h"
#include "t/unit/sns_vectors.h"
#include "lib/cluster.h"
#include "lib/ddbjson.h"
#include "lib/jwks.h"
#include "lib/jwt.h"
#include "lib/scholarship.h"
#include "lib/sns.h"
#include "lib/stripe_webhook.h"
#include "lib/template.h"
#include "saas/subscription.h"

#define ISSUER "https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_Fuzz"
#define KID "fuzz-kid"
#define NOW 1767225600                /* 2026-01-01T00:00:00Z */
#define WH_SECRET "whsec_fuzz0123456789"
#define SNS_TOPIC "arn:aws:sns:ap-southeast-2:000000000000:prodenthub-ses-events"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;
static struct buf jwks_doc;
static struct jwks_cache jwks;
static const struct jwt_config jwt_cfg = { ISSUER, "fuzzclient, other-client", 60 };


static int
fetch_cert(struct buf *out, const char *url, void *ud, struct app_error *err)
{
    (void)url;
    (void)ud;
    (void)err;
    return buf_puts(out, vec_cert);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct app_error err;

    (void)argc;
    (void)argv;
    fz_settings(NULL);
    key = fz_rsa_key();
    buf_init(&jwks_doc, 1 << 16);
    fz_jwks(&jwks_doc, key, KID);
    app_error_clear(&err);
    if (jwks_cache_init(&jwks, "https://cognito-idp.example/jwks.json", 0, fz_fetch_jwks, &jwks_doc,
                        &err) != APP_OK)
        abort();
    return 0;
}

/* --- JWT ---------------------------------------------------------------------------------- */

static void
jwt_checked(const char *token, size_t len)
{
    struct jwt_claims c;
    struct app_error err;
    enum jwt_reason why;
    int rc;

    app_error_clear(&err);
    rc = jwt_verify(&c, &why, &jwks, &jwt_cfg, token, len, NOW, &err);
    if (fz_verbose())
        fprintf(stderr, "jwt: %s %s\n", jwt_reason_slug(why), err.msg);
    FZ_ASSERT((rc == APP_OK) == (why == JWT_OK));
    FZ_ASSERT(jwt_reason_slug(why));
    if (rc != APP_OK) {
        FZ_ASSERT(!c.sub[0]);
        return;
    }
    FZ_ASSERT(c.sub[0] && (strcmp(c.token_use, "id") == 0 || strcmp(c.token_use, "access") == 0));
    FZ_ASSERT(jwt_client_listed(jwt_cfg.client_ids, c.client_id));
    FZ_ASSERT(c.exp + 60 > NOW && c.iat <= NOW + 60);
}

/* header.payload signed with the key: the token's text into out. */
static void
jwt_sign(struct buf *out, const char *header, size_t hlen, const char *payload, size_t plen)
{
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    fz_b64url(out, header, hlen);
    buf_append(out, ".", 1);
    fz_b64url(out, payload, plen);
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (unsigned char *)out->data, out->len) != 1)
        abort();
    EVP_MD_CTX_free(md);
    buf_append(out, ".", 1);
    fz_b64url(out, sig, siglen);
}

static void
jwks_doc_checked(const char *doc, size_t len)
{
    struct jwks_set set;
    struct app_error err;
    size_t i;

    app_error_clear(&err);
    if (jwks_parse(&set, doc, len, &err) != APP_OK)
        return;
    FZ_ASSERT(set.n <= JWKS_MAX_KEYS);
    for (i = 0; i < set.n; i++) {
        FZ_ASSERT(set.keys[i].kid[0] && set.keys[i].pkey);
        FZ_ASSERT(jwks_set_find(&set, set.keys[i].kid) == set.keys[i].pkey);
    }
    jwks_set_free(&set);
}

/* --- Stripe ------------------------------------------------------------------------------- */

/* hex HMAC-SHA256(secret, t "." body), as Stripe signs. */
static void
stripe_sign(const char *t, const char *body, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = sizeof(md), i;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL,
                                               (const unsigned char *)WH_SECRET,
                                               strlen(WH_SECRET));

    if (!ctx || !k || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
        EVP_DigestSignUpdate(ctx, t, strlen(t)) != 1 || EVP_DigestSignUpdate(ctx, ".", 1) != 1 ||
        EVP_DigestSignUpdate(ctx, body, len) != 1 || EVP_DigestSignFinal(ctx, md, &mdlen) != 1)
        abort();
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    EVP_PKEY_free(k);
    EVP_MD_CTX_free(ctx);
}

static void
webhook(const char *header, const char *body, size_t len)
{
    struct json_object *ev, *d = NULL, *obj = NULL;
    struct app_error err;
    char t[24], sig[65], good[160];
    const char *id, *type;

    app_error_clear(&err);
    stripe_webhook_verify(body, len, header, WH_SECRET ", whsec_other", 300, NOW, &err);
    if (fz_verbose())
        fprintf(stderr, "stripe: %s\n", err.code ? err.msg : "verified");
    snprintf(t, sizeof(t), "%ld", (long)NOW - 5);
    stripe_sign(t, body, len, sig);
    snprintf(good, sizeof(good), "t=%s,v1=%s", t, sig);
    app_error_clear(&err);
    FZ_ASSERT(stripe_webhook_verify(body, len, good, "whsec_other, " WH_SECRET, 300, NOW, &err)
              == APP_OK);
    good[strlen(good) - 1 - (len % 64)] ^= 1;
    FZ_ASSERT(stripe_webhook_verify(body, len, good, WH_SECRET, 300, NOW, &err) != APP_OK);

    /* the event reader of handlers/webhook.c, up to where DynamoDB takes over */
    ev = json_tokener_parse(body);
    id = json_str(ev, "id");
    type = json_str(ev, "type");
    if (ev && id && type && json_object_object_get_ex(ev, "data", &d) &&
        json_object_object_get_ex(d, "object", &obj)) {
        saas_subscription_event_type(type);
        json_int(ev, "created");
        json_str(obj, "id");
        json_object_object_get_ex(obj, "metadata", &d);
        json_str(d, "campaignId");
    }
    json_object_put(ev);
}

/* --- DynamoDB ------------------------------------------------------------------------------ */

static void
ddb_item(const char *text)
{
    struct json_object *item = json_tokener_parse(text), *plain, *again, *back, *one;

    plain = ddb_unmarshal_item(item);
    if (plain) {
        again = ddb_marshal_item(plain);
        back = ddb_unmarshal_item(again);
        FZ_ASSERT(back && json_object_equal(plain, back));
        json_object_put(back);
        json_object_put(again);
        json_object_put(plain);
    }
    if (ddb_unmarshal(item, &one) == 0)
        json_object_put(one);
    json_object_put(item);
}

/* --- SNS ---------------------------------------------------------------------------------- */

static void
sns(const char *text)
{
    static const struct sns_policy pol = { SNS_TOPIC, SNS_VEC_HOST, fetch_cert, NULL };
    struct json_object *body = json_tokener_parse(text);
    struct app_error err;
    struct sns_msg m;
    struct buf sts;

    app_error_clear(&err);
    if (sns_parse(&m, body, &err) == APP_OK) {
        FZ_ASSERT(m.type_name && m.signature && m.signing_cert_url);
        buf_init(&sts, 1 << 20);
        sns_string_to_sign(&m, &sts, &err);
        buf_free(&sts);
        app_error_clear(&err);
        sns_verify(&m, &pol, SNS_VEC_NOW, &err);
        if (fz_verbose())
            fprintf(stderr, "sns: %s\n", err.code ? err.msg : "verified");
    }
    json_object_put(body);
}

/* --- rules and templates ------------------------------------------------------------------ */

static void
rules(const char *text)
{
    static const struct scholarship_input ins[] = {
        { "AU", 0, -1, 0, 0 }, { "IN", 2, 48, 1, 20 }, { "ZZ", 20, 100, 1, 100 },
    };
    struct scholarship_rules *s;
    struct cluster_rules *c;
    struct scholarship_result res;
    struct cluster_result cr;
    struct json_object *j, *sections;
    char err[256];
    size_t i;
    int id;

    s = scholarship_rules_parse(text, err, sizeof(err));
    if (s) {
        FZ_ASSERT(scholarship_plan(s));
        for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
            scholarship_calculate(s, &ins[i], 299900, &res);
            FZ_ASSERT(res.price_cents == res.full_cents - res.discount_cents);
            FZ_ASSERT(res.price_cents >= 0 && res.nreasons <= SCHOLARSHIP_MAX_REASONS);
            j = scholarship_result_json(&res);
            json_object_put(j);
        }
        scholarship_rules_free(s);
    }
    if (fz_verbose())
        fprintf(stderr, "scholarship rules: %s\n", s ? "parsed" : err);
    c = cluster_rules_parse(text, err, sizeof(err));
    if (fz_verbose())
        fprintf(stderr, "cluster rules: %s\n", c ? "parsed" : err);
    if (c) {
        sections = json_tokener_parse("[{\"name\":\"Restorative\",\"category\":\"clinical\","
                                      "\"correct\":30,\"answered\":40,\"total\":50},"
                                      "{\"name\":\"Anatomy\",\"category\":\"theory\","
                                      "\"correct\":0,\"answered\":0,\"total\":20}]");
        if (cluster_assess(c, sections, &cr, err, sizeof(err)) == APP_OK) {
            FZ_ASSERT(cr.cluster >= 1 && cr.cluster <= CLUSTER_COUNT);
            json_object_put(cluster_result_json(&cr));
        }
        for (id = 0; id <= CLUSTER_COUNT + 1; id++) {
            cluster_name(c, id);
            json_object_put(cluster_roadmap_json(c, id));
        }
        json_object_put(sections);
        cluster_rules_free(c);
    }
}

static void
template(const char *src, size_t n, const char *vars_text)
{
    struct json_object *vars = json_tokener_parse(vars_text);
    struct app_error err;
    struct tmpl t;
    struct buf out;

    if (!json_object_is_type(vars, json_type_object)) {
        json_object_put(vars);
        vars = json_object_new_object();     /* the outbox renders objects only */
    }
    app_error_clear(&err);
    if (tmpl_parse("fuzz", src, n, &t, &err) != APP_OK) {
        if (fz_verbose())
            fprintf(stderr, "template: %s\n", err.msg);
        goto done;
    }
    buf_init(&out, 1 << 20);
    if (tmpl_render(t.subject, vars, TMPL_HEADER, &out, &err) == APP_OK && out.data)
        FZ_ASSERT(!strpbrk(out.data, "\r\n"));
    buf_reset(&out);
    tmpl_render(t.text, vars, TMPL_TEXT, &out, &err);
    buf_reset(&out);
    tmpl_render(t.html, vars, TMPL_HTML, &out, &err);
    buf_free(&out);
    tmpl_free(&t);
done:
    json_object_put(vars);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = { data, size };
    unsigned sel = fz_byte(&f);
    size_t n, n2;
    char *a, *b;
    struct buf tok;

    if (sel % 8 == 1 || sel % 8 == 3 || sel % 8 == 7) {
        a = fz_piece(&f, &n);
        b = fz_rest(&f, &n2);
    } else {
        a = fz_rest(&f, &n);
        b = NULL;
        n2 = 0;
    }
    switch (sel % 8) {
    case 0:
        jwt_checked(a, n);
        break;
    case 1:
        buf_init(&tok, 1 << 16);
        jwt_sign(&tok, a, n, b, n2);
        jwt_checked(tok.data, tok.len);
        buf_free(&tok);
        break;
    case 2:
        jwks_doc_checked(a, n);
        break;
    case 3:
        webhook(a, b, n2);
        break;
    case 4:
        ddb_item(a);
        break;
    case 5:
        sns(a);
        break;
    case 6:
        rules(a);
        break;
    default:
        template(a, n, b);
        break;
    }
    free(b);
    free(a);
    return 0;
}
