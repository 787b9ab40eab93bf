/* SPDX-License-Identifier: BSD-2-Clause */
/* The compiled script: expression and action trees with resolved functions, precompiled formats,
 * regexes and variables, route tables. Built once by the checker/compiler, read-only afterwards.
 * Internal to src/core/script (script.c, compile*.c, check.c, exec*.c, dump.c, match.c). */
#ifndef SB_SCRIPT_ACTION_H
#define SB_SCRIPT_ACTION_H

#include "ast.h"
#include "sb/core_cfg.h"
#include "sb/mod.h"
#include "sb/script.h"

/* ---- expressions --------------------------------------------------------------------------- */

enum sb__ex_kind {
    SB__EX_CONST = 1, /* u.c */
    SB__EX_PV,        /* u.pv */
    SB__EX_CALL,      /* u.call: a function; the value is its result code */
    SB__EX_ROUTE,     /* u.route: route(name, ...) used as a value: its return code */
    SB__EX_UNOP,      /* op (SB_OP_NOT / NEG / BNOT); u.bin.a */
    SB__EX_BINOP,     /* op; u.bin.a, u.bin.b (&& and || short-circuit) */
    SB__EX_MATCH,     /* op (SB_OP_MATCH / NMATCH); u.match: subject and a precompiled pattern */
    SB__EX_CIDR,      /* op (SB_OP_EQ / NE); u.cidr: subject and a network */
    SB__EX_ARITH,     /* [ expr ]: u.bin.a taken as a number */
};

/* An IPv4 or IPv6 network; a plain address is a /32 or /128. */
struct sb__ipnet {
    uint8_t af;   /* 4 or 6 */
    uint8_t bits; /* prefix length */
    uint8_t addr[16];
};

struct sb__call;
struct sb__rcall;

struct sb__expr {
    uint8_t kind; /* enum sb__ex_kind */
    uint8_t op;   /* enum sb_ast_op */
    uint32_t line;
    const char *file;
    union {
        struct sb_val c;
        const struct sb_pv *pv;
        const struct sb__call *call;
        const struct sb__rcall *route;
        struct {
            const struct sb__expr *a, *b;
        } bin;
        struct {
            const struct sb__expr *a;
            const void *re; /* pcre2_code *, caseless */
            sb_str pat;     /* as written, for dumps */
        } match;
        struct {
            const struct sb__expr *a;
            struct sb__ipnet net;
        } cidr;
    } u;
};

/* ---- function and route calls -------------------------------------------------------------- */

enum sb__arg_mode {
    SB__ARG_ABSENT = 0, /* an omitted optional argument */
    SB__ARG_CONST,      /* c (and fixed / re when the spec asks for them) */
    SB__ARG_FMT,        /* fmt, expanded per call into a string */
    SB__ARG_EXPR,       /* expr, evaluated per call and converted to the spec's kind */
    SB__ARG_VAR,        /* var: an output variable */
};

struct sb__carg {
    uint8_t mode; /* enum sb__arg_mode */
    uint8_t kind; /* enum sb_arg_kind of the spec */
    struct sb_val c;
    const struct sb_fmt *fmt;
    const struct sb__expr *expr;
    const struct sb_pv *var;
    void *fixed;
    const void *re;
    sb_str text; /* a string literal as written (formats), for dumps */
};

struct sb__call {
    const struct sb_mod_fn *fn;
    const struct sb_module *mod;
    uint8_t n; /* fn->n_args */
    struct sb__carg args[];
};

/* route(name, args...): idx into the request route table, or a dynamic name. */
struct sb__rcall {
    int32_t idx;                 /* -1: dynamic */
    const struct sb__expr *name; /* dynamic: evaluated per call */
    uint8_t n;
    const struct sb__expr *args[]; /* values for $param(1..n) */
};

/* ---- actions ------------------------------------------------------------------------------- */

enum sb__act_kind {
    SB__A_CALL = 1, /* u.call */
    SB__A_ROUTE,    /* u.route */
    SB__A_EXPR,     /* u.expr: evaluated for its effects */
    SB__A_IF,       /* u.cond: cond, then, els */
    SB__A_WHILE,    /* u.cond: cond, then (body) */
    SB__A_FOR,      /* u.loop */
    SB__A_SWITCH,   /* u.sw */
    SB__A_BREAK,
    SB__A_ASSIGN, /* op; u.assign */
    SB__A_RETURN, /* u.ret */
    SB__A_EXIT,
    SB__A_DROP,
    SB__A_ASSERT, /* u.assert */
    SB__A_ASYNC,  /* u.async: the function, then the resume route */
};

