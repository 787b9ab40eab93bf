/* SPDX-License-Identifier: BSD-2-Clause */
/* The pseudo-variable engine: the name registry, check-time parsing of
 * $(<ctx>name(sub)[idx]{tr}...), and run-time get/set/count with context, index and
 * transformation handling. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "pv_int.h"
#include "sb/diag.h"
#include "sb/msg-t.h"

/* ---- diagnostics --------------------------------------------------------------------------- */

void sb__fx_error(struct sb_fixup *fx, uint32_t off, const char *fmt, ...)
{
    if (!fx || !fx->diag)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_diag_error(fx->diag, fx->file, fx->line, fx->line ? fx->col + off : 0, "%s", msg);
}

/* ---- registry ------------------------------------------------------------------------------ */

#define PV_MAX_TABLES 64

/* Module tables, added by the module layer at load time and read by the checker; both run on the
 * control thread, the lock keeps a late registration from racing a check. Workers never look
 * names up: compiled variables point at their definitions. */
static pthread_mutex_t pv_reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards pv_tables, pv_n_tables */
static const struct sb_pv_def *pv_tables[PV_MAX_TABLES];
static unsigned pv_n_tables;

static const struct sb_pv_def *table_find(const struct sb_pv_def *t, sb_str name)
{
    for (; t->name; t++)
        if (strlen(t->name) == name.len && memcmp(t->name, name.p, name.len) == 0)
            return t;
    return NULL;
}

/* Names are case-sensitive: $rU is not $ru. */
const struct sb_pv_def *sb_pv_lookup(sb_str name)
{
    const struct sb_pv_def *d = table_find(sb__pv_msg_defs, name);
    if (!d)
        d = table_find(sb__pv_var_defs, name);
    if (d)
        return d;
    pthread_mutex_lock(&pv_reg_lock);
    for (unsigned i = 0; i < pv_n_tables && !d; i++)
        d = table_find(pv_tables[i], name);
    pthread_mutex_unlock(&pv_reg_lock);
    return d;
}

static bool name_ch(unsigned char c)
{
    return sb_is_alpha(c) || sb_is_digit(c) || c == '_' || c == '.';
}

