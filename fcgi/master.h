/*
 * The master: binds the listen socket, forks the workers and supervises them.
 *   SIGCHLD  reap; a worker that died is replaced (with back-off if workers die young)
 *   SIGTERM/SIGINT  stop: workers finish their request, bounded by the shutdown timeout
 *   SIGHUP   re-read the configuration and replace the workers one by one
 */
#ifndef PH_MASTER_H
#define PH_MASTER_H

struct cfg;

/* Runs until stopped; returns the process exit status. cfg_path may be NULL. */
int master_run(struct cfg *cfg, const char *cfg_path, int cfg_required);

#endif
