/* Money arithmetic in integer cents. */
#ifndef PH_MONEY_H
#define PH_MONEY_H

#include <stddef.h>

#include <json-c/json.h>

/*
 * Split total cents into n shares that sum to total exactly: each share is total / n, and
 * the first total % n shares get one cent more (29900 over 3 → 9967, 9967, 9966).  So shares
 * differ by at most a cent and the earlier members carry the remainder.  0, or -1 when
 * n is 0 or total is negative.
 */
int money_split(long long total, size_t n, long long *shares);

/* The most cents money_parse_decimal gives: 10^15 (ten trillion dollars), far above any price,
 * and low enough that a percentage of it (x 100) still fits in a long long. */
#define MONEY_MAX_CENTS 1000000000000000LL

/*
 * An amount in dollars written as decimal text (a DynamoDB number's own text) to cents,
 * exactly, never through a double.  The whole text must be digits, optionally followed by
 * a point and one or two digits: "100" -> 10000, "99.5" -> 9950, "0.01" -> 1, "007" -> 700.
 * Refused (-1): empty text, a sign ("-1", "+1"), white space, an exponent ("1e2"), a point
 * without digits on both sides ("1.", ".5"), more than two decimals ("1.005", also "1.000":
 * DynamoDB stores numbers without trailing zeros, so a third decimal is never a formatting
 * accident), and anything above MONEY_MAX_CENTS.  0 on success, with *out set; a refused
 * text leaves *out alone.
 */
int money_parse_decimal(const char *text, long long *out);

/* Whole dollars to cents: 0, or -1 when dollars is negative or the cents exceed
 * MONEY_MAX_CENTS. */
int money_dollars_to_cents(long long dollars, long long *out);

/* cents as the seed writes money: dollars with two places, "39.80", "-0.05"; out has room for
 * 32 bytes.  Exact: printed from the integer, never through a double. */
void money_decimal(long long cents, char out[32]);

/* The same as a JSON number whose text is exactly that ("discount": 39.80); the caller owns
 * it (add it to an object). */
struct json_object *money_json(long long cents);

/* o[key] = money_json(cents): the seed's decimal field next to our *Cents one. */
void money_json_add(struct json_object *o, const char *key, long long cents);

/*
 * Beside every "<name>Cents" member of o (objects and arrays, all the way down), the seed's
 * decimal field: "<name>" ("discountCents" -> "discount", "finalAmountCents" ->
 * "finalAmount"), or the seed's own name where it has one ("totalCents" -> "totalAmount",
 * "shareCents" -> "shareAmount").  Negative values (the -1 of "unknown") get none, nor does a
 * name already present.  The one place the decimal names are decided (reply_json calls it).
 */
void money_add_decimals(struct json_object *o);

#endif
