/* SPDX-License-Identifier: BSD-2-Clause */
/* sipmsgops: tests and edits of a SIP message's start line, headers and Request-URI parameters
 * (is_method, append_hf, remove_hf, ruri_add_param ...). Header edits are lumps: the received
 * buffer is never written. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <fnmatch.h>
#include <pcre2.h>
#include <string.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/uri.h"

/* ---- tests --------------------------------------------------------------------------------- */

/* The method a list is compared with: the request's, or for a reply the one in CSeq. */
static sb_str msg_method(struct sb_msg *m)
{
    if (sb_msg_is_request(m))
        return sb_msg_method(m);
    const struct sb_cseq *cs = sb_msg_cseq(m);
    return cs ? cs->method : SB_STR_NULL;
}

/* is_method("INVITE|ACK"): names separated by '|' (or ','), any case. */
static sb_res w_is_method(struct sb_sctx *ctx, const struct sb_arg *a)
{
    sb_str meth = msg_method(ctx->msg);
    if (!meth.len)
        return sb_res_false();
    sb_str list = a[0].v.s;
    size_t i = 0;
    while (i <= list.len) {
        size_t j = i;
        while (j < list.len && list.p[j] != '|' && list.p[j] != ',')
            j++;
        if (sb_str_caseeq(sb_str_trim((sb_str){list.p + i, j - i}), meth))
            return sb_res_true();
        i = j + 1;
    }
    return sb_res_false();
}

static sb_res w_has_totag(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)a;
    const struct sb_nameaddr *to = sb_msg_to(ctx->msg);
    return to && to->tag.len ? sb_res_true() : sb_res_false();
}

static bool ctype_eq(const struct sb_ctype *ct, sb_str mime)
{
    long slash = sb_str_chr(mime, '/');
    if (slash < 0)
        return sb_str_caseeq(ct->type, mime);
    sb_str t = {mime.p, (size_t)slash}, st = {mime.p + slash + 1, mime.len - (size_t)slash - 1};
    return sb_str_caseeq(ct->type, t) &&
           (sb_str_eq(st, SB_STR("*")) || sb_str_caseeq(ct->subtype, st));
}

/* Does a multipart body hold a part of type <mime>? Each part's own Content-Type line is read;
 * the boundary structure is not validated. */
static bool multipart_has(sb_str body, sb_str mime)
{
    static const char ct_name[] = "content-type:";
    for (size_t i = 0; i + sizeof(ct_name) - 1 <= body.len; i++) {
        if ((i && body.p[i - 1] != '\n') ||
            !sb_str_caseeq_lit((sb_str){body.p + i, sizeof(ct_name) - 1}, ct_name))
            continue;
        size_t v = i + sizeof(ct_name) - 1, e = v;
        while (e < body.len && body.p[e] != '\r' && body.p[e] != '\n')
            e++;
        struct sb_ctype ct;
        if (sb_ctype_parse(sb_str_trim((sb_str){body.p + v, e - v}), &ct) == 0 &&
            ctype_eq(&ct, mime))
            return true;
    }
    return false;
}

/* has_body([mime]): a non-empty body, of type <mime> ("application/sdp") when given; a
 * multipart body matches when one of its parts has that type. */
static sb_res w_has_body(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct sb_msg *m = ctx->msg;
    if (m->body.len == 0)
        return sb_res_false();
    if (!a[0].present || a[0].v.s.len == 0)
        return sb_res_true();
    sb_str mime = sb_str_trim(a[0].v.s);
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTENT_TYPE);
    const struct sb_ctype *ct = h ? sb_msg_hdr_parsed(m, h) : NULL;
    if (!ct) /* RFC 3261 §20.15: no Content-Type means SDP for a body-bearing SIP message */
        return sb_str_caseeq_lit(mime, "application/sdp") ? sb_res_true() : sb_res_false();
    if (ctype_eq(ct, mime))
        return sb_res_true();
    if (sb_str_caseeq_lit(ct->type, "multipart") && multipart_has(sb_msg_span(m, m->body), mime))
        return sb_res_true();
    return sb_res_false();
}

/* Does entry <h> carry the header named <name> (type <t>; compact forms are the same type)? */
static bool hdr_is(const struct sb_msg *m, const struct sb_hdr *h, sb_str name, enum sb_hdr_type t)
{
    if (t != SB_HDR_OTHER)
        return h->type == t;
    return h->type == SB_HDR_OTHER && sb_str_caseeq(sb_msg_hdr_name(m, h), name);
}

static sb_res w_is_present_hf(struct sb_sctx *ctx, const struct sb_arg *a)
{
    sb_str name = sb_str_trim(a[0].v.s);
    return name.len && sb_msg_hdr_find(ctx->msg, name) ? sb_res_true() : sb_res_false();
}

