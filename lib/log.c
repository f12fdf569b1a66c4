#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define LOG_LINE_MAX 4096

int log_level_min = LL_INFO;
static const char *log_role = "main";
static long log_pid;    /* getpid() of the role's process: set with the role, after a fork */

static const char *const level_names[] = {"debug", "info", "warn", "error", "crit"};

int
log_level_parse(const char *name)
{
    int i;

    for (i = 0; i <= LL_ERROR; i++) {
        if (strcmp(name, level_names[i]) == 0)
            return i;
    }
    return -1;
}

void
log_set_role(const char *role)
{
    log_role = role;
    log_pid = (long)getpid();
}

/* Format and write one line; err >= 0 appends strerror(err) to the message. */
static void log_write(int level, const char *fields, int err, const char *fmt, va_list ap)
    PH_PRINTF(4, 0);

static void
log_write(int level, const char *fields, int err, const char *fmt, va_list ap)
{
    char msg[2048], ts[32], line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    struct buf b;
    int n;

    if (level < log_level_min)
        return;
    if (!log_pid)
        log_pid = (long)getpid();
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0)
        return;
    if (err >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(err));

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

    /* On the stack: the access log runs once per request and must not allocate. */
    buf_init_fixed(&b, line, sizeof(line) - 1);
    buf_printf(&b, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"pid\":%ld,\"role\":\"%s\"",
               ts, (long)tv.tv_usec / 1000, level_names[level], log_pid, log_role);
    if (fields)
        buf_puts(&b, fields);
    buf_puts(&b, ",\"msg\":\"");
    if (buf_json_escape(&b, msg, strlen(msg)) != 0 || buf_puts(&b, "\"}") != 0) {
        /* Over the ceiling: say so in a line that is still JSON. */
        buf_reset(&b);
        buf_printf(&b, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"pid\":%ld,"
                   "\"msg\":\"log line too long, dropped\"}", ts, (long)tv.tv_usec / 1000,
                   level_names[level], log_pid);
    }
    /* sizeof(line) - 1 above keeps a byte for the newline. */
    b.data[b.len++] = '\n';
    if (write(STDERR_FILENO, b.data, b.len) < 0)
        return;
}

void
log_msg(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write(level, NULL, -1, fmt, ap);
    va_end(ap);
}

void
log_fields(int level, const char *fields, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write(level, fields, -1, fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    log_write(LL_WARN, NULL, err, fmt, ap);
    va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write(LL_WARN, NULL, -1, fmt, ap);
    va_end(ap);
}

void
fatal(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    log_write(LL_CRIT, NULL, err, fmt, ap);
    va_end(ap);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write(LL_CRIT, NULL, -1, fmt, ap);
    va_end(ap);
    exit(1);
}
