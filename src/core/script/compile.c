/* SPDX-License-Identifier: BSD-2-Clause */
/* Compiler, statements: turns each route's syntax tree into the action tree, checking as it goes
 * (break placement, switch cases, assignments, return values, unreachable code). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "sb/base.h"

/* ---- helpers shared by the compiler files -------------------------------------------------- */

__attribute__((format(printf, 4, 0))) static void
cc_report(struct sb__cc *cc, int sev, const struct sb_ast *at, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    sb_diag_add(cc->d, sev, sb__cc_file(cc, at->loc.file), at->loc.line, at->loc.col, "%s", msg);
}

void sb__cc_error(struct sb__cc *cc, const struct sb_ast *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cc_report(cc, SB_DIAG_ERROR, at, fmt, ap);
    va_end(ap);
}

void sb__cc_warn(struct sb__cc *cc, const struct sb_ast *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cc_report(cc, SB_DIAG_WARNING, at, fmt, ap);
    va_end(ap);
}

void *sb__cc_alloc(struct sb__cc *cc, size_t n)
{
    void *p = sb_arena_zalloc(&cc->s->arena, n);
    if (!p && !cc->oom) {
        cc->oom = SB_ENOMEM;
        sb_diag_error(cc->d, cc->s->main_file, 0, 0, "out of memory while compiling the script");
    }
    return p;
}

