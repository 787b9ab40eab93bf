/* SPDX-License-Identifier: BSD-2-Clause */
/* Statistics: named counters and gauges ("group:name"), kept per worker and summed on read, so that
 * the hot path does a plain increment of memory no other thread writes (DESIGN.md §9).
 *
 * A statistic is registered once, before the workers start (module statistics when the module set
 * starts; the core's at start-up), and gets a small integer id. Updating from a worker touches that
 * worker's slot; from any other thread, a shared slot with an atomic add. Reading sums every slot,
 * minus the baseline taken by the last reset, so that a reset never writes into a worker's slot.
 * Reads racing with updates see each slot either before or after an update, never torn. */
#ifndef SB_STATS_H
#define SB_STATS_H

#include "sb/base-t.h"

#define SB_STATS_MAX 2048 /* registered statistics, all groups */

typedef uint32_t sb_stat_t; /* 0 is "no statistic": updating it does nothing */

enum {
    SB_STAT_GAUGE = 1 << 0,    /* a level that goes up and down (Prometheus "gauge") */
    SB_STAT_NO_RESET = 1 << 1, /* reset_statistics leaves it alone (gauges usually) */
};

/* A module's statistic, in the module's table (mod-t.h: .stats). The group is the module name. */
struct sb_stat_def {
    const char *name;
    uint32_t flags; /* SB_STAT_* */
    sb_stat_t *id;  /* where the id is stored at registration; may be NULL with <get> */
    /* A computed statistic: read through this (any thread) instead of counters. */
    int64_t (*get)(void);
};

/* Register "group:name". Registering the same name again returns the existing id (so a module
 * restarted in tests keeps its counters). Control thread, before workers start. Returns the id
 * (> 0), or 0 when the table is full or a name is invalid. */
sb_stat_t sb_stat_register(const char *group, const char *name, uint32_t flags,
                           int64_t (*get)(void));
/* Register every entry of <defs> (terminated by name == NULL) in <group>. */
int sb_stat_register_defs(const char *group, const struct sb_stat_def *defs);

/* Find "group:name", or a bare "name" (first match in any group). 0 when unknown. */
sb_stat_t sb_stat_find(sb_str group, sb_str name);
sb_stat_t sb_stat_find_full(sb_str full); /* "group:name" or "name" */

/* Update (any thread; a worker thread updates its own slot). */
void sb_stat_add(sb_stat_t id, int64_t n);
static inline void sb_stat_inc(sb_stat_t id)
{
    sb_stat_add(id, 1);
}
static inline void sb_stat_dec(sb_stat_t id)
{
    sb_stat_add(id, -1);
}

/* Read and reset (any thread). */
int64_t sb_stat_get(sb_stat_t id);
void sb_stat_reset(sb_stat_t id);

/* The registry, for listing: ids run from 1 to sb_stat_count(). */
unsigned sb_stat_count(void);
const char *sb_stat_group(sb_stat_t id);
const char *sb_stat_name(sb_stat_t id);
uint32_t sb_stat_flags(sb_stat_t id);

/* Worker slots: a worker thread calls sb_stats_worker_start(id) before it updates anything and
 * sb_stats_worker_exit() when it ends (its counts are folded into the shared slot, so totals
 * survive). <n_workers> slots are made by sb_stats_init before the workers start. */
int sb_stats_init(unsigned n_workers);
void sb_stats_worker_start(unsigned worker);
void sb_stats_worker_exit(void);
/* Forget every statistic (tests, shutdown). */
void sb_stats_destroy(void);

#endif
