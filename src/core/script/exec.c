/* SPDX-License-Identifier: BSD-2-Clause */
/* The interpreter: runs a compiled route over one execution context with OpenSIPS semantics
 * (results >0 true, <0 false, 0 stops the script; $rc; route parameters and return values).
 * Nothing here allocates from the heap: values live on the stack or in ctx->scratch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "sb/log.h"

/* One sb_script_run. */
struct run {
    struct sb_sctx *ctx;
    const struct sb_script *s;
    int32_t code;      /* set by return, read by the route call it ends */
    int32_t max_loops; /* max_while_loops */
    const char *file;  /* of the running statement, for messages */
};

static void rt_error(const char *file, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rt_error(const char *file, uint32_t line, const char *fmt, ...)
{
    if (!sb_log_enabled(SB_LOG_ERR))
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_log(SB_LOG_ERR, "script error at %s:%u: %s", file ? file : "?", line, msg);
}

static void val_null(struct sb_val *v)
{
    v->type = SB_VAL_NULL;
    v->i = 0;
    v->s = SB_STR_NULL;
}

static void val_int(struct sb_val *v, int32_t i)
{
    v->type = SB_VAL_INT;
    v->i = i;
    v->s = SB_STR_NULL;
}

static uint8_t eval(struct run *r, const struct sb__expr *e, struct sb_val *out);
static uint8_t truth(struct run *r, const struct sb__expr *e, bool *t);
static uint8_t route_call(struct run *r, const struct sb__rcall *rc, int32_t *code);

/* ---- function calls ------------------------------------------------------------------------ */

/* Evaluate argument <i> for this call. Returns 0, < 0 when it cannot be converted (logged), or
 * a positive control code when evaluating it stopped the script. */
static int arg_eval(struct run *r, const struct sb__call *c, unsigned i, struct sb_arg *out)
{
    const struct sb__carg *ca = &c->args[i];
    out->present = ca->mode != SB__ARG_ABSENT;
    out->fixed = ca->fixed;
    out->var = ca->var;
    out->regex = ca->re;
    out->v = ca->c;
    switch (ca->mode) {
    case SB__ARG_FMT:
        out->v.type = SB_VAL_STR;
        out->v.i = 0;
        return sb_fmt_expand(r->ctx, ca->fmt, &out->v.s) < 0 ? SB_ENOMEM : 0;
    case SB__ARG_EXPR: break;
    default: return 0;
    }
    uint8_t ctl = eval(r, ca->expr, &out->v);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    switch (ca->kind) {
    case SB_ARG_INT: {
        int32_t n;
        if (!sb_val_to_int(&out->v, &n)) {
            rt_error(ca->expr->file, ca->expr->line, "argument %u of '%s': '%.*s' is not a number",
                     i + 1, c->fn->name, SB_STR_ARG(out->v.s));
            return SB_EINVAL;
        }
        val_int(&out->v, n);
        return 0;
    }
    case SB_ARG_STR:
    case SB_ARG_REGEX:
        if (out->v.type != SB_VAL_STR) {
            sb_str s;
            if (sb_val_to_str(r->ctx, &out->v, &s) < 0)
                return SB_ENOMEM;
            out->v.type = SB_VAL_STR;
            out->v.s = s;
        }
        if (ca->kind == SB_ARG_REGEX && !(out->regex = sb__re_cached(out->v.s, 0)))
            return SB_EINVAL;
        return 0;
    default: return 0;
    }
}

/* Call a module function; *code gets its result, which $rc also holds. */
static uint8_t call_fn(struct run *r, const struct sb__call *c, int32_t *code)
{
    struct sb_arg args[SB_SCRIPT_MAX_ARGS];
    for (unsigned i = 0; i < c->n; i++) {
        int rc = arg_eval(r, c, i, &args[i]);
        if (rc > 0)
            return (uint8_t)rc;
        if (rc < 0) {
            /* an argument that cannot be made is the function failing, as in OpenSIPS */
            *code = r->ctx->rc = -1;
            return SB_CTL_NEXT;
        }
    }
    sb_res res = c->fn->fn(r->ctx, args);
    *code = r->ctx->rc = res.code;
    switch (res.ctl) {
    case SB_CTL_NEXT: return res.code == 0 ? SB_CTL_EXIT : SB_CTL_NEXT;
    case SB_CTL_EXIT:
    case SB_CTL_DROP:
    case SB_CTL_SUSPEND: return res.ctl;
    case SB_CTL_ERROR:
        rt_error(r->file, r->ctx->cfg_line, "function '%s' failed (%d)", c->fn->name,
                 (int)res.code);
        return SB_CTL_ERROR;
    default: return SB_CTL_NEXT;
    }
}

/* ---- expressions --------------------------------------------------------------------------- */

static uint8_t eval_match(struct run *r, const struct sb__expr *e, const void *re,
                          const struct sb__expr *subject, struct sb_val *out)
{
    struct sb_val v;
    uint8_t ctl = eval(r, subject, &v);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    bool want = e->op == SB_OP_MATCH;
    sb_str s;
    if (v.type == SB_VAL_NULL || !re || sb_val_to_str(r->ctx, &v, &s) < 0) {
        val_int(out, !want); /* nothing matches NULL (or a pattern that does not compile) */
        return SB_CTL_NEXT;
    }
    int m = sb__re_match(re, s);
    if (m < 0)
        rt_error(e->file, e->line, "regular expression match failed (%d)", m);
    val_int(out, (m > 0) == want);
    return SB_CTL_NEXT;
}

/* =~ with a pattern known only at run time. */
static uint8_t eval_match_dyn(struct run *r, const struct sb__expr *e, struct sb_val *out)
{
    struct sb_val p;
    uint8_t ctl = eval(r, e->u.bin.b, &p);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    sb_str pat;
    const void *re = NULL;
    if (p.type != SB_VAL_NULL && sb_val_to_str(r->ctx, &p, &pat) == 0)
        re = sb__re_cached(pat, SB__RE_CASELESS);
    return eval_match(r, e, re, e->u.bin.a, out);
}

static uint8_t eval_binop(struct run *r, const struct sb__expr *e, struct sb_val *out)
{
    if (e->op == SB_OP_AND || e->op == SB_OP_OR) {
        bool t;
        uint8_t ctl = truth(r, e, &t);
        val_int(out, t);
        return ctl;
    }
    if (e->op == SB_OP_MATCH || e->op == SB_OP_NMATCH)
        return eval_match_dyn(r, e, out);
    struct sb_val a, b;
    uint8_t ctl = eval(r, e->u.bin.a, &a);
    if (ctl == SB_CTL_NEXT)
        ctl = eval(r, e->u.bin.b, &b);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    const char *why = NULL;
    if (sb__op_binary(r->ctx, e->op, &a, &b, out, &why) != 0) {
        rt_error(e->file, e->line, "%s", why ? why : "bad operands");
        val_null(out);
    }
    return SB_CTL_NEXT;
}

static uint8_t eval_unop(struct run *r, const struct sb__expr *e, struct sb_val *out)
{
    if (e->op == SB_OP_NOT) {
        bool t;
        uint8_t ctl = truth(r, e, &t);
        val_int(out, t);
        return ctl;
    }
    struct sb_val a;
    uint8_t ctl = eval(r, e->u.bin.a, &a);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    const char *why = NULL;
    if (sb__op_unary(e->op, &a, out, &why) != 0) {
        rt_error(e->file, e->line, "%s", why);
        val_null(out);
    }
    return SB_CTL_NEXT;
}

static uint8_t eval(struct run *r, const struct sb__expr *e, struct sb_val *out)
{
    int32_t code = 0;
    uint8_t ctl;
    switch (e->kind) {
    case SB__EX_CONST: *out = e->u.c; return SB_CTL_NEXT;
    case SB__EX_PV:
        if (sb_pv_get(r->ctx, e->u.pv, out) < 0)
            val_null(out);
        return SB_CTL_NEXT;
    case SB__EX_CALL:
        ctl = call_fn(r, e->u.call, &code);
        val_int(out, code);
        return ctl;
    case SB__EX_ROUTE:
        ctl = route_call(r, e->u.route, &code);
        val_int(out, code);
        return ctl;
    case SB__EX_UNOP: return eval_unop(r, e, out);
    case SB__EX_BINOP: return eval_binop(r, e, out);
    case SB__EX_MATCH: return eval_match(r, e, e->u.match.re, e->u.match.a, out);
    case SB__EX_CIDR: {
        struct sb_val v;
        sb_str s;
        if ((ctl = eval(r, e->u.cidr.a, &v)) != SB_CTL_NEXT)
            return ctl;
        bool in = v.type != SB_VAL_NULL && sb_val_to_str(r->ctx, &v, &s) == 0 &&
                  sb__ipnet_match(&e->u.cidr.net, s);
        val_int(out, in == (e->op == SB_OP_EQ));
        return SB_CTL_NEXT;
    }
    case SB__EX_ARITH: {
        struct sb_val v;
        int32_t n;
        if ((ctl = eval(r, e->u.bin.a, &v)) != SB_CTL_NEXT)
            return ctl;
        if (!sb_val_to_int(&v, &n)) {
            rt_error(e->file, e->line, "[ ] needs a number");
            val_null(out);
        } else {
            val_int(out, n);
        }
        return SB_CTL_NEXT;
    }
    default: val_null(out); return SB_CTL_NEXT;
    }
}

/* Truth in a condition: a function or route is true when its result is > 0; anything else when
 * its value is non-NULL and non-zero. */
static uint8_t truth(struct run *r, const struct sb__expr *e, bool *t)
{
    int32_t code = 0;
    uint8_t ctl;
    switch (e->kind) {
    case SB__EX_CALL:
        ctl = call_fn(r, e->u.call, &code);
        *t = code > 0;
        return ctl;
    case SB__EX_ROUTE:
        ctl = route_call(r, e->u.route, &code);
        *t = code > 0;
        return ctl;
    case SB__EX_UNOP:
        if (e->op != SB_OP_NOT)
            break;
        ctl = truth(r, e->u.bin.a, t);
        *t = !*t;
        return ctl;
    case SB__EX_BINOP:
        if (e->op != SB_OP_AND && e->op != SB_OP_OR)
            break;
        ctl = truth(r, e->u.bin.a, t);
        if (ctl != SB_CTL_NEXT || *t == (e->op == SB_OP_OR))
            return ctl; /* short circuit */
        return truth(r, e->u.bin.b, t);
    default: break;
    }
    struct sb_val v;
    ctl = eval(r, e, &v);
    *t = sb_val_is_true(&v);
    return ctl;
}

/* ---- routes -------------------------------------------------------------------------------- */

static uint8_t exec_list(struct run *r, const struct sb__act *a);

/* Run sub-route <to> with $param(1..n) = args; the caller's parameters come back afterwards. */
static uint8_t enter(struct run *r, const struct sb__route *to, const struct sb_val *args,
                     uint32_t n, int32_t *code)
{
    struct sb_sctx *ctx = r->ctx;
    if (ctx->depth >= SB_SCRIPT_MAX_DEPTH) {
        rt_error(to->file, ctx->cfg_line, "route() nested deeper than %d calling %s",
                 SB_SCRIPT_MAX_DEPTH, to->label);
        return SB_CTL_ERROR;
    }
    struct sb_val saved[SB_SCRIPT_MAX_ARGS];
    uint32_t n_saved = ctx->n_params;
    const char *saved_name = ctx->route_name, *saved_file = r->file;
    uint32_t saved_line = ctx->cfg_line;
    for (uint32_t i = 0; i < n_saved; i++)
        saved[i] = ctx->params[i];
    for (uint32_t i = 0; i < n; i++)
        ctx->params[i] = args[i];
    ctx->n_params = n;
    ctx->route_name = to->pv_name;
    ctx->depth++;
    uint8_t ctl = exec_list(r, to->body);
    ctx->depth--;
    ctx->route_name = saved_name;
    ctx->cfg_line = saved_line;
    r->file = saved_file;
    for (uint32_t i = 0; i < n_saved; i++)
        ctx->params[i] = saved[i];
    ctx->n_params = n_saved;
    if (ctl == SB_CTL_NEXT)
        *code = 1;
    else if (ctl == SB_CTL_RETURN)
        *code = r->code;
    else
        return ctl;
    ctx->rc = *code;
    return *code == 0 ? SB_CTL_EXIT : SB_CTL_NEXT;
}

static const struct sb__route *route_by_name(const struct sb_script *s, sb_str name)
{
    const struct sb__rtable *t = &s->routes[sb__rtype_index(SB_ROUTE_REQUEST)];
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i].name[0] && name.len && strlen(t->v[i].name) == name.len &&
            memcmp(t->v[i].name, name.p, name.len) == 0)
            return &t->v[i];
    return NULL;
}

