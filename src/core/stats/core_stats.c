/* SPDX-License-Identifier: BSD-2-Clause */
/* The core statistics groups, computed on read: core: (SIP layer counters), net: (transport
 * counters) and shmem: (heap figures from mallinfo2, under OpenSIPS's names so that dashboards
 * built for it find them). Counters keep a baseline here so that reset_statistics works on them. */
#include <malloc.h>
#include <stddef.h>
#include <time.h>

#include "mi/mi_int.h"
#include "sb/fwd.h"
#include "sb/stats.h"
#include "sb/tp.h"

/* ---- core: and net: counters --------------------------------------------------------------- */

#define CORE_FIELDS(X)                                                                             \
    X(rcv_requests)                                                                                \
    X(rcv_replies)                                                                                 \
    X(fwd_requests)                                                                                \
    X(fwd_replies)                                                                                 \
    X(drop_requests)                                                                               \
    X(drop_replies)                                                                                \
    X(err_requests)                                                                                \
    X(err_replies)                                                                                 \
    X(bad_URIs_rcvd)                                                                               \
    X(bad_msg_hdr)                                                                                 \
    X(unsupported_methods)                                                                         \
    X(replies_moved)

#define NET_FIELDS(X)                                                                              \
    X(rcv_msgs)                                                                                    \
    X(rcv_bytes)                                                                                   \
    X(snd_msgs)                                                                                    \
    X(snd_bytes)                                                                                   \
    X(snd_errors)                                                                                  \
    X(tcp_conns_total)                                                                             \
    X(tcp_rejected)                                                                                \
    X(tcp_timeouts)                                                                                \
    X(too_big)

enum {
#define X(f) CORE_##f,
    CORE_FIELDS(X)
#undef X
        N_CORE
};
enum {
#define X(f) NET_##f,
    NET_FIELDS(X)
#undef X
        N_NET
};

static int64_t core_base[N_CORE], net_base[N_NET];
static sb_stat_t core_ids[N_CORE], net_ids[N_NET];

static int64_t core_raw(size_t off)
{
    struct sb_core_stats s = {0};
    sb_core_stats(&s);
    return (int64_t) * (const uint64_t *)((const char *)&s + off);
}

static int64_t net_raw(size_t off)
{
    struct sb_tp_stats s = {0};
    sb_tp_stats(&s);
    return (int64_t) * (const uint64_t *)((const char *)&s + off);
}

#define X(f)                                                                                       \
    static int64_t get_core_##f(void)                                                              \
    {                                                                                              \
        return core_raw(offsetof(struct sb_core_stats, f)) -                                       \
               __atomic_load_n(&core_base[CORE_##f], __ATOMIC_RELAXED);                            \
    }
CORE_FIELDS(X)
#undef X
#define X(f)                                                                                       \
    static int64_t get_net_##f(void)                                                               \
    {                                                                                              \
        return net_raw(offsetof(struct sb_tp_stats, f)) -                                          \
               __atomic_load_n(&net_base[NET_##f], __ATOMIC_RELAXED);                              \
    }
NET_FIELDS(X)
#undef X

static const struct {
    const char *name;
    int64_t (*get)(void);
    size_t off;
} core_defs[N_CORE] =
    {
#define X(f) [CORE_##f] = {#f, get_core_##f, offsetof(struct sb_core_stats, f)},
        CORE_FIELDS(X)
#undef X
},
  net_defs[N_NET] = {
#define X(f) [NET_##f] = {#f, get_net_##f, offsetof(struct sb_tp_stats, f)},
      NET_FIELDS(X)
#undef X
};

/* ---- gauges -------------------------------------------------------------------------------- */

static int64_t get_timestamp(void)
{
    return (int64_t)time(NULL);
}

static int64_t get_tcp_conns_open(void)
{
    struct sb_tp_stats s = {0};
    sb_tp_stats(&s);
    return (int64_t)s.tcp_conns_open;
}

/* mallinfo2 walks every arena under its locks: cheap enough for a management read */
static int64_t shm_total(void)
{
    struct mallinfo2 m = mallinfo2();
    return (int64_t)(m.arena + m.hblkhd);
}

static int64_t shm_used(void)
{
    struct mallinfo2 m = mallinfo2();
    return (int64_t)(m.uordblks + m.hblkhd);
}

static int64_t shm_free(void)
{
    struct mallinfo2 m = mallinfo2();
    return (int64_t)m.fordblks;
}

static int64_t shm_fragments(void)
{
    struct mallinfo2 m = mallinfo2();
    return (int64_t)m.ordblks;
}

/* The highest used size any read has seen: glibc keeps no peak of its own. */
static int64_t shm_max_used(void)
{
    static int64_t peak;
    int64_t u = shm_used();
    int64_t p = __atomic_load_n(&peak, __ATOMIC_RELAXED);
    while (u > p &&
           !__atomic_compare_exchange_n(&peak, &p, u, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return u > p ? u : p;
}

#define GAUGE (SB_STAT_GAUGE | SB_STAT_NO_RESET)

static const struct sb_stat_def core_gauges[] = {
    {.name = "timestamp", .flags = GAUGE, .get = get_timestamp},
    {.name = NULL},
};
static const struct sb_stat_def net_gauges[] = {
    {.name = "tcp_conns_open", .flags = GAUGE, .get = get_tcp_conns_open},
    {.name = NULL},
};
static const struct sb_stat_def shm_defs[] = {
    {.name = "total_size", .flags = GAUGE, .get = shm_total},
    {.name = "used_size", .flags = GAUGE, .get = shm_used},
    {.name = "real_used_size", .flags = GAUGE, .get = shm_used},
    {.name = "max_used_size", .flags = GAUGE, .get = shm_max_used},
    {.name = "free_size", .flags = GAUGE, .get = shm_free},
    {.name = "fragments", .flags = GAUGE, .get = shm_fragments},
    {.name = NULL},
};

int sb__core_stats_register(void)
{
    for (unsigned i = 0; i < N_CORE; i++)
        if (!(core_ids[i] = sb_stat_register("core", core_defs[i].name, 0, core_defs[i].get)))
            return SB_ENOMEM;
    for (unsigned i = 0; i < N_NET; i++)
        if (!(net_ids[i] = sb_stat_register("net", net_defs[i].name, 0, net_defs[i].get)))
            return SB_ENOMEM;
    if (sb_stat_register_defs("core", core_gauges) || sb_stat_register_defs("net", net_gauges) ||
        sb_stat_register_defs("shmem", shm_defs))
        return SB_ENOMEM;
    return 0;
}

bool sb__core_stat_reset(sb_stat_t id)
{
    if (!id)
        return false;
    for (unsigned i = 0; i < N_CORE; i++)
        if (core_ids[i] == id) {
            __atomic_store_n(&core_base[i], core_raw(core_defs[i].off), __ATOMIC_RELAXED);
            return true;
        }
    for (unsigned i = 0; i < N_NET; i++)
        if (net_ids[i] == id) {
            __atomic_store_n(&net_base[i], net_raw(net_defs[i].off), __ATOMIC_RELAXED);
            return true;
        }
    return false;
}
