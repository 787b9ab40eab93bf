/* SPDX-License-Identifier: BSD-2-Clause */
/* The module interface: one struct per module, filled with designated initialisers. Types only.
 * See docs/internals/modules.md for how to write a module. */
#ifndef SB_MOD_T_H
#define SB_MOD_T_H

#include "sb/script-t.h"

struct sb_pv;
struct sb_diag;
struct sb_mi_cmd;   /* management interface: defined by the MI layer */
struct sb_stat_def; /* statistics: include/sb/stats.h */

/* ---- script functions ---------------------------------------------------------------------- */

enum sb_arg_kind {
    SB_ARG_INT = 1, /* integer: a literal, or any expression evaluated at run time */
    SB_ARG_STR,     /* string: a literal, a format string ("$fU@$fd", expanded at run time), or any
                       expression */
    SB_ARG_VAR,   /* an output variable: an unquoted writable pseudo-variable ($var(x), $avp(y)) */
    SB_ARG_REGEX, /* a regular expression (PCRE2), compiled once when constant */
    SB_ARG_ANY,   /* whatever the expression yields, int or string */
};

enum {
    SB_ARGF_OPT = 1 << 0,       /* may be omitted (trailing) or given empty */
    SB_ARGF_STATIC = 1 << 1,    /* must be a constant: fixed up once at check time */
    SB_ARGF_NO_EXPAND = 1 << 2, /* a string literal is taken as is: '$' has no meaning */
};

/* Check-time context handed to fixups: where the argument is, to report errors. */
struct sb_fixup {
    struct sb_diag *diag;
    const char *file;
    uint32_t line, col;
    const char *fn_name;
    uint32_t arg_no; /* 1-based */
};

struct sb_arg_spec {
    uint8_t kind;  /* enum sb_arg_kind */
    uint8_t flags; /* SB_ARGF_* */
    /* Optional: runs once at check time on a constant argument and returns what the function
     * will find in sb_arg.fixed (a parsed flag set, a compiled table reference ...). Returns 0, or
     * a negative value after reporting the problem with sb_fixup_error(). A fixup on a
     * non-constant argument is a check-time error unless the function also handles raw values. */
    int (*fixup)(struct sb_fixup *fx, const struct sb_val *in, void **out);
    void (*free_fixup)(void *fixed);
};

/* An argument as the function receives it, evaluated for this execution. */
struct sb_arg {
    bool present;            /* false for an omitted optional argument */
    struct sb_val v;         /* SB_ARG_INT/STR/ANY: the value (strings valid for this execution) */
    void *fixed;             /* the fixup's result, NULL when there is no fixup */
    const struct sb_pv *var; /* SB_ARG_VAR: write with sb_pv_set() */
    const void *regex;       /* SB_ARG_REGEX: a pcre2_code * */
};

typedef sb_res (*sb_script_fn)(struct sb_sctx *ctx, const struct sb_arg *args);

struct sb_mod_fn {
    const char *name;
    sb_script_fn fn;
    uint8_t n_args; /* arguments declared in <args> */
    struct sb_arg_spec args[SB_SCRIPT_MAX_ARGS];
    uint32_t routes; /* SB_ROUTE_* where the call is allowed */
    bool is_async;
};

/* ---- module parameters --------------------------------------------------------------------- */

enum sb_mparam_type {
    SB_MP_INT = 1, /* int at <offset> of the module's conf struct */
    SB_MP_STR,     /* char * at <offset>: a heap copy owned by the module layer */
    SB_MP_FUNC,    /* <set> is called for every occurrence (repeatable parameters, lists) */
};

struct sb_mod_param {
    const char *name;
    uint8_t type;    /* enum sb_mparam_type */
    uint8_t accepts; /* SB_MP_FUNC: which value types are accepted: 1 << SB_VAL_INT | ... */
    size_t offset;   /* SB_MP_INT / SB_MP_STR */
    /* SB_MP_FUNC: take <v>; return 0, or a negative value with <err> pointing at a static
     * message ("unknown mode 'x'") that the loader reports at the modparam's location. */
    int (*set)(const struct sb_val *v, const char **err);
};

/* ---- module pseudo-variables and transformations ------------------------------------------- */

struct sb_pv_def;
struct sb_tr_def;

/* ---- the module ---------------------------------------------------------------------------- */

struct sb_module {
    const char *name;                  /* as in loadmodule "name.so" */
    const char *summary;               /* one line, for `switchboard -M` and docs */
    const char *const *deps;           /* modules that must be loaded first, NULL-terminated */
    void *conf;                        /* base of the parameter struct (offsetof bindings) */
    const struct sb_mod_param *params; /* terminated by an entry with name == NULL */
    const struct sb_mod_fn *fns;       /* terminated by an entry with name == NULL */
    const struct sb_pv_def *pvs;       /* terminated by an entry with name == NULL */
    const struct sb_tr_def *trs;       /* terminated by an entry with name == NULL */
    const struct sb_mi_cmd *mi;        /* terminated by an entry with name == NULL */
    const struct sb_stat_def *stats;   /* terminated by an entry with name == NULL */
    /* Lifecycle, all optional. init: after the config is loaded and checked, before workers start
     * (control thread); init_worker / exit_worker: in each worker thread; destroy: at shutdown.
     * reload_check may refuse a new script (return < 0 with a log line); reload_commit adopts it.
     */
    int (*init)(void);
    int (*init_worker)(unsigned worker);
    void (*exit_worker)(unsigned worker);
    void (*destroy)(void);
    int (*reload_check)(const struct sb_script *next);
    void (*reload_commit)(const struct sb_script *next);
};

#endif
