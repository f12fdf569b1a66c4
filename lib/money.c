#include "config.h"

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