/* ---- adding headers ------------------------------------------------------------------------ */

/* <txt> as header lines: copied into the message (the scratch it was expanded in does not live
 * long enough) with a final CRLF when the script left it out. */
static sb_str hdr_text(struct sb_msg *m, sb_str txt)
{
    if (txt.len >= 2 && txt.p[txt.len - 2] == '\r' && txt.p[txt.len - 1] == '\n')
        return sb_msg_strdup(m, txt);
    return sb_msg_printf(m, "%.*s\r\n", SB_STR_ARG(txt));
}

/* The first entry of header <name>, or NULL. */
static struct sb_hdr *hdr_anchor(struct sb_msg *m, sb_str name)
{
    name = sb_str_trim(name);
    return name.len ? sb_msg_hdr_find(m, name) : NULL;
}

static sb_res add_hf(struct sb_sctx *ctx, const struct sb_arg *a, bool top)
{
    struct sb_msg *m = ctx->msg;
    if (a[0].v.s.len == 0)
        return sb_res_false();
    uint32_t off;
    if (a[1].present) {
        struct sb_hdr *h = hdr_anchor(m, a[1].v.s);
        if (!h)
            return sb_res_false();
        /* append_hf: after the anchor's field; insert_hf: before it */
        off = top ? h->field.off : h->field.off + h->field.len;
    } else {
        off = top ? (m->n_hdrs ? m->hdrs[0].field.off : m->hdrs_end) : m->hdrs_end;
    }
    sb_str txt = hdr_text(m, a[0].v.s);
    if (!txt.p)
        return sb_res_error(SB_ENOMEM);
    return sb_msg_lump_insert(m, off, txt) == 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_append_hf(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return add_hf(ctx, a, false);
}

static sb_res w_insert_hf(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return add_hf(ctx, a, true);
}

/* append_urihf(prefix, suffix): a header line made of prefix, the current Request-URI, suffix. */
static sb_res w_append_urihf(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct sb_msg *m = ctx->msg;
    sb_str ru = sb_ruri_get(ctx);
    if (!ru.p)
        return sb_res_false();
    sb_str txt = sb_msg_printf(m, "%.*s%.*s%.*s", SB_STR_ARG(a[0].v.s), SB_STR_ARG(ru),
                               SB_STR_ARG(a[1].v.s));
    if (!txt.p)
        return sb_res_error(SB_ENOMEM);
    return sb_msg_lump_insert(m, m->hdrs_end, txt) == 0 ? sb_res_true() : sb_res_false();
}

/* append_to_reply(txt): lines for the next reply this server generates for the request. */
static sb_res w_append_to_reply(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct sb_route_state *rs = ctx->rs;
    if (!rs || a[0].v.s.len == 0)
        return sb_res_false();
    sb_str add = a[0].v.s, old = rs->reply_hdrs;
    bool crlf = add.len >= 2 && add.p[add.len - 2] == '\r' && add.p[add.len - 1] == '\n';
    sb_str all =
        sb_msg_printf(ctx->msg, "%.*s%.*s%s", SB_STR_ARG(old), SB_STR_ARG(add), crlf ? "" : "\r\n");
    if (!all.p)
        return sb_res_error(SB_ENOMEM);
    rs->reply_hdrs = all;
    return sb_res_true();
}

/* ---- removing headers ---------------------------------------------------------------------- */

enum { BY_NAME, BY_RE, BY_GLOB };

/* Remove every header field whose name matches; returns how many fields went, or -1 when none
 * did (OpenSIPS return convention). */
static sb_res remove_matching(struct sb_sctx *ctx, const struct sb_arg *a, int how)
{
    struct sb_msg *m = ctx->msg;
    sb_str name = sb_str_trim(a[0].v.s);
    enum sb_hdr_type t = how == BY_NAME ? sb_hdr_lookup(name) : SB_HDR_OTHER;
    char glob[256];
    if (how == BY_GLOB) {
        if (name.len >= sizeof(glob))
            return sb_res_false();
        memcpy(glob, name.p, name.len);
        glob[name.len] = '\0';
    }
    pcre2_match_data *md = NULL;
    if (how == BY_RE && !(md = pcre2_match_data_create(1, NULL)))
        return sb_res_error(SB_ENOMEM);
    int32_t n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < m->n_hdrs && rc == 0; i++) {
        struct sb_hdr *h = &m->hdrs[i];
        if (h->flags & SB_HDRF_REMOVED)
            continue;
        sb_str hn = sb_msg_hdr_name(m, h);
        bool hit;
        if (how == BY_NAME) {
            hit = hdr_is(m, h, name, t);
        } else if (how == BY_GLOB) {
            char nb[256];
            size_t l = hn.len < sizeof(nb) - 1 ? hn.len : sizeof(nb) - 1;
            memcpy(nb, hn.p, l);
            nb[l] = '\0';
            hit = fnmatch(glob, nb, FNM_CASEFOLD) == 0;
        } else {
            hit = pcre2_match(a[0].regex, (PCRE2_SPTR)hn.p, hn.len, 0, 0, md, NULL) >= 0;
        }
        if (!hit)
            continue;
        if (i == 0 || m->hdrs[i - 1].field.off != h->field.off)
            n++; /* count fields, not the values of a comma list */
        rc = sb_msg_hdr_remove(m, h);
    }
    pcre2_match_data_free(md);
    if (rc < 0)
        return sb_res_false();
    return n ? sb_res_code(n) : sb_res_false();
}

