/* SPDX-License-Identifier: BSD-2-Clause */
/* SIP transformations: {uri.*}, {param.*}, {nameaddr.*}, {via.*}. The input is parsed with the
 * message layer's parsers; results borrow from the input. A part that is absent gives an empty
 * string; input that does not parse makes the transformation fail (NULL). */
#include <string.h>

#include "pv_int.h"
#include "sb/hdr.h"
#include "sb/uri.h"

enum trs_id {
    TU_USER,
    TU_HOST,
    TU_PASSWD,
    TU_PORT,
    TU_PARAMS,
    TU_PARAM,
    TU_HEADERS,
    TU_TRANSPORT,
    TU_TTL,
    TU_UPARAM,
    TU_MADDR,
    TU_METHOD,
    TU_LR,
    TU_R2,
    TU_SCHEMA,
    TP_VALUE,
    TP_EXIST,
    TP_VALUEAT,
    TP_NAME,
    TP_COUNT,
    TN_NAME,
    TN_URI,
    TN_LEN,
    TN_PARAM,
    TN_PARAMS,
    TV_NAME,
    TV_VERSION,
    TV_TRANSPORT,
    TV_HOST,
    TV_PORT,
    TV_COMMENT,
    TV_PARAMS,
    TV_PARAM,
    TV_BRANCH,
    TV_RECEIVED,
    TV_RPORT,
    TRS__COUNT
};

static enum trs_id trs_id(const struct sb_tr *tr)
{
    return (enum trs_id)(tr->def - sb__tr_sip_defs);
}

/* A part as written, "" when absent. */
static void put(struct sb_val *v, sb_str s)
{
    sb__val_str(v, s.p ? s : SB_STR(""));
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Lenient ';'-list walk for any "a=1; b ;c="x;y"" text: leading ';' and blanks are skipped,
 * a quoted value may hold ';', values are kept as written. Returns false at the end. Inputs
 * from URIs and headers were already validated by their parsers. */
static bool next_param(sb_str *s, struct sb_param *p)
{
    while (s->len && (s->p[0] == ';' || blank(s->p[0])))
        s->p++, s->len--;
    if (!s->len)
        return false;
    size_t i = 0;
    bool quoted = false;
    for (; i < s->len; i++) {
        char c = s->p[i];
        if (quoted && c == '\\')
            i++;
        else if (c == '"')
            quoted = !quoted;
        else if (c == ';' && !quoted)
            break;
    }
    if (i > s->len)
        i = s->len;
    sb_str one = sb_str_trim((sb_str){s->p, i});
    s->p += i, s->len -= i;
    long eq = sb_str_chr(one, '=');
    p->has_value = eq >= 0;
    p->name = sb_str_trim(eq < 0 ? one : (sb_str){one.p, (size_t)eq});
    p->value =
        eq < 0 ? SB_STR("") : sb_str_trim((sb_str){one.p + eq + 1, one.len - (size_t)eq - 1});
    return true;
}

/* Value of parameter <name> (any case) in <list>, "" when valueless; *found says whether the
 * parameter is there at all. */
static sb_str param_value(sb_str list, sb_str name, bool *found)
{
    struct sb_param p;
    while (next_param(&list, &p)) {
        if (sb_str_caseeq(p.name, name)) {
            *found = true;
            return p.value;
        }
    }
    *found = false;
    return SB_STR("");
}

static int named_param(struct sb_sctx *ctx, const struct sb_tr *tr, unsigned arg, sb_str list,
                       struct sb_val *v)
{
    sb_str name;
    int r = sb__tr_arg_str(ctx, tr, arg, &name);
    if (r < 0)
        return r;
    bool found;
    put(v, param_value(list, name, &found));
    return 0;
}

/* ---- {uri.*} ------------------------------------------------------------------------------- */

static int tr_uri(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s;
    struct sb_uri u;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0 || sb_uri_parse(s, &u) != 0)
        return r < 0 ? r : SB_EINVAL;
    bool found;
    switch (trs_id(tr)) {
    case TU_USER: put(v, u.user); break;
    case TU_HOST: put(v, u.host); break;
    case TU_PASSWD: put(v, u.passwd); break;
    case TU_PORT: put(v, u.port); break;
    case TU_PARAMS: put(v, u.params); break;
    case TU_PARAM: return named_param(ctx, tr, 0, u.params, v);
    case TU_HEADERS: put(v, u.headers); break;
    case TU_TRANSPORT: put(v, u.transport); break;
    case TU_TTL: put(v, u.ttl); break;
    case TU_UPARAM: put(v, u.user_param); break;
    case TU_MADDR: put(v, u.maddr); break;
    case TU_METHOD: put(v, u.method); break;
    case TU_LR: put(v, param_value(u.params, SB_STR("lr"), &found)); break;
    case TU_R2: put(v, param_value(u.params, SB_STR("r2"), &found)); break;
    default: put(v, u.scheme_str); break;
    }
    return 0;
}

/* ---- {param.*} over a "a=1;b=2" list -------------------------------------------------------- */

/* The parameter at position <i> (negative from the end), or false. */
static bool param_at(sb_str list, int32_t i, struct sb_param *out)
{
    int32_t n = 0;
    struct sb_param p;
    sb_str walk = list;
    while (next_param(&walk, &p))
        n++;
    int32_t want = i < 0 ? n + i : i;
    if (want < 0 || want >= n)
        return false;
    for (walk = list; next_param(&walk, out) && want--;)
        ;
    return true;
}

