#include "config.h"

#include <stdio.h>
#include <string.h>

#include "money.h"

int
money_split(long long total, size_t n, long long *shares)
{
    size_t i;

    if (n == 0 || total < 0)
        return -1;
    for (i = 0; i < n; i++)
        shares[i] = total / (long long)n + ((long long)i < total % (long long)n ? 1 : 0);
    return 0;
}

int
money_parse_decimal(const char *text, long long *out)
{
    long long dollars = 0, cents = 0;
    size_t i = 0, decimals = 0;

    if (!text || !(text[0] >= '0' && text[0] <= '9'))
        return -1;
    for (; text[i] >= '0' && text[i] <= '9'; i++) {
        if (dollars > MONEY_MAX_CENTS / 100)
            return -1;
        dollars = dollars * 10 + (text[i] - '0');
    }
    if (text[i] == '.') {
        for (i++; text[i] >= '0' && text[i] <= '9'; i++) {
            if (++decimals > 2)
                return -1;
            cents = cents * 10 + (text[i] - '0');
        }
        if (decimals == 0)
            return -1;
        if (decimals == 1)
            cents *= 10;
    }
    if (text[i] != '\0' || dollars > MONEY_MAX_CENTS / 100 ||
        dollars * 100 + cents > MONEY_MAX_CENTS)
        return -1;
    *out = dollars * 100 + cents;
    return 0;
}

int
money_dollars_to_cents(long long dollars, long long *out)
{
    if (dollars < 0 || dollars > MONEY_MAX_CENTS / 100)
        return -1;
    *out = dollars * 100;
    return 0;
}

void
money_decimal(long long cents, char out[32])
{
    unsigned long long a = cents < 0 ? 0ULL - (unsigned long long)cents :
                           (unsigned long long)cents;

    snprintf(out, 32, "%s%llu.%02llu", cents < 0 ? "-" : "", a / 100, a % 100);
}

struct json_object *
money_json(long long cents)
{
    char text[32];

    money_decimal(cents, text);
    /* json-c writes a double made with its text back as that text, unchanged. */
    return json_object_new_double_s((double)cents / 100.0, text);
}

void
money_json_add(struct json_object *o, const char *key, long long cents)
{
    json_object_object_add(o, key, money_json(cents));
}

/* The seed's names where stripping "Cents" is not what the seed writes. */
static const struct {
    const char *cents;
    const char *decimal;
} seed_names[] = {
    {"totalCents", "totalAmount"},
    {"shareCents", "shareAmount"},
};

static void
decimal_name(const char *key, size_t n, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; i < sizeof(seed_names) / sizeof(seed_names[0]); i++) {
        if (strcmp(seed_names[i].cents, key) == 0) {
            snprintf(out, outlen, "%s", seed_names[i].decimal);
            return;
        }
    }
    snprintf(out, outlen, "%.*s", (int)(n - 5), key);
}

void
money_add_decimals(struct json_object *o)
{
    struct json_object *add = NULL;
    size_t i, n;
    char name[64];

    if (json_object_is_type(o, json_type_array)) {
        for (i = 0; i < json_object_array_length(o); i++)
            money_add_decimals(json_object_array_get_idx(o, i));
        return;
    }
    if (!json_object_is_type(o, json_type_object))
        return;
    json_object_object_foreach(o, k, v) {
        n = strlen(k);
        if (n > 5 && n < sizeof(name) && strcmp(k + n - 5, "Cents") == 0 &&
            json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
            decimal_name(k, n, name, sizeof(name));
            if (!json_object_object_get_ex(o, name, NULL)) {
                if (!add)
                    add = json_object_new_object();
                money_json_add(add, name, json_object_get_int64(v));
            }
        } else {
            money_add_decimals(v);
        }
    }
    if (add) {
        /* Added after the walk: json-c's iteration must not see the object change. */
        json_object_object_foreach(add, ak, av)
            json_object_object_add(o, ak, json_object_get(av));
        json_object_put(add);
    }
}
