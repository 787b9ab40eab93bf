/* SPDX-License-Identifier: BSD-2-Clause */
/* The event registry and raising an event: event_route[E_NAME] of the current script runs on the
 * raising worker (or is posted to a worker when raised elsewhere), then the subscribers are
 * notified through evi_sub.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "evi_int.h"
#include "sb/avp.h"
#include "sb/base.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/script.h"
#include "sb/worker.h"

#define ROUTE_DEPTH_MAX 4          /* event routes raising events raising events ... */
#define ROUTE_SCRATCH   (1u << 20) /* cap of an event route's scratch arena */

/* Names are written once under <reg_lock> before the count that publishes them is bumped, and
 * never change afterwards: readers need no lock. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static char names[SB_EVI_MAX + 1][SB_EVI_NAME_MAX];
static _Atomic unsigned n_events;
static pthread_once_t core_once = PTHREAD_ONCE_INIT;
static sb_evi_id ev_threshold;

_Atomic uint32_t sb__evi_n_subs[SB_EVI_MAX + 1];

static _Thread_local unsigned route_depth;
static _Atomic unsigned next_worker;

static int reg(sb_str name, sb_evi_id *out);

/* The core's events come first, whoever registers first. */
static void core_events(void)
{
    reg(SB_STR("E_CORE_THRESHOLD"), &ev_threshold);
}

static bool name_ok(sb_str n)
{
    if (n.len < 3 || n.len >= SB_EVI_NAME_MAX || n.p[0] != 'E' || n.p[1] != '_')
        return false;
    for (size_t i = 2; i < n.len; i++)
        if (!sb_is_alpha((unsigned char)n.p[i]) && !sb_is_digit((unsigned char)n.p[i]) &&
            n.p[i] != '_')
            return false;
    return true;
}

static sb_evi_id find_locked(sb_str name, unsigned n)
{
    for (unsigned i = 1; i <= n; i++)
        if (strlen(names[i]) == name.len && memcmp(names[i], name.p, name.len) == 0)
            return i;
    return 0;
}

static int reg(sb_str name, sb_evi_id *out)
{
    if (!name_ok(name))
        return SB_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&reg_lock);
    unsigned n = atomic_load(&n_events);
    sb_evi_id id = find_locked(name, n);
    if (!id) {
        if (n == SB_EVI_MAX) {
            rc = SB_ELIMIT;
            goto out;
        }
        id = n + 1;
        memcpy(names[id], name.p, name.len);
        names[id][name.len] = '\0';
        atomic_store(&n_events, id);
    }
    if (out)
        *out = id;
out:
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

int sb_evi_register_str(sb_str name, sb_evi_id *out)
{
    pthread_once(&core_once, core_events);
    return reg(name, out);
}

int sb_evi_register(const char *name, sb_evi_id *out)
{
    return sb_evi_register_str(sb_str_cstr(name), out);
}

sb_evi_id sb_evi_find(sb_str name)
{
    pthread_once(&core_once, core_events);
    unsigned n = atomic_load(&n_events);
    return find_locked(name, n);
}

unsigned sb_evi_count(void)
{
    pthread_once(&core_once, core_events);
    return atomic_load(&n_events);
}

const char *sb_evi_name(sb_evi_id id)
{
    return id >= 1 && id <= atomic_load(&n_events) ? names[id] : NULL;
}

int sb_evi_param_int(struct sb_evi_params *p, const char *name, int64_t v)
{
    if (p->n == SB_EVI_MAX_PARAMS)
        return SB_ELIMIT;
    p->v[p->n++] = (struct sb_evi_param){.name = name, .i = v};
    return 0;
}

int sb_evi_param_str(struct sb_evi_params *p, const char *name, sb_str v)
{
    if (p->n == SB_EVI_MAX_PARAMS)
        return SB_ELIMIT;
    p->v[p->n++] = (struct sb_evi_param){.name = name, .is_str = true, .s = v};
    return 0;
}

/* ---- event_route --------------------------------------------------------------------------- */

static int route_of(const struct sb_script *s, sb_evi_id id)
{
    return s ? sb_script_route(s, SB_ROUTE_EVENT, sb_str_cstr(names[id])) : -1;
}

/* Run event_route <idx> with the parameters as $param(name). Script integers are 32-bit, as in
 * OpenSIPS: larger values are clamped. */