struct sb__switch;

struct sb__act {
    uint8_t kind; /* enum sb__act_kind */
    uint8_t op;   /* SB__A_ASSIGN: enum sb_ast_op */
    uint32_t line;
    const char *file;
    const struct sb__act *next;
    union {
        const struct sb__call *call;
        const struct sb__rcall *route;
        const struct sb__expr *expr;
        struct {
            const struct sb__expr *cond;
            const struct sb__act *then, *els;
        } cond;
        struct {
            const struct sb_pv *it, *list;
            const struct sb__act *body;
        } loop;
        const struct sb__switch *sw;
        struct {
            const struct sb_pv *dst;
            const struct sb__expr *val;
        } assign;
        struct {
            const struct sb__expr *code; /* NULL: return; (code 1) */
            uint8_t n;
            const struct sb__expr *const *vals;
        } ret;
        struct {
            const struct sb__expr *cond;
            sb_str text;
        } assert;
        struct {
            const struct sb__call *call;
            const struct sb__rcall *resume;
        } async;
    } u;
};

/* switch: every case body chained in source order (fall-through is following <next>); a case
 * points at the first action it runs (NULL: none, the end of the switch). */
struct sb__case {
    uint8_t type; /* SB_VAL_INT, SB_VAL_STR, or SB_VAL_NULL for default */
    int32_t i;
    sb_str s;
    bool s_num; /* a string case that reads as a number (s_i) */
    int32_t s_i;
    const struct sb__act *at;
};

struct sb__switch {
    const struct sb__expr *subject;
    const struct sb__act *body;
    uint32_t n_cases;
    const struct sb__case *cases; /* source order, for dumps */
    uint32_t n_ints, n_strs;
    const struct sb__case *const *ints; /* int cases sorted by value */
    const struct sb__case *const *strs; /* string cases sorted by (length, bytes) */
    const struct sb__case *dflt;        /* NULL: no default */
};

/* ---- routes and the script ----------------------------------------------------------------- */

#define SB__ROUTE_TYPES 9 /* bits of enum sb_route_type */

struct sb__route {
    const char *name;    /* NUL-terminated; "" for the main route of its type */
    const char *label;   /* "route[relay]", "startup_route": messages and dumps */
    const char *pv_name; /* $route: the name, or the type keyword of an unnamed route */
    uint32_t type;       /* one SB_ROUTE_* bit */
    int32_t interval;    /* timer_route */
    const char *file;
    uint32_t line, col;
    const struct sb__act *body;
    /* check time only */
    uint32_t reach; /* top-level route types this route runs under */
    bool called;    /* by route() */
    bool named;     /* its name appears as a function argument (a module hook) */
};

struct sb__rtable {
    struct sb__route *v;
    uint32_t n;
};

/* Something to release with the script: a fixup result or a compiled regex. */
struct sb__owned {
    struct sb__owned *next;
    void (*free_fn)(void *);
    void *p;
};

struct sb_script {
    struct sb_arena arena; /* the whole compiled tree, strings, names */
    struct sb_core_cfg core;
    struct sb_modset mods;
    struct sb__rtable routes[SB__ROUTE_TYPES];
    struct sb__owned *owned;
    const char *main_file; /* interned */
};

static inline unsigned sb__rtype_index(uint32_t type)
{
    return type ? (unsigned)__builtin_ctz(type) : 0;
}
/* "route", "failure_route" ... for one SB_ROUTE_* bit. */
const char *sb__rtype_name(uint32_t type);

/* ---- check and compile (compile.c, compile_expr.c, check.c) -------------------------------- */

struct sb__edge {
    struct sb__route *from, *to;
};

/* A use that is allowed only in some route types: a function or a pseudo-variable. */
struct sb__site {
    struct sb__route *route;
    uint32_t allowed; /* SB_ROUTE_* */
    const char *what; /* "function 't_relay'", "variable '$T_reply_code'" (in the arena) */
    struct sb_loc loc;
};

/* Compiler state for one script. */
struct sb__cc {
    struct sb_script *s;
    struct sb_diag *d;
    struct sb__route *route; /* being compiled */
    unsigned breakable;      /* loops and switches around the current statement */
    struct sb__edge *edges;  /* heap, freed after the check */
    uint32_t n_edges, cap_edges;
    struct sb__site *sites; /* heap */
    uint32_t n_sites, cap_sites;
    bool dynamic_routes; /* route($var) somewhere: any named route may run */
    int oom;
    const char *file_in, *file_out; /* last file name interned */
};

