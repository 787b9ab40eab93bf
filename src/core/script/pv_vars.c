/* SPDX-License-Identifier: BSD-2-Clause */
/* Script-state pseudo-variables: $var (per worker), $avp (the execution's AVP list), route
 * arguments and results, flags, time, randomness and process facts. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ast.h"
#include "pv_int.h"
#include "sb/avp.h"

/* ---- $var(name) ---------------------------------------------------------------------------- */

/* Names get a slot at check time; run time is an array access. */
static struct sb__names var_names = SB__NAMES_INIT;

/* This thread's $var values, indexed by slot. OpenSIPS keeps script variables per process and
 * they persist from one message to the next; a worker thread is our process. This pointer is the
 * only mutable per-worker state of the engine until workers have a struct of their own;
 * sb_pv_worker_exit() releases it. Each slot keeps its heap buffer across assignments (ints and
 * NULL included), so a variable set once per message allocates only when its value outgrows it. */
struct var_ent {
    struct sb_val v;
    char *buf; /* v.s.p points here when v is a string */
    size_t cap;
};

struct var_tls {
    struct var_ent *ents;
    uint32_t cap;
};
static _Thread_local struct var_tls *tls_vars;

static uint32_t slot_of(const struct sb_pv *pv)
{
    return (uint32_t)((uintptr_t)pv->fixed - 1);
}

static int fix_var(struct sb_fixup *fx, sb_str sub, void **fixed)
{
    uint32_t id;
    int r = sb__names_intern(&var_names, sub, &id);
    if (r < 0) {
        sb__fx_error(fx, 0, "cannot register $var(%.*s)", (int)sub.len, sub.p);
        return r;
    }
    *fixed = (void *)(uintptr_t)(id + 1);
    return 0;
}

static int get_var(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)ctx, (void)idx;
    uint32_t slot = slot_of(pv);
    if (tls_vars && slot < tls_vars->cap)
        *out = tls_vars->ents[slot].v;
    return 0;
}

static struct var_ent *var_slot(uint32_t slot)
{
    if (!tls_vars && !(tls_vars = calloc(1, sizeof(*tls_vars))))
        return NULL;
    if (slot >= tls_vars->cap) {
        uint32_t cap = tls_vars->cap ? tls_vars->cap : 16;
        while (cap <= slot)
            cap *= 2;
        struct var_ent *e = realloc(tls_vars->ents, cap * sizeof(*e));
        if (!e)
            return NULL;
        memset(e + tls_vars->cap, 0, (cap - tls_vars->cap) * sizeof(*e));
        tls_vars->ents = e;
        tls_vars->cap = cap;
    }
    return &tls_vars->ents[slot];
}

static int set_var(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    (void)ctx, (void)op;
    struct var_ent *e = var_slot(slot_of(pv));
    if (!e)
        return SB_ENOMEM;
    if (v->type != SB_VAL_STR) {
        e->v = *v;
        e->v.s = SB_STR_NULL;
        return 0;
    }
    size_t len = v->s.len;
    if (len + 1 > e->cap) {
        /* a fresh buffer first: <v> may borrow from the old one */
        size_t cap = e->cap ? e->cap : 32;
        while (cap < len + 1)
            cap *= 2;
        char *p = malloc(cap);
        if (!p)
            return SB_ENOMEM;
        if (len)
            memcpy(p, v->s.p, len);
        free(e->buf);
        e->buf = p;
        e->cap = cap;
    } else if (len) {
        /* <v> may be a piece of the current value ($(var(x){s.substr,1,0})) */
        memmove(e->buf, v->s.p, len);
    }
    e->buf[len] = '\0';
    e->v = (struct sb_val){.type = SB_VAL_STR, .s = {e->buf, len}};
    return 0;
}

/* Bytes of heap held for $var values by this thread (tests check that reuse does not grow it). */
size_t sb__vars_heap_bytes(void);
size_t sb__vars_heap_bytes(void)
{
    size_t n = 0;
    for (uint32_t i = 0; tls_vars && i < tls_vars->cap; i++)
        n += tls_vars->ents[i].cap;
    return n;
}

void sb__vars_thread_exit(void)
{
    if (!tls_vars)
        return;
    for (uint32_t i = 0; i < tls_vars->cap; i++)
        free(tls_vars->ents[i].buf);
    free(tls_vars->ents);
    free(tls_vars);
    tls_vars = NULL;
}

/* ---- $avp(name) ---------------------------------------------------------------------------- */

int sb_pv_avps_fix(struct sb_fixup *fx, sb_str sub, void **fixed)
{
    uint32_t id;
    int r = sb_avp_id(sub, &id);
    if (r < 0) {
        sb__fx_error(fx, 0, "cannot register the AVP name '%.*s'", (int)sub.len, sub.p);
        return r;
    }
    *fixed = (void *)(uintptr_t)(id + 1);
    return 0;
}

