/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by the management interface files. */
#ifndef SB_MI_INT_H
#define SB_MI_INT_H

#include "sb/mi.h"
#include "sb/stats.h"

/* The core's own commands (mi_cmds.c). */
extern const struct sb_mi_cmd sb__mi_core_cmds[];

/* core:, net: and shmem: statistics (stats/core_stats.c). Idempotent. */
int sb__core_stats_register(void);
/* Reset a computed statistic of those groups (they keep their own baseline). false when <id>
 * is not one of them. */
bool sb__core_stat_reset(sb_stat_t id);

/* Management threads announced with sb_mi_thread_register (mi_threads.c). */
struct sb__mi_thread {
    const char *type;
    int tid;
};
unsigned sb__mi_threads(struct sb__mi_thread *out, unsigned cap);

/* Asynchronous calls (mi_async.c), the side of the envelope. After a handler returned
 * SB_MI_PENDING: sink(a, arg) runs once with the outcome, from the completing thread. Returns
 * false when the call is already complete (sink will not run: take the outcome now). */
bool sb__mi_async_attach(struct sb_mi_async *a, void (*sink)(struct sb_mi_async *a, void *arg),
                         void *arg);
/* The outcome: the result, or NULL with the error moved into <c>. Releases the envelope's
 * reference to <a>. */
json_t *sb__mi_async_take(struct sb_mi_async *a, struct sb_mi_call *c);
/* The handler answered by itself after sb_mi_async_start(): later completions are refused.
 * Releases the envelope's reference. */
void sb__mi_async_settle(struct sb_mi_async *a);
/* Allow asynchronous calls again (sb_mi_init). */
void sb__mi_async_reopen(void);

#endif
