/* SPDX-License-Identifier: BSD-2-Clause */
/* Transformations: the registry, check-time parsing of {class.name,arg,...}, argument evaluation
 * and the run-time chain. The transformations themselves are in tr_str.c, tr_sip.c, tr_net.c. */
#include <string.h>

#include "pv_int.h"

/* ---- registry ------------------------------------------------------------------------------ */

#define TR_MAX_TABLES 64

/* Module tables: registered by the module layer and read by the checker, both on the control
 * thread; the lock keeps a late registration from racing a check. */
static pthread_mutex_t tr_reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards tr_tables, tr_n_tables */
static const struct sb_tr_def *tr_tables[TR_MAX_TABLES];
static unsigned tr_n_tables;

static const struct sb_tr_def *find_in(const struct sb_tr_def *t, sb_str cls, sb_str name)
{
    for (; t->cls; t++)
        if (sb_str_eq(sb_str_cstr(t->cls), cls) && sb_str_eq(sb_str_cstr(t->name), name))
            return t;
    return NULL;
}

static const struct sb_tr_def *tr_lookup(sb_str cls, sb_str name)
{
    static const struct sb_tr_def *const core[] = {sb__tr_str_defs, sb__tr_sip_defs,
                                                   sb__tr_net_defs};
    const struct sb_tr_def *d = NULL;
    for (size_t i = 0; i < SB_ARRAY_LEN(core) && !d; i++)
        d = find_in(core[i], cls, name);
    if (d)
        return d;
    pthread_mutex_lock(&tr_reg_lock);
    for (unsigned i = 0; i < tr_n_tables && !d; i++)
        d = find_in(tr_tables[i], cls, name);
    pthread_mutex_unlock(&tr_reg_lock);
    return d;
}

int sb_tr_register(const struct sb_tr_def *defs)
{
    for (const struct sb_tr_def *d = defs; d->cls; d++) {
        if (!d->name || !*d->cls || !*d->name || !d->apply || d->min_args > d->max_args ||
            d->max_args > SB_TR_MAX_ARGS || tr_lookup(sb_str_cstr(d->cls), sb_str_cstr(d->name)))
            return SB_EINVAL;
    }
    int rc = 0;
    pthread_mutex_lock(&tr_reg_lock);
    if (tr_n_tables == TR_MAX_TABLES)
        rc = SB_ELIMIT;
    else
        tr_tables[tr_n_tables++] = defs;
    pthread_mutex_unlock(&tr_reg_lock);
    return rc;
}

/* ---- parsing ------------------------------------------------------------------------------- */

/* End of the argument starting at <pos>: the next ',' outside (), {} and []. */
static size_t arg_end(const char *s, size_t pos, size_t n)
{
    int level = 0;
    for (; pos < n; pos++) {
        char c = s[pos];
        if (c == '\\' && pos + 1 < n)
            pos++;
        else if (c == '(' || c == '{' || c == '[')
            level++;
        else if ((c == ')' || c == '}' || c == ']') && level > 0)
            level--;
        else if (c == ',' && level == 0)
            break;
    }
    return pos;
}

/* A constant that reads as a number becomes an int that keeps its text in .s, so that a string
 * argument such as a fill character "0" or a name "007" is still seen as written. */
static int parse_arg(const char *s, size_t n, struct sb_tr *tr, unsigned k, struct sb_arena *a,
                     struct sb_fixup *fx, uint32_t off, unsigned depth)
{
    if (n && s[0] == '$') {
        struct sb_pv *pv = sb_arena_zalloc(a, sizeof(*pv));
        if (!pv)
            return SB_ENOMEM;
        int r = sb__pv_parse_span(s, n, pv, a, fx, off, depth);
        if (r < 0)
            return r;
        if ((size_t)r != n) {
            sb__fx_error(fx, off + (uint32_t)r,
                         "unexpected '%c' after the variable in a "
                         "transformation argument",
                         s[r]);
            return SB_EPARSE;
        }
        tr->args[k].pv = pv;
        return 0;
    }
    struct sb_val *v = &tr->args[k].v;
    v->type = SB_VAL_STR;
    v->s = (sb_str){s, n};
    int32_t i;
    if (n && sb_val_to_int(v, &i)) {
        v->type = SB_VAL_INT;
        v->i = i;
    }
    return 0;
}

