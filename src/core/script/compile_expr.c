/* SPDX-License-Identifier: BSD-2-Clause */
/* Compiler, expressions: pseudo-variables parsed once, constant patterns and networks
 * precompiled, constant subexpressions folded. */
#include <string.h>

#include "action.h"
#include "sb/base.h"

static struct sb__expr *ex_new(struct sb__cc *cc, uint8_t kind, const struct sb_ast *at)
{
    struct sb__expr *e = sb__cc_alloc(cc, sizeof(*e));
    if (e) {
        e->kind = kind;
        e->line = at->loc.line;
        e->file = sb__cc_file(cc, at->loc.file);
    }
    return e;
}

static struct sb__expr *ex_const(struct sb__cc *cc, const struct sb_ast *at, const struct sb_val *v)
{
    struct sb__expr *e = ex_new(cc, SB__EX_CONST, at);
    if (e)
        e->u.c = *v;
    return e;
}

static bool is_const(const struct sb__expr *e)
{
    return e && e->kind == SB__EX_CONST;
}

const struct sb_pv *sb__compile_pv(struct sb__cc *cc, const struct sb_ast *e)
{
    struct sb_pv *pv = sb__cc_alloc(cc, sizeof(*pv));
    if (!pv)
        return NULL;
    struct sb_fixup fx = {.diag = cc->d,
                          .file = sb__cc_file(cc, e->loc.file),
                          .line = e->loc.line,
                          .col = e->loc.col};
    unsigned before = cc->d->n_errors;
    int n = sb_pv_parse(e->str, pv, &cc->s->arena, &fx);
    if (n < 0) {
        if (cc->d->n_errors == before)
            sb__cc_error(cc, e, "bad pseudo-variable '%.*s'", SB_STR_ARG(e->str));
        return NULL;
    }
    if ((size_t)n != e->str.len) {
        sb_diag_error(cc->d, sb__cc_file(cc, e->loc.file), e->loc.line, e->loc.col + (uint32_t)n,
                      "unexpected text after the pseudo-variable '%.*s'", n, e->str.p);
        return NULL;
    }
    if (pv->def->routes && (pv->def->routes & SB_ROUTE_ALL) != SB_ROUTE_ALL) {
        char *what = sb__cc_alloc(cc, pv->text.len + 16);
        if (what)
            snprintf(what, pv->text.len + 16, "variable '%.*s'", SB_STR_ARG(pv->text));
        sb__cc_site(cc, pv->def->routes, what, &e->loc);
    }
    return pv;
}

/* The folding context: strings made while folding go to the script arena. */
static void fold_ctx(struct sb__cc *cc, struct sb_sctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->scratch = &cc->s->arena;
}

static bool const_truth(const struct sb__expr *e)
{
    return sb_val_is_true(&e->u.c);
}

static const struct sb__expr *fold_unop(struct sb__cc *cc, const struct sb_ast *at,
                                        struct sb__expr *e)
{
    const struct sb__expr *a = e->u.bin.a;
    if (!is_const(a))
        return e;
    struct sb_val v;
    const char *why = NULL;
    if (sb__op_unary(e->op, &a->u.c, &v, &why) != 0) {
        sb__cc_error(cc, at, "%s", why);
        return NULL;
    }
    return ex_const(cc, at, &v);
}

static const struct sb__expr *fold_binop(struct sb__cc *cc, const struct sb_ast *at,
                                         struct sb__expr *e)
{
    const struct sb__expr *a = e->u.bin.a, *b = e->u.bin.b;
    if (!is_const(a) || !is_const(b))
        return e;
    struct sb_val v = {.type = SB_VAL_INT};
    if (e->op == SB_OP_AND || e->op == SB_OP_OR) {
        v.i = e->op == SB_OP_AND ? const_truth(a) && const_truth(b)
                                 : const_truth(a) || const_truth(b);
        return ex_const(cc, at, &v);
    }
    struct sb_sctx ctx;
    fold_ctx(cc, &ctx);
    const char *why = NULL;
    if (sb__op_binary(&ctx, e->op, &a->u.c, &b->u.c, &v, &why) != 0) {
        sb__cc_error(cc, at, "%s", why);
        return NULL;
    }
    return ex_const(cc, at, &v);
}

