/*
 * A worker process: its own accept loop on the shared listen socket, and its own
 * connections (DynamoDB curl handle, memcached), reused across the requests it serves.
 */
#ifndef PH_WORKER_H
#define PH_WORKER_H

#include <signal.h>
#include <sys/types.h>

#include "../lib/errors.h"

struct cfg;
struct ddb;
struct cache;
struct creds_provider;
struct stripe;
struct s3;
struct jwks_cache;
struct bedrock;

/*
 * The scoreboard: one slot per worker in memory shared with the master, so the master can
 * say which route and request a worker was serving when it died (kore's worker_reaper).
 */
struct sb_slot {
    pid_t pid;
    volatile sig_atomic_t ready;        /* accept loop running */
    volatile sig_atomic_t busy;         /* inside a request */
    unsigned long requests;
    unsigned long errors[APP_ERR_COUNT];  /* error replies by code */
    char route[48];
    char request_id[48];
};

struct worker {
    int slot;
    const struct cfg *cfg;
    struct sb_slot *sb;
    struct creds_provider *creds;
    struct ddb *ddb;
    struct cache *cache;
    struct stripe *stripe;
    struct s3 *s3;
    struct jwks_cache *jwks;     /* the user pool's keys (R_AUTH); NULL when sign-in is off */
    struct bedrock *bedrock;
};

/* Run the accept loop until SIGTERM; never returns. */
void worker_main(int slot, int listen_fd, const struct cfg *cfg, struct sb_slot *sb)
    __attribute__((noreturn));

#endif
