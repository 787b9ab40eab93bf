/* SPDX-License-Identifier: BSD-2-Clause */
/* Compiler, calls: module functions resolved against the loaded modules (arity, argument kinds,
 * formats, regexes, output variables, fixups run once) and route() calls resolved to indexes. */
#include <stdio.h>
#include <string.h>

#include "action.h"
#include "sb/base.h"

static bool lit_is_str(const struct sb_ast *a)
{
    return a->kind == SB_AST_STR || a->kind == SB_AST_ID || a->kind == SB_AST_IPNET;
}

/* A string literal argument as a format: constant text when it has no variables. */
static int arg_format(struct sb__cc *cc, const struct sb_mod_fn *fn, unsigned i,
                      const struct sb_ast *a, struct sb__carg *out)
{
    char *text = sb__cc_strdup(cc, a->str.p, a->str.len);
    if (!text)
        return SB_ENOMEM;
    out->text = (sb_str){text, a->str.len};
    struct sb_fixup fx = {.diag = cc->d,
                          .file = sb__cc_file(cc, a->loc.file),
                          .line = a->loc.line,
                          .col = a->loc.col,
                          .fn_name = fn->name,
                          .arg_no = i + 1};
    struct sb_fmt *f = NULL;
    unsigned before = cc->d->n_errors;
    if (sb_fmt_compile(out->text, &f, &cc->s->arena, &fx) < 0 || !f) {
        if (cc->d->n_errors == before)
            sb__cc_error(cc, a, "argument %u of '%s': bad format string", i + 1, fn->name);
        return SB_EPARSE;
    }
    if (!sb_fmt_is_const(f)) {
        out->mode = SB__ARG_FMT;
        out->fmt = f;
        return 0;
    }
    struct sb_sctx ctx = {.scratch = &cc->s->arena};
    sb_str s;
    if (sb_fmt_expand(&ctx, f, &s) < 0)
        return SB_ENOMEM;
    out->mode = SB__ARG_CONST;
    out->c = (struct sb_val){.type = SB_VAL_STR, .s = s};
    return 0;
}

/* A constant for an SB_ARG_INT argument: numbers, and strings that read as numbers. */
static int arg_int_const(struct sb__cc *cc, const struct sb_mod_fn *fn, unsigned i,
                         const struct sb_ast *at, struct sb__carg *out)
{
    int32_t n;
    if (!sb_val_to_int(&out->c, &n)) {
        sb__cc_error(cc, at, "argument %u of '%s' must be an integer", i + 1, fn->name);
        return SB_EINVAL;
    }
    out->c = (struct sb_val){.type = SB_VAL_INT, .i = n};
    return 0;
}

static int arg_regex(struct sb__cc *cc, const struct sb_mod_fn *fn, unsigned i,
                     const struct sb_ast *at, struct sb__carg *out)
{
    char err[128];
    size_t off = 0;
    void *re = sb__re_compile(out->c.s, 0, err, sizeof(err), &off);
    if (!re) {
        sb__cc_error(cc, at,
                     "argument %u of '%s': bad regular expression: %s at "
                     "offset %zu",
                     i + 1, fn->name, err, off);
        return SB_EPARSE;
    }
    sb__cc_own(cc, sb__re_free, re);
    out->re = re;
    return 0;
}

/* Anything else than a literal: an expression, constant after folding or evaluated per call. */
static int arg_expr(struct sb__cc *cc, const struct sb_ast *a, struct sb__carg *out)
{
    const struct sb__expr *e = sb__compile_expr(cc, a);
    if (!e)
        return SB_EPARSE;
    if (e->kind == SB__EX_CONST) {
        out->mode = SB__ARG_CONST;
        out->c = e->u.c;
    } else {
        out->mode = SB__ARG_EXPR;
        out->expr = e;
    }
    return 0;
}

