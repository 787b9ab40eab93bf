/* SPDX-License-Identifier: BSD-2-Clause */
/* registrar: save(), lookup(), remove(), is_registered(), is_contact_registered() over the
 * usrloc location tables; parameters and statistics as OpenSIPS names them. */
#include <stdlib.h>
#include <string.h>

#include "sb/avp.h"
#include "sb/base.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/uri.h"

#include "reg.h"

#define CONF_DEFAULTS                                                                              \
    {                                                                                              \
        .default_expires = 3600, .min_expires = 60, .max_expires = 0, .default_q = -1,             \
        .max_contacts = 0,                                                                         \
    }

struct reg_conf sb__reg_conf = CONF_DEFAULTS;
sb_stat_t sb__reg_st_accepted, sb__reg_st_rejected;

static const struct sb_mod_param params[] = {
    {.name = "default_expires",
     .type = SB_MP_INT,
     .offset = offsetof(struct reg_conf, default_expires)},
    {.name = "min_expires", .type = SB_MP_INT, .offset = offsetof(struct reg_conf, min_expires)},
    {.name = "max_expires", .type = SB_MP_INT, .offset = offsetof(struct reg_conf, max_expires)},
    {.name = "default_q", .type = SB_MP_INT, .offset = offsetof(struct reg_conf, default_q)},
    {.name = "max_contacts", .type = SB_MP_INT, .offset = offsetof(struct reg_conf, max_contacts)},
    {.name = "received_avp", .type = SB_MP_STR, .offset = offsetof(struct reg_conf, received_avp)},
    {.name = NULL},
};

static int64_t default_expire_stat(void)
{
    return sb__reg_conf.default_expires;
}
static int64_t max_expires_stat(void)
{
    return sb__reg_conf.max_expires;
}
static int64_t max_contacts_stat(void)
{
    return sb__reg_conf.max_contacts;
}

static const struct sb_stat_def stats[] = {
    {.name = "accepted_regs", .id = &sb__reg_st_accepted},
    {.name = "rejected_regs", .id = &sb__reg_st_rejected},
    {.name = "default_expire", .flags = SB_STAT_NO_RESET, .get = default_expire_stat},
    {.name = "max_expires", .flags = SB_STAT_NO_RESET, .get = max_expires_stat},
    {.name = "max_contacts", .flags = SB_STAT_NO_RESET, .get = max_contacts_stat},
    {.name = NULL},
};

/* ---- helpers ------------------------------------------------------------------------------- */

long sb__reg_aor(sb_str uri_text, char *out, size_t cap)
{
    struct sb_uri u;
    sb_str t = sb_str_trim(uri_text);
    if (sb_uri_parse(t, &u) != 0) {
        /* a bare "user@domain" or "user" as AOR */
        if (!t.len || t.len >= cap || sb_str_chr(t, ':') >= 0)
            return SB_EPARSE;
        long at = sb_str_chr(t, '@');
        size_t ul = at >= 0 ? (size_t)at : t.len;
        memcpy(out, t.p, ul);
        size_t n = ul;
        if (at >= 0 && sb_ul_use_domain()) {
            out[n++] = '@';
            for (size_t i = (size_t)at + 1; i < t.len; i++)
                out[n++] = (char)sb_lower((unsigned char)t.p[i]);
        }
        return (long)n;
    }
    if (u.scheme == SB_URI_TEL) {
        if (u.user.len >= cap)
            return SB_ELIMIT;
        memcpy(out, u.user.p, u.user.len);
        return (long)u.user.len;
    }
    if (u.scheme != SB_URI_SIP && u.scheme != SB_URI_SIPS)
        return SB_EPARSE;
    size_t need = u.user.len + 1 + u.host.len;
    if (need >= cap)
        return SB_ELIMIT;
    size_t n = u.user.len;
    memcpy(out, u.user.p, n);
    if (sb_ul_use_domain()) {
        out[n++] = '@';
        /* RFC3261-19.1.4: the host compares case-insensitively, the user part does not */
        for (size_t i = 0; i < u.host.len; i++)
            out[n++] = (char)sb_lower((unsigned char)u.host.p[i]);
    }
    return (long)n;
}

static const struct {
    const char *name;
    bool save;
    uint32_t f;
} flag_names[] = {
    {"no-reply", true, REG_SF_NO_REPLY},
    {"force-registration", true, REG_SF_FORCE_REG},
    {"path-strict", true, REG_SF_PATH_STRICT},
    {"path-lazy", true, REG_SF_PATH_LAZY},
    {"path-off", true, REG_SF_PATH_OFF},
    {"path-received", true, REG_SF_PATH_RECEIVED},
    {"memory-only", true, REG_SF_MEMORY_ONLY},
    {"method-filtering", false, REG_LF_METHOD_FILTER},
    {"no-branches", false, REG_LF_NO_BRANCHES},
    {"to-branches-only", false, REG_LF_TO_BRANCHES_ONLY},
};

