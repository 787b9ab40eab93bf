/* SPDX-License-Identifier: BSD-2-Clause */
/* Message flags (setflag ...) and branch flags (setbflag ...), by bit number or by name. Names
 * get bits at check time from a process-wide table per kind, as OpenSIPS 3 does. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core_fns.h"
#include "sb/base.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/script.h"

#define N_FLAGS 32

/* Written by the checker (control thread), read by workers resolving a flag given as a
 * variable: the lock keeps a reload's new names from tearing a concurrent lookup. Names are
 * never removed, so bits stay stable across reloads. */
static pthread_mutex_t flag_lock = PTHREAD_MUTEX_INITIALIZER;
static char *flag_names[2][N_FLAGS];

static bool name_is_bit(sb_str name, unsigned *bit)
{
    uint32_t n;
    if (sb_str_to_u32(name, &n) != 0)
        return false;
    *bit = n;
    return true;
}

int sb__flag_bit(int kind, sb_str name, bool create)
{
    unsigned bit;
    if (name_is_bit(name, &bit))
        return bit < N_FLAGS ? (int)bit : SB_ERANGE;
    if (name.len == 0 || (kind != SB__FLAG_MSG && kind != SB__FLAG_BRANCH))
        return SB_EINVAL;
    int rc = SB_ENOENT;
    pthread_mutex_lock(&flag_lock);
    char **names = flag_names[kind];
    int free_bit = -1;
    for (unsigned i = 0; i < N_FLAGS; i++) {
        if (names[i] && strlen(names[i]) == name.len && memcmp(names[i], name.p, name.len) == 0) {
            rc = (int)i;
            goto out;
        }
    }
    if (!create)
        goto out;
    /* the highest free bit: low bit numbers are what configs use for numeric flags */
    for (int i = N_FLAGS - 1; i >= 0; i--) {
        if (!names[i]) {
            free_bit = i;
            break;
        }
    }
    if (free_bit < 0) {
        rc = SB_ENOSPC;
        goto out;
    }
    names[free_bit] = strndup(name.p, name.len);
    rc = names[free_bit] ? free_bit : SB_ENOMEM;
out:
    pthread_mutex_unlock(&flag_lock);
    return rc;
}

const char *sb__flag_name(int kind, unsigned bit)
{
    if ((kind != SB__FLAG_MSG && kind != SB__FLAG_BRANCH) || bit >= N_FLAGS)
        return NULL;
    pthread_mutex_lock(&flag_lock);
    const char *n = flag_names[kind][bit];
    pthread_mutex_unlock(&flag_lock);
    return n;
}

static int fix_flag(int kind, struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    int bit;
    if (in->type == SB_VAL_INT) {
        bit = in->i >= 0 && in->i < N_FLAGS ? in->i : SB_ERANGE;
    } else if (in->type == SB_VAL_STR) {
        bit = sb__flag_bit(kind, sb_str_trim(in->s), true);
    } else {
        bit = SB_EINVAL;
    }
    if (bit < 0) {
        const char *why = bit == SB_ERANGE   ? "a flag number must be 0..31"
                          : bit == SB_ENOSPC ? "more than 32 flag names"
                                             : "empty flag name";
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "argument %u of '%s': %s", fx->arg_no,
                      fx->fn_name, why);
        return SB_EINVAL;
    }
    /* the bit plus one: NULL stays "no fixup ran" (a variable argument) */
    *out = (void *)(uintptr_t)(bit + 1);
    return 0;
}

int sb__cf_fix_mflag(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    return fix_flag(SB__FLAG_MSG, fx, in, out);
}

int sb__cf_fix_bflag(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    return fix_flag(SB__FLAG_BRANCH, fx, in, out);
}

/* The bit of a flag argument: fixed at check time, or resolved now from a variable's value
 * (a name must already be known: run time never assigns bits). */
static int arg_bit(int kind, const struct sb_arg *a)
{
    if (a->fixed)
        return (int)((uintptr_t)a->fixed - 1);
    if (a->v.type == SB_VAL_INT)
        return a->v.i >= 0 && a->v.i < N_FLAGS ? a->v.i : SB_ERANGE;
    if (a->v.type == SB_VAL_STR)
        return sb__flag_bit(kind, sb_str_trim(a->v.s), false);
    return SB_EINVAL;
}

enum { F_SET, F_RESET, F_TEST };

static sb_res flag_op(uint32_t *flags, int bit, int op)
{
    if (bit < 0) {
        SB_WARN("script: unknown or invalid flag");
        return sb_res_false();
    }
    uint32_t mask = 1u << bit;
    switch (op) {
    case F_SET: *flags |= mask; return sb_res_true();
    case F_RESET: *flags &= ~mask; return sb_res_true();
    default: return (*flags & mask) ? sb_res_true() : sb_res_false();
    }
}

static sb_res mflag(struct sb_sctx *ctx, const struct sb_arg *a, int op)
{
    if (!ctx->rs)
        return sb_res_false();
    return flag_op(&ctx->rs->flags, arg_bit(SB__FLAG_MSG, &a[0]), op);
}

sb_res sb__cf_setflag(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return mflag(ctx, a, F_SET);
}

sb_res sb__cf_resetflag(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return mflag(ctx, a, F_RESET);
}

sb_res sb__cf_isflagset(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return mflag(ctx, a, F_TEST);
}

/* ([branch_idx,] flag): branch 0 is the Request-URI's, 1.. the appended branches. */
static sb_res bflag(struct sb_sctx *ctx, const struct sb_arg *a, int op)
{
    struct sb_route_state *rs = ctx->rs;
    if (!rs)
        return sb_res_false();
    int32_t idx = 0;
    const struct sb_arg *flag = &a[0];
    if (a[1].present) {
        if (!sb_val_to_int(&a[0].v, &idx) || idx < 0) {
            SB_WARN("script: bad branch index");
            return sb_res_false();
        }
        flag = &a[1];
    }
    uint32_t *flags;
    if (idx == 0)
        flags = &rs->bflags;
    else if ((uint32_t)idx <= rs->n_branches)
        flags = &rs->branches[idx - 1].bflags;
    else
        return sb_res_false();
    return flag_op(flags, arg_bit(SB__FLAG_BRANCH, flag), op);
}

sb_res sb__cf_setbflag(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return bflag(ctx, a, F_SET);
}

sb_res sb__cf_resetbflag(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return bflag(ctx, a, F_RESET);
}

sb_res sb__cf_isbflagset(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return bflag(ctx, a, F_TEST);
}

int sb_mflag_bit(sb_str name, bool create)
{
    return sb__flag_bit(SB__FLAG_MSG, name, create);
}

int sb_bflag_bit(sb_str name, bool create)
{
    return sb__flag_bit(SB__FLAG_BRANCH, name, create);
}
