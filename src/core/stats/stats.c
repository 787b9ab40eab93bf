/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-worker counters summed on read. See include/sb/stats.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/stats.h"

struct stat_desc {
    char *group;
    char *name;
    uint32_t flags;
    int64_t (*get)(void);
};

/* Written by the control thread before the workers start, read-only afterwards; <n> is read with
 * acquire so that a late registration (tests) is seen whole. */
static struct stat_desc descs[SB_STATS_MAX + 1];
static unsigned n_descs;

/* One slot per worker, plus the shared one (index 0) for every other thread. A worker's slot is
 * written by that worker only: a relaxed load and store, no read-modify-write. */
struct slot {
    int64_t v[SB_STATS_MAX + 1];
};
static struct slot *slots; /* [1 + n_workers] */
static unsigned n_slots;
static struct slot shared_fallback;        /* before sb_stats_init: the shared slot */
static int64_t baseline[SB_STATS_MAX + 1]; /* the sum at the last reset, atomically accessed */

static _Thread_local struct slot *my_slot;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *shared_slot(void)
{
    return slots ? &slots[0] : &shared_fallback;
}

static bool valid_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!sb_is_token((unsigned char)*s) || *s == ':')
            return false;
    return true;
}

sb_stat_t sb_stat_register(const char *group, const char *name, uint32_t flags,
                           int64_t (*get)(void))
{
    if (!valid_name(group) || !valid_name(name))
        return 0;
    pthread_mutex_lock(&reg_lock);
    sb_stat_t id = 0;
    for (unsigned i = 1; i <= n_descs; i++)
        if (!strcmp(descs[i].group, group) && !strcmp(descs[i].name, name)) {
            id = i;
            break;
        }
    if (!id && n_descs < SB_STATS_MAX) {
        struct stat_desc *d = &descs[n_descs + 1];
        d->group = strdup(group);
        d->name = strdup(name);
        if (d->group && d->name) {
            d->flags = flags;
            d->get = get;
            id = n_descs + 1;
            __atomic_store_n(&n_descs, id, __ATOMIC_RELEASE);
        } else {
            free(d->group);
            free(d->name);
            d->group = d->name = NULL;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    if (!id)
        SB_ERR("statistics: cannot register %s:%s", group, name);
    return id;
}

int sb_stat_register_defs(const char *group, const struct sb_stat_def *defs)
{
    for (const struct sb_stat_def *d = defs; d && d->name; d++) {
        sb_stat_t id = sb_stat_register(group, d->name, d->flags, d->get);
        if (!id)
            return SB_ENOMEM;
        if (d->id)
            *d->id = id;
    }
    return 0;
}

unsigned sb_stat_count(void)
{
    return __atomic_load_n(&n_descs, __ATOMIC_ACQUIRE);
}

static const struct stat_desc *desc(sb_stat_t id)
{
    return id && id <= sb_stat_count() ? &descs[id] : NULL;
}

const char *sb_stat_group(sb_stat_t id)
{
    const struct stat_desc *d = desc(id);
    return d ? d->group : NULL;
}

const char *sb_stat_name(sb_stat_t id)
{
    const struct stat_desc *d = desc(id);
    return d ? d->name : NULL;
}

uint32_t sb_stat_flags(sb_stat_t id)
{
    const struct stat_desc *d = desc(id);
    return d ? d->flags : 0;
}

sb_stat_t sb_stat_find(sb_str group, sb_str name)
{
    unsigned n = sb_stat_count();
    for (unsigned i = 1; i <= n; i++) {
        if (group.len && !sb_str_eq(group, sb_str_cstr(descs[i].group)))
            continue;
        if (sb_str_eq(name, sb_str_cstr(descs[i].name)))
            return i;
    }
    return 0;
}

sb_stat_t sb_stat_find_full(sb_str full)
{
    long c = sb_str_chr(full, ':');
    if (c < 0)
        return sb_stat_find(SB_STR_NULL, full);
    return sb_stat_find((sb_str){full.p, (size_t)c},
                        (sb_str){full.p + c + 1, full.len - (size_t)c - 1});
}

void sb_stat_add(sb_stat_t id, int64_t n)
{
    if (SB_UNLIKELY(!id || id > SB_STATS_MAX))
        return;
    struct slot *s = my_slot;
    if (SB_LIKELY(s != NULL)) {
        int64_t v = __atomic_load_n(&s->v[id], __ATOMIC_RELAXED);
        __atomic_store_n(&s->v[id], v + n, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_add(&shared_slot()->v[id], n, __ATOMIC_RELAXED);
    }
}

static int64_t sum(sb_stat_t id)
{
    int64_t t = __atomic_load_n(&shared_slot()->v[id], __ATOMIC_RELAXED);
    for (unsigned w = 1; w < n_slots; w++)
        t += __atomic_load_n(&slots[w].v[id], __ATOMIC_RELAXED);
    return t;
}

int64_t sb_stat_get(sb_stat_t id)
{
    const struct stat_desc *d = desc(id);
    if (!d)
        return 0;
    if (d->get)
        return d->get();
    return sum(id) - __atomic_load_n(&baseline[id], __ATOMIC_RELAXED);
}

void sb_stat_reset(sb_stat_t id)
{
    const struct stat_desc *d = desc(id);
    if (!d || d->get || (d->flags & SB_STAT_NO_RESET))
        return;
    __atomic_store_n(&baseline[id], sum(id), __ATOMIC_RELAXED);
}

int sb_stats_init(unsigned n_workers)
{
    struct slot *s = calloc(1 + (size_t)n_workers, sizeof(*s));
    if (!s)
        return SB_ENOMEM;
    /* counts made before the workers existed stay in the shared slot */
    memcpy(&s[0], &shared_fallback, sizeof(s[0]));
    free(slots);
    slots = s;
    n_slots = 1 + n_workers;
    return 0;
}

void sb_stats_worker_start(unsigned worker)
{
    my_slot = slots && worker + 1 < n_slots ? &slots[worker + 1] : NULL;
}

void sb_stats_worker_exit(void)
{
    struct slot *s = my_slot;
    my_slot = NULL;
    if (!s)
        return;
    /* move this worker's counts into the shared slot so that totals survive the thread */
    for (unsigned i = 1; i <= SB_STATS_MAX; i++) {
        int64_t v = __atomic_exchange_n(&s->v[i], 0, __ATOMIC_RELAXED);
        if (v)
            __atomic_fetch_add(&shared_slot()->v[i], v, __ATOMIC_RELAXED);
    }
}

void sb_stats_destroy(void)
{
    pthread_mutex_lock(&reg_lock);
    for (unsigned i = 1; i <= n_descs; i++) {
        free(descs[i].group);
        free(descs[i].name);
    }
    memset(descs, 0, sizeof(descs));
    memset(baseline, 0, sizeof(baseline));
    memset(&shared_fallback, 0, sizeof(shared_fallback));
    __atomic_store_n(&n_descs, 0, __ATOMIC_RELEASE);
    free(slots);
    slots = NULL;
    n_slots = 0;
    pthread_mutex_unlock(&reg_lock);
    my_slot = NULL;
}
