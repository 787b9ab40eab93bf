/* SPDX-License-Identifier: BSD-2-Clause */
/* The routing script: pseudo-variables, transformations, format strings, and the compiled script
 * (load, check, run, reload). */
#ifndef SB_SCRIPT_H
#define SB_SCRIPT_H

#include <stdio.h>

#include "sb/diag.h"
#include "sb/mod-t.h"

/* ---- pseudo-variables ---------------------------------------------------------------------- */

/* Index of $(name[idx]): a number (negative counts from the end), or one of these. */
#define SB_PV_IDX_NONE   INT32_MIN       /* no index given */
#define SB_PV_IDX_ALL    (INT32_MIN + 1) /* [*] */
#define SB_PV_IDX_APPEND (INT32_MIN + 2) /* [append] */

enum {
    SB_PVF_SUB = 1 << 0,     /* takes a (subname): $hdr(Via), $avp(x) */
    SB_PVF_SUB_REQ = 1 << 1, /* the subname is mandatory */
    SB_PVF_INDEX = 1 << 2,   /* supports [n] and [*]; needs count() */
    SB_PVF_SUB_DYN = 1 << 3, /* the subname may be a variable ($hdr($var(h))): get/set then see
                                pv->sub set to its value and pv->fixed == NULL */
};

/* A pseudo-variable class: $name. Getters and setters run in a worker, on <ctx>. */
struct sb_pv_def {
    const char *name;
    uint32_t flags;  /* SB_PVF_* */
    uint32_t routes; /* SB_ROUTE_* where it may be used; 0 = anywhere */
    /* Check time, optional: validate and precompute a constant subname ("Via" -> header type). */
    int (*fix_sub)(struct sb_fixup *fx, sb_str sub, void **fixed);
    /* Read the value at <idx> (SB_PV_IDX_NONE: the default value, usually the first). Sets *out
     * (SB_VAL_NULL when absent) and returns 0, or < 0 on error. Strings may borrow from the
     * message or be made in ctx->scratch. The engine resolves negative indexes and [*] through
     * count(), so <idx> is SB_PV_IDX_NONE or >= 0 here. */
    int (*get)(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out);
    /* Number of values, for [*], negative indexes and for-in loops; NULL when single-valued. */
    int (*count)(struct sb_sctx *ctx, const struct sb_pv *pv);
    /* Write with assignment operator <op> (SB_OP_SET or SB_OP_SET_ALL; see script/ast.h: the
     * engine turns += and friends into a read and an SB_OP_SET); a SB_VAL_NULL value deletes.
     * pv->idx is resolved (SB_PV_IDX_NONE, >= 0, SB_PV_IDX_ALL or SB_PV_IDX_APPEND). NULL when
     * read-only. Returns 0 or < 0. */
    int (*set)(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v);
};

struct sb_tr;

/* A compiled pseudo-variable reference: $(<ctx>name(sub)[idx]{tr}...). Lives in the script. */
struct sb_pv {
    const struct sb_pv_def *def;
    sb_str text;                /* as written, for messages and dumps */
    sb_str sub;                 /* constant subname, or empty */
    const struct sb_pv *sub_pv; /* dynamic subname $hdr($var(h)), or NULL */
    void *fixed;                /* def->fix_sub result */
    int32_t idx;                /* constant index or SB_PV_IDX_* */
    const struct sb_pv *idx_pv; /* dynamic index $(avp(x)[$var(i)]), or NULL */
    bool reply_ctx;             /* $(<reply>...) */
    bool request_ctx;           /* $(<request>...) */
    uint8_t n_trs;
    const struct sb_tr *trs; /* transformations, applied in order */
};

/* Parse the pseudo-variable at the start of <text> ("$ru", "$(hdr(X)[2]{s.len})") into <out>.
 * Copies <text> into <a> (the script's arena), which the result then borrows from; $var/$avp
 * names are interned process-wide. Reports problems through <fx> with columns relative to it.
 * Returns the number of bytes consumed (> 0) or < 0. Check time (control thread). */
int sb_pv_parse(sb_str text, struct sb_pv *out, struct sb_arena *a, struct sb_fixup *fx);
/* Read: applies the index and the transformations. */
int sb_pv_get(struct sb_sctx *ctx, const struct sb_pv *pv, struct sb_val *out);
/* Write (SB_OP_SET, SB_OP_SET_ALL, and the compound SB_OP_ADD_SET ... SB_OP_XOR_SET, which are
 * done here as read, compute, SB_OP_SET). Returns SB_EINVAL for a read-only variable or one with
 * transformations. */
