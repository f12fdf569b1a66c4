/*
 * The settings table's shape, shared by lib/cfg.c (loading, checks) and lib/cfg_defs.c (the
 * table itself: every setting, its type, default, bounds and flags).
 */
#ifndef PH_CFG_INT_H
#define PH_CFG_INT_H

#include <stddef.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_OCTAL };

#define CFG_SECRET   0x01   /* never printed; may be read from NAME_FILE */
#define CFG_PROD_REQ 0x02   /* must be set (non-empty) when STAGE=production */
#define CFG_TABLE    0x04   /* a DynamoDB table name: DYNAMODB_TABLE_PREFIX is put in front */

struct cfg_def {
    const char *name;
    enum cfg_type type;
    const char *def;
    long min, max;
    size_t off;
    int flags;
};

/* Write a message into err (errlen bytes) and return -1: the loaders' refusals. */
int cfg_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

extern const struct cfg_def cfg_defs[];
extern const size_t cfg_ndefs;

#endif