static int tr_param(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s, name;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0)
        return r;
    struct sb_param p;
    int32_t i, n = 0;
    bool found;
    switch (trs_id(tr)) {
    case TP_VALUE: return named_param(ctx, tr, 0, s, v);
    case TP_EXIST:
        if ((r = sb__tr_arg_str(ctx, tr, 0, &name)) < 0)
            return r;
        param_value(s, name, &found);
        sb__val_int(v, found);
        return 0;
    case TP_VALUEAT:
    case TP_NAME:
        if ((r = sb__tr_arg_int(ctx, tr, 0, &i)) < 0)
            return r;
        if (!param_at(s, i, &p))
            return SB_EINVAL;
        put(v, trs_id(tr) == TP_NAME ? p.name : p.value);
        return 0;
    default:
        while (next_param(&s, &p))
            n++;
        sb__val_int(v, n);
        return 0;
    }
}

/* ---- {nameaddr.*} -------------------------------------------------------------------------- */

static int tr_nameaddr(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s;
    struct sb_nameaddr na;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0 || sb_nameaddr_parse(sb_str_trim(s), &na) != 0)
        return r < 0 ? r : SB_EINVAL;
    switch (trs_id(tr)) {
    case TN_NAME: put(v, na.display); break;
    case TN_URI: put(v, na.is_star ? SB_STR("*") : na.uri_str); break;
    case TN_LEN: sb__val_int(v, (int32_t)na.raw.len); break;
    case TN_PARAM: return named_param(ctx, tr, 0, na.params, v);
    default: put(v, na.params); break;
    }
    return 0;
}

/* ---- {via.*} ------------------------------------------------------------------------------- */

static int tr_via(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    sb_str s;
    struct sb_via via;
    int r = sb__tr_in_str(ctx, v, &s);
    if (r < 0 || sb_via_parse(sb_str_trim(s), &via) != 0)
        return r < 0 ? r : SB_EINVAL;
    switch (trs_id(tr)) {
    case TV_NAME: put(v, via.proto_name); break;
    case TV_VERSION: put(v, via.proto_ver); break;
    case TV_TRANSPORT: put(v, via.transport); break;
    case TV_HOST: put(v, via.host); break;
    case TV_PORT: put(v, via.port); break;
    case TV_COMMENT: put(v, via.comment); break;
    case TV_PARAMS: put(v, via.params); break;
    case TV_PARAM: return named_param(ctx, tr, 0, via.params, v);
    case TV_BRANCH: put(v, via.branch); break;
    case TV_RECEIVED: put(v, via.received); break;
    default: put(v, via.rport); break;
    }
    return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

static int fix_int_first(struct sb_fixup *fx, struct sb_tr *tr)
{
    return sb__tr_fix_int_args(fx, tr, 1u);
}

#define T0(id, c, n, fn) [id] = {.cls = c, .name = n, .apply = fn}
#define T1(id, c, n, fn) [id] = {.cls = c, .name = n, .min_args = 1, .max_args = 1, .apply = fn}

const struct sb_tr_def sb__tr_sip_defs[TRS__COUNT + 1] = {
    T0(TU_USER, "uri", "user", tr_uri),
    T0(TU_HOST, "uri", "host", tr_uri),
    T0(TU_PASSWD, "uri", "passwd", tr_uri),
    T0(TU_PORT, "uri", "port", tr_uri),
    T0(TU_PARAMS, "uri", "params", tr_uri),
    T1(TU_PARAM, "uri", "param", tr_uri),
    T0(TU_HEADERS, "uri", "headers", tr_uri),
    T0(TU_TRANSPORT, "uri", "transport", tr_uri),
    T0(TU_TTL, "uri", "ttl", tr_uri),
    T0(TU_UPARAM, "uri", "uparam", tr_uri),
    T0(TU_MADDR, "uri", "maddr", tr_uri),
    T0(TU_METHOD, "uri", "method", tr_uri),
    T0(TU_LR, "uri", "lr", tr_uri),
    T0(TU_R2, "uri", "r2", tr_uri),
    T0(TU_SCHEMA, "uri", "schema", tr_uri),
    T1(TP_VALUE, "param", "value", tr_param),
    T1(TP_EXIST, "param", "exist", tr_param),
    [TP_VALUEAT] = {.cls = "param",
                    .name = "valueat",
                    .min_args = 1,
                    .max_args = 1,
                    .apply = tr_param,
                    .fix = fix_int_first},
    [TP_NAME] = {.cls = "param",
                 .name = "name",
                 .min_args = 1,
                 .max_args = 1,
                 .apply = tr_param,
                 .fix = fix_int_first},
    T0(TP_COUNT, "param", "count", tr_param),
    T0(TN_NAME, "nameaddr", "name", tr_nameaddr),
    T0(TN_URI, "nameaddr", "uri", tr_nameaddr),
    T0(TN_LEN, "nameaddr", "len", tr_nameaddr),
    T1(TN_PARAM, "nameaddr", "param", tr_nameaddr),
    T0(TN_PARAMS, "nameaddr", "params", tr_nameaddr),
    T0(TV_NAME, "via", "name", tr_via),
    T0(TV_VERSION, "via", "version", tr_via),
    T0(TV_TRANSPORT, "via", "transport", tr_via),
    T0(TV_HOST, "via", "host", tr_via),
    T0(TV_PORT, "via", "port", tr_via),
    T0(TV_COMMENT, "via", "comment", tr_via),
    T0(TV_PARAMS, "via", "params", tr_via),
    T1(TV_PARAM, "via", "param", tr_via),
    T0(TV_BRANCH, "via", "branch", tr_via),
    T0(TV_RECEIVED, "via", "received", tr_via),
    T0(TV_RPORT, "via", "rport", tr_via),
    [TRS__COUNT] = {.cls = NULL},
};
