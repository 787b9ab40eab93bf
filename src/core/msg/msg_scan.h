/* SPDX-License-Identifier: BSD-2-Clause */
/* Byte-run scanners shared by the value parsers: eight bytes per step where the run is long
 * enough, with the per-byte loop as the tail and as the fallback on big-endian machines. */
#ifndef SB_MSG_SCAN_H
#define SB_MSG_SCAN_H

#include "sb/base.h"

#define SB__ONES UINT64_C(0x0101010101010101)
#define SB__HIGH (SB__ONES * 0x80)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SB__SWAR 1
#else
#define SB__SWAR 0
#endif

/* High bit of each byte of <v> that is an ASCII letter or digit; *digits gets the digits alone.
 * The high bits are cleared before the range sums so that no byte carries into the next; bytes
 * of 0x80 and above are then masked out, being neither. */
static inline uint64_t sb__alnum_mask(uint64_t v, uint64_t *digits)
{
    uint64_t x = v & ~SB__HIGH;
    uint64_t dig = (x + SB__ONES * (0x80 - '0')) & ~(x + SB__ONES * (0x7f - '9'));
    uint64_t w = x | SB__ONES * 0x20;
    uint64_t let = (w + SB__ONES * (0x80 - 'a')) & ~(w + SB__ONES * (0x7f - 'z'));
    dig &= SB__HIGH & ~v;
    let &= SB__HIGH & ~v;
    *digits = dig;
    return dig | let;
}

/* End of the run of ASCII letters and digits from p[i] (before n); ORs SB_CC_ALPHA and/or
 * SB_CC_DIGIT into *seen for what the run held. */
static inline size_t sb__alnum_run(const char *p, size_t i, size_t n, unsigned *seen)
{
#if SB__SWAR
    while (n - i >= 8) {
        uint64_t v, dig;
        memcpy(&v, p + i, 8);
        uint64_t an = sb__alnum_mask(v, &dig);
        uint64_t stop = ~an & SB__HIGH;
        if (stop) {
            /* the bits under the first stop byte's high bit: the bytes before it */
            uint64_t below = (stop & (0 - stop)) - 1;
            an &= below;
            dig &= below;
            *seen |= (an != dig ? SB_CC_ALPHA : 0u) | (dig ? SB_CC_DIGIT : 0u);
            return i + (size_t)(__builtin_ctzll(stop) >> 3);
        }
        *seen |= (an != dig ? SB_CC_ALPHA : 0u) | (dig ? SB_CC_DIGIT : 0u);
        i += 8;
    }
#endif
    while (i < n) {
        unsigned k = sb_ctype[(unsigned char)p[i]] & (SB_CC_ALPHA | SB_CC_DIGIT);
        if (!k)
            break;
        *seen |= k;
        i++;
    }
    return i;
}

#endif
