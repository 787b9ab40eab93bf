/* SPDX-License-Identifier: BSD-2-Clause */
/* DNS answers into record sets (A, AAAA, SRV, NAPTR through c-ares' parsers; TTLs read from the
 * raw answer) and the RFC 2782 ordering of SRV records. */
#include <ares.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "sb/base.h"
#include "sb/hdr-t.h"
#include "sb/loop.h"
#include "net/dns_int.h"

/* Offset after the (possibly compressed) name at <off>, or -1. */
static int skip_name(const unsigned char *buf, int len, int off)
{
    while (off < len) {
        unsigned c = buf[off];
        if (c == 0)
            return off + 1;
        if ((c & 0xc0) == 0xc0)
            return off + 2 <= len ? off + 2 : -1;
        if (c & 0xc0)
            return -1;
        off += 1 + (int)c;
    }
    return -1;
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

uint32_t sb__dns_min_ttl(const unsigned char *buf, int len)
{
    if (!buf || len < 12)
        return 0;
    unsigned qd = get16(buf + 4), an = get16(buf + 6);
    int off = 12;
    for (unsigned i = 0; i < qd; i++) {
        off = skip_name(buf, len, off);
        if (off < 0 || off + 4 > len)
            return 0;
        off += 4;
    }
    uint32_t min = UINT32_MAX;
    for (unsigned i = 0; i < an; i++) {
        off = skip_name(buf, len, off);
        if (off < 0 || off + 10 > len)
            break;
        uint32_t ttl = (uint32_t)buf[off + 4] << 24 | (uint32_t)buf[off + 5] << 16 |
                       (uint32_t)buf[off + 6] << 8 | buf[off + 7];
        /* RFC 2181 §8: a TTL with the top bit set is read as zero */
        if (ttl & 0x80000000u)
            ttl = 0;
        if (ttl < min)
            min = ttl;
        off += 10 + (int)get16(buf + off + 8);
    }
    return min == UINT32_MAX ? 0 : min;
}

/* ---- answers -------------------------------------------------------------------------------- */

#define MAX_ADDRS 32

static struct sb__dns_rrset *addr_set(uint16_t qtype, const char *name, const unsigned char *abuf,
                                      int alen, int *status)
{
    struct ares_addrttl t4[MAX_ADDRS];
    struct ares_addr6ttl t6[MAX_ADDRS];
    int n = MAX_ADDRS;
    struct hostent *he = NULL;
    if (qtype == SB__DNS_A)
        *status = ares_parse_a_reply(abuf, alen, &he, t4, &n);
    else
        *status = ares_parse_aaaa_reply(abuf, alen, &he, t6, &n);
    if (he)
        ares_free_hostent(he);
    if (*status != ARES_SUCCESS)
        return NULL;
    if (n <= 0) {
        *status = ARES_ENODATA;
        return NULL;
    }
    struct sb__dns_rrset *s = sb__dns_rrset_new(qtype, name, (unsigned)n, 0);
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++) {
        struct sb_addr *a = &s->rr[i].addr;
        if (qtype == SB__DNS_A) {
            a->u.sin.sin_family = AF_INET;
            a->u.sin.sin_addr = t4[i].ipaddr;
            a->len = sizeof(a->u.sin);
        } else {
            a->u.sin6.sin6_family = AF_INET6;
            memcpy(&a->u.sin6.sin6_addr, &t6[i].ip6addr, sizeof(a->u.sin6.sin6_addr));
            a->len = sizeof(a->u.sin6);
        }
    }
    return s;
}

static struct sb__dns_rrset *srv_set(const char *name, const unsigned char *abuf, int alen,
                                     int *status)
{
    struct ares_srv_reply *list = NULL;
    *status = ares_parse_srv_reply(abuf, alen, &list);
    if (*status != ARES_SUCCESS)
        return NULL;
    unsigned n = 0;
    size_t bytes = 0;
    for (struct ares_srv_reply *r = list; r; r = r->next, n++)
        bytes += strlen(r->host) + 1;
    struct sb__dns_rrset *s = NULL;
    if (n == 0)
        *status = ARES_ENODATA;
    else if ((s = sb__dns_rrset_new(SB__DNS_SRV, name, n, bytes)) != NULL) {
        unsigned i = 0;
        for (struct ares_srv_reply *r = list; r; r = r->next, i++) {
            s->rr[i].prio = r->priority;
            s->rr[i].weight = r->weight;
            s->rr[i].port = r->port;
            s->rr[i].target = sb__dns_rrset_name(s, r->host);
        }
    }
    ares_free_data(list);
    return s;
}

static bool ieq(const unsigned char *a, const char *lc)
{
    return a && sb_str_caseeq_lit(sb_str_cstr((const char *)a), lc);
}