static sb_res w_remove_hf(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return remove_matching(ctx, a, BY_NAME);
}

static sb_res w_remove_hf_re(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return remove_matching(ctx, a, BY_RE);
}

static sb_res w_remove_hf_glob(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return remove_matching(ctx, a, BY_GLOB);
}

/* ---- Request-URI parameters ---------------------------------------------------------------- */

/* ruri_has_param(name[, value]): without a value the parameter must have none. */
static sb_res w_ruri_has_param(struct sb_sctx *ctx, const struct sb_arg *a)
{
    const struct sb_uri *u = sb_ruri_parsed(ctx);
    sb_str name = sb_str_trim(a[0].v.s);
    if (!u || !u->params.p || name.len == 0)
        return sb_res_false();
    sb_str s = u->params;
    struct sb_param p;
    while (sb_param_next(&s, &p, false) == 1) {
        if (!sb_str_caseeq(p.name, name))
            continue;
        if (!a[1].present)
            return p.has_value ? sb_res_false() : sb_res_true();
        return p.has_value && sb_str_eq(p.value, a[1].v.s) ? sb_res_true() : sb_res_false();
    }
    return sb_res_false();
}

/* Install "<before-params>[;<params>][?<headers>]" as the new Request-URI. */
static sb_res ruri_with_params(struct sb_sctx *ctx, const struct sb_uri *u, sb_str params)
{
    const char *end = u->params.p    ? u->params.p - 1
                      : u->headers.p ? u->headers.p - 1
                                     : u->raw.p + u->raw.len;
    sb_str base = {u->raw.p, (size_t)(end - u->raw.p)};
    size_t cap = base.len + params.len + u->headers.len + 3;
    char *buf = sb_arena_alloc(ctx->scratch, cap);
    if (!buf)
        return sb_res_error(SB_ENOMEM);
    size_t n = 0;
    memcpy(buf, base.p, base.len);
    n += base.len;
    if (params.len) {
        buf[n++] = ';';
        memcpy(buf + n, params.p, params.len);
        n += params.len;
    }
    if (u->headers.p) {
        buf[n++] = '?';
        memcpy(buf + n, u->headers.p, u->headers.len);
        n += u->headers.len;
    }
    return sb_ruri_set(ctx, (sb_str){buf, n}) == 0 ? sb_res_true() : sb_res_false();
}

/* ruri_add_param("name[=value]"): appended to the Request-URI's parameters. */
static sb_res w_ruri_add_param(struct sb_sctx *ctx, const struct sb_arg *a)
{
    const struct sb_uri *u = sb_ruri_parsed(ctx);
    sb_str add = sb_str_trim(a[0].v.s);
    if (add.len && add.p[0] == ';') {
        add.p++;
        add.len--;
    }
    if (!u || add.len == 0 || u->scheme == SB_URI_OTHER)
        return sb_res_false();
    char *buf = sb_arena_alloc(ctx->scratch, u->params.len + add.len + 1);
    if (!buf)
        return sb_res_error(SB_ENOMEM);
    size_t n = 0;
    if (u->params.len) {
        memcpy(buf, u->params.p, u->params.len);
        n = u->params.len;
        buf[n++] = ';';
    }
    memcpy(buf + n, add.p, add.len);
    return ruri_with_params(ctx, u, (sb_str){buf, n + add.len});
}

