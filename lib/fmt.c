#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fmt.h"

void
fmt_init(const char *tz)
{
    if (tz && *tz)
        setenv("TZ", tz, 1);
    tzset();
}

void
fmt_money(long long cents, const char *currency, char *out, size_t n)
{
    static const struct { const char *code, *sym; } syms[] = {
        { "aud", "A$" }, { "usd", "US$" }, { "nzd", "NZ$" }, { "cad", "CA$" },
        { "eur", "\xe2\x82\xac" }, { "gbp", "\xc2\xa3" },
    };
    const char *sym = NULL;
    unsigned long long v = cents < 0 ? 0ULL - (unsigned long long)cents :
                           (unsigned long long)cents;
    char whole[32], grouped[48];
    size_t i, len, k = 0;

    for (i = 0; currency && i < sizeof(syms) / sizeof(syms[0]); i++)
        if (strcasecmp(currency, syms[i].code) == 0)
            sym = syms[i].sym;
    snprintf(whole, sizeof(whole), "%llu", v / 100);
    len = strlen(whole);
    for (i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            grouped[k++] = ',';
        grouped[k++] = whole[i];
    }
    grouped[k] = '\0';
    if (sym)
        snprintf(out, n, "%s%s%s.%02llu", cents < 0 ? "-" : "", sym, grouped, v % 100);
    else
        snprintf(out, n, "%s%s.%02llu %s", cents < 0 ? "-" : "", grouped, v % 100,
                 currency ? currency : "");
}

void
fmt_date(time_t t, char *out, size_t n)
{
    struct tm tm;
    char wd[8], mon[8];

    localtime_r(&t, &tm);
    strftime(wd, sizeof(wd), "%a", &tm);
    strftime(mon, sizeof(mon), "%b", &tm);
    snprintf(out, n, "%s %d %s %d", wd, tm.tm_mday, mon, tm.tm_year + 1900);
}

void
fmt_time(time_t t, char *out, size_t n)
{
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(out, n, "%H:%M %Z", &tm);
}

void
fmt_money_add(struct json_object *o, const char *k, long long cents, const char *currency)
{
    char s[48];

    fmt_money(cents, currency, s, sizeof(s));
    json_object_object_add(o, k, json_object_new_string(s));
}