/* Compile the body of route <r> (an SB_AST_BLOCK). Errors go to cc->d. */
void sb__compile_route(struct sb__cc *cc, struct sb__route *r, const struct sb_ast *body);
/* An expression; NULL after an error was reported. */
const struct sb__expr *sb__compile_expr(struct sb__cc *cc, const struct sb_ast *e);
/* A function call (resolved against the modules) or NULL after an error. */
const struct sb__call *sb__compile_call(struct sb__cc *cc, const struct sb_ast *e);
/* route(name, args...) or NULL after an error. */
const struct sb__rcall *sb__compile_rcall(struct sb__cc *cc, const struct sb_ast *e);
/* A pseudo-variable reference; NULL after an error. */
const struct sb_pv *sb__compile_pv(struct sb__cc *cc, const struct sb_ast *e);
/* Route-type validity through sub-routes, unused routes. After every route is compiled. */
void sb__check_routes(struct sb__cc *cc);

/* Find a route of <type> by name in the script's tables. */
struct sb__route *sb__route_find(const struct sb_script *s, uint32_t type, sb_str name);
/* Copy <n> bytes into the script arena as a NUL-terminated string. */
char *sb__cc_strdup(struct sb__cc *cc, const char *p, size_t n);
void *sb__cc_alloc(struct sb__cc *cc, size_t n);
/* Remember something to release with the script. */
void sb__cc_own(struct sb__cc *cc, void (*free_fn)(void *), void *p);
int sb__cc_site(struct sb__cc *cc, uint32_t allowed, const char *what, const struct sb_loc *loc);
/* Report an error / a warning at the position of <at>. */
void sb__cc_error(struct sb__cc *cc, const struct sb_ast *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sb__cc_warn(struct sb__cc *cc, const struct sb_ast *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A route() edge from the route being compiled; <to> NULL: a dynamic call. */
int sb__cc_edge(struct sb__cc *cc, struct sb__route *to);
/* A file name of the syntax tree, interned for the life of the process (compiled actions and
 * diagnostics keep it after the syntax tree is freed). */
const char *sb__cc_file(struct sb__cc *cc, const char *file);
const char *sb__script_file(const char *file);

/* ---- values and operators (ops.c): shared by constant folding and the interpreter ---------- */

/* a <op> b for the arithmetic, bitwise, concatenation and comparison operators (not && ||).
 * Returns 0, or < 0 with *why set to a static reason ("division by zero", "'x' is not a
 * number"); SB_ENOMEM when scratch is exhausted. */
int sb__op_binary(struct sb_sctx *ctx, int op, const struct sb_val *a, const struct sb_val *b,
                  struct sb_val *out, const char **why);
int sb__op_unary(int op, const struct sb_val *a, struct sb_val *out, const char **why);
/* Comparison (== != < > <= >=) following OpenSIPS: ints numerically, strings bytewise, an int
 * against a numeric string as ints, NULL equal only to NULL. */
bool sb__val_compare(int op, const struct sb_val *a, const struct sb_val *b);
/* Compound assignment operator (+=) to its binary operator (+). */
int sb__assign_binop(int op);

/* ---- regexes and networks (match.c) -------------------------------------------------------- */

#define SB__RE_CASELESS 1u

/* Compile <pat> with PCRE2. Returns the code, or NULL with the PCRE2 message in <err> and the
 * offset of the fault in *erroff. */
void *sb__re_compile(sb_str pat, unsigned flags, char *err, size_t errlen, size_t *erroff);
void sb__re_free(void *code);
/* 1 on a match, 0 on none, < 0 on an error. Uses this thread's match data. */
int sb__re_match(const void *code, sb_str subject);
/* A pattern known only at run time: compiled once into this thread's small cache. NULL when it
 * does not compile (logged). */
const void *sb__re_cached(sb_str pat, unsigned flags);
/* Release this thread's cache and match data. */
void sb__re_thread_exit(void);

/* "10.0.0.0/8", "::1", "2001:db8::/32". Returns 0 or SB_EPARSE. */
int sb__ipnet_parse(sb_str text, struct sb__ipnet *out);
/* Is the textual address <ip> ("10.1.2.3", "[::1]", "::1") inside <net>? */
bool sb__ipnet_match(const struct sb__ipnet *net, sb_str ip);

/* ---- tests --------------------------------------------------------------------------------- */

/* Test hook: when set, every script loaded afterwards also loads this module, as if by
 * loadmodule (tests register functions without adding a module to the build). Control thread. */
extern const struct sb_module *sb__script_extra_module;

#endif