/* RFC 3263 §4.1: terminal "s" records naming a SIP transport; the others are of no use here. */
static uint8_t naptr_proto(const struct ares_naptr_reply *r)
{
    if (!ieq(r->flags, "s") || (r->regexp && r->regexp[0]) || !r->replacement || !r->replacement[0])
        return 0;
    if (ieq(r->service, "sip+d2u"))
        return SB_PROTO_UDP;
    if (ieq(r->service, "sip+d2t"))
        return SB_PROTO_TCP;
    if (ieq(r->service, "sips+d2t"))
        return SB_PROTO_TLS;
    if (ieq(r->service, "sip+d2s"))
        return SB_PROTO_SCTP;
    return 0;
}

static struct sb__dns_rrset *naptr_set(const char *name, const unsigned char *abuf, int alen,
                                       int *status)
{
    struct ares_naptr_reply *list = NULL;
    *status = ares_parse_naptr_reply(abuf, alen, &list);
    if (*status != ARES_SUCCESS)
        return NULL;
    unsigned n = 0;
    size_t bytes = 0;
    for (struct ares_naptr_reply *r = list; r; r = r->next, n++)
        bytes += strlen(r->replacement ? r->replacement : "") + 1;
    struct sb__dns_rrset *s = NULL;
    if (n == 0)
        *status = ARES_ENODATA;
    else if ((s = sb__dns_rrset_new(SB__DNS_NAPTR, name, n, bytes)) != NULL) {
        unsigned i = 0;
        for (struct ares_naptr_reply *r = list; r; r = r->next, i++) {
            s->rr[i].prio = r->order;
            s->rr[i].weight = r->preference;
            s->rr[i].proto = naptr_proto(r);
            s->rr[i].target = sb__dns_rrset_name(s, r->replacement);
        }
    }
    ares_free_data(list);
    return s;
}

/* ---- glue ----------------------------------------------------------------------------------- */

#define MAX_GLUE 32

struct glue {
    uint16_t type;
    uint32_t ttl;
    const char *name; /* an SRV target, inside the SRV set */
    struct sb_addr addr;
};

/* The SRV target an additional-section record is about, or NULL: glue for other names is not
 * ours to believe. */
static const char *glue_target(const struct sb__dns_rrset *srv, const unsigned char *buf, int len,
                               int off)
{
    char *name = NULL;
    long enclen;
    if (ares_expand_name(buf + off, buf, len, &name, &enclen) != ARES_SUCCESS)
        return NULL;
    const char *hit = NULL;
    for (unsigned i = 0; i < srv->n && !hit; i++)
        if (strcasecmp(srv->rr[i].target, name) == 0)
            hit = srv->rr[i].target;
    ares_free_string(name);
    return hit;
}

static void glue_put(const struct glue *g, unsigned n, unsigned first)
{
    struct sb__dns_rrset *have = sb__dns_cache_get(g[first].type, g[first].name);
    if (have) {
        /* a full answer beats glue, which a server may have cut short */
        sb__dns_rrset_unref(have);
        return;
    }
    unsigned cnt = 0;
    uint32_t ttl = UINT32_MAX;
    for (unsigned i = first; i < n; i++) {
        if (g[i].type == g[first].type && g[i].name == g[first].name) {
            cnt++;
            ttl = g[i].ttl < ttl ? g[i].ttl : ttl;
        }
    }
    if (ttl == 0)
        return;
    struct sb__dns_rrset *s = sb__dns_rrset_new(g[first].type, g[first].name, cnt, 0);
    if (!s)
        return;
    unsigned k = 0;
    for (unsigned i = first; i < n; i++)
        if (g[i].type == g[first].type && g[i].name == g[first].name)
            s->rr[k++].addr = g[i].addr;
    s->expires = sb_now_ms() + (uint64_t)(ttl < SB__DNS_TTL_MAX ? ttl : SB__DNS_TTL_MAX) * 1000;
    sb__dns_cache_put(s);
    sb__dns_rrset_unref(s);
}

/* Servers usually send the addresses of SRV targets along in the additional section: caching them
 * saves the round of A/AAAA queries that would follow. */
