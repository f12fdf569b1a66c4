/* Record ids and timestamps. */
#ifndef PH_IDS_H
#define PH_IDS_H

#include <stddef.h>
#include <time.h>

#define ID_HEX 24                   /* 96 random bits: unguessable, so ids can be URLs */

/* prefix + ID_HEX random hex digits (from getrandom), e.g. "pur_3f9c...".  0, or -1. */
int id_new(char *out, size_t outlen, const char *prefix);

/* 1 if s is prefix followed by exactly ID_HEX lower-case hex digits. */
int id_valid(const char *s, const char *prefix);

/* Milliseconds of the monotonic clock, for budgets and back-off. */
long clock_ms(void);

/* t as "2026-11-25T09:16:15Z" into out (at least 21 bytes). */
void time_iso(time_t t, char *out, size_t outlen);

/* "2026-11-25T09:16:15Z" (fraction of a second, "Z" or "+00:00" optional) back to time_t;
 * 0 when malformed or in another offset. */
time_t time_parse_iso(const char *s);

#endif
