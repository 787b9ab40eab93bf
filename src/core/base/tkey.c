/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-thread values released at thread exit (include/sb/tkey.h). */
#include "sb/tkey.h"

#include "sb/base.h"

static pthread_mutex_t make_lock = PTHREAD_MUTEX_INITIALIZER;

int sb_tkey_set(struct sb_tkey *k, void *v)
{
    int st = atomic_load_explicit(&k->state, memory_order_acquire);
    if (st == 0) {
        pthread_mutex_lock(&make_lock);
        st = atomic_load_explicit(&k->state, memory_order_relaxed);
        if (st == 0) {
            st = pthread_key_create(&k->key, k->dtor) == 0 ? 1 : -1;
            atomic_store_explicit(&k->state, st, memory_order_release);
        }
        pthread_mutex_unlock(&make_lock);
    }
    if (st < 0 || pthread_setspecific(k->key, v) != 0)
        return SB_ENOMEM;
    return 0;
}