int sb_pv_avps_get(const struct sb_avps *l, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    if (l)
        sb_avps_get(l, slot_of(pv), idx == SB_PV_IDX_NONE ? 0 : idx, out);
    return 0;
}

int sb_pv_avps_count(const struct sb_avps *l, const struct sb_pv *pv)
{
    return l ? (int)sb_avps_count(l, slot_of(pv)) : 0;
}

/* $avp(x) = v pushes; := replaces them all; [i] = v overwrites one; [append] = v adds at the
 * bottom. With NULL: = deletes the top (or [i]), := and [*] delete all. */
int sb_pv_avps_set(struct sb_sctx *ctx, struct sb_avps *l, const struct sb_pv *pv, int op,
                   const struct sb_val *v)
{
    uint32_t id = slot_of(pv);
    int32_t idx = pv->idx;
    if (!l)
        return SB_EINVAL;
    bool all = op == SB_OP_SET_ALL || idx == SB_PV_IDX_ALL;
    if (v->type == SB_VAL_NULL) {
        if (all)
            sb_avps_del_all(l, id);
        else if (idx != SB_PV_IDX_APPEND)
            sb_avps_del(l, id, idx == SB_PV_IDX_NONE ? 0 : idx);
        return 0;
    }
    if (all) {
        /* <v> may borrow from a value about to be deleted */
        struct sb_val keep = *v;
        if (v->type == SB_VAL_STR && v->s.len &&
            !(keep.s.p = sb_arena_dup(ctx->scratch, v->s.p, v->s.len)))
            return SB_ENOMEM;
        sb_avps_del_all(l, id);
        return sb_avps_push(l, id, &keep);
    }
    if (idx == SB_PV_IDX_APPEND)
        return sb_avps_append(l, id, v);
    if (idx >= 0)
        return sb_avps_replace(l, id, idx, v);
    return sb_avps_push(l, id, v);
}

static int get_avp(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    return sb_pv_avps_get(ctx->avps, pv, idx, out);
}

static int count_avp(struct sb_sctx *ctx, const struct sb_pv *pv)
{
    return sb_pv_avps_count(ctx->avps, pv);
}

static int set_avp(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    return sb_pv_avps_set(ctx, ctx->avps, pv, op, v);
}

/* ---- route arguments and results ----------------------------------------------------------- */

/* $param(n): 1-based argument of route(name, ...); $param(name): an event_route parameter. */
static int fix_num(struct sb_fixup *fx, sb_str sub, void **fixed)
{
    struct sb_val v = {.type = SB_VAL_STR, .s = sub};
    int32_t n;
    if (sb_val_to_int(&v, &n)) {
        if (n < 0) {
            sb__fx_error(fx, 0, "negative position '%.*s'", (int)sub.len, sub.p);
            return SB_EPARSE;
        }
        *fixed = (void *)(uintptr_t)(n + 1);
    }
    return 0;
}

/* The position a constant or dynamic subname names, or -1 for a name. */
static long sub_pos(const struct sb_pv *pv)
{
    if (pv->fixed)
        return (long)(uintptr_t)pv->fixed - 1;
    struct sb_val v = {.type = SB_VAL_STR, .s = pv->sub};
    int32_t n;
    return sb_val_to_int(&v, &n) && n >= 0 ? n : -1;
}

static int get_param(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    long n = sub_pos(pv);
    if (n >= 1 && (unsigned long)n <= ctx->n_params) {
        *out = ctx->params[n - 1];
        return 0;
    }
    for (uint32_t i = 0; n < 0 && ctx->event_param_names && i < ctx->n_event_params; i++) {
        if (sb_str_eq(ctx->event_param_names[i], pv->sub)) {
            *out = ctx->event_params[i];
            break;
        }
    }
    return 0;
}

/* $return(n): 0-based value of the last return(code, v0, v1 ...). */
static int get_return(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    long n = sub_pos(pv);
    if (n >= 0 && (unsigned long)n < ctx->n_returns)
        *out = ctx->returns[n];
    return 0;
}

/* ---- execution facts and flags ------------------------------------------------------------- */

enum {
    VX_RC,
    VX_RETCODE,
    VX_ROUTE,
    VX_CFG_LINE,
    VX_MF,
    VX_BF,
    VX_TS,
    VX_TSM,
    VX_TSTART,
    VX_RANDOM,
    VX_PP
};

/* Set before main(): $TS is when the process started. Written once, then only read. */
static time_t start_time;
__attribute__((constructor)) static void record_start_time(void)
{
    start_time = time(NULL);
}

/* Per-thread generator for $RANDOM (xorshift32): cheap, lock-free, not for secrets. */
static _Thread_local uint32_t rand_state;

static int32_t next_random(void)
{
    if (!rand_state) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        rand_state = (uint32_t)tv.tv_usec ^ (uint32_t)tv.tv_sec ^ (uint32_t)(uintptr_t)&rand_state ^
                     0x9e3779b9u;
        if (!rand_state)
            rand_state = 1;
    }
    uint32_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return (int32_t)(x >> 1);
}

