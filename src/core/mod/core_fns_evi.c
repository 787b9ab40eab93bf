/* SPDX-License-Identifier: BSD-2-Clause */
/* raise_event("E_NAME"[, $avp(names), $avp(values)]): script-defined events. A constant name is
 * registered when the script is checked, so that event_subscribe accepts it before the first
 * raise (as OpenSIPS does). */
#include <string.h>

#include "core_fns.h"
#include "sb/base.h"
#include "sb/diag.h"
#include "sb/evi.h"
#include "sb/log.h"
#include "sb/script.h"

int sb__cf_fix_event(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    sb_evi_id id = 0;
    int rc = in->type == SB_VAL_STR ? sb_evi_register_str(sb_str_trim(in->s), &id) : SB_EINVAL;
    if (rc != 0) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "argument %u of '%s': %s", fx->arg_no,
                      fx->fn_name,
                      rc == SB_ELIMIT ? "too many events"
                                      : "an event name is E_ followed by letters, digits or '_'");
        return SB_EINVAL;
    }
    *out = (void *)(uintptr_t)id;
    return 0;
}

/* Collect the names and values: the i-th name goes with the i-th value. AVPs are stacks (the
 * last assigned comes first), so walking both from the same end keeps the pairs together. */
static int collect(struct sb_sctx *ctx, const struct sb_arg *a, struct sb_evi_params *p,
                   char (*names)[64])
{
    if (!a[1].present || !a[1].var)
        return 0;
    int n = sb_pv_count(ctx, a[1].var);
    int nv = a[2].present && a[2].var ? sb_pv_count(ctx, a[2].var) : 0;
    if (n < 0)
        return n;
    if (a[2].present && nv != n)
        SB_WARN("raise_event: %d attribute names but %d values", n, nv);
    for (int i = n - 1; i >= 0 && p->n < SB_EVI_MAX_PARAMS; i--) {
        struct sb_val name, val = {.type = SB_VAL_NULL};
        sb_str ns;
        if (sb_pv_get_at(ctx, a[1].var, i, &name) < 0 || sb_val_to_str(ctx, &name, &ns) < 0)
            return SB_ENOMEM;
        size_t l = ns.len < 63 ? ns.len : 63;
        memcpy(names[p->n], ns.p, l);
        names[p->n][l] = '\0';
        if (i < nv && sb_pv_get_at(ctx, a[2].var, i, &val) < 0)
            return SB_ENOMEM;
        if (val.type == SB_VAL_INT)
            sb_evi_param_int(p, names[p->n], val.i);
        else if (val.type == SB_VAL_STR)
            sb_evi_param_str(p, names[p->n], val.s);
        else
            sb_evi_param_str(p, names[p->n], SB_STR(""));
    }
    return 0;
}

sb_res sb__cf_raise_event(struct sb_sctx *ctx, const struct sb_arg *a)
{
    sb_evi_id id = (sb_evi_id)(uintptr_t)a[0].fixed;
    if (!id)
        id = sb_evi_find(sb_str_trim(a[0].v.s));
    if (!id) {
        SB_WARN("raise_event: unknown event '" SB_STR_FMT "'", SB_STR_ARG(a[0].v.s));
        return sb_res_false();
    }
    struct sb_evi_params p = {0};
    char names[SB_EVI_MAX_PARAMS][64];
    if (collect(ctx, a, &p, names) != 0)
        return sb_res_error(SB_ENOMEM);
    return sb_evi_raise(id, &p) == 0 ? sb_res_true() : sb_res_false();
}