static uint8_t route_call(struct run *r, const struct sb__rcall *rc, int32_t *code)
{
    const struct sb__route *to;
    uint8_t ctl;
    if (rc->idx >= 0) {
        to = &r->s->routes[sb__rtype_index(SB_ROUTE_REQUEST)].v[rc->idx];
    } else {
        struct sb_val v;
        sb_str name = SB_STR_NULL;
        if ((ctl = eval(r, rc->name, &v)) != SB_CTL_NEXT)
            return ctl;
        if (v.type != SB_VAL_NULL)
            (void)sb_val_to_str(r->ctx, &v, &name);
        if (!(to = route_by_name(r->s, name))) {
            rt_error(rc->name->file, rc->name->line, "route '%.*s' is not defined",
                     SB_STR_ARG(name));
            *code = r->ctx->rc = -1;
            return SB_CTL_NEXT;
        }
    }
    struct sb_val args[SB_SCRIPT_MAX_ARGS];
    for (uint32_t i = 0; i < rc->n; i++)
        if ((ctl = eval(r, rc->args[i], &args[i])) != SB_CTL_NEXT)
            return ctl;
    return enter(r, to, args, rc->n, code);
}

/* ---- statements ---------------------------------------------------------------------------- */

static uint8_t exec_assign(struct run *r, const struct sb__act *a)
{
    struct sb_val v, cur, res;
    uint8_t ctl = eval(r, a->u.assign.val, &v);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    int op = a->op;
    const struct sb_val *put = &v;
    if (op != SB_OP_SET && op != SB_OP_SET_ALL) {
        const char *why = NULL;
        if (sb_pv_get(r->ctx, a->u.assign.dst, &cur) < 0)
            val_null(&cur);
        if (sb__op_binary(r->ctx, sb__assign_binop(op), &cur, &v, &res, &why) != 0) {
            rt_error(a->file, a->line, "%s", why ? why : "bad operands");
            return SB_CTL_NEXT; /* the variable keeps its value */
        }
        op = SB_OP_SET;
        put = &res;
    }
    if (sb_pv_set(r->ctx, a->u.assign.dst, op, put) < 0)
        rt_error(a->file, a->line, "cannot assign to %.*s", SB_STR_ARG(a->u.assign.dst->text));
    return SB_CTL_NEXT;
}