int sb__reg_flags_parse(sb_str s, bool is_save, struct reg_flags *out, sb_str *bad)
{
    *out = (struct reg_flags){.max_contacts = -1, .min_expires = -1, .max_expires = -1};
    while (s.len) {
        long comma = sb_str_chr(s, ',');
        sb_str f = sb_str_trim((sb_str){s.p, comma >= 0 ? (size_t)comma : s.len});
        s = comma >= 0 ? (sb_str){s.p + comma + 1, s.len - (size_t)comma - 1} : SB_STR_NULL;
        if (!f.len)
            continue;
        bool ok = false;
        for (size_t i = 0; i < SB_ARRAY_LEN(flag_names) && !ok; i++)
            if (flag_names[i].save == is_save && sb_str_caseeq_lit(f, flag_names[i].name)) {
                out->f |= flag_names[i].f;
                ok = true;
            }
        long eq = sb_str_chr(f, '=');
        if (!ok && is_save && eq > 0) {
            sb_str k = sb_str_trim((sb_str){f.p, (size_t)eq});
            sb_str v = sb_str_trim((sb_str){f.p + eq + 1, f.len - (size_t)eq - 1});
            uint32_t n;
            int *dst = sb_str_caseeq_lit(k, "max-contacts")  ? &out->max_contacts
                       : sb_str_caseeq_lit(k, "min-expires") ? &out->min_expires
                       : sb_str_caseeq_lit(k, "max-expires") ? &out->max_expires
                                                             : NULL;
            if (dst && sb_str_to_u32(v, &n) == 0 && n <= 0x7fffffff) {
                *dst = (int)n;
                ok = true;
            }
        }
        if (!ok) {
            *bad = f;
            return SB_EPARSE;
        }
    }
    return 0;
}

/* ---- fixups -------------------------------------------------------------------------------- */

static int fix_domain(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    if (in->type != SB_VAL_STR || !in->s.len) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "%s: the table name is empty",
                      fx->fn_name);
        return SB_EINVAL;
    }
    struct sb_ul_domain *d;
    if (sb_ul_domain_register(in->s, &d) != 0) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "%s: out of memory", fx->fn_name);
        return SB_ENOMEM;
    }
    *out = d;
    return 0;
}

static int fix_flags(struct sb_fixup *fx, const struct sb_val *in, void **out, bool is_save)
{
    struct reg_flags *fl = malloc(sizeof(*fl));
    if (!fl)
        return SB_ENOMEM;
    sb_str bad = SB_STR_NULL;
    sb_str s = in->type == SB_VAL_STR ? in->s : SB_STR_NULL;
    if (sb__reg_flags_parse(s, is_save, fl, &bad) != 0) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "%s: unknown flag '%.*s'", fx->fn_name,
                      SB_STR_ARG(bad));
        free(fl);
        return SB_EINVAL;
    }
    *out = fl;
    return 0;
}

static int fix_save_flags(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    return fix_flags(fx, in, out, true);
}

static int fix_lookup_flags(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    return fix_flags(fx, in, out, false);
}

static void free_fixed(void *p)
{
    free(p);
}

static const struct reg_flags no_flags = {.max_contacts = -1, .min_expires = -1, .max_expires = -1};

static const struct reg_flags *flags_of(const struct sb_arg *a)
{
    return a->present && a->fixed ? a->fixed : &no_flags;
}

static sb_str opt_str(const struct sb_arg *a)
{
    return a->present && a->v.type == SB_VAL_STR ? a->v.s : SB_STR_NULL;
}

/* ---- script functions ---------------------------------------------------------------------- */

static sb_res w_save(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return sb__reg_save(ctx, a[0].fixed, flags_of(&a[1]), opt_str(&a[2]));
}

static sb_res w_lookup(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return sb__reg_lookup(ctx, a[0].fixed, flags_of(&a[1]), opt_str(&a[2]));
}

static long aor_of(struct sb_sctx *ctx, const struct sb_arg *a, char *out, size_t cap)
{
    sb_str src = opt_str(a);
    if (!src.len)
        src = sb_ruri_get(ctx);
    return src.len ? sb__reg_aor(src, out, cap) : -1;
}

/* remove(table, aor[, contact]): drop bindings; 1 when some were removed, -1 otherwise */
static sb_res w_remove(struct sb_sctx *ctx, const struct sb_arg *a)
{
    char aor[256];
    long n = aor_of(ctx, &a[1], aor, sizeof(aor));
    if (n <= 0)
        return sb_res_code(-2);
    unsigned k = sb_ul_remove(a[0].fixed, (sb_str){aor, (size_t)n}, opt_str(&a[2]));
    return k ? sb_res_true() : sb_res_false();
}

