/* SPDX-License-Identifier: BSD-2-Clause */
/* Regular expressions (PCRE2) for =~, !~ and regex arguments, with a small per-thread cache for
 * patterns known only at run time; IPv4/IPv6 networks for CIDR comparisons. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "sb/base.h"
#include "sb/log.h"

void *sb__re_compile(sb_str pat, unsigned flags, char *err, size_t errlen, size_t *erroff)
{
    int code;
    PCRE2_SIZE off = 0;
    uint32_t opts = (flags & SB__RE_CASELESS) ? PCRE2_CASELESS : 0;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)(pat.p ? pat.p : ""), pat.len, opts, &code, &off, NULL);
    if (!re) {
        if (err && errlen) {
            if (pcre2_get_error_message(code, (PCRE2_UCHAR *)err, errlen) < 0)
                snprintf(err, errlen, "error %d", code);
        }
        if (erroff)
            *erroff = off;
        return NULL;
    }
    /* JIT is an optimisation only: a pattern the JIT refuses still matches through the
     * interpreter */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

void sb__re_free(void *code)
{
    pcre2_code_free(code);
}

/* Per-thread: match data (the code is shared read-only between threads, match data is not) and
 * a round-robin cache of run-time patterns, so a pattern that keeps coming back compiles once. */
#define RE_CACHE_SLOTS 16

struct re_slot {
    char *pat;
    size_t len;
    unsigned flags;
    pcre2_code *code; /* NULL: the pattern does not compile (remembered, not retried) */
};

static _Thread_local pcre2_match_data *re_md;
static _Thread_local struct re_slot re_cache[RE_CACHE_SLOTS];
static _Thread_local unsigned re_next;

int sb__re_match(const void *code, sb_str subject)
{
    if (!re_md && !(re_md = pcre2_match_data_create(1, NULL)))
        return SB_ENOMEM;
    int rc =
        pcre2_match(code, (PCRE2_SPTR)(subject.p ? subject.p : ""), subject.len, 0, 0, re_md, NULL);
    if (rc >= 0) /* 0: matched, with more groups than the match data has room for */
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return SB_EINVAL;
}

static void slot_clear(struct re_slot *s)
{
    free(s->pat);
    pcre2_code_free(s->code);
    memset(s, 0, sizeof(*s));
}

const void *sb__re_cached(sb_str pat, unsigned flags)
{
    for (unsigned i = 0; i < RE_CACHE_SLOTS; i++) {
        struct re_slot *s = &re_cache[i];
        if (s->pat && s->flags == flags && s->len == pat.len &&
            (pat.len == 0 || memcmp(s->pat, pat.p, pat.len) == 0))
            return s->code;
    }
    struct re_slot *s = &re_cache[re_next++ % RE_CACHE_SLOTS];
    slot_clear(s);
    s->pat = malloc(pat.len + 1);
    if (!s->pat)
        return NULL;
    if (pat.len)
        memcpy(s->pat, pat.p, pat.len);
    s->pat[pat.len] = '\0';
    s->len = pat.len;
    s->flags = flags;
    char err[128];
    size_t off = 0;
    s->code = sb__re_compile(pat, flags, err, sizeof(err), &off);
    if (!s->code)
        SB_ERR("script: bad regular expression '%.*s': %s at offset %zu", (int)pat.len,
               pat.p ? pat.p : "", err, off);
    return s->code;
}

void sb__re_thread_exit(void)
{
    for (unsigned i = 0; i < RE_CACHE_SLOTS; i++)
        slot_clear(&re_cache[i]);
    pcre2_match_data_free(re_md);
    re_md = NULL;
    re_next = 0;
}

/* ---- networks ------------------------------------------------------------------------------ */

static int addr_parse(sb_str text, uint8_t *af, uint8_t addr[16])
{
    char buf[64];
    if (text.len >= 2 && text.p[0] == '[' && text.p[text.len - 1] == ']') {
        text.p++;
        text.len -= 2;
    }
    if (text.len == 0 || text.len >= sizeof(buf))
        return SB_EPARSE;
    memcpy(buf, text.p, text.len);
    buf[text.len] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *af = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *af = 6;
        return 0;
    }
    return SB_EPARSE;
}

int sb__ipnet_parse(sb_str text, struct sb__ipnet *out)
{
    long slash = sb_str_chr(text, '/');
    sb_str a = slash < 0 ? text : (sb_str){text.p, (size_t)slash};
    if (addr_parse(a, &out->af, out->addr) != 0)
        return SB_EPARSE;
    unsigned max = out->af == 4 ? 32 : 128;
    out->bits = (uint8_t)max;
    if (slash >= 0) {
        uint32_t bits;
        if (sb_str_to_u32((sb_str){text.p + slash + 1, text.len - (size_t)slash - 1}, &bits) != 0 ||
            bits > max)
            return SB_EPARSE;
        out->bits = (uint8_t)bits;
    }
    return 0;
}

bool sb__ipnet_match(const struct sb__ipnet *net, sb_str ip)
{
    uint8_t af, addr[16];
    if (addr_parse(ip, &af, addr) != 0 || af != net->af)
        return false;
    unsigned full = net->bits / 8, rest = net->bits % 8;
    if (full && memcmp(addr, net->addr, full) != 0)
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xffu << (8 - rest));
        if ((addr[full] & mask) != (net->addr[full] & mask))
            return false;
    }
    return true;
}
