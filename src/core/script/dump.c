/* SPDX-License-Identifier: BSD-2-Clause */
/* sb_script_dump: the compiled script as readable text, one statement per line with its source
 * line, expressions fully parenthesised, calls with their module and resolved arguments. */
#include <arpa/inet.h>
#include <stdio.h>

#include "action.h"

static const char *op_text(int op)
{
    static const char *const t[] = {
        [SB_OP_NOT] = "!",      [SB_OP_NEG] = "-",      [SB_OP_BNOT] = "~",
        [SB_OP_AND] = "&&",     [SB_OP_OR] = "||",      [SB_OP_EQ] = "==",
        [SB_OP_NE] = "!=",      [SB_OP_LT] = "<",       [SB_OP_GT] = ">",
        [SB_OP_LE] = "<=",      [SB_OP_GE] = ">=",      [SB_OP_MATCH] = "=~",
        [SB_OP_NMATCH] = "!~",  [SB_OP_ADD] = "+",      [SB_OP_SUB] = "-",
        [SB_OP_MUL] = "*",      [SB_OP_DIV] = "/",      [SB_OP_MOD] = "%",
        [SB_OP_BAND] = "&",     [SB_OP_BOR] = "|",      [SB_OP_BXOR] = "^",
        [SB_OP_SHL] = "<<",     [SB_OP_SHR] = ">>",     [SB_OP_SET] = "=",
        [SB_OP_SET_ALL] = ":=", [SB_OP_ADD_SET] = "+=", [SB_OP_SUB_SET] = "-=",
        [SB_OP_MUL_SET] = "*=", [SB_OP_DIV_SET] = "/=", [SB_OP_MOD_SET] = "%=",
        [SB_OP_AND_SET] = "&=", [SB_OP_OR_SET] = "|=",  [SB_OP_XOR_SET] = "^=",
    };
    return op > 0 && (size_t)op < SB_ARRAY_LEN(t) && t[op] ? t[op] : "?";
}