/* ruri_del_param(name): every parameter of that name goes. */
static sb_res w_ruri_del_param(struct sb_sctx *ctx, const struct sb_arg *a)
{
    const struct sb_uri *u = sb_ruri_parsed(ctx);
    sb_str name = sb_str_trim(a[0].v.s);
    if (!u || !u->params.p || name.len == 0)
        return sb_res_false();
    char *buf = sb_arena_alloc(ctx->scratch, u->params.len + 1);
    if (!buf)
        return sb_res_error(SB_ENOMEM);
    size_t n = 0;
    bool found = false;
    sb_str s = u->params;
    struct sb_param p;
    while (sb_param_next(&s, &p, false) == 1) {
        if (sb_str_caseeq(p.name, name)) {
            found = true;
            continue;
        }
        /* keep the parameter exactly as written, without separators */
        const char *ps = p.name.p;
        const char *pe = p.has_value ? p.value.p + p.value.len : p.name.p + p.name.len;
        if (n)
            buf[n++] = ';';
        memcpy(buf + n, ps, (size_t)(pe - ps));
        n += (size_t)(pe - ps);
    }
    if (!found)
        return sb_res_false();
    return ruri_with_params(ctx, u, (sb_str){buf, n});
}

/* is_uri_user_e164(uri): the user part is "+" and 2 to 15 digits (ITU-T E.164). */
static sb_res w_is_uri_user_e164(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    struct sb_uri u;
    sb_str s = sb_str_trim(a[0].v.s);
    if (sb_uri_parse(s, &u) != 0 || u.user.len < 3 || u.user.len > 16 || u.user.p[0] != '+')
        return sb_res_false();
    for (size_t i = 1; i < u.user.len; i++)
        if (!sb_is_digit((unsigned char)u.user.p[i]))
            return sb_res_false();
    return sb_res_true();
}

/* ---- the module ---------------------------------------------------------------------------- */

#define STR                                                                                        \
    {                                                                                              \
        .kind = SB_ARG_STR                                                                         \
    }
#define OPTSTR                                                                                     \
    {                                                                                              \
        .kind = SB_ARG_STR, .flags = SB_ARGF_OPT                                                   \
    }
#define MSG SB_ROUTE_MSG
#define REQ (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH | SB_ROUTE_ERROR)
#define EDIT                                                                                       \
    (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH | SB_ROUTE_ONREPLY | SB_ROUTE_LOCAL |   \
     SB_ROUTE_ERROR)

static const struct sb_mod_fn fns[] = {
    {.name = "is_method", .fn = w_is_method, .n_args = 1, .args = {STR}, .routes = MSG},
    {.name = "has_totag", .fn = w_has_totag, .routes = MSG},
    {.name = "has_body", .fn = w_has_body, .n_args = 1, .args = {OPTSTR}, .routes = MSG},
    {.name = "has_body_part", .fn = w_has_body, .n_args = 1, .args = {OPTSTR}, .routes = MSG},
    {.name = "is_present_hf", .fn = w_is_present_hf, .n_args = 1, .args = {STR}, .routes = MSG},
    {.name = "append_hf", .fn = w_append_hf, .n_args = 2, .args = {STR, OPTSTR}, .routes = EDIT},
    {.name = "insert_hf", .fn = w_insert_hf, .n_args = 2, .args = {STR, OPTSTR}, .routes = EDIT},
    {.name = "append_urihf", .fn = w_append_urihf, .n_args = 2, .args = {STR, STR}, .routes = REQ},
    {.name = "append_to_reply",
     .fn = w_append_to_reply,
     .n_args = 1,
     .args = {STR},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_BRANCH | SB_ROUTE_FAILURE | SB_ROUTE_ERROR},
    {.name = "remove_hf", .fn = w_remove_hf, .n_args = 1, .args = {STR}, .routes = EDIT},
    {.name = "remove_hf_re",
     .fn = w_remove_hf_re,
     .n_args = 1,
     .args = {{.kind = SB_ARG_REGEX}},
     .routes = EDIT},
    {.name = "remove_hf_glob",
     .fn = w_remove_hf_glob,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_NO_EXPAND}},
     .routes = EDIT},
    {.name = "ruri_has_param",
     .fn = w_ruri_has_param,
     .n_args = 2,
     .args = {STR, OPTSTR},
     .routes = REQ},
    {.name = "ruri_add_param", .fn = w_ruri_add_param, .n_args = 1, .args = {STR}, .routes = REQ},
    {.name = "ruri_del_param", .fn = w_ruri_del_param, .n_args = 1, .args = {STR}, .routes = REQ},
    {.name = "is_uri_user_e164",
     .fn = w_is_uri_user_e164,
     .n_args = 1,
     .args = {STR},
     .routes = SB_ROUTE_ALL},
    {.name = NULL},
};

const struct sb_module sb_module_sipmsgops = {
    .name = "sipmsgops",
    .summary = "SIP message tests and header / Request-URI parameter edits",
    .fns = fns,
};
