/* SPDX-License-Identifier: BSD-2-Clause */
/* Byte-run scanners shared by the value parsers: eight bytes per step where the run is long
 * enough, with the per-byte loop as the tail and as the fallback on big-endian machines; the
 * header-name lookup and the header-parameter iterator, inline for the per-message paths. */
#ifndef SB_MSG_SCAN_H
#define SB_MSG_SCAN_H

#include "sb/base.h"
#include "sb/hdr-t.h"
#include "sb/uri-t.h"

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

/* RFC3261-25.1: IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each part at most
 * 255, at p[i] and followed by no byte that a hostname may hold (letter, digit, '.', '-'): the end
 * of the address, or 0 when p[i] starts none. A shortcut for the host parsers, whose general
 * label-by-label path gives the same answer for such a host; everything else (names, a fourth
 * digit, "1.2.3.4.5", "1.2.3.4-x") is left to that path. */
static inline size_t sb__ipv4_quick(const char *p, size_t i, size_t n)
{
    for (int part = 0;; part++) {
        unsigned d, v;
        if (i >= n || (v = (unsigned)(unsigned char)p[i] - '0') > 9)
            return 0;
        i++;
        if (i < n && (d = (unsigned)(unsigned char)p[i] - '0') <= 9) {
            v = v * 10 + d;
            i++;
            if (i < n && (d = (unsigned)(unsigned char)p[i] - '0') <= 9) {
                v = v * 10 + d;
                i++;
            }
        }
        if (v > 255)
            return 0;
        if (part == 3) {
            if (i == n)
                return i;
            unsigned char c = (unsigned char)p[i];
            return sb_is_alpha(c) || sb_is_digit(c) || c == '.' || c == '-' ? 0 : i;
        }
        if (i == n || p[i] != '.')
            return 0;
        i++;
    }
}

/* High bit of each byte of <v> that is an ASCII letter or digit (sb__alnum_mask without the
 * digits apart). */
static inline uint64_t sb__alnum_hi(uint64_t v)
{
    uint64_t x = v & ~SB__HIGH;
    uint64_t dig = (x + SB__ONES * (0x80 - '0')) & ~(x + SB__ONES * (0x7f - '9'));
    uint64_t w = x | SB__ONES * 0x20;
    uint64_t let = (w + SB__ONES * (0x80 - 'a')) & ~(w + SB__ONES * (0x7f - 'z'));
    return (dig | let) & SB__HIGH & ~v;
}

/* End of the run from p[i] (before n) of bytes in the sb_ctype class <cls>, or equal to <extra>
 * (-1 for none). Runs in header values are short (labels, tokens of a few bytes), where table
 * reads cost less than word-at-a-time masks. */
static inline size_t sb__class_run(const char *p, size_t i, size_t n, uint8_t cls, int extra)
{
    /* four table reads per step, one test: Call-IDs and branches run to 20-40 bytes */
    while (n - i >= 4 &&
           (sb_ctype[(unsigned char)p[i]] & sb_ctype[(unsigned char)p[i + 1]] &
            sb_ctype[(unsigned char)p[i + 2]] & sb_ctype[(unsigned char)p[i + 3]] & cls))
        i += 4;
    while (i < n && ((sb_ctype[(unsigned char)p[i]] & cls) || (int)(unsigned char)p[i] == extra))
        i++;
    return i;
}

