/*
 * The subscription prices on sale (pricelist.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "pricelist.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
#define PLAN_CHARS ID_CHARS "-."
#define SPACE " \t"

struct entry {
    const char *id, *plan;         /* into the list; plan NULL when unnamed */
    size_t id_len, plan_len;
};

/* The entry at *p (up to the next comma), *p moved past it: 1, 0 at the end, -1 when
 * malformed (why set). */
static int
next_entry(const char **p, struct entry *e, const char **why)
{
    const char *s = *p + strspn(*p, SPACE);

    if (*s == '\0')
        return 0;
    memset(e, 0, sizeof(*e));
    e->id = s;
    e->id_len = strspn(s, ID_CHARS);
    s += e->id_len + strspn(s + e->id_len, SPACE);
    if (*s == '=') {
        s += 1 + strspn(s + 1, SPACE);
        e->plan = s;
        e->plan_len = strspn(s, PLAN_CHARS);
        s += e->plan_len + strspn(s + e->plan_len, SPACE);
        if (e->plan_len == 0 || e->plan_len > PRICELIST_PLAN_MAX) {
            *why = "a plan name is 1 to 64 letters, digits, '_', '-' or '.'";
            return -1;
        }
    }
    if (e->id_len == 0 || e->id_len > PRICELIST_ID_MAX) {
        *why = "a price id is 1 to 100 letters, digits or '_'";
        return -1;
    }
    if (*s != ',' && *s != '\0') {
        *why = "entries are price_id or price_id=plan, separated by commas";
        return -1;
    }
    if (*s == ',' && s[1 + strspn(s + 1, SPACE)] == '\0') {
        *why = "the list ends with a comma";
        return -1;
    }
    *p = *s == ',' ? s + 1 : s;
    return 1;
}

int
pricelist_check(const char *list, const char **why)
{
    const char *p = list, *q;
    struct entry e, f;
    int rc;

    *why = NULL;
    for (;;) {
        rc = next_entry(&p, &e, why);
        if (rc <= 0)
            return rc;
        q = p;
        while (next_entry(&q, &f, why) == 1) {
            if (f.id_len == e.id_len && memcmp(f.id, e.id, e.id_len) == 0) {
                *why = "a price is listed twice";
                return -1;
            }
        }
        *why = NULL;
    }
}

int
pricelist_find(const char *list, const char *price, char *out, size_t outlen)
{
    const char *p = list, *why = NULL;
    size_t n = strlen(price);
    struct entry e;

    if (!list || pricelist_check(list, &why) != 0 || n == 0)
        return 0;
    while (next_entry(&p, &e, &why) == 1) {
        if (e.id_len != n || memcmp(e.id, price, n) != 0)
            continue;
        if (e.plan)
            snprintf(out, outlen, "%.*s", (int)e.plan_len, e.plan);
        else
            snprintf(out, outlen, "%.*s", (int)e.id_len, e.id);
        return 1;
    }
    return 0;
}

int
pricelist_cfg_check(const struct cfg *c, char *err, size_t errlen)
{
    const char *why = NULL;

    if (pricelist_check(c->stripe_subscription_prices, &why) == 0)
        return 0;
    snprintf(err, errlen, "STRIPE_SUBSCRIPTION_PRICES: %s", why);
    return -1;
}
