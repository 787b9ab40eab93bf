/* SPDX-License-Identifier: BSD-2-Clause */
/* Which worker owns an INVITE server transaction, so that a CANCEL or an ACK delivered to another
 * worker reaches it (DESIGN.md §5). The only transaction state shared between workers: a hash of
 * keys sharded by key, each shard guarded by its own mutex (xidx[i].lock). Used only with more
 * than one worker. */
#include <pthread.h>
#include <stdlib.h>

#include "sb/msg.h"
#include "tx/tx_int.h"

#define XIDX_SHARDS 64

struct xent {
    struct xent *next;
    uint64_t key;
    uint16_t worker;
    uint16_t n; /* transactions of this worker with this key */
};

static struct {
    pthread_mutex_t lock; /* guards <head> */
    struct xent *head;
} xidx[XIDX_SHARDS] = {[0 ... XIDX_SHARDS - 1] = {PTHREAD_MUTEX_INITIALIZER, NULL}};

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
        return h ^ v->port_no;
    }
    const struct sb_nameaddr *from = sb_msg_from(m);
    const struct sb_cseq *cs = sb_msg_cseq(m);
    h = mix(h, sb_msg_callid(m), false);
    h = mix(h, from ? from->tag : SB_STR_NULL, false);
    return h ^ (cs ? cs->num : 0);
}

void sb__tx_xidx_add(uint64_t key, unsigned worker)
{
    unsigned s = (unsigned)(key % XIDX_SHARDS);
    pthread_mutex_lock(&xidx[s].lock);
    struct xent *e;
    for (e = xidx[s].head; e; e = e->next)
        if (e->key == key && e->worker == worker)
            break;
    if (e) {
        e->n++;
    } else if ((e = malloc(sizeof(*e)))) {
        *e = (struct xent){.next = xidx[s].head, .key = key, .worker = (uint16_t)worker, .n = 1};
        xidx[s].head = e;
    }
    pthread_mutex_unlock(&xidx[s].lock);
}

void sb__tx_xidx_del(uint64_t key, unsigned worker)
{
    unsigned s = (unsigned)(key % XIDX_SHARDS);
    pthread_mutex_lock(&xidx[s].lock);
    for (struct xent **p = &xidx[s].head; *p; p = &(*p)->next) {
        struct xent *e = *p;
        if (e->key == key && e->worker == worker) {
            if (--e->n == 0) {
                *p = e->next;
                free(e);
            }
            break;
        }
    }
    pthread_mutex_unlock(&xidx[s].lock);
}

int sb__tx_xidx_find(uint64_t key, unsigned not_worker)
{
    unsigned s = (unsigned)(key % XIDX_SHARDS);
    int w = -1;
    pthread_mutex_lock(&xidx[s].lock);
    for (struct xent *e = xidx[s].head; e; e = e->next) {
        if (e->key == key && e->worker != not_worker) {
            w = e->worker;
            break;
        }
    }
    pthread_mutex_unlock(&xidx[s].lock);
    return w;
}