static int arg_value(struct sb__cc *cc, const struct sb_mod_fn *fn, unsigned i,
                     const struct sb_arg_spec *spec, const struct sb_ast *a, struct sb__carg *out)
{
    int rc;
    if (spec->kind == SB_ARG_VAR) {
        const struct sb_pv *pv = a->kind == SB_AST_PV ? sb__compile_pv(cc, a) : NULL;
        if (a->kind == SB_AST_PV && !pv)
            return SB_EPARSE;
        if (!pv || !pv->def->set || pv->n_trs) {
            sb__cc_error(cc, a, "argument %u of '%s' must be a writable variable", i + 1, fn->name);
            return SB_EINVAL;
        }
        out->mode = SB__ARG_VAR;
        out->var = pv;
        return 0;
    }
    if (a->kind == SB_AST_STR && spec->kind != SB_ARG_INT && spec->kind != SB_ARG_REGEX &&
        !(spec->flags & SB_ARGF_NO_EXPAND))
        rc = arg_format(cc, fn, i, a, out);
    else
        rc = arg_expr(cc, a, out);
    if (rc || out->mode != SB__ARG_CONST)
        return rc;
    switch (spec->kind) {
    case SB_ARG_INT: return arg_int_const(cc, fn, i, a, out);
    case SB_ARG_STR:
    case SB_ARG_REGEX:
        if (out->c.type != SB_VAL_STR) {
            struct sb_sctx ctx = {.scratch = &cc->s->arena};
            sb_str s;
            if (sb_val_to_str(&ctx, &out->c, &s) < 0)
                return SB_ENOMEM;
            out->c = (struct sb_val){.type = SB_VAL_STR, .s = s};
        }
        return spec->kind == SB_ARG_REGEX ? arg_regex(cc, fn, i, a, out) : 0;
    default: return 0;
    }
}

/* Route names given to functions (t_on_failure("x"), dlg_on_timeout("r") ...) mark the route as
 * used; the checker cannot know which route type a module will run it as. */
static void note_route_name(struct sb__cc *cc, const struct sb_val *v)
{
    if (v->type != SB_VAL_STR || v->s.len == 0)
        return;
    for (unsigned t = 0; t < SB__ROUTE_TYPES; t++) {
        struct sb__route *r = sb__route_find(cc->s, 1u << t, v->s);
        if (r)
            r->named = true;
    }
}

static int arg_fixup(struct sb__cc *cc, const struct sb_mod_fn *fn, unsigned i,
                     const struct sb_arg_spec *spec, const struct sb_ast *a, struct sb__carg *out)
{
    struct sb_fixup fx = {.diag = cc->d,
                          .file = sb__cc_file(cc, a->loc.file),
                          .line = a->loc.line,
                          .col = a->loc.col,
                          .fn_name = fn->name,
                          .arg_no = i + 1};
    unsigned before = cc->d->n_errors;
    void *fixed = NULL;
    if (spec->fixup(&fx, &out->c, &fixed) < 0) {
        if (cc->d->n_errors == before)
            sb__cc_error(cc, a, "argument %u of '%s': invalid value", i + 1, fn->name);
        return SB_EINVAL;
    }
    out->fixed = fixed;
    if (fixed && spec->free_fixup)
        sb__cc_own(cc, spec->free_fixup, fixed);
    return 0;
}

static int compile_arg(struct sb__cc *cc, const struct sb_mod_fn *fn, unsigned i,
                       const struct sb_ast *a, struct sb__carg *out)
{
    const struct sb_arg_spec *spec = &fn->args[i];
    out->kind = spec->kind;
    if (!a || (a->kind == SB_AST_NULL && (spec->flags & SB_ARGF_OPT))) {
        out->mode = SB__ARG_ABSENT;
        return 0;
    }
    int rc = arg_value(cc, fn, i, spec, a, out);
    if (rc)
        return rc;
    if (out->mode == SB__ARG_CONST)
        note_route_name(cc, &out->c);
    if ((spec->flags & SB_ARGF_STATIC) && out->mode != SB__ARG_CONST) {
        sb__cc_error(cc, a, "argument %u of '%s' must be a constant", i + 1, fn->name);
        return SB_EINVAL;
    }
    /* a fixup needs a constant; a variable argument reaches the function raw (fixed == NULL) */
    if (spec->fixup && out->mode == SB__ARG_CONST)
        return arg_fixup(cc, fn, i, spec, a, out);
    return 0;
}

static unsigned required_args(const struct sb_mod_fn *fn)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fn->n_args; i++)
        if (!(fn->args[i].flags & SB_ARGF_OPT))
            n = i + 1;
    return n;
}