static uint8_t exec_while(struct run *r, const struct sb__act *a)
{
    for (int32_t n = 0;; n++) {
        bool t;
        uint8_t ctl = truth(r, a->u.cond.cond, &t);
        if (ctl != SB_CTL_NEXT || !t)
            return ctl;
        if (n >= r->max_loops) {
            rt_error(a->file, a->line, "while loop stopped after max_while_loops (%d) iterations",
                     (int)r->max_loops);
            return SB_CTL_NEXT;
        }
        r->ctx->loops++;
        ctl = exec_list(r, a->u.cond.then);
        if (ctl == SB_CTL_BREAK)
            return SB_CTL_NEXT;
        if (ctl != SB_CTL_NEXT)
            return ctl;
    }
}

static uint8_t exec_for(struct run *r, const struct sb__act *a)
{
    int n = sb_pv_count(r->ctx, a->u.loop.list);
    if (n < 0) {
        rt_error(a->file, a->line, "cannot iterate over %.*s", SB_STR_ARG(a->u.loop.list->text));
        return SB_CTL_NEXT;
    }
    for (int i = 0; i < n; i++) {
        struct sb_val v;
        if (sb_pv_get_at(r->ctx, a->u.loop.list, i, &v) < 0)
            val_null(&v);
        if (sb_pv_set(r->ctx, a->u.loop.it, SB_OP_SET, &v) < 0) {
            rt_error(a->file, a->line, "cannot assign to %.*s", SB_STR_ARG(a->u.loop.it->text));
            return SB_CTL_NEXT;
        }
        uint8_t ctl = exec_list(r, a->u.loop.body);
        if (ctl == SB_CTL_BREAK)
            return SB_CTL_NEXT;
        if (ctl != SB_CTL_NEXT)
            return ctl;
    }
    return SB_CTL_NEXT;
}

