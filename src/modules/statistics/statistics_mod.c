/* SPDX-License-Identifier: BSD-2-Clause */
/* statistics: script-defined statistics. update_stat(name, value), reset_stat(name), $stat(name);
 * modparam "variable" predeclares ("name" or "name/no_reset"), "stat_groups" allows
 * "group:name". As in OpenSIPS, a name that is not declared is created on first update, in the
 * "dynamic" group. */
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/script.h"
#include "sb/stats.h"

#define MAX_DECL     128
#define MAX_GROUPS   32
#define NAME_MAX_LEN 127
#define DYN_GROUP    "dynamic"

/* Filled by modparam while the configuration loads (control thread). */
static struct {
    char *names[MAX_DECL];
    uint32_t flags[MAX_DECL];
    unsigned n;
    char *groups[MAX_GROUPS];
    unsigned n_groups;
} decl;

static bool group_allowed(sb_str g)
{
    if (sb_str_eq(g, SB_STR(DYN_GROUP)))
        return true;
    for (unsigned i = 0; i < decl.n_groups; i++)
        if (sb_str_eq(g, sb_str_cstr(decl.groups[i])))
            return true;
    return false;
}

static int set_variable(const struct sb_val *v, const char **err)
{
    if (decl.n == MAX_DECL) {
        *err = "too many statistics declared";
        return -1;
    }
    sb_str s = sb_str_trim(v->s);
    uint32_t flags = 0;
    long slash = sb_str_chr(s, '/');
    if (slash >= 0) {
        sb_str fl = sb_str_trim((sb_str){s.p + slash + 1, s.len - (size_t)slash - 1});
        if (!sb_str_caseeq_lit(fl, "no_reset")) {
            *err = "unknown statistic flag (only no_reset)";
            return -1;
        }
        flags = SB_STAT_NO_RESET;
        s = sb_str_trim((sb_str){s.p, (size_t)slash});
    }
    if (!s.len || s.len > NAME_MAX_LEN) {
        *err = "bad statistic name";
        return -1;
    }
    if (!(decl.names[decl.n] = strndup(s.p, s.len))) {
        *err = "out of memory";
        return -1;
    }
    decl.flags[decl.n++] = flags;
    return 0;
}

static int set_groups(const struct sb_val *v, const char **err)
{
    sb_str s = v->s;
    while (s.len) {
        long c = sb_str_chr(s, ',');
        sb_str g = sb_str_trim((sb_str){s.p, c < 0 ? s.len : (size_t)c});
        if (g.len) {
            if (decl.n_groups == MAX_GROUPS) {
                *err = "too many statistic groups";
                return -1;
            }
            if (!(decl.groups[decl.n_groups++] = strndup(g.p, g.len))) {
                *err = "out of memory";
                return -1;
            }
        }
        if (c < 0)
            break;
        s.p += c + 1;
        s.len -= (size_t)c + 1;
    }
    return 0;
}

/* Register "name" (dynamic group) or "group:name" (a declared group). */
static sb_stat_t create(sb_str full, uint32_t flags)
{
    char group[NAME_MAX_LEN + 1], name[NAME_MAX_LEN + 1];
    long c = sb_str_chr(full, ':');
    sb_str g = c < 0 ? SB_STR(DYN_GROUP) : (sb_str){full.p, (size_t)c};
    sb_str n = c < 0 ? full : (sb_str){full.p + c + 1, full.len - (size_t)c - 1};
    if (!g.len || !n.len || g.len > NAME_MAX_LEN || n.len > NAME_MAX_LEN) {
        SB_ERR("statistics: bad statistic name '" SB_STR_FMT "'", SB_STR_ARG(full));
        return 0;
    }
    if (!group_allowed(g)) {
        SB_ERR("statistics: group '" SB_STR_FMT "' is not declared in stat_groups", SB_STR_ARG(g));
        return 0;
    }
    memcpy(group, g.p, g.len);
    group[g.len] = '\0';
    memcpy(name, n.p, n.len);
    name[n.len] = '\0';
    return sb_stat_register(group, name, flags, NULL);
}

static int stats_init(void)
{
    for (unsigned i = 0; i < decl.n; i++)
        if (!create(sb_str_cstr(decl.names[i]), decl.flags[i]))
            return SB_EINVAL;
    return 0;
}

static void stats_destroy(void)
{
    for (unsigned i = 0; i < decl.n; i++)
        free(decl.names[i]);
    for (unsigned i = 0; i < decl.n_groups; i++)
        free(decl.groups[i]);
    memset(&decl, 0, sizeof(decl));
}

/* The value of update_stat: an integer or a string "+1", "-3", "7". */
static int read_value(const struct sb_val *v, int64_t *out)
{
    if (v->type == SB_VAL_INT) {
        *out = v->i;
        return 0;
    }
    if (v->type != SB_VAL_STR)
        return SB_EINVAL;
    sb_str s = sb_str_trim(v->s);
    bool neg = s.len && s.p[0] == '-';
    if (s.len && (s.p[0] == '-' || s.p[0] == '+')) {
        s.p++;
        s.len--;
    }
    uint64_t u;
    if (sb_str_to_u64(s, INT32_MAX, &u) != 0)
        return SB_EINVAL;
    *out = neg ? -(int64_t)u : (int64_t)u;
    return 0;
}

static sb_res w_update_stat(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)ctx;
    sb_str name = args[0].v.s;
    int64_t n;
    if (read_value(&args[1].v, &n) != 0) {
        SB_ERR("statistics: update_stat: the value must be a number");
        return sb_res_code(-1);
    }
    sb_stat_t id = sb_stat_find_full(name);
    if (!id && !(id = create(name, 0)))
        return sb_res_code(-1);
    sb_stat_add(id, n);
    return sb_res_true();
}

static sb_res w_reset_stat(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)ctx;
    sb_stat_t id = sb_stat_find_full(args[0].v.s);
    if (!id)
        return sb_res_code(-1);
    sb_stat_reset(id);
    return sb_res_true();
}

static int pv_stat_get(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)ctx;
    (void)idx;
    sb_stat_t id = sb_stat_find_full(pv->sub);
    if (!id) {
        out->type = SB_VAL_NULL;
        return 0;
    }
    int64_t v = sb_stat_get(id);
    out->type = SB_VAL_INT;
    /* script integers are 32-bit (OpenSIPS): saturate rather than wrap */
    out->i = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
    return 0;
}

static const struct sb_pv_def pvs[] = {
    {.name = "stat", .flags = SB_PVF_SUB | SB_PVF_SUB_REQ | SB_PVF_SUB_DYN, .get = pv_stat_get},
    {.name = NULL},
};

static const struct sb_mod_fn fns[] = {
    {.name = "update_stat",
     .fn = w_update_stat,
     .n_args = 2,
     .args = {{.kind = SB_ARG_STR}, {.kind = SB_ARG_ANY}},
     .routes = SB_ROUTE_ALL},
    {.name = "reset_stat",
     .fn = w_reset_stat,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = SB_ROUTE_ALL},
    {.name = NULL},
};

static const struct sb_mod_param params[] = {
    {.name = "variable", .type = SB_MP_FUNC, .accepts = 1 << SB_VAL_STR, .set = set_variable},
    {.name = "stat_groups", .type = SB_MP_FUNC, .accepts = 1 << SB_VAL_STR, .set = set_groups},
    {.name = NULL},
};

const struct sb_module sb_module_statistics = {
    .name = "statistics",
    .summary = "statistics defined and updated from the routing script",
    .params = params,
    .fns = fns,
    .pvs = pvs,
    .init = stats_init,
    .destroy = stats_destroy,
};
