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

/* A link token at rest: its SHA-256 in hex (out: 64 digits and a NUL).  token_ok compares
 * token with a stored hash in constant time. */
void token_hash(const char *token, char out[65]);
/* n bytes as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
int token_ok(const char *token, const char *stored);

/* t as "2026-11-25T09:16:15Z" into out (at least 21 bytes). */
void time_iso(time_t t, char *out, size_t outlen);

/* "2026-11-25T09:16:15Z" (fraction of a second, "Z" or "+00:00" optional) back to time_t;
 * 0 when malformed or in another offset. */
time_t time_parse_iso(const char *s);

#endif
