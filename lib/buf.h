/*
 * A growable byte buffer with a mandatory ceiling (curl's dynbuf): appending past max fails
 * with APP_ETOOLARGE instead of growing without bound.  The bytes are always NUL-terminated.
 */
#ifndef PH_BUF_H
#define PH_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
    int fixed;                 /* data is the caller's storage: never grown or freed */
};

void buf_init(struct buf *b, size_t max);
/* A buffer over the caller's storage (e.g. on the stack): no allocation ever. */
void buf_init_fixed(struct buf *b, char *storage, size_t size);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                     /* len = 0, keeps the memory */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* A curl write callback into the struct buf given as its data: past the ceiling it returns 0,
 * so curl aborts the transfer instead of buffering without bound. */
size_t buf_write_cb(char *p, size_t size, size_t n, void *ud);

/* Append the whole file path (up to the ceiling).  APP_OK; APP_ENOTFOUND when it cannot be
 * opened; APP_ETOOLARGE past the ceiling; APP_EINTERNAL on a read error or a NUL byte. */
int buf_read_file(struct buf *b, const char *path);

/* buf_read_file with the reason in err ("PATH: cannot open", ...); 0 or -1. */
int buf_read_text(struct buf *b, const char *path, char *err, size_t errlen);

/* Append s as the inside of a JSON string (quotes not included). */
int buf_json_escape(struct buf *b, const char *s, size_t n);

#endif