static bool val_text(struct sb__cc *cc, const struct sb_val *v, sb_str *out)
{
    struct sb_sctx ctx;
    fold_ctx(cc, &ctx);
    return sb_val_to_str(&ctx, v, out) == 0;
}

/* =~ and !~: a constant pattern is compiled once, case-insensitive as OpenSIPS's. */
static const struct sb__expr *compile_match(struct sb__cc *cc, const struct sb_ast *at,
                                            struct sb__expr *e)
{
    const struct sb__expr *pat = e->u.bin.b;
    if (!is_const(pat))
        return e; /* compiled at run time through the per-thread cache */
    sb_str text;
    if (!val_text(cc, &pat->u.c, &text))
        return NULL;
    char err[128];
    size_t off = 0;
    void *re = sb__re_compile(text, SB__RE_CASELESS, err, sizeof(err), &off);
    if (!re) {
        sb__cc_error(cc, at->b, "bad regular expression: %s at offset %zu", err, off);
        return NULL;
    }
    sb__cc_own(cc, sb__re_free, re);
    const struct sb__expr *subject = e->u.bin.a;
    if (is_const(subject)) {
        sb_str s;
        if (!val_text(cc, &subject->u.c, &s))
            return NULL;
        int m = subject->u.c.type == SB_VAL_NULL ? 0 : sb__re_match(re, s);
        struct sb_val v = {.type = SB_VAL_INT, .i = (m > 0) == (e->op == SB_OP_MATCH)};
        if (subject->u.c.type == SB_VAL_NULL)
            v.i = e->op == SB_OP_NMATCH;
        return ex_const(cc, at, &v);
    }
    e->kind = SB__EX_MATCH;
    e->u.match.a = subject;
    e->u.match.re = re;
    e->u.match.pat = text;
    return e;
}

/* $si == 10.0.0.0/8: a network literal on either side of == or != makes a CIDR match. */
static const struct sb__expr *compile_cidr(struct sb__cc *cc, const struct sb_ast *at)
{
    /* two literals: the one with a prefix length is the network */
    const struct sb_ast *net = at->b->kind == SB_AST_IPNET ? at->b : at->a;
    if (at->a->kind == SB_AST_IPNET && at->b->kind == SB_AST_IPNET &&
        sb_str_chr(at->a->str, '/') >= 0 && sb_str_chr(at->b->str, '/') < 0)
        net = at->a;
    const struct sb_ast *other = net == at->a ? at->b : at->a;
    struct sb__ipnet n;
    if (sb__ipnet_parse(net->str, &n) != 0) {
        sb__cc_error(cc, net, "bad IP network '%.*s'", SB_STR_ARG(net->str));
        return NULL;
    }
    const struct sb__expr *x = sb__compile_expr(cc, other);
    if (!x)
        return NULL;
    if (is_const(x)) {
        sb_str s;
        if (!val_text(cc, &x->u.c, &s))
            return NULL;
        bool in = x->u.c.type != SB_VAL_NULL && sb__ipnet_match(&n, s);
        struct sb_val v = {.type = SB_VAL_INT, .i = in == (at->op == SB_OP_EQ)};
        return ex_const(cc, at, &v);
    }
    struct sb__expr *e = ex_new(cc, SB__EX_CIDR, at);
    if (!e)
        return NULL;
    e->op = at->op;
    e->u.cidr.a = x;
    e->u.cidr.net = n;
    return e;
}

