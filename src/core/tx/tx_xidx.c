/* SPDX-License-Identifier: BSD-2-Clause */
/* Which worker owns an INVITE server transaction, so that a CANCEL or an ACK delivered to another
 * worker reaches it (DESIGN.md §5). The only transaction state shared between workers: a hash of
 * keys sharded by key, each shard guarded by its own mutex (xidx[i].lock). Used only with more
 * than one worker.
 *
 * Every INVITE adds and later removes a key and every ACK (those of 2xx replies included, which
 * never match) looks one up, so a lookup must stay O(1) with thousands of INVITEs in their
 * wait state: each shard hashes into buckets of its own and recycles its entries. */
#include <pthread.h>
#include <stdlib.h>

#include "sb/msg.h"
#include "tx/tx_int.h"

#define XIDX_SHARDS   64
#define XIDX_BUCKETS  1024 /* per shard */
#define XIDX_FREE_MAX 256  /* recycled entries kept per shard */

struct xent {
    struct xent *next;
    uint64_t key;
    uint16_t worker;
    uint16_t n; /* transactions of this worker with this key */
};

/* Aligned so that two workers on two shards do not share the line of a lock. */
struct xshard {
    pthread_mutex_t lock; /* guards everything below */
    struct xent *free;
    unsigned n_free;
    struct xent *b[XIDX_BUCKETS];
} __attribute__((aligned(64)));

static struct xshard xidx[XIDX_SHARDS] = {
    [0 ... XIDX_SHARDS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER}};

static uint64_t mix(uint64_t h, sb_str s, bool fold)
{
    for (size_t i = 0; i < s.len; i++) {
        h ^= fold ? sb_lower((unsigned char)s.p[i]) : (unsigned char)s.p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    return h * 0x100000001b3ULL;
}

uint64_t sb__tx_xkey(struct sb_msg *m)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const struct sb_via *v = sb_msg_via1(m);
    if (!v)
        return 0;
    if (v->branch.len > 7 && sb_str_caseeq_lit((sb_str){v->branch.p, 7}, "z9hg4bk")) {
        /* RFC3261-17.2.3: branch and sent-by identify the INVITE, its CANCEL and its ACK */
        h = mix(h, v->branch, true);
        h = mix(h, v->host, true);
        h ^= v->port_no;
    } else {
        const struct sb_nameaddr *from = sb_msg_from(m);
        const struct sb_cseq *cs = sb_msg_cseq(m);
        h = mix(h, sb_msg_callid(m), false);
        h = mix(h, from ? from->tag : SB_STR_NULL, false);
        h ^= cs ? cs->num : 0;
    }
    /* the FNV steps leave the low bits (shard and bucket) weakly mixed: finish with a mixer */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static struct xent **bucket(struct xshard *s, uint64_t key)
{
    return &s->b[(key / XIDX_SHARDS) % XIDX_BUCKETS];
}

void sb__tx_xidx_add(uint64_t key, unsigned worker)
{
    struct xshard *s = &xidx[key % XIDX_SHARDS];
    pthread_mutex_lock(&s->lock);
    struct xent **head = bucket(s, key), *e;
    for (e = *head; e; e = e->next)
        if (e->key == key && e->worker == worker)
            break;
    if (e) {
        e->n++;
    } else {
        e = s->free;
        if (e) {
            s->free = e->next;
            s->n_free--;
        } else {
            e = malloc(sizeof(*e));
        }
        if (e) {
            *e = (struct xent){.next = *head, .key = key, .worker = (uint16_t)worker, .n = 1};
            *head = e;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

void sb__tx_xidx_del(uint64_t key, unsigned worker)
{
    struct xshard *s = &xidx[key % XIDX_SHARDS];
    struct xent *gone = NULL;
    pthread_mutex_lock(&s->lock);
    for (struct xent **p = bucket(s, key); *p; p = &(*p)->next) {
        struct xent *e = *p;
        if (e->key == key && e->worker == worker) {
            if (--e->n == 0) {
                *p = e->next;
                if (s->n_free < XIDX_FREE_MAX) {
                    e->next = s->free;
                    s->free = e;
                    s->n_free++;
                } else {
                    gone = e;
                }
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    free(gone);
}

int sb__tx_xidx_find(uint64_t key, unsigned not_worker)
{
    struct xshard *s = &xidx[key % XIDX_SHARDS];
    int w = -1;
    pthread_mutex_lock(&s->lock);
    for (struct xent *e = *bucket(s, key); e; e = e->next) {
        if (e->key == key && e->worker != not_worker) {
            w = e->worker;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return w;
}
