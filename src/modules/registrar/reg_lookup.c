/* SPDX-License-Identifier: BSD-2-Clause */
/* lookup(): turn the contacts of the Request-URI's AOR into the destination set: the best contact
 * rewrites the Request-URI, the others become branches, ordered by q (RFC 3261 §16.6) and then by
 * how recently they registered; a stored Path becomes Route headers (RFC 3327 §5.3). */
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"

#include "reg.h"

static int eff_q(const struct sb_ul_contact *c)
{
    return c->q < 0 ? 1000 : c->q;
}

static int cmp_ct(const void *a, const void *b)
{
    const struct sb_ul_contact *x = *(const struct sb_ul_contact *const *)a;
    const struct sb_ul_contact *y = *(const struct sb_ul_contact *const *)b;
    if (eff_q(x) != eff_q(y))
        return eff_q(y) - eff_q(x);
    if (x->last_modified != y->last_modified)
        return x->last_modified < y->last_modified ? 1 : -1;
    return 0;
}

/* The first URI of a Path vector "<sip:a;lr>, <sip:b>" (where the request goes first). */
static sb_str first_path_uri(sb_str path)
{
    long lt = sb_str_chr(path, '<'), gt = sb_str_chr(path, '>');
    if (lt < 0 || gt <= lt)
        return SB_STR_NULL;
    return (sb_str){path.p + lt + 1, (size_t)(gt - lt - 1)};
}

static int set_branch0(struct sb_sctx *ctx, const struct sb_ul_contact *c)
{
    struct sb_msg *m = ctx->msg;
    if (sb_ruri_set(ctx, c->uri) != 0)
        return SB_EPARSE;
    if (c->path.len) {
        sb_str line = sb_msg_printf(m, "Route: %.*s", SB_STR_ARG(c->path));
        if (!line.p || sb_msg_hdr_prepend(m, line) != 0)
            return SB_ENOMEM;
        return sb_duri_set(ctx, first_path_uri(c->path));
    }
    if (c->received.len)
        return sb_duri_set(ctx, c->received);
    return 0;
}

static int add_branches(struct sb_sctx *ctx, struct sb_ul_contact **v, unsigned n)
{
    struct sb_route_state *rs = ctx->rs;
    struct sb_msg *m = ctx->msg;
    unsigned room = SB_MAX_BRANCHES - 1 > rs->n_branches ? SB_MAX_BRANCHES - 1 - rs->n_branches : 0;
    if (n > room) {
        SB_WARN("registrar: %u contacts, only %u more branches allowed", n, room);
        n = room;
    }
    if (!n)
        return 0;
    struct sb_branch_ent *b =
        sb_arena_alloc(&m->arena, (rs->n_branches + n) * sizeof(struct sb_branch_ent));
    if (!b)
        return SB_ENOMEM;
    if (rs->n_branches)
        memcpy(b, rs->branches, rs->n_branches * sizeof(*b));
    for (unsigned i = 0; i < n; i++) {
        const struct sb_ul_contact *c = v[i];
        struct sb_branch_ent *e = &b[rs->n_branches + i];
        *e = (struct sb_branch_ent){.q = c->q, .bflags = c->cflags};
        e->uri = sb_msg_strdup(m, c->uri);
        if (c->path.len) {
            e->path = sb_msg_strdup(m, c->path);
            e->dst_uri = sb_msg_strdup(m, first_path_uri(c->path));
        } else if (c->received.len) {
            e->dst_uri = sb_msg_strdup(m, c->received);
        }
        if (!e->uri.p)
            return SB_ENOMEM;
    }
    rs->branches = b;
    rs->n_branches += n;
    return 0;
}

sb_res sb__reg_lookup(struct sb_sctx *ctx, struct sb_ul_domain *d, const struct reg_flags *fl,
                      sb_str aor_uri)
{
    struct sb_msg *m = ctx->msg;
    if (!m || !ctx->rs || !sb_msg_is_request(m))
        return sb_res_code(-3);
    sb_str src = aor_uri.len ? aor_uri : sb_ruri_get(ctx);
    char aor[256];
    long alen = src.len ? sb__reg_aor(src, aor, sizeof(aor)) : -1;
    if (alen <= 0) {
        SB_ERR("registrar: lookup(): cannot take an AOR from '%.*s'", SB_STR_ARG(src));
        return sb_res_code(-3);
    }
    struct sb_ul_contact *list;
    unsigned n;
    if (sb_ul_snapshot(d, (sb_str){aor, (size_t)alen}, ctx->scratch, &list, &n) != 0)
        return sb_res_code(-3);
    if (!n)
        return sb_res_code(-1);
    struct sb_ul_contact **v = sb_arena_alloc(ctx->scratch, n * sizeof(*v));
    if (!v)
        return sb_res_code(-3);
    unsigned k = 0;
    for (struct sb_ul_contact *c = list; c; c = c->next) {
        if ((fl->f & REG_LF_METHOD_FILTER) && m->method_id && !(c->methods & m->method_id))
            continue;
        v[k++] = c;
    }
    if (!k)
        return sb_res_code(-2); /* contacts exist, none accepts this method */
    qsort(v, k, sizeof(*v), cmp_ct);
    if (fl->f & REG_LF_NO_BRANCHES)
        k = 1;
    int rc;
    if (fl->f & REG_LF_TO_BRANCHES_ONLY) {
        rc = add_branches(ctx, v, k);
    } else {
        rc = set_branch0(ctx, v[0]);
        if (rc == 0) {
            ctx->rs->bflags |= v[0]->cflags;
            rc = add_branches(ctx, v + 1, k - 1);
        }
    }
    if (rc != 0) {
        SB_ERR("registrar: lookup(): cannot set the destination set (%d)", rc);
        return sb_res_code(-3);
    }
    return sb_res_true();
}
