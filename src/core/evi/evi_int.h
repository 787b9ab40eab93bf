/* SPDX-License-Identifier: BSD-2-Clause */
/* The event interface, internal to src/core/evi: the registry (evi.c) and the subscribers with
 * their sender thread (evi_sub.c). */
#ifndef SB_EVI_INT_H
#define SB_EVI_INT_H

#include <stdatomic.h>

#include "sb/evi.h"

/* Active subscriptions per event id (index 0 unused), kept by evi_sub.c, read by raise without a
 * lock so that an event nobody subscribed to costs one load. */
extern _Atomic uint32_t sb__evi_n_subs[SB_EVI_MAX + 1];

/* Queue a notification of <id> with <p> for the subscribers. Any thread, never blocks. */
void sb__evi_notify(sb_evi_id id, const struct sb_evi_params *p);

/* Call fn for each live subscription of <ev> (0: every event), under the subscriptions' lock:
 * fn must not call back into the event interface. */
typedef void (*sb__evi_sub_fn)(const char *event, const char *sock, int64_t expires_in, void *arg);
void sb__evi_subs_walk(sb_evi_id ev, sb__evi_sub_fn fn, void *arg);

#endif
