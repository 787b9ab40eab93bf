/* SPDX-License-Identifier: BSD-2-Clause */
/* String views, character classes and decimal conversion. */
#include <stdio.h>
#include <stdlib.h>

#include "sb/base.h"

#define A  (SB_CC_ALPHA | SB_CC_TOKEN | SB_CC_UNRESERVED | SB_CC_WORD)
#define AH (A | SB_CC_HEX)
#define D  (SB_CC_DIGIT | SB_CC_TOKEN | SB_CC_UNRESERVED | SB_CC_WORD | SB_CC_HEX)
#define T  (SB_CC_TOKEN | SB_CC_WORD)                    /* token mark, also word */
#define TM (SB_CC_TOKEN | SB_CC_WORD | SB_CC_UNRESERVED) /* token and unreserved mark */
#define M  (SB_CC_UNRESERVED | SB_CC_WORD)               /* unreserved mark only: ( ) */
#define W  SB_CC_WORD                                    /* word only */
#define S  SB_CC_WS

/* RFC3261-25.1: token = alphanum / "-" "." "!" "%" "*" "_" "+" "`" "'" "~";
 * mark = "-" "_" "." "!" "~" "*" "'" "(" ")"; word adds "(" ")" "<" ">" ":" "\" DQUOTE "/" "["
 * "]" "?" "{" "}". */
const uint8_t sb_ctype[256] = {
    ['\t'] = S, [' '] = S,  ['!'] = TM, ['"'] = W,  ['%'] = T,  ['\''] = TM, ['('] = M,  [')'] = M,
    ['*'] = TM, ['+'] = T,  ['-'] = TM, ['.'] = TM, ['/'] = W,  [':'] = W,   ['<'] = W,  ['>'] = W,
    ['?'] = W,  ['['] = W,  ['\\'] = W, [']'] = W,  ['_'] = TM, ['`'] = T,   ['{'] = W,  ['}'] = W,
    ['~'] = TM, ['0'] = D,  ['1'] = D,  ['2'] = D,  ['3'] = D,  ['4'] = D,   ['5'] = D,  ['6'] = D,
    ['7'] = D,  ['8'] = D,  ['9'] = D,  ['A'] = AH, ['B'] = AH, ['C'] = AH,  ['D'] = AH, ['E'] = AH,
    ['F'] = AH, ['G'] = A,  ['H'] = A,  ['I'] = A,  ['J'] = A,  ['K'] = A,   ['L'] = A,  ['M'] = A,
    ['N'] = A,  ['O'] = A,  ['P'] = A,  ['Q'] = A,  ['R'] = A,  ['S'] = A,   ['T'] = A,  ['U'] = A,
    ['V'] = A,  ['W'] = A,  ['X'] = A,  ['Y'] = A,  ['Z'] = A,  ['a'] = AH,  ['b'] = AH, ['c'] = AH,
    ['d'] = AH, ['e'] = AH, ['f'] = AH, ['g'] = A,  ['h'] = A,  ['i'] = A,   ['j'] = A,  ['k'] = A,
    ['l'] = A,  ['m'] = A,  ['n'] = A,  ['o'] = A,  ['p'] = A,  ['q'] = A,   ['r'] = A,  ['s'] = A,
    ['t'] = A,  ['u'] = A,  ['v'] = A,  ['w'] = A,  ['x'] = A,  ['y'] = A,   ['z'] = A,
};

int sb_hex_val(unsigned char c)
{
    if ((unsigned)(c - '0') < 10u)
        return c - '0';
    c = sb_lower(c);
    if ((unsigned)(c - 'a') < 6u)
        return c - 'a' + 10;
    return -1;
}

/* Eight bytes with 'A'-'Z' lowered, as sb_lower does each: a byte below 0x80 whose low seven bits
 * lie in 'A'..'Z' gets 0x20 added (no carry crosses a byte: each sum stays below 0x100). */
static inline uint64_t lower8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
    uint64_t h = w & ~high;
    uint64_t upper = (h + ones * (0x80 - 'A')) & ~(h + ones * (0x80 - 'Z' - 1)) & ~w & high;
    return w | (upper >> 2);
}

/* Branches, tags and Call-IDs compared on every message are mostly equal byte for byte: a word at
 * a time, lowered only where the words differ. */
bool sb_str_caseeq(sb_str a, sb_str b)
{
    if (a.len != b.len)
        return false;
    size_t i = 0, n = a.len;
    for (; n - i >= 8; i += 8) {
        uint64_t x, y;
        memcpy(&x, a.p + i, 8);
        memcpy(&y, b.p + i, 8);
        if (x != y && lower8(x) != lower8(y))
            return false;
    }
    if (i < n) {
        uint64_t x = 0, y = 0;
        memcpy(&x, a.p + i, n - i);
        memcpy(&y, b.p + i, n - i);
        if (x != y && lower8(x) != lower8(y))
            return false;
    }
    return true;
}

bool sb_str_caseeq_lit(sb_str a, const char *lc)
{
    size_t i = 0;
    for (; i < a.len; i++)
        if (lc[i] == '\0' || sb_lower((unsigned char)a.p[i]) != (unsigned char)lc[i])
            return false;
    return lc[i] == '\0';
}

int sb_str_casecmp(sb_str a, sb_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        int d = sb_lower((unsigned char)a.p[i]) - sb_lower((unsigned char)b.p[i]);
        if (d)
            return d;
    }
    return a.len < b.len ? -1 : a.len > b.len;
}

sb_str sb_str_trim(sb_str s)
{
    while (s.len && (sb_is_ws((unsigned char)s.p[0]) || s.p[0] == '\r' || s.p[0] == '\n')) {
        s.p++;
        s.len--;
    }
    while (s.len && (sb_is_ws((unsigned char)s.p[s.len - 1]) || s.p[s.len - 1] == '\r' ||
                     s.p[s.len - 1] == '\n'))
        s.len--;
    return s;
}

long sb_str_chr(sb_str s, char c)
{
    const char *q = s.len ? memchr(s.p, c, s.len) : NULL;
    return q ? q - s.p : -1;
}

int sb_str_to_u64(sb_str s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s.len == 0)
        return SB_EPARSE;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d = (unsigned char)s.p[i] - '0';
        if (d > 9)
            return SB_EPARSE;
        if (v > (max - d) / 10) {
            /* keep scanning so that "99999x" is a parse error, not a range error */
            for (size_t j = i + 1; j < s.len; j++)
                if (!sb_is_digit((unsigned char)s.p[j]))
                    return SB_EPARSE;
            return SB_ERANGE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int sb_str_to_u32(sb_str s, uint32_t *out)
{
    uint64_t v;
    int rc = sb_str_to_u64(s, UINT32_MAX, &v);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

uint64_t sb_hash_bytes(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    if (len > i)
        memcpy(&w, b + i, len - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

size_t sb_u64_to_dec(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}
