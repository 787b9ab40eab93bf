/* SPDX-License-Identifier: BSD-2-Clause */
/* Destination blacklist (OpenSIPS dst_blacklist for DNS failover): a target that timed out or
 * answered 503 is avoided for a while by later resolutions of any worker, as long as another
 * target of the same resolution remains (RFC 3263 §4.3 leaves the retry policy to the client).
 * Few entries are expected (dead servers), so a small table scanned under one mutex is enough. */
#include <pthread.h>
#include <string.h>

#include "sb/loop.h"
#include "tx/tx_int.h"

#define BL_SIZE 256

struct bl_ent {
    uint64_t until_ms; /* 0: free */
    uint8_t proto;
    struct sb_addr addr;
};

static struct bl_ent bl[BL_SIZE];
static pthread_mutex_t bl_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t sb__tx_now(void)
{
    struct sb_loop *l = sb__tx_loop();
    return l ? sb_loop_now(l) : sb_now_ms();
}

void sb_tx_blacklist_add(uint8_t proto, const struct sb_addr *a, uint64_t for_ms)
{
    uint64_t now = sb__tx_now();
    pthread_mutex_lock(&bl_lock);
    struct bl_ent *slot = NULL, *oldest = &bl[0];
    for (unsigned i = 0; i < BL_SIZE; i++) {
        struct bl_ent *e = &bl[i];
        if (e->until_ms > now && e->proto == proto && sb_addr_eq(&e->addr, a)) {
            slot = e;
            break;
        }
        if (!slot && e->until_ms <= now)
            slot = e;
        if (e->until_ms < oldest->until_ms)
            oldest = e;
    }
    if (!slot)
        slot = oldest; /* full of live entries: the one closest to expiry goes */
    slot->proto = proto;
    slot->addr = *a;
    slot->until_ms = now + for_ms;
    pthread_mutex_unlock(&bl_lock);
}

bool sb_tx_blacklist_has(uint8_t proto, const struct sb_addr *a)
{
    uint64_t now = sb__tx_now();
    bool hit = false;
    pthread_mutex_lock(&bl_lock);
    for (unsigned i = 0; i < BL_SIZE && !hit; i++)
        hit = bl[i].until_ms > now && bl[i].proto == proto && sb_addr_eq(&bl[i].addr, a);
    pthread_mutex_unlock(&bl_lock);
    return hit;
}

void sb_tx_blacklist_clear(void)
{
    pthread_mutex_lock(&bl_lock);
    memset(bl, 0, sizeof(bl));
    pthread_mutex_unlock(&bl_lock);
}

unsigned sb_tx_blacklist_count(void)
{
    uint64_t now = sb__tx_now();
    unsigned n = 0;
    pthread_mutex_lock(&bl_lock);
    for (unsigned i = 0; i < BL_SIZE; i++)
        n += bl[i].until_ms > now;
    pthread_mutex_unlock(&bl_lock);
    return n;
}
