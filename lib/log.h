/*
 * Logging: one JSON object per line on stderr, never stdout (in FastCGI stdout is the
 * response).  Every line is written with a single write(2) so lines from several workers do
 * not interleave.  Messages are JSON-escaped, so user text cannot forge a line.
 *
 * log_warn appends strerror(errno); log_warnx does not (OpenBSD httpd's split).
 * fatal/fatalx are for start-up only: they exit.
 */
#ifndef PH_LOG_H
#define PH_LOG_H

#define PH_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LL_DEBUG = 0, LL_INFO, LL_WARN, LL_ERROR, LL_CRIT };

extern int log_level_min;

/* The level named debug, info, warn or error; -1 if the name is unknown. */
int log_level_parse(const char *name);
void log_set_role(const char *role);      /* "master" or "worker", added to every line */

/* Test the level before formatting anything (redis serverLog). */
#define LOG(lvl, ...) do { if ((lvl) >= log_level_min) log_msg((lvl), __VA_ARGS__); } while (0)

void log_msg(int level, const char *fmt, ...) PH_PRINTF(2, 3);
/* fields: already-escaped JSON members, each starting with a comma: ,"k":"v" */
void log_fields(int level, const char *fields, const char *fmt, ...) PH_PRINTF(3, 4);
void log_warn(const char *fmt, ...) PH_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PH_PRINTF(1, 2);
void fatal(const char *fmt, ...) PH_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PH_PRINTF(1, 2) __attribute__((noreturn));

#endif