static void prime_glue(const struct sb__dns_rrset *srv, const unsigned char *buf, int len)
{
    if (len < 12)
        return;
    unsigned qd = get16(buf + 4), skip = get16(buf + 6) + get16(buf + 8), ar = get16(buf + 10);
    int off = 12;
    for (unsigned i = 0; i < qd && off >= 0; i++) {
        off = skip_name(buf, len, off);
        off = off < 0 || off + 4 > len ? -1 : off + 4;
    }
    for (unsigned i = 0; i < skip && off >= 0; i++) {
        off = skip_name(buf, len, off);
        off = off < 0 || off + 10 > len ? -1 : off + 10 + (int)get16(buf + off + 8);
    }
    struct glue g[MAX_GLUE];
    unsigned n = 0;
    for (unsigned i = 0; i < ar && off >= 0 && off < len && n < MAX_GLUE; i++) {
        int name_off = off;
        off = skip_name(buf, len, off);
        if (off < 0 || off + 10 > len)
            break;
        unsigned type = get16(buf + off), cls = get16(buf + off + 2), rdlen = get16(buf + off + 8);
        uint32_t ttl = (uint32_t)buf[off + 4] << 24 | (uint32_t)buf[off + 5] << 16 |
                       (uint32_t)buf[off + 6] << 8 | buf[off + 7];
        const unsigned char *rd = buf + off + 10;
        off += 10 + (int)rdlen;
        if (off > len)
            break;
        if (cls != 1 || (ttl & 0x80000000u) || ttl == 0)
            continue;
        if (!(type == SB__DNS_A && rdlen == 4) && !(type == SB__DNS_AAAA && rdlen == 16))
            continue;
        const char *target = glue_target(srv, buf, len, name_off);
        if (!target)
            continue;
        struct glue *e = &g[n++];
        *e = (struct glue){.type = (uint16_t)type, .ttl = ttl, .name = target};
        if (type == SB__DNS_A) {
            e->addr.u.sin.sin_family = AF_INET;
            memcpy(&e->addr.u.sin.sin_addr, rd, 4);
            e->addr.len = sizeof(e->addr.u.sin);
        } else {
            e->addr.u.sin6.sin6_family = AF_INET6;
            memcpy(&e->addr.u.sin6.sin6_addr, rd, 16);
            e->addr.len = sizeof(e->addr.u.sin6);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        bool seen = false;
        for (unsigned j = 0; j < i && !seen; j++)
            seen = g[j].type == g[i].type && g[j].name == g[i].name;
        if (!seen)
            glue_put(g, n, i);
    }
}

struct sb__dns_rrset *sb__dns_answer(uint16_t qtype, const char *name, int status,
                                     const unsigned char *abuf, int alen)
{
    struct sb__dns_rrset *s = NULL;
    if (status == ARES_SUCCESS) {
        if (qtype == SB__DNS_A || qtype == SB__DNS_AAAA)
            s = addr_set(qtype, name, abuf, alen, &status);
        else if (qtype == SB__DNS_SRV)
            s = srv_set(name, abuf, alen, &status);
        else if (qtype == SB__DNS_NAPTR)
            s = naptr_set(name, abuf, alen, &status);
        else
            status = ARES_ENOTIMP;
        if (s) {
            uint32_t ttl = sb__dns_min_ttl(abuf, alen);
            if (ttl > SB__DNS_TTL_MAX)
                ttl = SB__DNS_TTL_MAX;
            s->expires = sb_now_ms() + (uint64_t)ttl * 1000;
            sb__dns_cache_put(s);
            if (qtype == SB__DNS_SRV)
                prime_glue(s, abuf, alen);
            return s;
        }
        if (status == ARES_SUCCESS)
            return &sb__dns_failed; /* no memory */
    }
    /* a name c-ares refuses to put in a query cannot exist either; nothing to cache about it */
    if (status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_EBADNAME) {
        s = sb__dns_rrset_new(qtype, name, 0, 0);
        if (!s)
            return &sb__dns_failed;
        s->status = SB_ENOENT;
        if (status != ARES_EBADNAME) {
            s->expires = sb_now_ms() + (uint64_t)SB__DNS_NEG_TTL * 1000;
            sb__dns_cache_put(s);
        }
        return s;
    }
    return &sb__dns_failed;
}

/* ---- SRV order ------------------------------------------------------------------------------ */

static uint32_t own_rand(void)
{
    static _Thread_local uint64_t x;
    if (x == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&x;
        x |= 1;
    }
    /* xorshift64*: plenty for spreading load, and it needs no lock */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static int by_prio(const void *a, const void *b)
{
    const struct sb__dns_rr *x = *(const struct sb__dns_rr *const *)a;
    const struct sb__dns_rr *y = *(const struct sb__dns_rr *const *)b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    /* RFC 2782: zero-weight records go first in the list the weighted pick runs over */
    return (x->weight != 0) - (y->weight != 0);
}

void sb__dns_srv_order(const struct sb__dns_rr **v, unsigned n, uint32_t (*rnd)(void))
{
    if (!rnd)
        rnd = own_rand;
    if (n > 1)
        qsort(v, n, sizeof(*v), by_prio);
    for (unsigned start = 0; start < n;) {
        unsigned end = start + 1;
        while (end < n && v[end]->prio == v[start]->prio)
            end++;
        /* RFC 2782: pick by a running sum of weights against a random number in [0, total], move
         * the pick to the front of what is left, repeat */
        for (unsigned i = start; i + 1 < end; i++) {
            uint32_t total = 0;
            for (unsigned j = i; j < end; j++)
                total += v[j]->weight;
            uint32_t r = total ? (uint32_t)(((uint64_t)rnd() * ((uint64_t)total + 1)) >> 32) : 0;
            uint32_t sum = 0;
            unsigned pick = i;
            for (unsigned j = i; j < end; j++) {
                sum += v[j]->weight;
                if (sum >= r) {
                    pick = j;
                    break;
                }
            }
            const struct sb__dns_rr *t = v[pick];
            memmove(&v[i + 1], &v[i], (pick - i) * sizeof(*v));
            v[i] = t;
        }
        start = end;
    }
}
