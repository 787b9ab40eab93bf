/* SPDX-License-Identifier: BSD-2-Clause */
/* Base types shared by the whole tree: string views, buffer spans and error codes. Types only. */
#ifndef SB_BASE_T_H
#define SB_BASE_T_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* A borrowed view of bytes, not NUL-terminated. Valid while whatever it points into lives; never
 * stored beyond that owner's lifetime (copy to keep). */
typedef struct {
    const char *p;
    size_t len;
} sb_str;

/* A relocatable slice of a message buffer: byte offset and length from the buffer start. */
typedef struct {
    uint32_t off;
    uint32_t len;
} sb_span;

#define SB_STR(lit)     ((sb_str){(lit), sizeof(lit) - 1})
#define SB_STR_NULL     ((sb_str){NULL, 0})
#define SB_STR_FMT      "%.*s"
#define SB_STR_ARG(s)   (int)(s).len, (s).p
#define SB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Error codes: functions return 0 or one of these (negative). */
enum sb_err {
    SB_OK = 0,
    SB_ENOMEM = -1,   /* allocation failed or an arena cap was reached */
    SB_EINVAL = -2,   /* invalid argument (a caller bug, not bad input) */
    SB_EPARSE = -3,   /* malformed input */
    SB_ELIMIT = -4,   /* input over a configured limit */
    SB_EVERSION = -5, /* unsupported protocol version */
    SB_EAGAIN = -6,   /* incomplete input: more bytes are needed (streams) */
    SB_ENOSPC = -7,   /* output buffer too small */
    SB_ENOENT = -8,   /* not found */
    SB_ERANGE = -9,   /* number out of range */
};

#endif
