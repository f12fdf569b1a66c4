/*
 * Human formatting for emails: money from integer cents ("A$1,299.00") and dates and times
 * in the business's time zone (EMAIL_TIMEZONE, default Australia/Sydney).
 */
#ifndef PH_FMT_H
#define PH_FMT_H

#include <stddef.h>
#include <time.h>

/* Set the process's time zone (TZ) for the local-time helpers below. */
void fmt_init(const char *tz);

void fmt_money(long long cents, const char *currency, char *out, size_t n);
/* o[k] = fmt_money(cents, currency), for email variables. */
struct json_object;
void fmt_money_add(struct json_object *o, const char *k, long long cents, const char *currency);
void fmt_date(time_t t, char *out, size_t n);       /* Wed 9 Dec 2026 */
void fmt_time(time_t t, char *out, size_t n);       /* 10:00 AEDT */

#endif