static void dump_str(FILE *out, sb_str s)
{
    fputc('"', out);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void dump_val(FILE *out, const struct sb_val *v)
{
    if (v->type == SB_VAL_INT)
        fprintf(out, "%d", (int)v->i);
    else if (v->type == SB_VAL_STR)
        dump_str(out, v->s);
    else
        fputs("NULL", out);
}

static void dump_expr(FILE *out, const struct sb_script *s, const struct sb__expr *e);

static void dump_rcall(FILE *out, const struct sb_script *s, const struct sb__rcall *r)
{
    fputs("route(", out);
    if (r->idx >= 0)
        fputs(s->routes[sb__rtype_index(SB_ROUTE_REQUEST)].v[r->idx].name, out);
    else
        dump_expr(out, s, r->name);
    for (unsigned i = 0; i < r->n; i++) {
        fputs(", ", out);
        dump_expr(out, s, r->args[i]);
    }
    fputc(')', out);
}

static void dump_call(FILE *out, const struct sb_script *s, const struct sb__call *c)
{
    fprintf(out, "%s.%s(", c->mod ? c->mod->name : "?", c->fn->name);
    unsigned last = c->n;
    while (last && c->args[last - 1].mode == SB__ARG_ABSENT)
        last--;
    for (unsigned i = 0; i < last; i++) {
        const struct sb__carg *a = &c->args[i];
        if (i)
            fputs(", ", out);
        switch (a->mode) {
        case SB__ARG_ABSENT: fputs("<none>", out); break;
        case SB__ARG_CONST:
            dump_val(out, &a->c);
            if (a->fixed)
                fputs("<fixed>", out);
            if (a->re)
                fputs("<regex>", out);
            break;
        case SB__ARG_FMT:
            fputs("fmt", out);
            dump_str(out, a->text);
            break;
        case SB__ARG_EXPR: dump_expr(out, s, a->expr); break;
        case SB__ARG_VAR: fprintf(out, "out %.*s", SB_STR_ARG(a->var->text)); break;
        default: break;
        }
    }
    fputc(')', out);
}

static void dump_net(FILE *out, const struct sb__ipnet *n)
{
    char buf[64];
    if (!inet_ntop(n->af == 4 ? AF_INET : AF_INET6, n->addr, buf, sizeof(buf)))
        buf[0] = '\0';
    fprintf(out, "%s/%u", buf, n->bits);
}

static void dump_expr(FILE *out, const struct sb_script *s, const struct sb__expr *e)
{
    switch (e->kind) {
    case SB__EX_CONST: dump_val(out, &e->u.c); break;
    case SB__EX_PV: fprintf(out, "%.*s", SB_STR_ARG(e->u.pv->text)); break;
    case SB__EX_CALL: dump_call(out, s, e->u.call); break;
    case SB__EX_ROUTE: dump_rcall(out, s, e->u.route); break;
    case SB__EX_UNOP:
        fputs(op_text(e->op), out);
        dump_expr(out, s, e->u.bin.a);
        break;
    case SB__EX_BINOP:
        fputc('(', out);
        dump_expr(out, s, e->u.bin.a);
        fprintf(out, " %s ", op_text(e->op));
        dump_expr(out, s, e->u.bin.b);
        fputc(')', out);
        break;
    case SB__EX_MATCH:
        fputc('(', out);
        dump_expr(out, s, e->u.match.a);
        fprintf(out, " %s ", op_text(e->op));
        dump_str(out, e->u.match.pat);
        fputc(')', out);
        break;
    case SB__EX_CIDR:
        fputc('(', out);
        dump_expr(out, s, e->u.cidr.a);
        fprintf(out, " %s ", op_text(e->op));
        dump_net(out, &e->u.cidr.net);
        fputc(')', out);
        break;
    case SB__EX_ARITH:
        fputs("[", out);
        dump_expr(out, s, e->u.bin.a);
        fputs("]", out);
        break;
    default: fputs("?", out); break;
    }
}

static void dump_list(FILE *out, const struct sb_script *s, const struct sb__act *a,
                      unsigned depth);

/* "if (cond)": the condition without a second pair of parentheses. */
static void dump_cond(FILE *out, const struct sb_script *s, const char *kw,
                      const struct sb__expr *e)
{
    fprintf(out, "%s (", kw);
    if (e->kind == SB__EX_BINOP) {
        dump_expr(out, s, e->u.bin.a);
        fprintf(out, " %s ", op_text(e->op));
        dump_expr(out, s, e->u.bin.b);
    } else {
        dump_expr(out, s, e);
    }
    fputc(')', out);
}

static void indent(FILE *out, uint32_t line, unsigned depth)
{
    fprintf(out, "%5u| %*s", line, (int)(depth * 4), "");
}

static void dump_block(FILE *out, const struct sb_script *s, const struct sb__act *body,
                       uint32_t line, unsigned depth)
{
    fputs(" {\n", out);
    dump_list(out, s, body, depth + 1);
    indent(out, line, depth);
    fputs("}", out);
}

static void dump_switch(FILE *out, const struct sb_script *s, const struct sb__act *a,
                        unsigned depth)
{
    const struct sb__switch *sw = a->u.sw;
    fputs("switch (", out);
    dump_expr(out, s, sw->subject);
    fprintf(out, ") [%u int, %u string cases] {\n", sw->n_ints, sw->n_strs);
    /* the bodies form one chain; print each case label where its entry point is */
    const struct sb__act *x = sw->body;
    for (;;) {
        for (uint32_t k = 0; k < sw->n_cases; k++) {
            const struct sb__case *c = &sw->cases[k];
            if (c->at != x)
                continue;
            indent(out, a->line, depth);
            if (c->type == SB_VAL_NULL) {
                fputs("default:\n", out);
            } else {
                fputs("case ", out);
                dump_val(out, &(struct sb_val){.type = c->type, .i = c->i, .s = c->s});
                fputs(":\n", out);
            }
        }
        if (!x)
            break;
        const struct sb__act *next = x->next;
        struct sb__act one = *x;
        one.next = NULL;
        dump_list(out, s, &one, depth + 1);
        x = next;
    }
    indent(out, a->line, depth);
    fputs("}", out);
}

static void dump_act(FILE *out, const struct sb_script *s, const struct sb__act *a, unsigned depth)
{
    switch (a->kind) {
    case SB__A_CALL:
        dump_call(out, s, a->u.call);
        fputc(';', out);
        break;
    case SB__A_ROUTE:
        dump_rcall(out, s, a->u.route);
        fputc(';', out);
        break;
    case SB__A_EXPR:
        dump_expr(out, s, a->u.expr);
        fputc(';', out);
        break;
    case SB__A_IF:
        dump_cond(out, s, "if", a->u.cond.cond);
        dump_block(out, s, a->u.cond.then, a->line, depth);
        if (a->u.cond.els) {
            fputs(" else", out);
            dump_block(out, s, a->u.cond.els, a->line, depth);
        }
        break;
    case SB__A_WHILE:
        dump_cond(out, s, "while", a->u.cond.cond);
        dump_block(out, s, a->u.cond.then, a->line, depth);
        break;
    case SB__A_FOR:
        fprintf(out, "for (%.*s in %.*s)", SB_STR_ARG(a->u.loop.it->text),
                SB_STR_ARG(a->u.loop.list->text));
        dump_block(out, s, a->u.loop.body, a->line, depth);
        break;
    case SB__A_SWITCH: dump_switch(out, s, a, depth); break;
    case SB__A_BREAK: fputs("break;", out); break;
    case SB__A_ASSIGN:
        fprintf(out, "%.*s %s ", SB_STR_ARG(a->u.assign.dst->text), op_text(a->op));
        dump_expr(out, s, a->u.assign.val);
        fputc(';', out);
        break;
    case SB__A_RETURN:
        fputs("return(", out);
        if (a->u.ret.code)
            dump_expr(out, s, a->u.ret.code);
        else
            fputs("1", out);
        for (unsigned i = 0; i < a->u.ret.n; i++) {
            fputs(", ", out);
            dump_expr(out, s, a->u.ret.vals[i]);
        }
        fputs(");", out);
        break;
    case SB__A_EXIT: fputs("exit;", out); break;
    case SB__A_DROP: fputs("drop;", out); break;
    case SB__A_ASSERT:
        fputs("assert(", out);
        dump_expr(out, s, a->u.assert.cond);
        fputs(", ", out);
        dump_str(out, a->u.assert.text);
        fputs(");", out);
        break;
    case SB__A_ASYNC:
        fputs("async(", out);
        dump_call(out, s, a->u.async.call);
        fprintf(out, ", %s);",
                s->routes[sb__rtype_index(SB_ROUTE_REQUEST)].v[a->u.async.resume->idx].name);
        break;
    default: fputs("?;", out); break;
    }
}

static void dump_list(FILE *out, const struct sb_script *s, const struct sb__act *a, unsigned depth)
{
    for (; a; a = a->next) {
        indent(out, a->line, depth);
        dump_act(out, s, a, depth);
        fputc('\n', out);
    }
}

void sb_script_dump(const struct sb_script *s, FILE *out)
{
    fprintf(out, "# compiled script %s\n", s->main_file ? s->main_file : "");
    fputs("# modules:", out);
    for (unsigned i = 0; i < s->mods.n; i++)
        fprintf(out, " %s", s->mods.mods[i]->name);
    fputc('\n', out);
    for (unsigned t = 0; t < SB__ROUTE_TYPES; t++)
        for (uint32_t i = 0; i < s->routes[t].n; i++) {
            const struct sb__route *r = &s->routes[t].v[i];
            fprintf(out, "\n%s", r->label);
            if (r->type == SB_ROUTE_TIMER)
                fprintf(out, " every %ds", (int)r->interval);
            fprintf(out, "  # %s:%u\n", r->file, r->line);
            dump_list(out, s, r->body, 1);
        }
}
