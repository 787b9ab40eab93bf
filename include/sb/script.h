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
    SB_PVF_INDEX = 1 << 2,   /* supports [n] and [*] */
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
     * message or be made in ctx->scratch. */
    int (*get)(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out);
    /* Number of values, for [*], negative indexes and for-in loops; NULL when single-valued. */
    int (*count)(struct sb_sctx *ctx, const struct sb_pv *pv);
    /* Write with assignment operator <op> (SB_OP_SET, SB_OP_SET_ALL ...; see script/ast.h); a
     * SB_VAL_NULL value deletes. NULL when read-only. Returns 0 or < 0. */
    int (*set)(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v);
};

struct sb_tr;

/* A compiled pseudo-variable reference: $(<ctx>name(sub)[idx]{tr}...). Lives in the script. */
struct sb_pv {
    const struct sb_pv_def *def;
    sb_str text;               /* as written, for messages and dumps */
    sb_str sub;                /* constant subname, or empty */
    const struct sb_pv *sub_pv; /* dynamic subname $hdr($var(h)), or NULL */
    void *fixed;               /* def->fix_sub result */
    int32_t idx;               /* constant index or SB_PV_IDX_* */
    const struct sb_pv *idx_pv; /* dynamic index $(avp(x)[$var(i)]), or NULL */
    bool reply_ctx;            /* $(<reply>...) */
    uint8_t n_trs;
    const struct sb_tr *trs;   /* transformations, applied in order */
};

/* Parse the pseudo-variable at the start of <text> ("$ru", "$(hdr(X)[2]{s.len})") into <out>.
 * Allocates in <a> (the script's arena). Reports problems through <fx>. Returns the number of
 * bytes consumed (> 0) or < 0. */
int sb_pv_parse(sb_str text, struct sb_pv *out, struct sb_arena *a, struct sb_fixup *fx);
/* Read: applies the index and the transformations. */
int sb_pv_get(struct sb_sctx *ctx, const struct sb_pv *pv, struct sb_val *out);
/* Write (SB_OP_SET, SB_OP_SET_ALL ...). Returns SB_EINVAL for a read-only variable. */
int sb_pv_set(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v);
/* Number of values (1 for single-valued, 0 when absent). */
int sb_pv_count(struct sb_sctx *ctx, const struct sb_pv *pv);
/* Read the value at an explicit index (for-in loops). */
int sb_pv_get_at(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out);
/* Register a module's pseudo-variables (called by the module layer for loaded modules). */
int sb_pv_register(const struct sb_pv_def *defs);
const struct sb_pv_def *sb_pv_lookup(sb_str name);

/* ---- transformations ----------------------------------------------------------------------- */

#define SB_TR_MAX_ARGS 4

struct sb_tr_def {
    const char *cls;  /* "s", "uri", "param", "nameaddr", "via", "ip", "csv", "re" */
    const char *name; /* "len", "substr", "user" ... */
    uint8_t min_args, max_args;
    /* Transform *v in place; new strings go to ctx->scratch. Returns 0, or < 0 (the value then
     * becomes NULL, as OpenSIPS does on a failed transformation). */
    int (*apply)(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v);
    /* Check time, optional: precompute from constant arguments (a compiled regex ...). */
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
/* Evaluate argument <i> of <tr> for this execution. */
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

/* Route lookup: index of the route of <type> named <name> (empty name: the main route of that
 * type), or -1. */
int sb_script_route(const struct sb_script *s, uint32_t type, sb_str name);
/* Run route <idx> of <type> on <ctx> (ctx->msg may be NULL for startup/timer/event routes).
 * Returns the route's result; ctx->rc holds $rc. Worker thread; no heap allocation. */
sb_res sb_script_run(struct sb_sctx *ctx, uint32_t type, int idx);

/* Print the compiled tree (switchboard --dump-script). */
void sb_script_dump(const struct sb_script *s, FILE *out);

/* Global parameters read from the script (socket=, log_level= ...). */
struct sb_core_cfg;
const struct sb_core_cfg *sb_script_core(const struct sb_script *s);

#endif
