/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-thread values released at thread exit: a pthread key made on first use, so that a module's
 * per-thread cache (a send queue, an OpenSSL context) needs no set-up call and no tear-down. */
#ifndef SB_TKEY_H
#define SB_TKEY_H

#include <pthread.h>
#include <stdatomic.h>

struct sb_tkey {
    void (*dtor)(void *); /* run at thread exit on a thread's non-NULL value */
    atomic_int state;     /* 0: key not made yet, 1: made, -1: could not be made */
    pthread_key_t key;
};

#define SB_TKEY_INIT(fn)                                                                           \
    {                                                                                              \
        .dtor = (fn)                                                                               \
    }

/* Make <v> the calling thread's value of <k> (NULL: none, its destructor will not run); the key
 * is created on the first call. 0, or SB_ENOMEM when the key or the value cannot be set. */
int sb_tkey_set(struct sb_tkey *k, void *v);

#endif