static int get_fact(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    struct timeval tv;
    int id = (int)(pv->def - sb__pv_var_defs);
    switch (id) {
    case VX_RC:
    case VX_RETCODE: sb__val_int(out, ctx->rc); break;
    case VX_ROUTE:
        if (ctx->route_name)
            sb__val_str(out, sb_str_cstr(ctx->route_name));
        break;
    case VX_CFG_LINE: sb__val_int(out, (int32_t)ctx->cfg_line); break;
    case VX_MF:
    case VX_BF:
        if (ctx->rs)
            sb__val_int(out, (int32_t)(id == VX_MF ? ctx->rs->flags : ctx->rs->bflags));
        break;
    case VX_TS: sb__val_int(out, (int32_t)time(NULL)); break;
    case VX_TSM:
        gettimeofday(&tv, NULL);
        sb__val_int(out, (int32_t)tv.tv_usec);
        break;
    case VX_TSTART: sb__val_int(out, (int32_t)start_time); break;
    case VX_RANDOM: sb__val_int(out, next_random()); break;
    case VX_PP: sb__val_int(out, (int32_t)getpid()); break;
    default: break;
    }
    return 0;
}

static int set_flags(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    (void)op;
    int32_t f;
    if (!ctx->rs || !sb_val_to_int(v, &f))
        return SB_EINVAL;
    if (pv->def - sb__pv_var_defs == VX_MF)
        ctx->rs->flags = (uint32_t)f;
    else
        ctx->rs->bflags = (uint32_t)f;
    return 0;
}

/* ---- $time(format) and $env(NAME) ---------------------------------------------------------- */

#define TIME_FMT_MAX 128

static int fix_time(struct sb_fixup *fx, sb_str sub, void **fixed)
{
    (void)fixed;
    if (sub.len >= TIME_FMT_MAX) {
        sb__fx_error(fx, 0, "$time() format longer than %d bytes", TIME_FMT_MAX - 1);
        return SB_ELIMIT;
    }
    return 0;
}

static int get_time(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    char fmt[TIME_FMT_MAX];
    if (pv->sub.len >= sizeof(fmt))
        return 0;
    memcpy(fmt, pv->sub.p, pv->sub.len);
    fmt[pv->sub.len] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    char *buf = sb_arena_alloc(ctx->scratch, 256);
    if (!buf)
        return SB_ENOMEM;
        /* the format is the script's own text, checked for length at check time */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = localtime_r(&now, &tm) ? strftime(buf, 256, fmt, &tm) : 0;
#pragma GCC diagnostic pop
    sb__val_str(out, (sb_str){buf, n});
    return 0;
}

static int get_env(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)ctx, (void)idx;
    char name[256];
    if (pv->sub.len >= sizeof(name))
        return 0;
    memcpy(name, pv->sub.p, pv->sub.len);
    name[pv->sub.len] = '\0';
    const char *v = getenv(name);
    if (v)
        sb__val_str(out, sb_str_cstr(v));
    return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

#define SUB (SB_PVF_SUB | SB_PVF_SUB_REQ)

const struct sb_pv_def sb__pv_var_defs[] = {
    [VX_RC] = {.name = "rc", .get = get_fact},
    [VX_RETCODE] = {.name = "retcode", .get = get_fact},
    [VX_ROUTE] = {.name = "route", .get = get_fact},
    [VX_CFG_LINE] = {.name = "cfg_line", .get = get_fact},
    [VX_MF] = {.name = "mf", .routes = SB_ROUTE_MSG, .get = get_fact, .set = set_flags},
    [VX_BF] = {.name = "bf", .routes = SB_ROUTE_MSG, .get = get_fact, .set = set_flags},
    [VX_TS] = {.name = "Ts", .get = get_fact},
    [VX_TSM] = {.name = "Tsm", .get = get_fact},
    [VX_TSTART] = {.name = "TS", .get = get_fact},
    [VX_RANDOM] = {.name = "RANDOM", .get = get_fact},
    [VX_PP] = {.name = "pp", .get = get_fact},
    {.name = "var", .flags = SUB, .fix_sub = fix_var, .get = get_var, .set = set_var},
    {.name = "avp",
     .flags = SUB | SB_PVF_INDEX,
     .fix_sub = sb_pv_avps_fix,
     .get = get_avp,
     .count = count_avp,
     .set = set_avp},
    {.name = "param", .flags = SUB | SB_PVF_SUB_DYN, .fix_sub = fix_num, .get = get_param},
    {.name = "return", .flags = SUB | SB_PVF_SUB_DYN, .fix_sub = fix_num, .get = get_return},
    {.name = "time", .flags = SUB, .fix_sub = fix_time, .get = get_time},
    {.name = "env", .flags = SUB, .get = get_env},
    {.name = NULL},
};