static const struct sb__case *find_int(const struct sb__switch *sw, int32_t v)
{
    uint32_t lo = 0, hi = sw->n_ints;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int32_t c = sw->ints[mid]->i;
        if (c == v)
            return sw->ints[mid];
        if (c < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const struct sb__case *find_str(const struct sb__switch *sw, sb_str v)
{
    uint32_t lo = 0, hi = sw->n_strs;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        sb_str c = sw->strs[mid]->s;
        int d = c.len != v.len ? (c.len < v.len ? -1 : 1) : (v.len ? memcmp(c.p, v.p, v.len) : 0);
        if (d == 0)
            return sw->strs[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The case a value selects: same kind first, then an int against a numeric string case (or the
 * other way round), as == compares them. */
static const struct sb__case *switch_case(const struct sb__switch *sw, const struct sb_val *v)
{
    const struct sb__case *c = NULL;
    int32_t n;
    if (v->type == SB_VAL_INT) {
        if (!(c = find_int(sw, v->i)))
            for (uint32_t i = 0; i < sw->n_strs && !c; i++)
                if (sw->strs[i]->s_num && sw->strs[i]->s_i == v->i)
                    c = sw->strs[i];
    } else if (v->type == SB_VAL_STR) {
        if (!(c = find_str(sw, v->s)) && sw->n_ints && sb_val_to_int(v, &n))
            c = find_int(sw, n);
    }
    return c ? c : sw->dflt;
}

static uint8_t exec_switch(struct run *r, const struct sb__act *a)
{
    const struct sb__switch *sw = a->u.sw;
    struct sb_val v;
    uint8_t ctl = eval(r, sw->subject, &v);
    if (ctl != SB_CTL_NEXT)
        return ctl;
    const struct sb__case *c = switch_case(sw, &v);
    if (!c)
        return SB_CTL_NEXT;
    ctl = exec_list(r, c->at);
    return ctl == SB_CTL_BREAK ? SB_CTL_NEXT : ctl;
}

static uint8_t exec_return(struct run *r, const struct sb__act *a)
{
    struct sb_sctx *ctx = r->ctx;
    int32_t code = 1;
    struct sb_val v;
    uint8_t ctl;
    if (a->u.ret.code) {
        if ((ctl = eval(r, a->u.ret.code, &v)) != SB_CTL_NEXT)
            return ctl;
        if (!sb_val_to_int(&v, &code)) {
            rt_error(a->file, a->line, "return code '%.*s' is not a number", SB_STR_ARG(v.s));
            code = -1;
        }
    }
    for (uint32_t i = 0; i < a->u.ret.n; i++)
        if ((ctl = eval(r, a->u.ret.vals[i], &ctx->returns[i])) != SB_CTL_NEXT)
            return ctl;
    ctx->n_returns = a->u.ret.n;
    r->code = code;
    return code == 0 ? SB_CTL_EXIT : SB_CTL_RETURN;
}

/* Without an asynchronous engine the function completes inline; the script then continues in
 * the resume route and ends there, as it does after a real suspension. */
static uint8_t exec_async(struct run *r, const struct sb__act *a)
{
    int32_t code;
    uint8_t ctl = call_fn(r, a->u.async.call, &code);
    if (ctl != SB_CTL_NEXT && ctl != SB_CTL_EXIT)
        return ctl;
    r->ctx->rc = code;
    const struct sb__route *to =
        &r->s->routes[sb__rtype_index(SB_ROUTE_REQUEST)].v[a->u.async.resume->idx];
    ctl = enter(r, to, NULL, 0, &code);
    return ctl == SB_CTL_NEXT ? SB_CTL_EXIT : ctl;
}

static uint8_t exec_one(struct run *r, const struct sb__act *a)
{
    int32_t code;
    bool t;
    uint8_t ctl;
    struct sb_val v;
    switch (a->kind) {
    case SB__A_CALL: return call_fn(r, a->u.call, &code);
    case SB__A_ROUTE: return route_call(r, a->u.route, &code);
    case SB__A_EXPR: return eval(r, a->u.expr, &v);
    case SB__A_IF:
        if ((ctl = truth(r, a->u.cond.cond, &t)) != SB_CTL_NEXT)
            return ctl;
        return exec_list(r, t ? a->u.cond.then : a->u.cond.els);
    case SB__A_WHILE: return exec_while(r, a);
    case SB__A_FOR: return exec_for(r, a);
    case SB__A_SWITCH: return exec_switch(r, a);
    case SB__A_BREAK: return SB_CTL_BREAK;
    case SB__A_ASSIGN: return exec_assign(r, a);
    case SB__A_RETURN: return exec_return(r, a);
    case SB__A_EXIT: return SB_CTL_EXIT;
    case SB__A_DROP: return SB_CTL_DROP;
    case SB__A_ASSERT:
        if ((ctl = truth(r, a->u.assert.cond, &t)) != SB_CTL_NEXT || t)
            return ctl;
        rt_error(a->file, a->line, "assertion failed: %.*s", SB_STR_ARG(a->u.assert.text));
        if (r->s->core.abort_on_assert)
            abort();
        return SB_CTL_NEXT;
    case SB__A_ASYNC: return exec_async(r, a);
    default: return SB_CTL_NEXT;
    }
}

static uint8_t exec_list(struct run *r, const struct sb__act *a)
{
    for (; a; a = a->next) {
        r->ctx->cfg_line = a->line;
        r->file = a->file;
        uint8_t ctl = exec_one(r, a);
        if (ctl != SB_CTL_NEXT)
            return ctl;
    }
    return SB_CTL_NEXT;
}

sb_res sb_script_run(struct sb_sctx *ctx, uint32_t type, int idx)
{
    const struct sb_script *s = ctx->script;
    unsigned t = sb__rtype_index(type);
    if (!s || type == 0 || (type & (type - 1)) || t >= SB__ROUTE_TYPES || idx < 0 ||
        (uint32_t)idx >= s->routes[t].n)
        return (sb_res){-1, SB_CTL_ERROR};
    const struct sb__route *rt = &s->routes[t].v[idx];
    struct run r = {.ctx = ctx, .s = s, .code = 1, .max_loops = s->core.max_while_loops};
    uint32_t saved_type = ctx->route_type, saved_depth = ctx->depth;
    const char *saved_name = ctx->route_name;
    ctx->route_type = type;
    ctx->route_name = rt->pv_name;
    ctx->depth = 0;
    uint8_t ctl = exec_list(&r, rt->body);
    ctx->route_type = saved_type;
    ctx->route_name = saved_name;
    ctx->depth = saved_depth;
    switch (ctl) {
    case SB_CTL_NEXT: return (sb_res){1, SB_CTL_NEXT};
    case SB_CTL_RETURN: return (sb_res){r.code, SB_CTL_NEXT};
    case SB_CTL_EXIT:
    case SB_CTL_DROP: return (sb_res){0, ctl};
    case SB_CTL_SUSPEND: return (sb_res){ctx->rc, SB_CTL_SUSPEND};
    default: return (sb_res){-1, SB_CTL_ERROR};
    }
}

void sb_script_worker_exit(void)
{
    sb__re_thread_exit();
}