static bool check_arity(struct sb__cc *cc, const struct sb_mod_fn *fn, const struct sb_ast *at)
{
    unsigned min = required_args(fn), max = fn->n_args, n = at->n_args;
    if (n > max) {
        if (max == 0)
            sb__cc_error(cc, at, "function '%s' takes no arguments, got %u", fn->name, n);
        else
            sb__cc_error(cc, at, "function '%s' takes at most %u argument%s, got %u", fn->name, max,
                         max == 1 ? "" : "s", n);
        return false;
    }
    if (n < min) {
        sb__cc_error(cc, at, "function '%s' needs %s%u argument%s, got %u", fn->name,
                     min == max ? "" : "at least ", min, min == 1 ? "" : "s", n);
        return false;
    }
    return true;
}

static void unknown_function(struct sb__cc *cc, const struct sb_ast *at)
{
    const struct sb_module *m = sb_mod_exporting(at->str);
    if (m)
        sb__cc_error(cc, at,
                     "unknown function '%.*s' \xe2\x80\x94 is loadmodule \"%s.so\" missing?",
                     SB_STR_ARG(at->str), m->name);
    else
        sb__cc_error(cc, at, "unknown function '%.*s'", SB_STR_ARG(at->str));
    /* still check the arguments, for their own errors */
    for (const struct sb_ast *a = at->args; a; a = a->next)
        if (a->kind != SB_AST_STR && a->kind != SB_AST_ID)
            (void)sb__compile_expr(cc, a);
}

const struct sb__call *sb__compile_call(struct sb__cc *cc, const struct sb_ast *at)
{
    const struct sb_module *mod = NULL;
    const struct sb_mod_fn *fn = sb_modset_fn(&cc->s->mods, at->str, &mod);
    if (!fn) {
        unknown_function(cc, at);
        return NULL;
    }
    if (!check_arity(cc, fn, at))
        return NULL;
    struct sb__call *c = sb__cc_alloc(cc, sizeof(*c) + fn->n_args * sizeof(c->args[0]));
    if (!c)
        return NULL;
    c->fn = fn;
    c->mod = mod;
    c->n = fn->n_args;
    bool ok = true;
    const struct sb_ast *a = at->args;
    for (unsigned i = 0; i < fn->n_args; i++) {
        if (compile_arg(cc, fn, i, a, &c->args[i]) != 0)
            ok = false;
        if (a)
            a = a->next;
    }
    if (fn->routes && (fn->routes & SB_ROUTE_ALL) != SB_ROUTE_ALL) {
        size_t n = strlen(fn->name) + 16;
        char *what = sb__cc_alloc(cc, n);
        if (what)
            snprintf(what, n, "function '%s'", fn->name);
        sb__cc_site(cc, fn->routes, what, &at->loc);
    }
    return ok ? c : NULL;
}

const struct sb__rcall *sb__compile_rcall(struct sb__cc *cc, const struct sb_ast *at)
{
    const struct sb_ast *name = at->args;
    if (!name) {
        sb__cc_error(cc, at, "route() needs a route name");
        return NULL;
    }
    uint32_t n = at->n_args - 1;
    if (n > SB_SCRIPT_MAX_ARGS) {
        sb__cc_error(cc, at, "route '%.*s' called with %u arguments (at most %d)",
                     SB_STR_ARG(name->str), n, SB_SCRIPT_MAX_ARGS);
        return NULL;
    }
    struct sb__rcall *r = sb__cc_alloc(cc, sizeof(*r) + n * sizeof(r->args[0]));
    if (!r)
        return NULL;
    bool ok = true;
    r->idx = -1;
    if (lit_is_str(name)) {
        struct sb__route *to = sb__route_find(cc->s, SB_ROUTE_REQUEST, name->str);
        if (!to || !to->name[0]) {
            sb__cc_error(cc, name, "route '%.*s' is not defined", SB_STR_ARG(name->str));
            ok = false;
        } else {
            to->called = true;
            sb__cc_edge(cc, to);
            r->idx = (int32_t)(to - cc->s->routes[0].v);
        }
    } else {
        /* route($var(r)): resolved per call among the named routes */
        r->name = sb__compile_expr(cc, name);
        ok = r->name != NULL;
        cc->dynamic_routes = true;
        sb__cc_edge(cc, NULL);
    }
    r->n = (uint8_t)n;
    uint32_t i = 0;
    for (const struct sb_ast *a = name->next; a && i < n; a = a->next, i++)
        if (!(r->args[i] = sb__compile_expr(cc, a)))
            ok = false;
    return ok ? r : NULL;
}