int sb_pv_set(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v);
/* Number of values (1 for single-valued, 0 when absent). */
int sb_pv_count(struct sb_sctx *ctx, const struct sb_pv *pv);
/* Read the value at an explicit index (for-in loops). */
int sb_pv_get_at(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out);
/* Register a module's pseudo-variables (called by the module layer for loaded modules). */
int sb_pv_register(const struct sb_pv_def *defs);
const struct sb_pv_def *sb_pv_lookup(sb_str name);
/* Release what this thread holds for the engine: its $var values and its digest and regex match
 * state. A worker calls it when it exits; the next use in the thread starts afresh. */
void sb_pv_worker_exit(void);

/* $avp semantics over an AVP list the caller chooses, for variables whose values live elsewhere
 * than the execution's list (tm's $bavp keeps one list per branch). A def built on them takes
 * SB_PVF_SUB | SB_PVF_SUB_REQ | SB_PVF_INDEX and sb_pv_avps_fix as fix_sub (it interns the name
 * into pv->fixed). get/count read <l> as $avp reads ctx->avps (NULL: no values); set writes as
 * $avp does (= pushes, := replaces all, [i] overwrites, [append] adds at the bottom, NULL
 * deletes) and returns SB_EINVAL when <l> is NULL. Worker thread, like the list's owner. */
struct sb_avps;
int sb_pv_avps_fix(struct sb_fixup *fx, sb_str sub, void **fixed);
int sb_pv_avps_get(const struct sb_avps *l, const struct sb_pv *pv, int32_t idx,
                   struct sb_val *out);
int sb_pv_avps_count(const struct sb_avps *l, const struct sb_pv *pv);
int sb_pv_avps_set(struct sb_sctx *ctx, struct sb_avps *l, const struct sb_pv *pv, int op,
                   const struct sb_val *v);

/* ---- the routing state of a request ------------------------------------------------------- */

/* The current Request-URI ($ru: the rewritten one, else the received one) and $du, as text (p ==
 * NULL when absent or when ctx carries no request) and parsed (NULL when absent or unparsable).
 * Worker thread. */
sb_str sb_ruri_get(struct sb_sctx *ctx);
const struct sb_uri *sb_ruri_parsed(struct sb_sctx *ctx);
sb_str sb_duri_get(struct sb_sctx *ctx);
const struct sb_uri *sb_duri_parsed(struct sb_sctx *ctx);
/* Replace them: <uri> is copied into the message arena and must parse as a URI (SB_EPARSE
 * otherwise, and nothing changes). uri.p == NULL: back to the received Request-URI / no $du. */
int sb_ruri_set(struct sb_sctx *ctx, sb_str uri);
int sb_duri_set(struct sb_sctx *ctx, sb_str uri);

/* ---- named flags ---------------------------------------------------------------------------- */

/* OpenSIPS 3 named flags: a name gets the lowest free bit the first time it is seen, in one
 * process-wide table for message flags and one for branch flags, so that a module reading a flag
 * name from a modparam (usrloc "nat_bflag", "NATED") agrees with the script's setbflag("NATED").
 * A decimal "0".."31" is that bit. Returns the bit, SB_ENOENT for an unknown name when <create>
 * is false, SB_ENOSPC when 32 names are taken. Any thread. */
int sb_mflag_bit(sb_str name, bool create);
int sb_bflag_bit(sb_str name, bool create);
/* tcp_no_new_conn_bflag: do branch flags <bflags> ask that the request go over a stream only on a
 * connection already open (never connecting)? False when <c> is NULL or does not set the global.
 * Any thread. */
struct sb_core_cfg;
bool sb_core_no_new_conn(const struct sb_core_cfg *c, uint32_t bflags);

/* ---- transformations ----------------------------------------------------------------------- */

#define SB_TR_MAX_ARGS 4

struct sb_tr_def {
    const char *cls;            /* "s", "uri", "param", "nameaddr", "via", "ip", "csv", "re" */
    const char *name;           /* "len", "substr", "user" ... */
    uint8_t min_args, max_args; /* the last argument takes the rest, commas included */
    /* Transform *v in place; new strings go to ctx->scratch. *v may be SB_VAL_NULL on entry.
     * Returns 0, or < 0 (the value then becomes NULL and the chain stops, as OpenSIPS does on a
     * failed transformation). */
    int (*apply)(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v);
    /* Check time, optional: precompute from constant arguments (a compiled regex ...) into
     * tr->fixed. On entry tr->fixed holds the script's arena (struct sb_arena *) for whatever
     * must live as long as the script; left unchanged, it is reset to NULL. Returns 0 or < 0
     * after reporting through <fx>. */
    int (*fix)(struct sb_fixup *fx, struct sb_tr *tr);
};