static const struct sb__expr *compile_binop(struct sb__cc *cc, const struct sb_ast *at)
{
    if ((at->op == SB_OP_EQ || at->op == SB_OP_NE) && at->a && at->b &&
        (at->a->kind == SB_AST_IPNET || at->b->kind == SB_AST_IPNET))
        return compile_cidr(cc, at);
    const struct sb__expr *a = sb__compile_expr(cc, at->a);
    const struct sb__expr *b = sb__compile_expr(cc, at->b);
    if (!a || !b)
        return NULL;
    struct sb__expr *e = ex_new(cc, SB__EX_BINOP, at);
    if (!e)
        return NULL;
    e->op = at->op;
    e->u.bin.a = a;
    e->u.bin.b = b;
    if (at->op == SB_OP_MATCH || at->op == SB_OP_NMATCH)
        return compile_match(cc, at, e);
    return fold_binop(cc, at, e);
}

static const struct sb__expr *compile_call_expr(struct sb__cc *cc, const struct sb_ast *at)
{
    static const char *const keywords[] = {"exit", "drop", "return", "break", "assert", "async"};
    for (size_t i = 0; i < SB_ARRAY_LEN(keywords); i++)
        if (sb_str_eq(at->str, sb_str_cstr(keywords[i]))) {
            sb__cc_error(cc, at, "'%s' cannot be used inside an expression", keywords[i]);
            return NULL;
        }
    struct sb__expr *e;
    if (sb_str_eq(at->str, SB_STR("route"))) {
        const struct sb__rcall *r = sb__compile_rcall(cc, at);
        if (!r || !(e = ex_new(cc, SB__EX_ROUTE, at)))
            return NULL;
        e->u.route = r;
        return e;
    }
    const struct sb__call *c = sb__compile_call(cc, at);
    if (!c || !(e = ex_new(cc, SB__EX_CALL, at)))
        return NULL;
    e->u.call = c;
    return e;
}

const struct sb__expr *sb__compile_expr(struct sb__cc *cc, const struct sb_ast *at)
{
    struct sb_val v = {0};
    struct sb__expr *e;
    if (!at)
        return NULL;
    switch (at->kind) {
    case SB_AST_INT:
        v.type = SB_VAL_INT;
        v.i = at->num;
        return ex_const(cc, at, &v);
    case SB_AST_STR:
    case SB_AST_ID:
    case SB_AST_IPNET:
        /* a string in an expression is plain text, not a format (OpenSIPS): "$ru" stays so */
        v.type = SB_VAL_STR;
        v.s = (sb_str){sb__cc_strdup(cc, at->str.p, at->str.len), at->str.len};
        return v.s.p ? ex_const(cc, at, &v) : NULL;
    case SB_AST_NULL: return ex_const(cc, at, &v);
    case SB_AST_PV: {
        const struct sb_pv *pv = sb__compile_pv(cc, at);
        if (!pv || !(e = ex_new(cc, SB__EX_PV, at)))
            return NULL;
        e->u.pv = pv;
        return e;
    }
    case SB_AST_CALL: return compile_call_expr(cc, at);
    case SB_AST_UNOP:
    case SB_AST_ARITH: {
        const struct sb__expr *a = sb__compile_expr(cc, at->a);
        if (!a || !(e = ex_new(cc, at->kind == SB_AST_UNOP ? SB__EX_UNOP : SB__EX_ARITH, at)))
            return NULL;
        e->op = at->op;
        e->u.bin.a = a;
        if (at->kind == SB_AST_ARITH) {
            if (!is_const(a))
                return e;
            int32_t i;
            if (!sb_val_to_int(&a->u.c, &i)) {
                sb__cc_error(cc, at, "[ ] needs a number");
                return NULL;
            }
            v.type = SB_VAL_INT;
            v.i = i;
            return ex_const(cc, at, &v);
        }
        return fold_unop(cc, at, e);
    }
    case SB_AST_BINOP: return compile_binop(cc, at);
    default: sb__cc_error(cc, at, "expected an expression"); return NULL;
    }
}