static inline size_t sb__skip_lws(const char *p, size_t i, size_t n)
{
    if (i < n && (unsigned char)p[i] > ' ')
        return i; /* the usual case: no white space at all */
    while (i < n && (sb_is_ws((unsigned char)p[i]) || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/* Header values only: characters of an IPv6 reference between its brackets. */
static inline bool sb__is_ipv6_char(unsigned char c)
{
    return sb_is_hex(c) || c == ':' || c == '.';
}

/* sb_param_next(..., lws = true) on p[*pos, n), by index: 1 with *out set and *pos at the next
 * ';' or n, 0 at the end (*pos = n), or SB_EPARSE. Inline, for the Via and name-addr parsers,
 * which read the parameters of nearly every message. *token (when not NULL) tells whether the
 * value is a non-empty token, which the value scan finds out anyway (branch and tag must be). */
static inline int sb__hparam_next(const char *p, size_t *pos, size_t n, struct sb_param *out,
                                  bool *token)
{
    size_t i = sb__skip_lws(p, *pos, n);
    bool semi = false;
    if (i < n && p[i] == ';') {
        semi = true;
        i = sb__skip_lws(p, i + 1, n);
    }
    if (i == n) {
        if (semi)
            return SB_EPARSE; /* a trailing ';' (LWS after it or not) with no parameter */
        *pos = n;
        return 0;
    }
    if (token)
        *token = false;
    size_t name0 = i;
    i = sb__class_run(p, i, n, SB_CC_TOKEN, -1);
    if (i == name0)
        return SB_EPARSE;
    out->name = (sb_str){p + name0, i - name0};
    out->value = SB_STR_NULL;
    out->has_value = false;

    size_t after = sb__skip_lws(p, i, n);
    if (after < n && p[after] == '=') {
        i = sb__skip_lws(p, after + 1, n);
        size_t v0 = i;
        if (i < n && p[i] == '"') {
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\' && i + 1 < n)
                    i++;
            if (i == n)
                return SB_EPARSE; /* unterminated quoted string */
            i++;
        } else if (i < n && p[i] == '[') {
            /* URI paramchars include the brackets; header values need the reference whole */
            for (i++; i < n && sb__is_ipv6_char((unsigned char)p[i]); i++)
                ;
            if (i == n || p[i] != ']')
                return SB_EPARSE;
            i++;
        } else {
            /* gen-value = token / host / quoted-string: a host adds ':' to the token characters,
             * which the fast run leaves to the slower one */
            i = sb__class_run(p, i, n, SB_CC_TOKEN, -1);
            if (SB_UNLIKELY(i < n && p[i] == ':'))
                i = sb__class_run(p, i, n, SB_CC_TOKEN, ':');
            else if (token && i > v0)
                *token = true;
        }
        if (i == v0)
            return SB_EPARSE; /* "name=" with no value */
        out->value = (sb_str){p + v0, i - v0};
        out->has_value = true;
    }
    i = sb__skip_lws(p, i, n);
    if (i < n && p[i] != ';')
        return SB_EPARSE;
    *pos = i;
    return 1;
}

/* Header-name lookup tables, built by hdr_table.c at start-up: a perfect hash of the length and
 * three case-folded characters, each known name in lower case beside a mask that has 0x20 under
 * its letters and 0 under its '-', so that (input | mask) == name is a case-insensitive compare. */
#define SB__HDR_HT_BITS  10
#define SB__HDR_HT_SIZE  (1u << SB__HDR_HT_BITS)
#define SB__HDR_NAME_MAX 24
extern uint8_t sb__hdr_ht[SB__HDR_HT_SIZE]; /* header type, 0 = empty slot */
extern uint32_t sb__hdr_ht_seed;
extern uint8_t sb__hdr_compact[128];
extern uint8_t sb__hdr_name_len[SB_HDR__COUNT];
extern char sb__hdr_name_lc[SB_HDR__COUNT][SB__HDR_NAME_MAX];
extern char sb__hdr_name_mask[SB_HDR__COUNT][SB__HDR_NAME_MAX];

static inline uint32_t sb__hdr_key(const char *p, size_t len)
{
    /* | 0x20 folds letters; other bytes fold consistently, which is all a hash needs. The middle
     * character tells apart the names that share length, first and last (Refer-To, Reply-To). */
    return ((uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[len - 1] << 8 |
            (uint32_t)(unsigned char)p[len / 2] << 16 | 0x00202020u) ^
           (uint32_t)len << 24;
}

static inline uint32_t sb__hdr_slot(uint32_t key, uint32_t seed)
{
    return (key * seed) >> (32 - SB__HDR_HT_BITS);
}

static inline uint64_t sb__load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t sb__load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Is <p> (<len> bytes, 2 <= len < SB__HDR_NAME_MAX) the known name <t>, in any case? Whole words,
 * overlapping at the tail, never outside either string. */
static inline bool sb__hdr_name_eq(const char *p, unsigned t, size_t len)
{
    const char *lc = sb__hdr_name_lc[t], *mk = sb__hdr_name_mask[t];
    uint64_t d;
    if (len >= 8) {
        size_t e = len - 8;
        d = (sb__load8(p + e) | sb__load8(mk + e)) ^ sb__load8(lc + e);
        for (size_t k = 0; k < e; k += 8)
            d |= (sb__load8(p + k) | sb__load8(mk + k)) ^ sb__load8(lc + k);
    } else if (len >= 4) {
        size_t e = len - 4;
        d = ((sb__load4(p) | sb__load4(mk)) ^ sb__load4(lc)) |
            ((sb__load4(p + e) | sb__load4(mk + e)) ^ sb__load4(lc + e));
    } else {
        d = (((unsigned char)p[0] | (unsigned char)mk[0]) ^ (unsigned char)lc[0]) |
            (((unsigned char)p[1] | (unsigned char)mk[1]) ^ (unsigned char)lc[1]) |
            (((unsigned char)p[len - 1] | (unsigned char)mk[len - 1]) ^ (unsigned char)lc[len - 1]);
    }
    return d == 0;
}

/* sb_hdr_lookup() of the <len> bytes at <p>. */
static inline enum sb_hdr_type sb__hdr_lookup(const char *p, size_t len)
{
    if (len == 1)
        return (unsigned char)p[0] < 128 ? sb__hdr_compact[(unsigned char)p[0]] : SB_HDR_OTHER;
    if (len == 0 || len >= SB__HDR_NAME_MAX)
        return SB_HDR_OTHER;
    unsigned t = sb__hdr_ht[sb__hdr_slot(sb__hdr_key(p, len), sb__hdr_ht_seed)];
    if (t && sb__hdr_name_len[t] == len && sb__hdr_name_eq(p, t, len))
        return (enum sb_hdr_type)t;
    return SB_HDR_OTHER;
}

/* sb_nameaddr_parse(), where a URI written exactly as <same>'s text (a URI parsed successfully, or
 * NULL) takes that parse instead of a new one: a request's To is mostly its Request-URI. */
int sb__nameaddr_parse_same(sb_str in, struct sb_nameaddr *out, const struct sb_uri *same);

/* sb_str_trim() with the usual case inline: values from the index arrive trimmed already. */
static inline sb_str sb__trim(sb_str s)
{
    if (s.len && (unsigned char)s.p[0] > ' ' && (unsigned char)s.p[s.len - 1] > ' ')
        return s;
    return sb_str_trim(s);
}

#endif
