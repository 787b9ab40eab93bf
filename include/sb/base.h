/* SPDX-License-Identifier: BSD-2-Clause */
/* String views, character classes and small helpers used everywhere. */
#ifndef SB_BASE_H
#define SB_BASE_H

#include <string.h>

#include "sb/base-t.h"

#if defined(__GNUC__)
#define SB_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SB_LIKELY(x)   (x)
#define SB_UNLIKELY(x) (x)
#endif

/* Stays on in release builds: a broken invariant aborts with a message rather than corrupting. */
void sb__bug(const char *file, int line, const char *cond);
#define SB_BUG_ON(c)                                                                               \
    do {                                                                                           \
        if (SB_UNLIKELY(c))                                                                        \
            sb__bug(__FILE__, __LINE__, #c);                                                       \
    } while (0)

/* Character classes of RFC 3261 §25.1, table driven. */
enum {
    SB_CC_ALPHA = 1 << 0,
    SB_CC_DIGIT = 1 << 1,
    SB_CC_TOKEN = 1 << 2, /* token chars: alphanum / "-.!%*_+`'~" */
    SB_CC_WS = 1 << 3,    /* SP / HTAB */
    SB_CC_HEX = 1 << 4,
    SB_CC_UNRESERVED = 1 << 5, /* alphanum / mark */
    SB_CC_WORD = 1 << 6,       /* word chars (Call-ID): token + "()<>:\\\"/[]?{}" */
};
extern const uint8_t sb_ctype[256];

static inline bool sb_is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}
static inline bool sb_is_alpha(unsigned char c)
{
    return sb_ctype[c] & SB_CC_ALPHA;
}
static inline bool sb_is_token(unsigned char c)
{
    return sb_ctype[c] & SB_CC_TOKEN;
}
static inline bool sb_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}
static inline bool sb_is_hex(unsigned char c)
{
    return sb_ctype[c] & SB_CC_HEX;
}
static inline bool sb_is_word(unsigned char c)
{
    return sb_ctype[c] & SB_CC_WORD;
}
static inline unsigned char sb_lower(unsigned char c)
{
    return (unsigned char)((unsigned)(c - 'A') < 26u ? c | 0x20 : c);
}
/* Value of a hex digit, or -1. */
int sb_hex_val(unsigned char c);

static inline sb_str sb_str_make(const char *p, size_t len)
{
    return (sb_str){p, len};
}
static inline sb_str sb_str_cstr(const char *s)
{
    return (sb_str){s, s ? strlen(s) : 0};
}
static inline bool sb_str_eq(sb_str a, sb_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
bool sb_str_caseeq(sb_str a, sb_str b);
/* Case-insensitive compare of <a> with the NUL-terminated lower-case literal <lc>. */
bool sb_str_caseeq_lit(sb_str a, const char *lc);
/* memcasecmp-style: returns <0, 0, >0. */
int sb_str_casecmp(sb_str a, sb_str b);
/* Strip leading and trailing SP, HTAB, CR and LF. */
sb_str sb_str_trim(sb_str s);
/* Find byte <c> in <s>; returns the offset or -1. */
long sb_str_chr(sb_str s, char c);

/* Parse an unsigned decimal number occupying all of <s> (no sign, no spaces). Leading zeros are
 * allowed. Fails with SB_EPARSE on a non-digit or an empty string, SB_ERANGE above <max>. */
int sb_str_to_u64(sb_str s, uint64_t max, uint64_t *out);
int sb_str_to_u32(sb_str s, uint32_t *out);

/* Length of a decimal rendering of <v> written to <out> (needs 20 bytes). */
size_t sb_u64_to_dec(uint64_t v, char *out);

/* A 64-bit hash of <len> bytes, eight at a time (multiply and xor-shift): for keys compared in
 * full on a match, such as SQL texts. Not for hostile input where collisions cost. */
uint64_t sb_hash_bytes(const void *p, size_t len);

#endif
