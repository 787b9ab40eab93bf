/* SPDX-License-Identifier: BSD-2-Clause */
/* Record sets and the resolver cache shared by all workers: one hash table under one mutex,
 * entries kept for their TTL. Lookups copy nothing: they hand out a reference to the set. */
#include <pthread.h>
#include <stdlib.h>

#include "sb/base.h"
#include "sb/loop.h"
#include "net/dns_int.h"

#define BUCKETS 1024 /* power of two */

struct sb__dns_rrset sb__dns_failed = {
    .is_static = true,
    .status = SB_EAGAIN,
    .name = "",
};

struct sb__dns_rrset *sb__dns_rrset_new(uint16_t qtype, const char *name, unsigned n,
                                        size_t strbytes)
{
    size_t nlen = strlen(name) + 1;
    size_t sz = sizeof(struct sb__dns_rrset) + n * sizeof(struct sb__dns_rr) + nlen + strbytes;
    struct sb__dns_rrset *s = calloc(1, sz);
    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    s->qtype = qtype;
    s->n = n;
    char *p = (char *)&s->rr[n];
    memcpy(p, name, nlen);
    s->name = p;
    s->sp = p + nlen;
    s->send = s->sp + strbytes;
    return s;
}

const char *sb__dns_rrset_name(struct sb__dns_rrset *s, const char *name)
{
    size_t len = name ? strlen(name) : 0;
    while (len > 0 && name[len - 1] == '.')
        len--;
    SB_BUG_ON(s->sp + len + 1 > s->send);
    char *out = s->sp;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)sb_lower((unsigned char)name[i]);
    out[len] = '\0';
    s->sp += len + 1;
    return out;
}

void sb__dns_rrset_ref(struct sb__dns_rrset *s)
{
    if (!s->is_static)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void sb__dns_rrset_unref(struct sb__dns_rrset *s)
{
    if (!s || s->is_static)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s);
}

/* ---- the cache ------------------------------------------------------------------------------ */

static struct {
    pthread_mutex_t mu;
    struct sb__dns_rrset *b[BUCKETS];
    unsigned n;
} C = {.mu = PTHREAD_MUTEX_INITIALIZER};

static unsigned key_hash(uint16_t qtype, const char *name)
{
    uint32_t h = 2166136261u ^ qtype;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h & (BUCKETS - 1);
}

/* Drop expired sets from one chain. Cache mutex held. */
static void purge_chain(struct sb__dns_rrset **pp, uint64_t now)
{
    while (*pp) {
        struct sb__dns_rrset *s = *pp;
        if (s->expires <= now) {
            *pp = s->next;
            C.n--;
            sb__dns_rrset_unref(s);
        } else {
            pp = &s->next;
        }
    }
}

struct sb__dns_rrset *sb__dns_cache_get(uint16_t qtype, const char *name)
{
    uint64_t now = sb_now_ms();
    struct sb__dns_rrset *found = NULL;
    pthread_mutex_lock(&C.mu);
    for (struct sb__dns_rrset **pp = &C.b[key_hash(qtype, name)]; *pp; pp = &(*pp)->next) {
        struct sb__dns_rrset *s = *pp;
        if (s->qtype != qtype || strcmp(s->name, name) != 0)
            continue;
        if (s->expires <= now) {
            *pp = s->next;
            C.n--;
            sb__dns_rrset_unref(s);
        } else {
            sb__dns_rrset_ref(s);
            found = s;
        }
        break;
    }
    pthread_mutex_unlock(&C.mu);
    return found;
}

void sb__dns_cache_put(struct sb__dns_rrset *s)
{
    uint64_t now = sb_now_ms();
    if (s->is_static || s->expires <= now)
        return;
    struct sb__dns_rrset **head = &C.b[key_hash(s->qtype, s->name)];
    pthread_mutex_lock(&C.mu);
    for (struct sb__dns_rrset **pp = head; *pp; pp = &(*pp)->next) {
        if ((*pp)->qtype == s->qtype && strcmp((*pp)->name, s->name) == 0) {
            struct sb__dns_rrset *old = *pp;
            *pp = old->next;
            C.n--;
            sb__dns_rrset_unref(old);
            break;
        }
    }
    if (C.n >= SB__DNS_CACHE_MAX) {
        for (unsigned i = 0; i < BUCKETS; i++)
            purge_chain(&C.b[i], now);
    }
    /* Still full of live entries: serve this answer uncached rather than evict at random. */
    if (C.n < SB__DNS_CACHE_MAX) {
        sb__dns_rrset_ref(s);
        s->next = *head;
        *head = s;
        C.n++;
    }
    pthread_mutex_unlock(&C.mu);
}

void sb__dns_cache_clear(void)
{
    pthread_mutex_lock(&C.mu);
    for (unsigned i = 0; i < BUCKETS; i++) {
        while (C.b[i]) {
            struct sb__dns_rrset *s = C.b[i];
            C.b[i] = s->next;
            sb__dns_rrset_unref(s);
        }
    }
    C.n = 0;
    pthread_mutex_unlock(&C.mu);
}

unsigned sb__dns_cache_count(void)
{
    pthread_mutex_lock(&C.mu);
    unsigned n = C.n;
    pthread_mutex_unlock(&C.mu);
    return n;
}