char *sb__cc_strdup(struct sb__cc *cc, const char *p, size_t n)
{
    char *q = sb__cc_alloc(cc, n + 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

void sb__cc_own(struct sb__cc *cc, void (*free_fn)(void *), void *p)
{
    struct sb__owned *o = sb__cc_alloc(cc, sizeof(*o));
    if (!o) {
        free_fn(p); /* the script will fail to load anyway */
        return;
    }
    o->free_fn = free_fn;
    o->p = p;
    o->next = cc->s->owned;
    cc->s->owned = o;
}

static int grow(void **v, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap)
        return 0;
    uint32_t ncap = *cap ? *cap * 2 : 32;
    void *nv = realloc(*v, ncap * size);
    if (!nv)
        return SB_ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

int sb__cc_site(struct sb__cc *cc, uint32_t allowed, const char *what, const struct sb_loc *loc)
{
    if (grow((void **)&cc->sites, &cc->cap_sites, cc->n_sites, sizeof(*cc->sites)) != 0) {
        cc->oom = SB_ENOMEM;
        return SB_ENOMEM;
    }
    struct sb_loc l = {sb__cc_file(cc, loc->file), loc->line, loc->col};
    cc->sites[cc->n_sites++] = (struct sb__site){cc->route, allowed, what, l};
    return 0;
}

int sb__cc_edge(struct sb__cc *cc, struct sb__route *to)
{
    if (grow((void **)&cc->edges, &cc->cap_edges, cc->n_edges, sizeof(*cc->edges)) != 0) {
        cc->oom = SB_ENOMEM;
        return SB_ENOMEM;
    }
    cc->edges[cc->n_edges++] = (struct sb__edge){cc->route, to};
    return 0;
}

static struct sb__act *act_new(struct sb__cc *cc, uint8_t kind, const struct sb_ast *at)
{
    struct sb__act *a = sb__cc_alloc(cc, sizeof(*a));
    if (a) {
        a->kind = kind;
        a->line = at->loc.line;
        a->file = sb__cc_file(cc, at->loc.file);
    }
    return a;
}

/* ---- statements ---------------------------------------------------------------------------- */

/* A chain of actions being built. */
struct chain {
    struct sb__act *head, *tail;
};

static void chain_add(struct chain *c, struct sb__act *a)
{
    if (!a)
        return;
    if (c->tail)
        c->tail->next = a;
    else
        c->head = a;
    c->tail = a;
    while (c->tail->next) /* appended a chain */
        c->tail = (struct sb__act *)c->tail->next;
}

static void compile_stmt(struct sb__cc *cc, const struct sb_ast *s, struct chain *out);

/* Does <s> end the flow of its block? A misplaced break is an error of its own: the statements
 * after it are not reported as unreachable too. */
static bool ends_flow(const struct sb__cc *cc, const struct sb_ast *s)
{
    if (s->kind == SB_AST_EXPR && s->a)
        s = s->a;
    switch (s->kind) {
    case SB_AST_EXIT:
    case SB_AST_DROP:
    case SB_AST_RETURN: return true;
    case SB_AST_BREAK: return cc->breakable > 0;
    case SB_AST_CALL:
        return sb_str_eq(s->str, SB_STR("exit")) || sb_str_eq(s->str, SB_STR("drop")) ||
               sb_str_eq(s->str, SB_STR("return"));
    default: return false;
    }
}

/* A statement list (linked by next). Statements after exit/drop/return/break never run. */
static const struct sb__act *compile_list(struct sb__cc *cc, const struct sb_ast *first)
{
    struct chain c = {NULL, NULL};
    bool dead = false;
    for (const struct sb_ast *s = first; s; s = s->next) {
        if (dead) {
            sb__cc_warn(cc, s, "unreachable code");
            dead = false; /* once per run of dead statements */
            compile_stmt(cc, s, &c);
            while (s->next)
                compile_stmt(cc, s = s->next, &c);
            break;
        }
        compile_stmt(cc, s, &c);
        dead = ends_flow(cc, s);
    }
    return c.head;
}

/* The body of if/while/for: a block or a single statement. */
static const struct sb__act *compile_body(struct sb__cc *cc, const struct sb_ast *b)
{
    if (!b)
        return NULL;
    if (b->kind == SB_AST_BLOCK)
        return compile_list(cc, b->args);
    struct chain c = {NULL, NULL};
    compile_stmt(cc, b, &c);
    return c.head;
}

static bool pv_writable(struct sb__cc *cc, const struct sb_pv *pv, const struct sb_ast *at,
                        const char *role)
{
    if (!pv)
        return false;
    if (!pv->def->set) {
        sb__cc_error(cc, at, "%s: variable '%.*s' is read-only", role, SB_STR_ARG(pv->text));
        return false;
    }
    if (pv->n_trs) {
        sb__cc_error(cc, at, "%s: '%.*s' has transformations and cannot be written", role,
                     SB_STR_ARG(pv->text));
        return false;
    }
    return true;
}

static void compile_assign(struct sb__cc *cc, const struct sb_ast *s, struct chain *out)
{
    const struct sb_pv *dst = NULL;
    if (!s->a || s->a->kind != SB_AST_PV) {
        const struct sb_ast *at = s->a ? s->a : s;
        sb__cc_error(cc, at, "the left side of an assignment must be a variable");
    } else {
        dst = sb__compile_pv(cc, s->a);
        if (dst && !pv_writable(cc, dst, s->a, "assignment"))
            dst = NULL;
    }
    const struct sb__expr *v = s->b ? sb__compile_expr(cc, s->b) : NULL;
    if (!dst || !v)
        return;
    struct sb__act *a = act_new(cc, SB__A_ASSIGN, s);
    if (!a)
        return;
    a->op = s->op;
    a->u.assign.dst = dst;
    a->u.assign.val = v;
    chain_add(out, a);
}

static void compile_return(struct sb__cc *cc, const struct sb_ast *s, const struct sb_ast *args,
                           uint32_t n, struct chain *out)
{
    if (n > 1 + SB_SCRIPT_MAX_RETURN) {
        sb__cc_error(cc, s, "return takes a code and at most %d values", SB_SCRIPT_MAX_RETURN);
        return;
    }
    struct sb__act *a = act_new(cc, SB__A_RETURN, s);
    const struct sb__expr **vals = n > 1 ? sb__cc_alloc(cc, (n - 1) * sizeof(*vals)) : NULL;
    if (!a || (n > 1 && !vals))
        return;
    bool ok = true;
    uint32_t i = 0;
    for (const struct sb_ast *e = args; e && i < n; e = e->next, i++) {
        const struct sb__expr *x = sb__compile_expr(cc, e);
        ok = ok && x;
        if (i == 0)
            a->u.ret.code = x;
        else
            vals[i - 1] = x;
    }
    if (!ok)
        return;
    a->u.ret.n = (uint8_t)(n ? n - 1 : 0);
    a->u.ret.vals = vals;
    chain_add(out, a);
}

static void compile_assert(struct sb__cc *cc, const struct sb_ast *call, struct chain *out)
{
    const struct sb_ast *cond = call->args, *text = cond ? cond->next : NULL;
    if (call->n_args != 2 || !text || text->kind != SB_AST_STR) {
        sb__cc_error(cc, call, "assert needs a condition and a message: assert(expr, \"text\")");
        return;
    }
    const struct sb__expr *c = sb__compile_expr(cc, cond);
    if (!c || !cc->s->core.enable_asserts)
        return; /* checked either way; compiled only when asserts are enabled */
    struct sb__act *a = act_new(cc, SB__A_ASSERT, call);
    if (!a)
        return;
    a->u.assert.cond = c;
    a->u.assert.text = (sb_str){sb__cc_strdup(cc, text->str.p, text->str.len), text->str.len};
    chain_add(out, a);
}

/* async(function(...), resume_route[, timeout]): the function may suspend the script, which then
 * continues in the resume route. */
static void compile_async(struct sb__cc *cc, const struct sb_ast *call, struct chain *out)
{
    const struct sb_ast *fn = call->args, *resume = fn ? fn->next : NULL;
    if (!fn || fn->kind != SB_AST_CALL || !resume || call->n_args > 3 ||
        (resume->kind != SB_AST_ID && resume->kind != SB_AST_STR)) {
        sb__cc_error(cc, call,
                     "async needs a function call and a resume route: async(f(...), route)");
        return;
    }
    const struct sb__call *c = sb__compile_call(cc, fn);
    if (c && !c->fn->is_async) {
        sb__cc_error(cc, fn, "function '%s' cannot be called asynchronously", c->fn->name);
        c = NULL;
    }
    struct sb__route *r = sb__route_find(cc->s, SB_ROUTE_REQUEST, resume->str);
    if (!r || !r->name[0]) {
        sb__cc_error(cc, resume, "route '%.*s' is not defined", SB_STR_ARG(resume->str));
        return;
    }
    r->called = true;
    sb__cc_edge(cc, r);
    struct sb__rcall *rc = sb__cc_alloc(cc, sizeof(*rc));
    struct sb__act *a = act_new(cc, SB__A_ASYNC, call);
    if (!c || !rc || !a)
        return;
    rc->idx = (int32_t)(r - cc->s->routes[0].v);
    a->u.async.call = c;
    a->u.async.resume = rc;
    chain_add(out, a);
}

/* A call used as a statement: the keywords handled here, route(), or a module function. */
static void compile_call_stmt(struct sb__cc *cc, const struct sb_ast *e, struct chain *out)
{
    sb_str n = e->str;
    struct sb__act *a;
    if (sb_str_eq(n, SB_STR("route"))) {
        const struct sb__rcall *r = sb__compile_rcall(cc, e);
        if (r && (a = act_new(cc, SB__A_ROUTE, e))) {
            a->u.route = r;
            chain_add(out, a);
        }
    } else if (sb_str_eq(n, SB_STR("assert"))) {
        compile_assert(cc, e, out);
    } else if (sb_str_eq(n, SB_STR("async"))) {
        compile_async(cc, e, out);
    } else if (sb_str_eq(n, SB_STR("return"))) {
        compile_return(cc, e, e->args, e->n_args, out);
    } else if ((sb_str_eq(n, SB_STR("exit")) || sb_str_eq(n, SB_STR("drop"))) && !e->n_args) {
        chain_add(out, act_new(cc, n.p[0] == 'e' ? SB__A_EXIT : SB__A_DROP, e));
    } else {
        const struct sb__call *c = sb__compile_call(cc, e);
        if (c && (a = act_new(cc, SB__A_CALL, e))) {
            a->u.call = c;
            chain_add(out, a);
        }
    }
}

static void compile_for(struct sb__cc *cc, const struct sb_ast *s, struct chain *out)
{
    const struct sb_pv *it = NULL, *list = NULL;
    if (s->a && s->a->kind == SB_AST_PV && (it = sb__compile_pv(cc, s->a)))
        if (!pv_writable(cc, it, s->a, "for"))
            it = NULL;
    if (s->b && s->b->kind == SB_AST_PV)
        list = sb__compile_pv(cc, s->b);
    if (!s->a || s->a->kind != SB_AST_PV || !s->b || s->b->kind != SB_AST_PV)
        sb__cc_error(cc, s, "for needs a variable and a list: for ($var(x) in $(avp(y)[*]))");
    cc->breakable++;
    const struct sb__act *body = compile_body(cc, s->c);
    cc->breakable--;
    struct sb__act *a;
    if (!it || !list || !(a = act_new(cc, SB__A_FOR, s)))
        return;
    a->u.loop.it = it;
    a->u.loop.list = list;
    a->u.loop.body = body;
    chain_add(out, a);
}

static void compile_switch(struct sb__cc *cc, const struct sb_ast *s, struct chain *out);

static void compile_stmt(struct sb__cc *cc, const struct sb_ast *s, struct chain *out)
{
    struct sb__act *a;
    const struct sb__expr *e;
    switch (s->kind) {
    case SB_AST_BLOCK: chain_add(out, (struct sb__act *)compile_list(cc, s->args)); return;
    case SB_AST_CALL: compile_call_stmt(cc, s, out); return;
    case SB_AST_EXPR:
        if (s->a && s->a->kind == SB_AST_CALL) {
            compile_call_stmt(cc, s->a, out);
        } else if (s->a && (e = sb__compile_expr(cc, s->a)) && (a = act_new(cc, SB__A_EXPR, s))) {
            a->u.expr = e;
            chain_add(out, a);
        }
        return;
    case SB_AST_IF:
    case SB_AST_WHILE: {
        e = sb__compile_expr(cc, s->a);
        if (s->kind == SB_AST_WHILE)
            cc->breakable++;
        const struct sb__act *then = compile_body(cc, s->b);
        if (s->kind == SB_AST_WHILE)
            cc->breakable--;
        const struct sb__act *els = s->kind == SB_AST_IF ? compile_body(cc, s->c) : NULL;
        if (!e || !(a = act_new(cc, s->kind == SB_AST_IF ? SB__A_IF : SB__A_WHILE, s)))
            return;
        a->u.cond.cond = e;
        a->u.cond.then = then;
        a->u.cond.els = els;
        chain_add(out, a);
        return;
    }
    case SB_AST_FOR: compile_for(cc, s, out); return;
    case SB_AST_SWITCH: compile_switch(cc, s, out); return;
    case SB_AST_BREAK:
        if (!cc->breakable) {
            sb__cc_error(cc, s, "break outside a loop or switch");
            return;
        }
        chain_add(out, act_new(cc, SB__A_BREAK, s));
        return;
    case SB_AST_ASSIGN: compile_assign(cc, s, out); return;
    case SB_AST_RETURN: compile_return(cc, s, s->args, s->n_args, out); return;
    case SB_AST_EXIT: chain_add(out, act_new(cc, SB__A_EXIT, s)); return;
    case SB_AST_DROP: chain_add(out, act_new(cc, SB__A_DROP, s)); return;
    default:
        /* an expression on its own: evaluated for its side effects (function calls) */
        if ((e = sb__compile_expr(cc, s)) && (a = act_new(cc, SB__A_EXPR, s))) {
            a->u.expr = e;
            chain_add(out, a);
        }
        return;
    }
}

/* ---- switch -------------------------------------------------------------------------------- */

static int case_int_cmp(const void *x, const void *y)
{
    const struct sb__case *a = *(const struct sb__case *const *)x;
    const struct sb__case *b = *(const struct sb__case *const *)y;
    return (a->i > b->i) - (a->i < b->i);
}

static int case_str_cmp(const void *x, const void *y)
{
    const struct sb__case *a = *(const struct sb__case *const *)x;
    const struct sb__case *b = *(const struct sb__case *const *)y;
    if (a->s.len != b->s.len)
        return a->s.len < b->s.len ? -1 : 1;
    return a->s.len ? memcmp(a->s.p, b->s.p, a->s.len) : 0;
}

/* Read one case label; false after reporting an error. */
static bool case_label(struct sb__cc *cc, const struct sb_ast *c, struct sb__case *out)
{
    if (!c->a) {
        out->type = SB_VAL_NULL;
        return true;
    }
    const struct sb__expr *v = sb__compile_expr(cc, c->a);
    if (!v)
        return false;
    if (v->kind != SB__EX_CONST || v->u.c.type == SB_VAL_NULL) {
        sb__cc_error(cc, c->a, "a case value must be a number or a string constant");
        return false;
    }
    out->type = v->u.c.type;
    out->i = v->u.c.i;
    out->s = v->u.c.s;
    if (out->type == SB_VAL_STR)
        out->s_num = sb_val_to_int(&v->u.c, &out->s_i);
    return true;
}

static bool case_dup(struct sb__cc *cc, const struct sb__case *cases, uint32_t n,
                     const struct sb_ast *c)
{
    const struct sb__case *k = &cases[n];
    for (uint32_t i = 0; i < n; i++) {
        const struct sb__case *o = &cases[i];
        if (o->type != k->type)
            continue;
        const struct sb_loc *l = &c->loc;
        if (k->type == SB_VAL_NULL) {
            sb_diag_error(cc->d, sb__cc_file(cc, l->file), l->line, l->col,
                          "more than one default in switch");
            return true;
        }
        if (k->type == SB_VAL_INT ? o->i == k->i : sb_str_eq(o->s, k->s)) {
            if (k->type == SB_VAL_INT)
                sb_diag_error(cc->d, sb__cc_file(cc, l->file), l->line, l->col,
                              "duplicate case value %d", (int)k->i);
            else
                sb_diag_error(cc->d, sb__cc_file(cc, l->file), l->line, l->col,
                              "duplicate case value \"%.*s\"", SB_STR_ARG(k->s));
            return true;
        }
    }
    return false;
}

/* Each case's statements compile to a chain; chains are linked in source order so that running
 * from a case's first action falls through the following cases until a break. */
static void compile_switch(struct sb__cc *cc, const struct sb_ast *s, struct chain *out)
{
    const struct sb__expr *subject = sb__compile_expr(cc, s->a);
    uint32_t n = 0;
    for (const struct sb_ast *c = s->args; c; c = c->next)
        n++;
    struct sb__switch *sw = sb__cc_alloc(cc, sizeof(*sw));
    struct sb__case *cases = sb__cc_alloc(cc, (n ? n : 1) * sizeof(*cases));
    const struct sb__act **heads = calloc(n ? n : 1, sizeof(*heads));
    if (!sw || !cases || !heads) {
        free(heads);
        return;
    }
    bool ok = subject != NULL;
    struct chain all = {NULL, NULL};
    uint32_t i = 0, n_int = 0, n_str = 0;
    cc->breakable++;
    for (const struct sb_ast *c = s->args; c; c = c->next, i++) {
        if (c->kind != SB_AST_CASE || !case_label(cc, c, &cases[i]) || case_dup(cc, cases, i, c))
            ok = false;
        n_int += cases[i].type == SB_VAL_INT;
        n_str += cases[i].type == SB_VAL_STR;
        if (cases[i].type == SB_VAL_NULL && c->a)
            cases[i].type = SB_VAL_INT; /* a bad label: keep it out of the default slot */
        heads[i] = compile_list(cc, c->args);
        chain_add(&all, (struct sb__act *)heads[i]);
    }
    cc->breakable--;
    const struct sb__act *next = NULL;
    for (uint32_t k = n; k-- > 0;) {
        if (heads[k])
            next = heads[k];
        cases[k].at = next;
    }
    free(heads);
    const struct sb__case **ints = sb__cc_alloc(cc, (n_int + 1) * sizeof(*ints));
    const struct sb__case **strs = sb__cc_alloc(cc, (n_str + 1) * sizeof(*strs));
    struct sb__act *a = act_new(cc, SB__A_SWITCH, s);
    if (!ok || !ints || !strs || !a)
        return;
    sw->n_ints = sw->n_strs = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (cases[k].type == SB_VAL_INT)
            ints[sw->n_ints++] = &cases[k];
        else if (cases[k].type == SB_VAL_STR)
            strs[sw->n_strs++] = &cases[k];
        else
            sw->dflt = &cases[k];
    }
    qsort(ints, sw->n_ints, sizeof(*ints), case_int_cmp);
    qsort(strs, sw->n_strs, sizeof(*strs), case_str_cmp);
    sw->subject = subject;
    sw->body = all.head;
    sw->n_cases = n;
    sw->cases = cases;
    sw->ints = ints;
    sw->strs = strs;
    a->u.sw = sw;
    chain_add(out, a);
}

/* ---- routes -------------------------------------------------------------------------------- */

void sb__compile_route(struct sb__cc *cc, struct sb__route *r, const struct sb_ast *body)
{
    cc->route = r;
    cc->breakable = 0;
    if (!body)
        return;
    r->body = body->kind == SB_AST_BLOCK ? compile_list(cc, body->args) : compile_body(cc, body);
}
