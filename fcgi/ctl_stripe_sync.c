/*
 * prodenthubctl stripe-sync (ctl.h): the catalogue's products and prices in Stripe, and the
 * webhook endpoint with the events we act on, made or brought up to date; the settings that
 * name them printed for the configuration.  Idempotent: a second run changes nothing and
 * says so.  Also ctl_stripe_list, the paged lists reconcile reads.
 *
 * A catalogue item is a product whose metadata[prodenthub_id] is its planId (one made by hand
 * in the dashboard with that metadata is adopted), and a one-time price whose lookup_key is the
 * planId.  A price's amount cannot change in Stripe: a new amount is a new price that takes
 * the lookup key (transfer_lookup_key), and the old price is deactivated.  Checkout still
 * charges price_data with the amount from our records, on the synced product
 * (STRIPE_*_PRODUCT_ID); the prices are for the dashboard and reports (docs/PAYMENTS.md).
 *
 * Output, one line a thing, tab-separated: "product PLAN ID created|updated|unchanged",
 * "price PLAN ID AMOUNT CUR created|replaced|unchanged", "webhook URL ID
 * created|updated|unchanged", then the settings ("NAME=value"), then one summary line.
 * The endpoint's signing secret comes from Stripe only when it is created: it is printed
 * then, once, as the setting to store, and nowhere else.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../lib/cfg.h"
#include "../lib/ddbjson.h"
#include "../lib/stripe.h"
#include "../lib/stripe_webhook.h"
#include "ctl.h"

#define PAGES_MAX 1000

struct sync {
    struct stripe *st;
    struct json_object *items;       /* the catalogue, plain */
    struct json_object *products;    /* Stripe's, by metadata[prodenthub_id] */
    char run[48];                    /* this run's part of the idempotency keys */
    int created, updated, unchanged, failed;
};

int
ctl_stripe_list(struct stripe *st, const char *path, const char *const *filters,
                ctl_stripe_fn fn, void *arg)
{
    struct json_object *page = NULL, *data, *more;
    char after[256] = "";
    struct app_error e;
    int pages, rc = 0;
    size_t i, n;

    for (pages = 0; pages < PAGES_MAX; pages++) {
        struct stripe_params *q = stripe_params_new();

        stripe_params_add(q, "limit", "100");
        for (i = 0; filters && filters[i] && filters[i + 1]; i += 2)
            stripe_params_add(q, filters[i], filters[i + 1]);
        if (*after)
            stripe_params_add(q, "starting_after", after);
        app_error_clear(&e);
        if (stripe_get(st, path, q, &page, &e) != APP_OK ||
            !json_object_object_get_ex(page, "data", &data) ||
            !json_object_is_type(data, json_type_array)) {
            stripe_params_free(q);
            fprintf(stderr, "prodenthubctl: %s: %s\n", path, *e.msg ? e.msg : "not a list");
            json_object_put(page);
            return -1;
        }
        stripe_params_free(q);
        n = json_object_array_length(data);
        for (i = 0; i < n; i++)
            rc |= fn(arg, json_object_array_get_idx(data, i));
        if (n == 0 || !json_object_object_get_ex(page, "has_more", &more) ||
            !json_object_get_boolean(more)) {
            json_object_put(page);
            return rc ? -1 : 0;
        }
        snprintf(after, sizeof(after), "%s",
                 json_str(json_object_array_get_idx(data, n - 1), "id") ?: "");
        json_object_put(page);
        page = NULL;
        if (!*after)
            break;
    }
    fprintf(stderr, "prodenthubctl: %s: the list does not end\n", path);
    return -1;
}

static int
catalogue_cb(void *arg, struct json_object *plain, struct json_object *raw)
{
    struct sync *s = arg;

    (void)raw;
    if (!plain || !json_str(plain, "planId"))
        return 1;
    json_object_array_add(s->items, json_object_get(plain));
    return 0;
}

