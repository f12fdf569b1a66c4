#include "config.h"

#include <stdio.h>

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