static bool valid_def(const struct sb_pv_def *d)
{
    size_t n = strlen(d->name);
    if (n == 0 || !(sb_is_alpha((unsigned char)d->name[0]) || d->name[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_ch((unsigned char)d->name[i]))
            return false;
    if (!d->get || ((d->flags & SB_PVF_INDEX) && !d->count))
        return false;
    return !sb_pv_lookup(sb_str_cstr(d->name));
}

int sb_pv_register(const struct sb_pv_def *defs)
{
    for (const struct sb_pv_def *d = defs; d->name; d++) {
        if (!valid_def(d))
            return SB_EINVAL;
        for (const struct sb_pv_def *e = defs; e != d; e++)
            if (strcmp(e->name, d->name) == 0)
                return SB_EINVAL;
    }
    int rc = 0;
    pthread_mutex_lock(&pv_reg_lock);
    if (pv_n_tables == PV_MAX_TABLES)
        rc = SB_ELIMIT;
    else
        pv_tables[pv_n_tables++] = defs;
    pthread_mutex_unlock(&pv_reg_lock);
    return rc;
}

/* ---- parsing ------------------------------------------------------------------------------- */

struct pvp {
    const char *s; /* text, in the script arena */
    size_t n;      /* end of what this parse may read */
    size_t pos;
    struct sb_arena *a;
    struct sb_fixup *fx;
    uint32_t off; /* offset of s[0] from the column <fx> points at */
    unsigned depth;
};

#define PERR(p, at, ...) sb__fx_error((p)->fx, (p)->off + (uint32_t)(at), __VA_ARGS__)

/* Offset of the <c> that closes the <o> at s[open], counting nesting and skipping backslash
 * escapes; 0 when there is none before <n>. */
static size_t match_close(const char *s, size_t open, size_t n, char o, char c)
{
    unsigned level = 0;
    for (size_t i = open; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
        } else if (s[i] == o) {
            level++;
        } else if (s[i] == c && --level == 0) {
            return i;
        }
    }
    return 0;
}

/* The longest known name at p->pos. Dots belong to names ($ct.fields) but a known name followed
 * by a dot and more text ("$ru.") is taken without them, for format strings. */
static const struct sb_pv_def *parse_name(struct pvp *p)
{
    size_t start = p->pos, end = start;
    while (end < p->n && name_ch((unsigned char)p->s[end]))
        end++;
    size_t len = end - start;
    while (len && p->s[start + len - 1] == '.')
        len--;
    if (len == 0 || !(sb_is_alpha((unsigned char)p->s[start]) || p->s[start] == '_')) {
        PERR(p, start, "expected a pseudo-variable name after '$'");
        return NULL;
    }
    for (size_t n = len; n;) {
        const struct sb_pv_def *d = sb_pv_lookup((sb_str){p->s + start, n});
        if (d) {
            p->pos = start + n;
            return d;
        }
        while (n && p->s[start + n - 1] != '.')
            n--;
        if (n)
            n--; /* drop the dot and retry the shorter name */
    }
    PERR(p, start - 1, "unknown pseudo-variable $%.*s", (int)len, p->s + start);
    return NULL;
}

static int parse_nested(struct pvp *p, size_t from, size_t to, struct sb_pv **out, const char *what,
                        const char *name)
{
    struct sb_pv *v = sb_arena_zalloc(p->a, sizeof(*v));
    if (!v)
        return SB_ENOMEM;
    int r = sb__pv_parse_span(p->s + from, to - from, v, p->a, p->fx, p->off + (uint32_t)from,
                              p->depth + 1);
    if (r < 0)
        return r;
    if ((size_t)r != to - from) {
        PERR(p, from + (size_t)r, "unexpected '%c' in the %s of $%s", p->s[from + (size_t)r], what,
             name);
        return SB_EPARSE;
    }
    *out = v;
    return 0;
}

static int parse_sub(struct pvp *p, const struct sb_pv_def *d, struct sb_pv *out)
{
    size_t open = p->pos;
    size_t close = match_close(p->s, open, p->n, '(', ')');
    if (!close) {
        PERR(p, open, "missing ')' after the subname of $%s", d->name);
        return SB_EPARSE;
    }
    if (!(d->flags & SB_PVF_SUB)) {
        PERR(p, open, "pseudo-variable $%s takes no subname", d->name);
        return SB_EPARSE;
    }
    sb_str sub = {p->s + open + 1, close - open - 1};
    p->pos = close + 1;
    if (sub.len == 0) {
        PERR(p, open, "empty subname in $%s()", d->name);
        return SB_EPARSE;
    }
    if (sub.p[0] == '$') {
        if (!(d->flags & SB_PVF_SUB_DYN)) {
            PERR(p, open + 1, "the subname of $%s must be a constant", d->name);
            return SB_EPARSE;
        }
        struct sb_pv *sp;
        int r = parse_nested(p, open + 1, close, &sp, "subname", d->name);
        out->sub_pv = sp;
        return r;
    }
    out->sub = sub;
    if (!d->fix_sub)
        return 0;
    struct sb_fixup fx2, *fx = NULL;
    if (p->fx) {
        fx2 = *p->fx;
        if (fx2.line)
            fx2.col += p->off + (uint32_t)open + 1;
        fx = &fx2;
    }
    return d->fix_sub(fx, sub, &out->fixed) < 0 ? SB_EPARSE : 0;
}

static int parse_index(struct pvp *p, const struct sb_pv_def *d, struct sb_pv *out)
{
    size_t open = p->pos;
    size_t close = match_close(p->s, open, p->n, '[', ']');
    if (!close) {
        PERR(p, open, "missing ']' after the index of $%s", d->name);
        return SB_EPARSE;
    }
    if (!(d->flags & SB_PVF_INDEX)) {
        PERR(p, open, "pseudo-variable $%s cannot be indexed", d->name);
        return SB_EPARSE;
    }
    sb_str t = {p->s + open + 1, close - open - 1};
    p->pos = close + 1;
    if (sb_str_eq(t, SB_STR("*"))) {
        out->idx = SB_PV_IDX_ALL;
        return 0;
    }
    if (sb_str_eq(t, SB_STR("append"))) {
        out->idx = SB_PV_IDX_APPEND;
        return 0;
    }
    if (t.len && t.p[0] == '$') {
        struct sb_pv *ip;
        int r = parse_nested(p, open + 1, close, &ip, "index", d->name);
        out->idx_pv = ip;
        return r;
    }
    struct sb_val v = {.type = SB_VAL_STR, .s = t};
    int32_t i;
    if (!sb_val_to_int(&v, &i) || i <= SB_PV_IDX_APPEND) {
        PERR(p, open + 1, "bad index [%.*s] of $%s: expected a number, '*', 'append' or a variable",
             (int)t.len, t.p, d->name);
        return SB_EPARSE;
    }
    out->idx = i;
    return 0;
}

#define PV_MAX_TRS 16

static int parse_trs(struct pvp *p, struct sb_pv *out)
{
    struct sb_tr trs[PV_MAX_TRS];
    unsigned n = 0;
    while (p->pos < p->n && p->s[p->pos] == '{') {
        size_t open = p->pos;
        size_t close = match_close(p->s, open, p->n, '{', '}');
        if (!close) {
            PERR(p, open, "missing '}' after a transformation");
            return SB_EPARSE;
        }
        if (n == PV_MAX_TRS) {
            PERR(p, open, "more than %d transformations", PV_MAX_TRS);
            return SB_ELIMIT;
        }
        int r = sb__tr_parse(p->s + open + 1, close - open - 1, &trs[n++], p->a, p->fx,
                             p->off + (uint32_t)open + 1, p->depth + 1);
        if (r < 0)
            return r;
        p->pos = close + 1;
    }
    if (n == 0)
        return 0;
    struct sb_tr *copy = sb_arena_alloc(p->a, n * sizeof(*copy));
    if (!copy)
        return SB_ENOMEM;
    memcpy(copy, trs, n * sizeof(*copy));
    out->trs = copy;
    out->n_trs = (uint8_t)n;
    return 0;
}

static int parse_ctx(struct pvp *p, struct sb_pv *out)
{
    size_t open = p->pos;
    size_t close = open;
    while (close < p->n && p->s[close] != '>')
        close++;
    sb_str c = {p->s + open + 1, close - open - 1};
    if (close == p->n) {
        PERR(p, open, "missing '>' after the context");
        return SB_EPARSE;
    }
    if (sb_str_eq(c, SB_STR("reply")))
        out->reply_ctx = true;
    else if (sb_str_eq(c, SB_STR("request")))
        out->request_ctx = true;
    else {
        PERR(p, open, "unknown context <%.*s>: expected <request> or <reply>", (int)c.len, c.p);
        return SB_EPARSE;
    }
    p->pos = close + 1;
    return 0;
}

/* After the name: (sub), [idx] and, in the full form, {tr}... */
static int parse_rest(struct pvp *p, const struct sb_pv_def *d, struct sb_pv *out, bool full)
{
    int r;
    if (p->pos < p->n && p->s[p->pos] == '(') {
        if ((r = parse_sub(p, d, out)) < 0)
            return r;
    } else if (d->flags & SB_PVF_SUB_REQ) {
        PERR(p, p->pos, "pseudo-variable $%s needs a subname, as in $%s(name)", d->name, d->name);
        return SB_EPARSE;
    }
    /* the short form takes [..] only where it can mean an index: "$ru[x]" in a format string
     * stays text */
    if (p->pos < p->n && p->s[p->pos] == '[' && (full || (d->flags & SB_PVF_INDEX)))
        if ((r = parse_index(p, d, out)) < 0)
            return r;
    if (full && (r = parse_trs(p, out)) < 0)
        return r;
    return 0;
}

static int parse_pv(struct pvp *p, struct sb_pv *out)
{
    memset(out, 0, sizeof(*out));
    out->idx = SB_PV_IDX_NONE;
    size_t start = p->pos;
    if (p->depth > SB__PV_MAX_DEPTH) {
        PERR(p, start, "pseudo-variables nested too deeply");
        return SB_ELIMIT;
    }
    if (p->pos >= p->n || p->s[p->pos] != '$') {
        PERR(p, start, "expected a pseudo-variable");
        return SB_EPARSE;
    }
    p->pos++;
    bool full = p->pos < p->n && p->s[p->pos] == '(';
    size_t close = 0, outer_n = p->n;
    if (full) {
        close = match_close(p->s, p->pos, p->n, '(', ')');
        if (!close) {
            PERR(p, start, "missing ')' to close $(");
            return SB_EPARSE;
        }
        p->pos++;
        p->n = close;
        int r;
        if (p->pos < p->n && p->s[p->pos] == '<' && (r = parse_ctx(p, out)) < 0)
            return r;
    }
    const struct sb_pv_def *d = parse_name(p);
    if (!d)
        return SB_EPARSE;
    out->def = d;
    int r = parse_rest(p, d, out, full);
    if (r < 0)
        return r;
    if (full) {
        if (p->pos != close) {
            PERR(p, p->pos, "unexpected '%c' in $(...)", p->s[p->pos]);
            return SB_EPARSE;
        }
        p->n = outer_n;
        p->pos = close + 1;
    }
    out->text = (sb_str){p->s + start, p->pos - start};
    return (int)(p->pos - start);
}

int sb__pv_parse_span(const char *s, size_t n, struct sb_pv *out, struct sb_arena *a,
                      struct sb_fixup *fx, uint32_t off, unsigned depth)
{
    struct pvp p = {.s = s, .n = n, .a = a, .fx = fx, .off = off, .depth = depth};
    return parse_pv(&p, out);
}

int sb_pv_parse(sb_str text, struct sb_pv *out, struct sb_arena *a, struct sb_fixup *fx)
{
    if (text.len == 0 || text.len > INT32_MAX) {
        sb__fx_error(fx, 0, "expected a pseudo-variable");
        return SB_EPARSE;
    }
    /* the result borrows its text: keep it with the script, not with the parser's buffers */
    const char *copy = sb_arena_dup(a, text.p, text.len);
    if (!copy)
        return SB_ENOMEM;
    return sb__pv_parse_span(copy, text.len, out, a, fx, 0, 0);
}

/* ---- run time ------------------------------------------------------------------------------ */

/* The message a variable reads: <reply> and <request> pick the other message of the execution
 * when there is one. */
static struct sb_msg *ctx_msg(const struct sb_sctx *ctx, const struct sb_pv *pv)
{
    struct sb_msg *m = ctx->msg;
    if (pv->reply_ctx)
        return ctx->reply ? ctx->reply : (m && m->kind == SB_MSG_REPLY ? m : NULL);
    if (pv->request_ctx)
        return m && m->kind == SB_MSG_REQUEST ? m : ctx->request;
    return m;
}

/* Evaluate a dynamic subname and index into <tmp>. Returns 0 (use *use), 1 when the variable
 * cannot be addressed (its subname or index evaluated to NULL or garbage), or < 0. */
static int resolve(struct sb_sctx *ctx, const struct sb_pv *pv, struct sb_pv *tmp,
                   const struct sb_pv **use)
{
    *use = pv;
    if (!pv->sub_pv && !pv->idx_pv)
        return 0;
    *tmp = *pv;
    struct sb_val v;
    int r;
    if (pv->sub_pv) {
        if ((r = sb_pv_get(ctx, pv->sub_pv, &v)) < 0)
            return r;
        if (v.type == SB_VAL_NULL)
            return 1;
        if ((r = sb_val_to_str(ctx, &v, &tmp->sub)) < 0)
            return r;
        if (tmp->sub.len == 0)
            return 1;
        tmp->sub_pv = NULL;
        tmp->fixed = NULL;
    }
    if (pv->idx_pv) {
        if ((r = sb_pv_get(ctx, pv->idx_pv, &v)) < 0)
            return r;
        int32_t i;
        if (v.type == SB_VAL_NULL || !sb_val_to_int(&v, &i) || i <= SB_PV_IDX_APPEND)
            return 1;
        tmp->idx = i;
        tmp->idx_pv = NULL;
    }
    *use = tmp;
    return 0;
}

static int join_all(struct sb_sctx *ctx, const struct sb_pv *pv, int n, struct sb_val *out)
{
    struct sb__sbuf b;
    sb__sbuf_init(&b, ctx->scratch, 64);
    bool any = false;
    for (int i = 0; i < n; i++) {
        struct sb_val v;
        sb__val_null(&v);
        int r = pv->def->get(ctx, pv, i, &v);
        if (r < 0)
            return r;
        if (v.type == SB_VAL_NULL)
            continue;
        sb_str s;
        if ((r = sb_val_to_str(ctx, &v, &s)) < 0)
            return r;
        if (any)
            sb__sbuf_ch(&b, ',');
        sb__sbuf_str(&b, s);
        any = true;
    }
    sb_str s;
    int r = sb__sbuf_done(&b, &s);
    if (r == 0 && any)
        sb__val_str(out, s);
    return r;
}

static bool is_neg_index(int32_t idx)
{
    return idx < 0 && idx > SB_PV_IDX_APPEND;
}

/* Read at <idx>: negative indexes and [*] go through count(). */
static int fetch(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    const struct sb_pv_def *d = pv->def;
    sb__val_null(out);
    if (idx == SB_PV_IDX_NONE || idx >= 0)
        return d->get(ctx, pv, idx, out);
    if (idx == SB_PV_IDX_APPEND)
        return 0;
    if (!d->count)
        return idx == SB_PV_IDX_ALL || idx == -1 ? d->get(ctx, pv, SB_PV_IDX_NONE, out) : 0;
    int n = d->count(ctx, pv);
    if (n < 0)
        return n;
    if (idx == SB_PV_IDX_ALL)
        return join_all(ctx, pv, n, out);
    long real = (long)n + idx;
    return real < 0 ? 0 : d->get(ctx, pv, (int32_t)real, out);
}

static int get_common(struct sb_sctx *ctx, const struct sb_pv *pv, bool at, int32_t at_idx,
                      struct sb_val *out)
{
    struct sb_pv tmp;
    const struct sb_pv *use;
    sb__val_null(out);
    int r = resolve(ctx, pv, &tmp, &use);
    if (r < 0)
        return r;
    if (r == 0) {
        struct sb_msg *saved = ctx->msg;
        ctx->msg = ctx_msg(ctx, use);
        r = fetch(ctx, use, at ? at_idx : use->idx, out);
        ctx->msg = saved;
        if (r < 0) {
            sb__val_null(out);
            return r;
        }
    }
    if (pv->n_trs)
        sb__tr_chain(ctx, pv, out);
    return 0;
}

int sb_pv_get(struct sb_sctx *ctx, const struct sb_pv *pv, struct sb_val *out)
{
    return get_common(ctx, pv, false, 0, out);
}

int sb_pv_get_at(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    return get_common(ctx, pv, true, idx, out);
}

int sb_pv_count(struct sb_sctx *ctx, const struct sb_pv *pv)
{
    struct sb_pv tmp;
    const struct sb_pv *use;
    int r = resolve(ctx, pv, &tmp, &use);
    if (r != 0)
        return r < 0 ? r : 0;
    struct sb_msg *saved = ctx->msg;
    ctx->msg = ctx_msg(ctx, use);
    if (use->def->count) {
        r = use->def->count(ctx, use);
    } else {
        struct sb_val v;
        sb__val_null(&v);
        r = use->def->get(ctx, use, SB_PV_IDX_NONE, &v);
        if (r == 0)
            r = v.type != SB_VAL_NULL;
    }
    ctx->msg = saved;
    return r;
}

/* a <op>= b, for the compound assignments. */
static int arith(struct sb_sctx *ctx, int op, const struct sb_val *a, const struct sb_val *b,
                 struct sb_val *out)
{
    if (op == SB_OP_ADD_SET && (a->type == SB_VAL_STR || b->type == SB_VAL_STR)) {
        /* OpenSIPS: '+' with a string operand concatenates */
        sb_str x, y;
        int r;
        if ((r = sb_val_to_str(ctx, a, &x)) < 0 || (r = sb_val_to_str(ctx, b, &y)) < 0)
            return r;
        char *p = sb_arena_alloc(ctx->scratch, x.len + y.len + 1);
        if (!p)
            return SB_ENOMEM;
        memcpy(p, x.p, x.len);
        memcpy(p + x.len, y.p, y.len);
        sb__val_str(out, (sb_str){p, x.len + y.len});
        return 0;
    }
    int32_t x, y;
    if (!sb_val_to_int(a, &x) || !sb_val_to_int(b, &y))
        return SB_EINVAL;
    int64_t res;
    switch (op) {
    case SB_OP_ADD_SET: res = (int64_t)x + y; break;
    case SB_OP_SUB_SET: res = (int64_t)x - y; break;
    case SB_OP_MUL_SET: res = (int64_t)x * y; break;
    case SB_OP_DIV_SET:
    case SB_OP_MOD_SET:
        if (y == 0)
            return SB_EINVAL;
        res = op == SB_OP_DIV_SET ? (int64_t)x / y : (int64_t)x % y;
        break;
    case SB_OP_AND_SET: res = x & y; break;
    case SB_OP_OR_SET: res = x | y; break;
    case SB_OP_XOR_SET: res = x ^ y; break;
    default: return SB_EINVAL;
    }
    sb__val_int(out, (int32_t)(uint32_t)(uint64_t)res); /* 32-bit wrap, as the interpreter */
    return 0;
}

static int set_resolved(struct sb_sctx *ctx, struct sb_pv *pv, int op, const struct sb_val *v)
{
    const struct sb_pv_def *d = pv->def;
    if (is_neg_index(pv->idx)) {
        int n = d->count ? d->count(ctx, pv) : 1;
        if (n < 0)
            return n;
        if ((long)n + pv->idx < 0)
            return SB_ENOENT;
        pv->idx = n + pv->idx;
    }
    if (op == SB_OP_SET || op == SB_OP_SET_ALL)
        return d->set(ctx, pv, op, v);
    if (op < SB_OP_ADD_SET || op > SB_OP_XOR_SET || pv->idx == SB_PV_IDX_ALL ||
        pv->idx == SB_PV_IDX_APPEND)
        return SB_EINVAL;
    struct sb_val cur, nv;
    int r = fetch(ctx, pv, pv->idx, &cur);
    if (r < 0 || (r = arith(ctx, op, &cur, v, &nv)) < 0)
        return r;
    /* modify the value that was read, rather than pushing a new one on a stack */
    if ((d->flags & SB_PVF_INDEX) && pv->idx == SB_PV_IDX_NONE && cur.type != SB_VAL_NULL)
        pv->idx = 0;
    return d->set(ctx, pv, SB_OP_SET, &nv);
}

int sb_pv_set(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    if (!pv->def->set || pv->n_trs)
        return SB_EINVAL;
    struct sb_pv tmp;
    const struct sb_pv *use;
    int r = resolve(ctx, pv, &tmp, &use);
    if (r != 0)
        return r < 0 ? r : SB_EINVAL;
    if (use != &tmp)
        tmp = *pv;
    struct sb_msg *saved = ctx->msg;
    ctx->msg = ctx_msg(ctx, &tmp);
    r = set_resolved(ctx, &tmp, op, v);
    ctx->msg = saved;
    return r;
}

void sb_pv_worker_exit(void)
{
    sb__vars_thread_exit();
    sb__tr_str_thread_exit();
    sb__tr_net_thread_exit();
}
