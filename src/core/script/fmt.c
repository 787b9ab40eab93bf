/* SPDX-License-Identifier: BSD-2-Clause */
/* Format strings ("call from $fU@$fd to $(ru{uri.user})"): compiled once at check time into
 * literal/variable pairs, expanded per execution into the scratch arena. */
#include <string.h>

#include "pv_int.h"

/* A literal followed by a variable (NULL for the trailing literal). */
struct fmt_part {
    sb_str lit;
    const struct sb_pv *pv;
};

struct sb_fmt {
    sb_str text; /* a constant format: its text, "$$" already turned into '$' */
    struct fmt_part *parts;
    uint32_t n_parts;
    bool is_const;
};

static bool starts_pv(const char *p, size_t i, size_t n)
{
    if (i + 1 >= n)
        return false;
    unsigned char c = (unsigned char)p[i + 1];
    return c == '(' || c == '_' || sb_is_alpha(c);
}

int sb_fmt_compile(sb_str text, struct sb_fmt **out, struct sb_arena *a, struct sb_fixup *fx)
{
    size_t n = text.len, n_vars = 0;
    for (size_t i = 0; i < n; i++)
        n_vars += text.p[i] == '$';
    struct sb_fmt *f = sb_arena_zalloc(a, sizeof(*f));
    char *copy = sb_arena_dup(a, text.p, n ? n : 1);
    char *lit = sb_arena_alloc(a, n ? n : 1); /* literals, with "$$" resolved */
    struct fmt_part *parts = sb_arena_zalloc(a, (n_vars + 1) * sizeof(*parts));
    if (!f || !copy || !lit || !parts)
        return SB_ENOMEM;
    uint32_t np = 0;
    size_t w = 0, lit0 = 0;
    for (size_t i = 0; i < n;) {
        if (copy[i] == '$' && i + 1 < n && copy[i + 1] == '$') {
            lit[w++] = '$';
            i += 2;
        } else if (copy[i] == '$' && starts_pv(copy, i, n)) {
            struct sb_pv *pv = sb_arena_zalloc(a, sizeof(*pv));
            if (!pv)
                return SB_ENOMEM;
            int r = sb__pv_parse_span(copy + i, n - i, pv, a, fx, (uint32_t)i, 0);
            if (r < 0)
                return r;
            parts[np++] = (struct fmt_part){{lit + lit0, w - lit0}, pv};
            lit0 = w;
            i += (size_t)r;
        } else {
            /* a '$' that starts no variable ("costs $5") is text */
            lit[w++] = copy[i++];
        }
    }
    if (w > lit0 || np == 0)
        parts[np++] = (struct fmt_part){{lit + lit0, w - lit0}, NULL};
    f->parts = parts;
    f->n_parts = np;
    f->is_const = np == 1 && !parts[0].pv;
    f->text = parts[0].lit;
    *out = f;
    return 0;
}

bool sb_fmt_is_const(const struct sb_fmt *f)
{
    return f->is_const;
}

#define FMT_STACK_VALS 16

int sb_fmt_expand(struct sb_sctx *ctx, const struct sb_fmt *f, sb_str *out)
{
    if (f->is_const) {
        *out = f->text;
        return 0;
    }
    /* render every variable first, then copy once into a block of the right size */
    sb_str stack[FMT_STACK_VALS], *vals = stack;
    if (f->n_parts > FMT_STACK_VALS &&
        !(vals = sb_arena_alloc(ctx->scratch, f->n_parts * sizeof(*vals))))
        return SB_ENOMEM;
    size_t total = 0;
    for (uint32_t i = 0; i < f->n_parts; i++) {
        vals[i] = SB_STR("");
        if (f->parts[i].pv) {
            struct sb_val v;
            int r = sb_pv_get(ctx, f->parts[i].pv, &v);
            if (r < 0)
                return r;
            if (v.type == SB_VAL_NULL)
                vals[i] = SB_STR("<null>");
            else if ((r = sb_val_to_str(ctx, &v, &vals[i])) < 0)
                return r;
        }
        total += f->parts[i].lit.len + vals[i].len;
    }
    char *p = sb_arena_alloc(ctx->scratch, total ? total : 1);
    if (!p)
        return SB_ENOMEM;
    size_t w = 0;
    for (uint32_t i = 0; i < f->n_parts; i++) {
        memcpy(p + w, f->parts[i].lit.p, f->parts[i].lit.len);
        w += f->parts[i].lit.len;
        if (vals[i].len)
            memcpy(p + w, vals[i].p, vals[i].len);
        w += vals[i].len;
    }
    *out = (sb_str){p, w};
    return 0;
}
