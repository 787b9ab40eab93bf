/* SPDX-License-Identifier: BSD-2-Clause */
/* Script operators on values: arithmetic (32-bit, wrapping), bitwise, string concatenation and
 * comparisons, shared by constant folding at check time and by the interpreter. */
#include <string.h>

#include "action.h"
#include "sb/base.h"

/* Bytewise, shorter first on a common prefix. */
static int str_cmp(sb_str a, sb_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c)
        return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static bool cmp_result(int op, int c)
{
    switch (op) {
    case SB_OP_EQ: return c == 0;
    case SB_OP_NE: return c != 0;
    case SB_OP_LT: return c < 0;
    case SB_OP_GT: return c > 0;
    case SB_OP_LE: return c <= 0;
    case SB_OP_GE: return c >= 0;
    default: return false;
    }
}

static sb_str int_text(int32_t i, char buf[12])
{
    size_t n = 0;
    uint32_t u = (uint32_t)i;
    if (i < 0) {
        buf[n++] = '-';
        u = 0u - u;
    }
    n += sb_u64_to_dec(u, buf + n);
    return (sb_str){buf, n};
}

bool sb__val_compare(int op, const struct sb_val *a, const struct sb_val *b)
{
    if (a->type == SB_VAL_NULL || b->type == SB_VAL_NULL) {
        bool same = a->type == b->type;
        return op == SB_OP_EQ ? same : op == SB_OP_NE ? !same : false;
    }
    if (a->type == SB_VAL_INT && b->type == SB_VAL_INT)
        return cmp_result(op, (a->i > b->i) - (a->i < b->i));
    if (a->type == SB_VAL_STR && b->type == SB_VAL_STR)
        return cmp_result(op, str_cmp(a->s, b->s));
    /* an int against a string: as numbers when the string is one, else as text */
    const struct sb_val *iv = a->type == SB_VAL_INT ? a : b;
    const struct sb_val *sv = a->type == SB_VAL_INT ? b : a;
    int32_t n;
    int c;
    if (sb_val_to_int(sv, &n)) {
        c = (iv->i > n) - (iv->i < n);
    } else {
        char buf[12];
        c = str_cmp(int_text(iv->i, buf), sv->s);
    }
    return cmp_result(op, iv == a ? c : -c);
}

static int concat(struct sb_sctx *ctx, const struct sb_val *a, const struct sb_val *b,
                  struct sb_val *out)
{
    sb_str x, y;
    int rc;
    if ((rc = sb_val_to_str(ctx, a, &x)) < 0 || (rc = sb_val_to_str(ctx, b, &y)) < 0)
        return rc;
    char *p = sb_arena_alloc(ctx->scratch, x.len + y.len + 1);
    if (!p)
        return SB_ENOMEM;
    if (x.len)
        memcpy(p, x.p, x.len);
    if (y.len)
        memcpy(p + x.len, y.p, y.len);
    p[x.len + y.len] = '\0';
    out->type = SB_VAL_STR;
    out->i = 0;
    out->s = (sb_str){p, x.len + y.len};
    return 0;
}

static void set_int(struct sb_val *out, int32_t i)
{
    out->type = SB_VAL_INT;
    out->i = i;
    out->s = SB_STR_NULL;
}

/* Integer operators wrap at 32 bits as OpenSIPS's int does, without undefined behaviour. */
static int int_op(int op, int32_t x, int32_t y, int32_t *r, const char **why)
{
    uint32_t ux = (uint32_t)x, uy = (uint32_t)y;
    switch (op) {
    case SB_OP_ADD: *r = (int32_t)(ux + uy); return 0;
    case SB_OP_SUB: *r = (int32_t)(ux - uy); return 0;
    case SB_OP_MUL: *r = (int32_t)(uint32_t)((uint64_t)ux * uy); return 0;
    case SB_OP_DIV:
    case SB_OP_MOD:
        if (y == 0) {
            *why = op == SB_OP_DIV ? "division by zero" : "modulo by zero";
            return SB_ERANGE;
        }
        if (x == INT32_MIN && y == -1)
            *r = op == SB_OP_DIV ? INT32_MIN : 0;
        else
            *r = op == SB_OP_DIV ? x / y : x % y;
        return 0;
    case SB_OP_BAND: *r = (int32_t)(ux & uy); return 0;
    case SB_OP_BOR: *r = (int32_t)(ux | uy); return 0;
    case SB_OP_BXOR: *r = (int32_t)(ux ^ uy); return 0;
    case SB_OP_SHL: *r = y < 0 || y > 31 ? 0 : (int32_t)(ux << y); return 0;
    case SB_OP_SHR: *r = y < 0 || y > 31 ? (x < 0 ? -1 : 0) : x >> y; return 0;
    default: *why = "unsupported operator"; return SB_EINVAL;
    }
}

int sb__op_binary(struct sb_sctx *ctx, int op, const struct sb_val *a, const struct sb_val *b,
                  struct sb_val *out, const char **why)
{
    switch (op) {
    case SB_OP_EQ:
    case SB_OP_NE:
    case SB_OP_LT:
    case SB_OP_GT:
    case SB_OP_LE:
    case SB_OP_GE: set_int(out, sb__val_compare(op, a, b)); return 0;
    case SB_OP_ADD:
        if (a->type == SB_VAL_STR || b->type == SB_VAL_STR) {
            int rc = concat(ctx, a, b, out);
            if (rc)
                *why = "out of memory";
            return rc;
        }
        break;
    default: break;
    }
    int32_t x, y, r;
    if (!sb_val_to_int(a, &x) || !sb_val_to_int(b, &y)) {
        *why = "operand is not a number";
        return SB_EINVAL;
    }
    int rc = int_op(op, x, y, &r, why);
    if (rc)
        return rc;
    set_int(out, r);
    return 0;
}

int sb__op_unary(int op, const struct sb_val *a, struct sb_val *out, const char **why)
{
    if (op == SB_OP_NOT) {
        set_int(out, !sb_val_is_true(a));
        return 0;
    }
    int32_t x;
    if (!sb_val_to_int(a, &x)) {
        *why = "operand is not a number";
        return SB_EINVAL;
    }
    set_int(out, op == SB_OP_NEG ? (int32_t)(0u - (uint32_t)x) : (int32_t) ~(uint32_t)x);
    return 0;
}

int sb__assign_binop(int op)
{
    switch (op) {
    case SB_OP_ADD_SET: return SB_OP_ADD;
    case SB_OP_SUB_SET: return SB_OP_SUB;
    case SB_OP_MUL_SET: return SB_OP_MUL;
    case SB_OP_DIV_SET: return SB_OP_DIV;
    case SB_OP_MOD_SET: return SB_OP_MOD;
    case SB_OP_AND_SET: return SB_OP_BAND;
    case SB_OP_OR_SET: return SB_OP_BOR;
    case SB_OP_XOR_SET: return SB_OP_BXOR;
    default: return SB_OP_NONE;
    }
}
