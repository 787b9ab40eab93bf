/* SPDX-License-Identifier: BSD-2-Clause */
/* Script value helpers: OpenSIPS conversions and truthiness, heap copies for stored values, and a
 * small string builder over the scratch arena. */
#include <stdlib.h>
#include <string.h>

#include "pv_int.h"

bool sb_val_to_int(const struct sb_val *v, int32_t *out)
{
    switch (v->type) {
    case SB_VAL_INT: *out = v->i; return true;
    case SB_VAL_NULL: *out = 0; return true;
    default: break;
    }
    /* OpenSIPS: an optional sign and digits, all of the string; "12a", " 1" and "" are not
     * numbers. */
    sb_str s = v->s;
    bool neg = false;
    if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        s.p++;
        s.len--;
    }
    uint64_t u;
    if (sb_str_to_u64(s, (uint64_t)INT32_MAX + 1, &u) != 0)
        return false;
    if (!neg && u > INT32_MAX)
        return false;
    *out = neg ? (int32_t)(-(int64_t)u) : (int32_t)u;
    return true;
}

int sb__int_str(struct sb_sctx *ctx, int32_t i, sb_str *out)
{
    char *p = ctx->scratch ? sb_arena_alloc(ctx->scratch, 12) : NULL;
    if (!p)
        return SB_ENOMEM;
    size_t n = 0;
    uint32_t u = (uint32_t)i;
    if (i < 0) {
        p[n++] = '-';
        u = 0u - u;
    }
    n += sb_u64_to_dec(u, p + n);
    *out = (sb_str){p, n};
    return 0;
}

int sb_val_to_str(struct sb_sctx *ctx, const struct sb_val *v, sb_str *out)
{
    switch (v->type) {
    case SB_VAL_STR: *out = v->s.p ? v->s : SB_STR(""); return 0;
    case SB_VAL_INT: return sb__int_str(ctx, v->i, out);
    default:
        /* NULL renders as nothing here; format strings print "<null>" themselves */
        *out = SB_STR("");
        return 0;
    }
}

bool sb_val_is_true(const struct sb_val *v)
{
    switch (v->type) {
    case SB_VAL_INT: return v->i != 0;
    case SB_VAL_STR: return v->s.len != 0;
    default: return false;
    }
}

int sb__val_heap_copy(struct sb_val *dst, const struct sb_val *src)
{
    if (src->type != SB_VAL_STR) {
        *dst = *src;
        dst->s = SB_STR_NULL;
        return 0;
    }
    char *p = malloc(src->s.len + 1);
    if (!p)
        return SB_ENOMEM;
    if (src->s.len)
        memcpy(p, src->s.p, src->s.len);
    p[src->s.len] = '\0';
    dst->type = SB_VAL_STR;
    dst->i = 0;
    dst->s = (sb_str){p, src->s.len};
    return 0;
}

void sb__val_heap_free(struct sb_val *v)
{
    if (v->type == SB_VAL_STR)
        free((void *)v->s.p);
    sb__val_null(v);
}

/* ---- scratch string builder ---------------------------------------------------------------- */

void sb__sbuf_init(struct sb__sbuf *b, struct sb_arena *a, size_t hint)
{
    b->a = a;
    b->len = 0;
    b->cap = hint ? hint : 64;
    b->p = a ? sb_arena_alloc(a, b->cap) : NULL;
    b->err = b->p ? 0 : SB_ENOMEM;
}

void sb__sbuf_put(struct sb__sbuf *b, const void *p, size_t n)
{
    if (b->err || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap * 2;
        while (cap < b->len + n)
            cap *= 2;
        char *np = sb_arena_alloc(b->a, cap);
        if (!np) {
            b->err = SB_ENOMEM;
            return;
        }
        memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

int sb__sbuf_done(struct sb__sbuf *b, sb_str *out)
{
    if (b->err)
        return b->err;
    *out = (sb_str){b->p, b->len};
    return 0;
}