static void run_route(const struct sb_script *s, int idx, const struct sb_evi_params *p)
{
    sb_str pnames[SB_EVI_MAX_PARAMS];
    struct sb_val vals[SB_EVI_MAX_PARAMS];
    unsigned n = p ? p->n : 0;
    for (unsigned i = 0; i < n; i++) {
        const struct sb_evi_param *e = &p->v[i];
        pnames[i] = sb_str_cstr(e->name);
        if (e->is_str) {
            vals[i] = (struct sb_val){.type = SB_VAL_STR, .s = e->s};
        } else {
            int64_t v = e->i < INT32_MIN ? INT32_MIN : e->i > INT32_MAX ? INT32_MAX : e->i;
            vals[i] = (struct sb_val){.type = SB_VAL_INT, .i = (int32_t)v};
        }
    }
    /* an event may be raised in the middle of a message's script: the route gets its own scratch
     * and AVPs so that it never disturbs the execution it interrupts */
    char buf[2048];
    struct sb_arena scratch;
    sb_arena_init(&scratch, buf, sizeof(buf), ROUTE_SCRATCH);
    struct sb_avps *avps = sb_avps_new();
    if (!avps) {
        SB_ERR("evi: out of memory running an event_route");
        return;
    }
    struct sb_sctx ctx = {
        .script = s,
        .avps = avps,
        .scratch = &scratch,
        .route_type = SB_ROUTE_EVENT,
        .event_params = vals,
        .event_param_names = pnames,
        .n_event_params = n,
    };
    route_depth++;
    (void)sb_script_run(&ctx, SB_ROUTE_EVENT, idx);
    route_depth--;
    sb_avps_free(avps);
    sb_arena_deinit(&scratch);
}

/* A raise from a thread that is no worker, carried to a worker: the parameters deep-copied. */
struct job {
    sb_evi_id id;
    struct sb_evi_params p;
    char data[]; /* names and string values */
};

static struct job *job_new(sb_evi_id id, const struct sb_evi_params *p)
{
    size_t need = 0;
    unsigned n = p ? p->n : 0;
    for (unsigned i = 0; i < n; i++)
        need += strlen(p->v[i].name) + 1 + (p->v[i].is_str ? p->v[i].s.len : 0);
    struct job *j = malloc(sizeof(*j) + need);
    if (!j)
        return NULL;
    j->id = id;
    j->p.n = n;
    char *w = j->data;
    for (unsigned i = 0; i < n; i++) {
        j->p.v[i] = p->v[i];
        size_t l = strlen(p->v[i].name) + 1;
        memcpy(w, p->v[i].name, l);
        j->p.v[i].name = w;
        w += l;
        if (p->v[i].is_str) {
            if (p->v[i].s.len)
                memcpy(w, p->v[i].s.p, p->v[i].s.len);
            j->p.v[i].s = (sb_str){w, p->v[i].s.len};
            w += p->v[i].s.len;
        }
    }
    return j;
}

static void job_run(void *arg)
{
    struct job *j = arg;
    const struct sb_script *s = sb_current_script();
    int idx = route_of(s, j->id);
    if (idx >= 0)
        run_route(s, idx, &j->p);
    free(j);
}

/* Post the route to a worker, round robin. False when no worker can take it (not started, or
 * stopping): the caller then runs it itself. */
static bool post_to_worker(sb_evi_id id, const struct sb_evi_params *p)
{
    unsigned nw = sb_rt.n_workers;
    if (!nw || !sb_rt.workers || atomic_load(&sb_rt.stopping))
        return false;
    struct sb_worker *w = &sb_rt.workers[atomic_fetch_add(&next_worker, 1) % nw];
    /* raised from non-worker threads too: the worker publishes its loop with a release store */
    struct sb_loop *l = __atomic_load_n(&w->loop, __ATOMIC_ACQUIRE);
    if (!l)
        return false;
    struct job *j = job_new(id, p);
    if (!j)
        return false;
    if (sb_loop_post(l, job_run, free, j) != 0) {
        free(j);
        return false;
    }
    return true;
}

/* ---- raising ------------------------------------------------------------------------------- */

bool sb_evi_wanted(sb_evi_id id)
{
    if (id == 0 || id > atomic_load(&n_events))
        return false;
    return atomic_load_explicit(&sb__evi_n_subs[id], memory_order_relaxed) > 0 ||
           route_of(sb_current_script(), id) >= 0;
}

int sb_evi_raise(sb_evi_id id, const struct sb_evi_params *p)
{
    if (id == 0 || id > atomic_load(&n_events))
        return SB_ENOENT;
    if (route_depth < ROUTE_DEPTH_MAX) {
        const struct sb_script *s = sb_current_script();
        int idx = route_of(s, id);
        if (idx >= 0) {
            if (sb_worker_self || !post_to_worker(id, p))
                run_route(s, idx, p);
        }
    } else {
        SB_WARN("evi: %s raised %u event routes deep; its event_route is skipped", names[id],
                route_depth);
    }
    if (atomic_load_explicit(&sb__evi_n_subs[id], memory_order_relaxed) > 0)
        sb__evi_notify(id, p);
    return 0;
}

void sb_evi_core_threshold(const char *source, int64_t us, sb_str extra)
{
    pthread_once(&core_once, core_events);
    if (!sb_evi_wanted(ev_threshold))
        return;
    struct sb_evi_params p = {0};
    sb_evi_param_str(&p, "source", sb_str_cstr(source ? source : "core"));
    sb_evi_param_int(&p, "time", us);
    sb_evi_param_str(&p, "extra", extra);
    sb_evi_raise(ev_threshold, &p);
}
