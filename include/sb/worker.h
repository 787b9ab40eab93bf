/* SPDX-License-Identifier: BSD-2-Clause */
/* The running server: worker threads, the script they run, and shutdown. DESIGN.md §1, §5.
 * A worker owns its event loop, its UDP sockets, the TCP connections it accepted or opened and
 * everything per-message; nothing mutable is shared between workers unless documented with its
 * lock. */
#ifndef SB_WORKER_H
#define SB_WORKER_H

#include <stdatomic.h>

#include "sb/base-t.h"

struct sb_loop;
struct sb_script;
struct sb_core_cfg;

#define SB_MAX_WORKERS 256

struct sb_worker {
    unsigned id; /* 0 .. n_workers-1; encoded in our branches (DESIGN.md §5) */
    struct sb_loop *loop;
    /* The script this worker runs. It adopts the published one between messages
     * (sb_worker_adopt_script); the control thread frees an old script once every worker has
     * moved past it. */
    const struct sb_script *script;
    _Atomic uint64_t script_gen; /* generation of <script> */
    uint64_t seq;                /* per-worker counter: branch keys, tags */
    void *tp;                    /* transport layer state (src/core/tp) */
    void *dns;                   /* resolver state (src/core/net/dns.c) */
    void *fwd;                   /* core SIP layer state (src/core/fwd) */
};

/* The worker running on this thread; NULL on the control thread, in tests and in tools. */
extern _Thread_local struct sb_worker *sb_worker_self;

/* Process-wide runtime state. Set up by main before the workers start; read-only afterwards
 * except the atomics. */
struct sb_runtime {
    unsigned n_workers;
    struct sb_worker *workers;     /* [n_workers] */
    const struct sb_core_cfg *cfg; /* of the first script: sockets and workers are fixed at start */
    _Atomic(struct sb_script *) script; /* the published script */
    _Atomic uint64_t script_gen;
    atomic_bool stopping; /* graceful shutdown started */
    uint64_t start_ms;    /* sb_now_ms() at start, for uptime */
};

extern struct sb_runtime sb_rt;

/* The script the calling worker runs (or the published one off a worker thread). */
const struct sb_script *sb_current_script(void);
/* Worker thread, between messages: switch to the published script if it changed. */
void sb_worker_adopt_script(struct sb_worker *w);
/* Control thread: publish <s> (hot reload). Waits, bounded, for every worker to adopt it, then
 * frees the previous script. Returns 0. */
int sb_publish_script(struct sb_script *s);

/* A new per-worker unique 64-bit value (branch keys, tags): worker id in the high bits. */
uint64_t sb_worker_unique(void);

#endif
