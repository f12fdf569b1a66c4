/*
 * Checked parsers for text that crosses a trust boundary (memcached's safe_strto*, curl's
 * strparse): no atoi, no silent zero on garbage, no overflow.
 */
#ifndef PH_STRPARSE_H
#define PH_STRPARSE_H

#include <stddef.h>

/* Parse all of s as a base-10 integer in [min, max]; 0 on success, -1 otherwise. */
int str_to_long(const char *s, long min, long max, long *out);
/* The same for an unsigned size, e.g. CONTENT_LENGTH. */
int str_to_size(const char *s, size_t max, size_t *out);
/* Parse all of s as an octal integer in [0, max], e.g. a file mode. */
int str_to_octal(const char *s, long max, long *out);

/*
 * Percent-decode src[0..n) into out (room for n + 1 bytes); plus_is_space for query strings.
 * Returns the decoded length, or -1 on a malformed escape or a decoded NUL byte.
 */
long str_pct_decode(char *out, const char *src, size_t n, int plus_is_space);

/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int str_hexval(int c);

/* The host a URL's authority starts with at h is this machine: 127.0.0.1, [::1] or localhost,
 * followed by the end, a port or a path. */
int str_host_is_loopback(const char *h);

/* Trim ASCII white space at both ends, in place; returns s. */
char *str_trim(char *s);

/*
 * 1 if s[0..n) is text a person could have typed: well-formed UTF-8 (no overlong forms, no
 * UTF-16 surrogates, nothing above U+10FFFF, no noncharacters, and no U+FFFD, which is what
 * json-c makes of a lone "\ud800") without control characters (C0, DEL, C1) or NUL; with
 * multiline, line breaks and tabs are text too.  0 otherwise.
 */
int str_text_ok(const char *s, size_t n, int multiline);

/*
 * 1 if s[0..n) is a plain name (a person's name, or one part of it) of at most max
 * characters: letters of any script (with their combining marks), words separated by single
 * spaces, apostrophes (' and U+2019), hyphens and periods, at least one letter, no space at
 * either end.  No digits, no '@', '/', ':' or other symbols, no control or format
 * characters, and no period followed by a word of two letters or more ("example.com"), so
 * a name cannot carry a link, an address or a number into an email.  0 otherwise.
 */
int str_name_ok(const char *s, size_t n, size_t max);

/* STR_LETTER when cp is a letter (general category L*), STR_MARK when it is a combining
 * mark (Mn, Mc), 0 otherwise (strparse_letters.c, generated). */
#define STR_LETTER 1
#define STR_MARK 2
int str_letter_kind(unsigned long cp);

/* 1 if a and b are equal, comparing every byte whatever the content (constant time in n). */
int str_ct_equal(const void *a, const void *b, size_t n);

#endif