struct sb_tr {
    const struct sb_tr_def *def;
    uint8_t n_args;
    struct {
        struct sb_val v;        /* constant argument */
        const struct sb_pv *pv; /* or a variable, evaluated at run time */
    } args[SB_TR_MAX_ARGS];
    void *fixed;
};

int sb_tr_register(const struct sb_tr_def *defs);
/* Evaluate argument <i> of <tr> for this execution (SB_ENOENT past the last one). A constant
 * that reads as a number comes as SB_VAL_INT whose .s still holds the text as written. */
int sb_tr_arg(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned i, struct sb_val *out);

/* ---- format strings ------------------------------------------------------------------------ */

struct sb_fmt; /* "text $pv more $(pv{tr})": compiled once, expanded per execution */

/* Compile <text>; "$$" is a literal '$'. A text without variables compiles to a constant. */
int sb_fmt_compile(sb_str text, struct sb_fmt **out, struct sb_arena *a, struct sb_fixup *fx);
/* Expand into ctx->scratch (a constant format returns its text without copying). NULL values
 * expand to "<null>" as OpenSIPS's xlog does. */
int sb_fmt_expand(struct sb_sctx *ctx, const struct sb_fmt *f, sb_str *out);
bool sb_fmt_is_const(const struct sb_fmt *f);

/* ---- values -------------------------------------------------------------------------------- */

/* OpenSIPS conversions: a string is a number when it is all digits (with a sign); NULL is 0. */
bool sb_val_to_int(const struct sb_val *v, int32_t *out);
/* Render as a string (ints into ctx->scratch). */
int sb_val_to_str(struct sb_sctx *ctx, const struct sb_val *v, sb_str *out);
/* Truthiness in conditions: non-NULL and non-zero / non-empty. */
bool sb_val_is_true(const struct sb_val *v);

/* ---- the compiled script ------------------------------------------------------------------- */

struct sb_script;

/* Read, check and compile the configuration at <path>. Every problem goes to <d>
 * (file:line:col); returns 0 and *out, or < 0 when <d> holds errors. Control thread. */
int sb_script_load(const char *path, struct sb_diag *d, struct sb_script **out);
int sb_script_load_text(const char *name, const char *text, size_t len, struct sb_diag *d,
                        struct sb_script **out);
void sb_script_free(struct sb_script *s);

/* Reload (reload_routes): read, check and compile a new script to replace <live>. Module
 * parameters are applied at the first load only: here modparam lines are skipped, the module set
 * is <live>'s (a loadmodule naming a module <live> does not load is an error) and no module
 * lifecycle hook runs. Global parameters are read again into the new script; those fixed at
 * startup (sockets, workers) keep their running values. With <live> NULL these are
 * sb_script_load / sb_script_load_text. <live> is not modified. Control thread. */
int sb_script_load_routes(const char *path, const struct sb_script *live, struct sb_diag *d,
                          struct sb_script **out);
int sb_script_load_routes_text(const char *name, const char *text, size_t len,
                               const struct sb_script *live, struct sb_diag *d,
                               struct sb_script **out);

/* Route lookup: index of the route of <type> named <name> (empty name: the main route of that
 * type), or -1. */
int sb_script_route(const struct sb_script *s, uint32_t type, sb_str name);
/* Run route <idx> of <type> on <ctx> (ctx->msg may be NULL for startup/timer/event routes).
 * Returns the route's result; ctx->rc holds $rc. Worker thread; no heap allocation. */
sb_res sb_script_run(struct sb_sctx *ctx, uint32_t type, int idx);

/* The routes of <type>: how many, and the name of each (index 0 .. n-1; "" for the main route
 * of the type), for the runtime to arm timer routes and find event routes. */
unsigned sb_script_n_routes(const struct sb_script *s, uint32_t type);
const char *sb_script_route_name(const struct sb_script *s, uint32_t type, int idx);
/* timer_route[name, secs]: the interval of timer route <idx> in seconds, or -1. */
int sb_script_timer_interval(const struct sb_script *s, int idx);

/* The modules the script loads, in dependency order (for sb_modset_start and friends). */
struct sb_modset;
const struct sb_modset *sb_script_modset(const struct sb_script *s);

/* Release what the calling worker thread holds for running scripts (its cache of regular
 * expressions compiled at run time). Called when a worker exits. */
void sb_script_worker_exit(void);

/* Print the compiled tree (switchboard --dump-script). */
void sb_script_dump(const struct sb_script *s, FILE *out);

/* Global parameters read from the script (socket=, log_level= ...). */
struct sb_core_cfg;
const struct sb_core_cfg *sb_script_core(const struct sb_script *s);

#endif