int sb__tr_parse(const char *s, size_t n, struct sb_tr *out, struct sb_arena *a,
                 struct sb_fixup *fx, uint32_t off, unsigned depth)
{
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    while (i < n && s[i] != ',')
        i++;
    sb_str full = {s, i};
    long dot = sb_str_chr(full, '.');
    if (dot <= 0 || (size_t)dot + 1 >= full.len) {
        sb__fx_error(fx, off, "bad transformation {%.*s}: expected {class.name[,args]}", (int)n, s);
        return SB_EPARSE;
    }
    sb_str cls = {s, (size_t)dot}, name = {s + dot + 1, full.len - (size_t)dot - 1};
    const struct sb_tr_def *d = tr_lookup(cls, name);
    if (!d) {
        sb__fx_error(fx, off, "unknown transformation {%.*s}", (int)full.len, full.p);
        return SB_EPARSE;
    }
    out->def = d;
    unsigned k = 0;
    for (size_t pos = i; pos < n; k++) {
        pos++; /* the ',' */
        if (k == d->max_args) {
            sb__fx_error(fx, off + (uint32_t)pos, "too many arguments for {%s.%s} (at most %u)",
                         d->cls, d->name, d->max_args);
            return SB_EPARSE;
        }
        /* the last argument takes the rest: {s.select,0,,} splits on ',' and a regex may
         * contain commas */
        size_t end = k + 1 == d->max_args ? n : arg_end(s, pos, n);
        int r = parse_arg(s + pos, end - pos, out, k, a, fx, off + (uint32_t)pos, depth);
        if (r < 0)
            return r;
        pos = end;
    }
    if (k < d->min_args) {
        sb__fx_error(fx, off, "{%s.%s} needs at least %u argument%s", d->cls, d->name, d->min_args,
                     d->min_args == 1 ? "" : "s");
        return SB_EPARSE;
    }
    out->n_args = (uint8_t)k;
    if (!d->fix)
        return 0;
    struct sb_fixup fx2, *pfx = NULL;
    if (fx) {
        fx2 = *fx;
        if (fx2.line)
            fx2.col += off;
        pfx = &fx2;
    }
    out->fixed = a; /* the contract of sb_tr_def.fix: the script arena, for what must last */
    if (d->fix(pfx, out) < 0)
        return SB_EPARSE;
    if (out->fixed == a)
        out->fixed = NULL;
    return 0;
}

/* ---- run time ------------------------------------------------------------------------------ */

int sb_tr_arg(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned i, struct sb_val *out)
{
    if (i >= tr->n_args) {
        sb__val_null(out);
        return SB_ENOENT;
    }
    if (tr->args[i].pv)
        return sb_pv_get(ctx, tr->args[i].pv, out);
    *out = tr->args[i].v;
    return 0;
}

int sb__tr_arg_int(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned i, int32_t *out)
{
    struct sb_val v;
    int r = sb_tr_arg(ctx, tr, i, &v);
    if (r < 0)
        return r;
    return v.type != SB_VAL_NULL && sb_val_to_int(&v, out) ? 0 : SB_EINVAL;
}

int sb__tr_arg_str(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned i, sb_str *out)
{
    struct sb_val v;
    int r = sb_tr_arg(ctx, tr, i, &v);
    if (r < 0)
        return r;
    if (v.type == SB_VAL_NULL)
        return SB_EINVAL;
    if (v.s.p) { /* a constant keeps its text, numbers included */
        *out = v.s;
        return 0;
    }
    return sb_val_to_str(ctx, &v, out);
}

int sb__tr_in_str(struct sb_sctx *ctx, const struct sb_val *v, sb_str *out)
{
    if (v->type == SB_VAL_NULL)
        return SB_EINVAL;
    return sb_val_to_str(ctx, v, out);
}

int sb__tr_fix_int_args(struct sb_fixup *fx, struct sb_tr *tr, unsigned mask)
{
    for (unsigned i = 0; i < tr->n_args; i++) {
        if ((mask & (1u << i)) && !tr->args[i].pv && tr->args[i].v.type != SB_VAL_INT) {
            sb__fx_error(fx, 0, "argument %u of {%s.%s} must be a number, not '%.*s'", i + 1,
                         tr->def->cls, tr->def->name, (int)tr->args[i].v.s.len, tr->args[i].v.s.p);
            return SB_EPARSE;
        }
    }
    return 0;
}

void sb__tr_chain(struct sb_sctx *ctx, const struct sb_pv *pv, struct sb_val *v)
{
    for (unsigned i = 0; i < pv->n_trs; i++) {
        const struct sb_tr *tr = &pv->trs[i];
        if (tr->def->apply(ctx, tr, v) < 0) {
            /* OpenSIPS: a failed transformation yields NULL */
            sb__val_null(v);
            return;
        }
    }
}