static int
product_cb(void *arg, struct json_object *prod)
{
    struct sync *s = arg;
    struct json_object *md = NULL;
    const char *id;

    json_object_object_get_ex(prod, "metadata", &md);
    id = json_str(md, "prodenthub_id");
    if (id && !json_object_object_get_ex(s->products, id, NULL))
        json_object_object_add(s->products, id, json_object_get(prod));
    return 0;
}

static int
by_plan(const void *a, const void *b)
{
    const char *x = json_str(*(struct json_object *const *)a, "planId");
    const char *y = json_str(*(struct json_object *const *)b, "planId");

    return strcmp(x ? x : "", y ? y : "");
}

static int
boolean(struct json_object *o, const char *k)
{
    struct json_object *v;

    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

/* POST with this run's key for (what, id); the answer in *out (the caller puts it). */
static int
post(struct sync *s, const char *path, struct stripe_params *p, const char *what,
     const char *id, struct json_object **out)
{
    struct app_error e;
    char key[256];
    int rc;

    snprintf(key, sizeof(key), "stripe-sync-%s-%s-%s", s->run, what, id);
    app_error_clear(&e);
    *out = NULL;
    rc = stripe_post(s->st, path, p, key, out, &e);
    stripe_params_free(p);
    if (rc != APP_OK) {
        fprintf(stderr, "prodenthubctl: %s %s: %s\n", what, id, e.msg);
        s->failed++;
    }
    return rc;
}

static void
count(struct sync *s, const char *how)
{
    if (strcmp(how, "created") == 0 || strcmp(how, "replaced") == 0)
        s->created++;
    else if (strcmp(how, "updated") == 0)
        s->updated++;
    else
        s->unchanged++;
}

/* The item's product: its id in out (empty on failure). */
static void
sync_product(struct sync *s, struct json_object *item, char *out, size_t outlen)
{
    const char *plan = json_str(item, "planId"), *name = json_str(item, "name");
    const char *status = json_str(item, "status");
    int active = !status || strcmp(status, "active") == 0;
    struct json_object *prod = NULL, *ans = NULL;
    struct stripe_params *p = stripe_params_new();
    const char *how = "unchanged";
    char path[320];

    if (!name)
        name = plan;
    *out = '\0';
    if (json_object_object_get_ex(s->products, plan, &prod)) {
        snprintf(out, outlen, "%s", json_str(prod, "id") ?: "");
        if (strcmp(json_str(prod, "name") ?: "", name) != 0)
            stripe_params_add(p, "name", name);
        if (boolean(prod, "active") != active)
            stripe_params_add(p, "active", active ? "true" : "false");
        if (stripe_params_count(p) == 0) {
            stripe_params_free(p);
        } else {
            how = "updated";
            snprintf(path, sizeof(path), "/v1/products/%s", out);
            if (post(s, path, p, "product-update", plan, &ans) != APP_OK)
                how = NULL;
        }
    } else {
        how = "created";
        stripe_params_add(p, "name", name);
        stripe_params_add(p, "active", active ? "true" : "false");
        stripe_params_add(p, "metadata[prodenthub_id]", plan);
        stripe_params_add(p, "metadata[campaignId]", json_str(item, "campaignId"));
        if (post(s, "/v1/products", p, "product", plan, &ans) == APP_OK)
            snprintf(out, outlen, "%s", json_str(ans, "id") ?: "");
        else
            how = NULL;
    }
    json_object_put(ans);
    if (how) {
        count(s, how);
        printf("product\t%s\t%s\t%s\n", plan, out, how);
    }
}

static int
price_cb(void *arg, struct json_object *price)
{
    struct json_object **found = arg;

    if (!*found)
        *found = json_object_get(price);
    return 0;
}

/* The item's price under the lookup key planId, made or replaced when it differs. */
static void
sync_price(struct sync *s, struct json_object *item, const char *product)
{
    const char *plan = json_str(item, "planId"), *cur = json_str(item, "currency");
    const char *filters[] = { "lookup_keys[]", plan, NULL, NULL };
    long long amount = json_int(item, "amountCents");
    struct json_object *old = NULL, *ans = NULL;
    struct stripe_params *p;
    const char *how = "unchanged";
    char lower[8] = "", id[256] = "", path[320];
    size_t i;

    for (i = 0; cur && cur[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)(cur[i] >= 'A' && cur[i] <= 'Z' ? cur[i] + 32 : cur[i]);
    lower[i] = '\0';
    if (ctl_stripe_list(s->st, "/v1/prices", filters, price_cb, &old) != 0) {
        s->failed++;
        json_object_put(old);
        return;
    }
    if (old && json_int(old, "unit_amount") == amount && boolean(old, "active") &&
        strcmp(json_str(old, "currency") ?: "", lower) == 0 &&
        strcmp(json_str(old, "product") ?: "", product) == 0) {
        snprintf(id, sizeof(id), "%s", json_str(old, "id") ?: "");
    } else {
        how = old ? "replaced" : "created";
        p = stripe_params_new();
        stripe_params_add(p, "product", product);
        stripe_params_add_long(p, "unit_amount", amount);
        stripe_params_add(p, "currency", lower);
        stripe_params_add(p, "lookup_key", plan);
        stripe_params_add(p, "nickname", json_str(item, "name"));
        stripe_params_add(p, "metadata[prodenthub_id]", plan);
        if (old)
            stripe_params_add(p, "transfer_lookup_key", "true");
        if (post(s, "/v1/prices", p, "price", plan, &ans) != APP_OK) {
            json_object_put(old);
            return;
        }
        snprintf(id, sizeof(id), "%s", json_str(ans, "id") ?: "");
        json_object_put(ans);
        ans = NULL;
        if (old && boolean(old, "active")) {
            p = stripe_params_new();
            stripe_params_add(p, "active", "false");
            snprintf(path, sizeof(path), "/v1/prices/%s", json_str(old, "id") ?: "");
            post(s, path, p, "price-deactivate", plan, &ans);
            json_object_put(ans);
        }
    }
    json_object_put(old);
    count(s, how);
    printf("price\t%s\t%s\t%lld\t%s\t%s\n", plan, id, amount, lower, how);
}

struct endpoint_find {
    const char *url;
    struct json_object *found;
};

static int
endpoint_cb(void *arg, struct json_object *ep)
{
    struct endpoint_find *f = arg;

    if (!f->found && strcmp(json_str(ep, "url") ?: "", f->url) == 0)
        f->found = json_object_get(ep);
    return 0;
}

/* 1 when the endpoint's enabled_events are exactly ours, in any order. */
static int
same_events(struct json_object *ep)
{
    struct json_object *evs;
    size_t i, j, n, ours = 0;

    while (stripe_webhook_events[ours])
        ours++;
    if (!json_object_object_get_ex(ep, "enabled_events", &evs) ||
        !json_object_is_type(evs, json_type_array) ||
        (n = json_object_array_length(evs)) != ours)
        return 0;
    for (i = 0; i < ours; i++) {
        for (j = 0; j < n; j++) {
            if (strcmp(json_object_get_string(json_object_array_get_idx(evs, j)) ?: "",
                       stripe_webhook_events[i]) == 0)
                break;
        }
        if (j == n)
            return 0;
    }
    return 1;
}

/* The webhook endpoint at url; the secret of a new one in secret (else empty). */
static void
sync_endpoint(struct sync *s, const char *url, const char *version, char *secret,
              size_t secretlen)
{
    struct endpoint_find f = { url, NULL };
    struct stripe_params *p;
    struct json_object *ans = NULL;
    const char *how = "unchanged";
    char path[320], id[256] = "";
    size_t i;

    *secret = '\0';
    if (ctl_stripe_list(s->st, "/v1/webhook_endpoints", NULL, endpoint_cb, &f) != 0) {
        s->failed++;
        return;
    }
    if (f.found)
        snprintf(id, sizeof(id), "%s", json_str(f.found, "id") ?: "");
    if (!f.found || !same_events(f.found)) {
        p = stripe_params_new();
        for (i = 0; stripe_webhook_events[i]; i++)
            stripe_params_add(p, "enabled_events[]", stripe_webhook_events[i]);
        if (f.found) {
            how = "updated";
            snprintf(path, sizeof(path), "/v1/webhook_endpoints/%s", id);
            if (post(s, path, p, "webhook-update", "endpoint", &ans) != APP_OK)
                how = NULL;
        } else {
            how = "created";
            stripe_params_add(p, "url", url);
            stripe_params_add(p, "api_version", version);
            stripe_params_add(p, "description", "prodenthub");
            if (post(s, "/v1/webhook_endpoints", p, "webhook", "endpoint", &ans) == APP_OK) {
                snprintf(id, sizeof(id), "%s", json_str(ans, "id") ?: "");
                snprintf(secret, secretlen, "%s", json_str(ans, "secret") ?: "");
            } else {
                how = NULL;
            }
        }
        json_object_put(ans);
    }
    json_object_put(f.found);
    if (how) {
        count(s, how);
        printf("webhook\t%s\t%s\t%s\n", url, id, how);
    }
}

int
ctl_stripe_sync(struct ctl *c, int argc, char **argv)
{
    struct sync s;
    struct json_object *item, *products;
    const char *setting, *url = NULL;
    char url_buf[1024], secret[256], (*ids)[256];
    size_t i, n;

    if (argc == 3 && strcmp(argv[1], "--webhook-url") == 0 &&
        (strncmp(argv[2], "https://", 8) == 0 || strncmp(argv[2], "http://", 7) == 0)) {
        url = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "prodenthubctl: stripe-sync takes [--webhook-url URL]\n");
        return 2;
    }
    if (!url) {
        snprintf(url_buf, sizeof(url_buf), "%s/webhook/stripe", c->cfg.api_base_url);
        url = url_buf;
    }
    memset(&s, 0, sizeof(s));
    snprintf(s.run, sizeof(s.run), "%ld-%ld", (long)time(NULL), (long)getpid());
    s.items = json_object_new_array();
    s.products = json_object_new_object();
    if (ctl_scan(c->ddb, c->cfg.tbl_catalogue, catalogue_cb, &s) != 0 ||
        !(s.st = stripe_new(&c->cfg))) {
        fprintf(stderr, "prodenthubctl: stripe-sync: cannot read the catalogue or reach "
                "Stripe; nothing changed\n");
        json_object_put(s.items);
        json_object_put(s.products);
        return 1;
    }
    json_object_array_sort(s.items, by_plan);
    n = json_object_array_length(s.items);
    ids = calloc(n + 1, sizeof(*ids));
    if (ids && ctl_stripe_list(s.st, "/v1/products", NULL, product_cb, &s) == 0) {
        for (i = 0; i < n; i++) {
            item = json_object_array_get_idx(s.items, i);
            sync_product(&s, item, ids[i], sizeof(ids[i]));
            if (ids[i][0])
                sync_price(&s, item, ids[i]);
        }
        sync_endpoint(&s, url, c->cfg.stripe_api_version, secret, sizeof(secret));
        printf("# settings for the configuration (prodenthub.conf, or SSM parameters)\n");
        for (i = 0; i < n; i++) {
            setting = json_str(json_object_array_get_idx(s.items, i), "stripeProductSetting");
            if (setting && ids[i][0])
                printf("%s=%s\n", setting, ids[i]);
        }
        if (*secret)
            printf("STRIPE_WEBHOOK_SECRET=%s\n# Stripe shows this secret only now: store it "
                   "(SSM SecureString) before anything else\n", secret);
        else
            printf("# STRIPE_WEBHOOK_SECRET: the endpoint existed; keep the configured secret "
                   "(roll it in the dashboard if it is lost)\n");
        memset(secret, 0, sizeof(secret));
    } else {
        s.failed++;
    }
    products = s.products;
    printf("stripe-sync: %d created, %d updated, %d unchanged, %d failed\n", s.created,
           s.updated, s.unchanged, s.failed);
    free(ids);
    stripe_free(s.st);
    json_object_put(s.items);
    json_object_put(products);
    return s.failed ? 1 : 0;
}