/* is_registered(table[, aor]): 1 when the AOR has a live contact */
static sb_res w_is_registered(struct sb_sctx *ctx, const struct sb_arg *a)
{
    char aor[256];
    struct sb_arg dummy = {0};
    long n = aor_of(ctx, a[1].present ? &a[1] : &dummy, aor, sizeof(aor));
    if (!a[1].present && ctx->msg && ctx->msg->method_id == SB_METHOD_REGISTER) {
        /* for a REGISTER the AOR is in To, not the Request-URI */
        const struct sb_nameaddr *to = sb_msg_to(ctx->msg);
        n = to ? sb__reg_aor(to->uri_str, aor, sizeof(aor)) : -1;
    }
    if (n <= 0)
        return sb_res_code(-2);
    struct sb_ul_txn t;
    sb_ul_begin(a[0].fixed, (sb_str){aor, (size_t)n}, &t);
    unsigned k = sb_ul_count(&t);
    sb_ul_end(&t);
    return k ? sb_res_true() : sb_res_false();
}

/* is_contact_registered(table[, aor[, contact[, callid]]]): 1 when the AOR has that contact
 * (with that Call-ID, when given); without <contact>, the request's Contact URIs are checked */
static sb_res w_is_contact_registered(struct sb_sctx *ctx, const struct sb_arg *a)
{
    char aor[256];
    long n;
    if (a[1].present && a[1].v.s.len) {
        n = sb__reg_aor(a[1].v.s, aor, sizeof(aor));
    } else {
        const struct sb_nameaddr *to = ctx->msg ? sb_msg_to(ctx->msg) : NULL;
        n = to ? sb__reg_aor(to->uri_str, aor, sizeof(aor)) : -1;
    }
    if (n <= 0)
        return sb_res_code(-2);
    sb_str want = opt_str(&a[2]), callid = opt_str(&a[3]);
    const struct sb_nameaddr *rct = NULL;
    if (!want.len && ctx->msg) {
        struct sb_hdr *h = sb_msg_hdr_first(ctx->msg, SB_HDR_CONTACT);
        rct = h ? sb_msg_hdr_parsed(ctx->msg, h) : NULL;
        want = rct && !rct->is_star ? rct->uri_str : SB_STR_NULL;
    }
    bool found = false;
    struct sb_ul_txn t;
    sb_ul_begin(a[0].fixed, (sb_str){aor, (size_t)n}, &t);
    for (const struct sb_ul_contact *c = sb_ul_contacts(&t); c && !found; c = c->next)
        found =
            (!want.len || sb_str_eq(c->uri, want)) && (!callid.len || sb_str_eq(c->callid, callid));
    sb_ul_end(&t);
    return found ? sb_res_true() : sb_res_false();
}

#define TABLE_ARG                                                                                  \
    {                                                                                              \
        .kind = SB_ARG_STR, .flags = SB_ARGF_STATIC, .fixup = fix_domain                           \
    }

static const struct sb_mod_fn fns[] = {
    {.name = "save",
     .fn = w_save,
     .n_args = 3,
     .args = {TABLE_ARG,
              {.kind = SB_ARG_STR,
               .flags = SB_ARGF_OPT | SB_ARGF_STATIC,
               .fixup = fix_save_flags,
               .free_fixup = free_fixed},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_ONREPLY},
    {.name = "lookup",
     .fn = w_lookup,
     .n_args = 3,
     .args = {TABLE_ARG,
              {.kind = SB_ARG_STR,
               .flags = SB_ARGF_OPT | SB_ARGF_STATIC,
               .fixup = fix_lookup_flags,
               .free_fixup = free_fixed},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE},
    {.name = "remove",
     .fn = w_remove,
     .n_args = 3,
     .args = {TABLE_ARG, {.kind = SB_ARG_STR}, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_ALL},
    {.name = "is_registered",
     .fn = w_is_registered,
     .n_args = 2,
     .args = {TABLE_ARG, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_ALL},
    {.name = "is_contact_registered",
     .fn = w_is_contact_registered,
     .n_args = 4,
     .args = {TABLE_ARG,
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_ALL},
    {.name = NULL},
};

static int mod_init(void)
{
    const char *a = sb__reg_conf.received_avp;
    sb__reg_conf.received_avp_id = 0;
    if (!a || !*a)
        return 0;
    /* "$avp(name)", or a bare name */
    sb_str n = sb_str_cstr(a);
    if (n.len > 6 && !memcmp(n.p, "$avp(", 5) && n.p[n.len - 1] == ')')
        n = (sb_str){n.p + 5, n.len - 6};
    if (!n.len || sb_avp_id(n, &sb__reg_conf.received_avp_id) != 0) {
        SB_ERR("registrar: received_avp '%s' is not an AVP", a);
        return SB_EINVAL;
    }
    return 0;
}

static void mod_destroy(void)
{
    sb__reg_conf = (struct reg_conf)CONF_DEFAULTS;
}

const struct sb_module sb_module_registrar = {
    .name = "registrar",
    .summary = "SIP registrar: save, lookup and query bindings in the location service",
    .deps = (const char *const[]){"usrloc", NULL},
    .conf = &sb__reg_conf,
    .params = params,
    .fns = fns,
    .stats = stats,
    .init = mod_init,
    .destroy = mod_destroy,
};
