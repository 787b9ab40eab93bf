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

#endif
