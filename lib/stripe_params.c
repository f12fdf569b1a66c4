/*
 * Stripe's form encoding (stripe.h): the parameters of a request, kept in order and encoded
 * as the official library does (application/x-www-form-urlencoded, brackets escaped).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "stripe.h"

struct stripe_field {
    char *key;
    char *value;
};

struct stripe_params {
    struct stripe_field *fields;
    size_t n;
    size_t cap;
};

/* --- form fields ------------------------------------------------------------------------- */

struct stripe_params *
stripe_params_new(void)
{
    return xcalloc(1, sizeof(struct stripe_params));
}

size_t
stripe_params_count(const struct stripe_params *p)
{
    return p ? p->n : 0;
}

void
stripe_params_free(struct stripe_params *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++) {
        free(p->fields[i].key);
        free(p->fields[i].value);
    }
    free(p->fields);
    free(p);
}

/* Append key with value, which the list takes over. */
static void
params_push(struct stripe_params *p, const char *key, char *value)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->fields = xrealloc(p->fields, p->cap * sizeof(*p->fields));
    }
    p->fields[p->n].key = xstrdup(key);
    p->fields[p->n].value = value;
    p->n++;
}

void
stripe_params_add(struct stripe_params *p, const char *key, const char *value)
{
    if (!value)
        return;
    params_push(p, key, xstrdup(value));
}

void
stripe_params_addf(struct stripe_params *p, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *v;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        log_msg(LL_ERROR, "stripe: cannot format the value of %s", key);
        return;
    }
    v = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(v, (size_t)n + 1, fmt, ap);
    va_end(ap);
    params_push(p, key, v);
}

void
stripe_params_add_long(struct stripe_params *p, const char *key, long long v)
{
    char tmp[32];

    snprintf(tmp, sizeof(tmp), "%lld", v);
    params_push(p, key, xstrdup(tmp));
}

/*
 * stripe-python: urlencode() (quote_plus, nothing safe but "-._~" and alphanumerics), then
 * "%5B" and "%5D" back to "[" and "]" in the whole string, keys and values alike.
 */
static int
form_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '[' || c == ']';
}

static int
form_escape(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *c = (const unsigned char *)s;
    size_t run;
    char esc[3];
    int rc = APP_OK;

    while (*c && rc == APP_OK) {
        for (run = 0; c[run] && form_safe(c[run]); run++)
            ;
        if (run > 0) {
            rc = buf_append(out, c, run);
            c += run;
            continue;
        }
        if (*c == ' ') {
            rc = buf_append(out, "+", 1);
        } else {
            esc[0] = '%';
            esc[1] = hex[*c >> 4];
            esc[2] = hex[*c & 0x0f];
            rc = buf_append(out, esc, sizeof(esc));
        }
        c++;
    }
    return rc;
}

int
stripe_params_encode(const struct stripe_params *p, struct buf *out)
{
    size_t i;
    int rc = buf_append(out, "", 0);     /* out->data is a string even with no field */

    for (i = 0; p && i < p->n && rc == APP_OK; i++) {
        if (i > 0)
            rc = buf_append(out, "&", 1);
        if (rc == APP_OK)
            rc = form_escape(out, p->fields[i].key);
        if (rc == APP_OK)
            rc = buf_append(out, "=", 1);
        if (rc == APP_OK)
            rc = form_escape(out, p->fields[i].value);
    }
    return rc;
}

