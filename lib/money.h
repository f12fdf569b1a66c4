/* Money arithmetic in integer cents. */
#ifndef PH_MONEY_H
#define PH_MONEY_H

#include <stddef.h>

/*
 * Split total cents into n shares that sum to total exactly: each share is total / n, and
 * the first total % n shares get one cent more (29900 over 3 → 9967, 9967, 9966).  So shares
 * differ by at most a cent and the earlier members carry the remainder.  0, or -1 when
 * n is 0 or total is negative.
 */
int money_split(long long total, size_t n, long long *shares);

#endif
