/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions that edit the Request-URI ($ru), the destination URI ($du) and the
 * destination set (append_branch). */
#include <string.h>

#include "core_fns.h"
#include "sb/base.h"
#include "sb/buf.h"
#include "sb/log.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/uri.h"

/* The parts of a sip/sips/tel URI that the rewrite functions replace; the rest is kept as
 * received. A NULL p means "absent". */
struct parts {
    sb_str user, passwd, host, port;
};

/* Rebuild the current Request-URI with <np> in place of its user/host/port and install it. */
static sb_res ruri_rebuild(struct sb_sctx *ctx, const struct sb_uri *u, const struct parts *np)
{
    if (u->scheme == SB_URI_TEL && (np->host.p || np->port.p))
        return sb_res_false(); /* a tel URI has no host to rewrite */
    size_t cap = u->raw.len + np->user.len + np->passwd.len + np->host.len + np->port.len + 8;
    char *buf = sb_arena_alloc(ctx->scratch, cap);
    if (!buf)
        return sb_res_error(SB_ENOMEM);
    struct sb_wbuf w;
    sb_wbuf_init(&w, buf, cap);
    sb_wbuf_str(&w, u->scheme_str);
    sb_wbuf_put(&w, ":", 1);
    if (u->scheme == SB_URI_TEL) {
        sb_wbuf_str(&w, np->user);
    } else {
        if (np->user.len) {
            sb_wbuf_str(&w, np->user);
            if (np->passwd.p) {
                sb_wbuf_put(&w, ":", 1);
                sb_wbuf_str(&w, np->passwd);
            }
            sb_wbuf_put(&w, "@", 1);
        }
        sb_wbuf_str(&w, np->host);
        if (np->port.len) {
            sb_wbuf_put(&w, ":", 1);
            sb_wbuf_str(&w, np->port);
        }
    }
    if (u->params.p) {
        sb_wbuf_put(&w, ";", 1);
        sb_wbuf_str(&w, u->params);
    }
    if (u->headers.p) {
        sb_wbuf_put(&w, "?", 1);
        sb_wbuf_str(&w, u->headers);
    }
    if (w.err)
        return sb_res_error(w.err);
    if (sb_ruri_set(ctx, (sb_str){buf, w.len}) != 0) {
        SB_DEBUG("script: rewritten Request-URI '%.*s' does not parse", (int)w.len, buf);
        return sb_res_false();
    }
    return sb_res_true();
}

/* The current Request-URI's parts, ready to be edited. NULL when there is no usable one. */
static const struct sb_uri *ruri_parts(struct sb_sctx *ctx, struct parts *p)
{
    if (!ctx->rs || !ctx->msg || !sb_msg_is_request(ctx->msg))
        return NULL;
    const struct sb_uri *u = sb_ruri_parsed(ctx);
    if (!u || (u->scheme != SB_URI_SIP && u->scheme != SB_URI_SIPS && u->scheme != SB_URI_TEL))
        return NULL;
    *p = (struct parts){.user = u->user, .passwd = u->passwd, .host = u->host, .port = u->port};
    return u;
}

sb_res sb__cf_seturi(struct sb_sctx *ctx, const struct sb_arg *a)
{
    if (!ctx->rs || !ctx->msg || !sb_msg_is_request(ctx->msg))
        return sb_res_false();
    sb_str s = sb_str_trim(a[0].v.s);
    if (s.len == 0)
        return sb_res_false();
    return sb_ruri_set(ctx, s) == 0 ? sb_res_true() : sb_res_false();
}

sb_res sb__cf_sethost(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct parts p;
    const struct sb_uri *u = ruri_parts(ctx, &p);
    if (!u || a[0].v.s.len == 0)
        return sb_res_false();
    p.host = a[0].v.s;
    return ruri_rebuild(ctx, u, &p);
}

sb_res sb__cf_sethostport(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct parts p;
    const struct sb_uri *u = ruri_parts(ctx, &p);
    sb_str hp = a[0].v.s;
    if (!u || hp.len == 0)
        return sb_res_false();
    /* the port follows the last ':' outside an IPv6 reference */
    size_t end = hp.len;
    if (hp.p[0] == '[') {
        long rb = sb_str_chr(hp, ']');
        if (rb < 0)
            return sb_res_false();
        end = (size_t)rb + 1;
    } else {
        long c = sb_str_chr(hp, ':');
        if (c >= 0)
            end = (size_t)c;
    }
    p.host = (sb_str){hp.p, end};
    p.port = SB_STR_NULL;
    if (end < hp.len) {
        if (hp.p[end] != ':' || end + 1 == hp.len)
            return sb_res_false();
        p.port = (sb_str){hp.p + end + 1, hp.len - end - 1};
    }
    return ruri_rebuild(ctx, u, &p);
}

sb_res sb__cf_setuser(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct parts p;
    const struct sb_uri *u = ruri_parts(ctx, &p);
    if (!u)
        return sb_res_false();
    p.user = a[0].v.s;
    if (p.user.len == 0)
        p.passwd = SB_STR_NULL; /* no userinfo at all */
    return ruri_rebuild(ctx, u, &p);
}

sb_res sb__cf_setport(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct parts p;
    const struct sb_uri *u = ruri_parts(ctx, &p);
    if (!u || u->scheme == SB_URI_TEL)
        return sb_res_false();
    sb_str port;
    if (sb_val_to_str(ctx, &a[0].v, &port) < 0)
        return sb_res_error(SB_ENOMEM);
    uint32_t n;
    if (port.len && (sb_str_to_u32(port, &n) != 0 || n == 0 || n > 65535))
        return sb_res_false();
    p.port = port.len ? port : SB_STR_NULL;
    return ruri_rebuild(ctx, u, &p);
}

sb_res sb__cf_prefix(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct parts p;
    const struct sb_uri *u = ruri_parts(ctx, &p);
    if (!u)
        return sb_res_false();
    sb_str pre = a[0].v.s;
    char *user = sb_arena_alloc(ctx->scratch, pre.len + p.user.len + 1);
    if (!user)
        return sb_res_error(SB_ENOMEM);
    if (pre.len)
        memcpy(user, pre.p, pre.len);
    if (p.user.len)
        memcpy(user + pre.len, p.user.p, p.user.len);
    p.user = (sb_str){user, pre.len + p.user.len};
    return ruri_rebuild(ctx, u, &p);
}

static sb_res strip_user(struct sb_sctx *ctx, int32_t n, bool tail)
{
    struct parts p;
    const struct sb_uri *u = ruri_parts(ctx, &p);
    if (!u || n < 0 || (size_t)n > p.user.len)
        return sb_res_false();
    p.user.len -= (size_t)n;
    if (!tail)
        p.user.p += n;
    if (p.user.len == 0)
        p.passwd = SB_STR_NULL;
    return ruri_rebuild(ctx, u, &p);
}

sb_res sb__cf_strip(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return strip_user(ctx, a[0].v.i, false);
}

sb_res sb__cf_strip_tail(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return strip_user(ctx, a[0].v.i, true);
}

sb_res sb__cf_revert_uri(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)a;
    if (!ctx->rs)
        return sb_res_false();
    return sb_ruri_set(ctx, SB_STR_NULL) == 0 ? sb_res_true() : sb_res_false();
}

sb_res sb__cf_setdsturi(struct sb_sctx *ctx, const struct sb_arg *a)
{
    if (!ctx->rs)
        return sb_res_false();
    sb_str s = sb_str_trim(a[0].v.s);
    if (s.len == 0)
        return sb_res_false();
    return sb_duri_set(ctx, s) == 0 ? sb_res_true() : sb_res_false();
}

sb_res sb__cf_resetdsturi(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)a;
    if (!ctx->rs)
        return sb_res_false();
    return sb_duri_set(ctx, SB_STR_NULL) == 0 ? sb_res_true() : sb_res_false();
}

sb_res sb__cf_isdsturiset(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)a;
    return ctx->rs && ctx->rs->dst_uri.p ? sb_res_true() : sb_res_false();
}

/* A q-value, RFC 3261 §25.1 (qvalue = "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]), as 0..1000. An
 * integer value stands for its decimal text (1 is 1.0). */
static int qvalue_parse(sb_str s, int32_t *out)
{
    if (s.len == 0 || (s.p[0] != '0' && s.p[0] != '1'))
        return SB_EPARSE;
    int32_t q = (s.p[0] - '0') * 1000;
    if (s.len > 1) {
        if (s.p[1] != '.' || s.len > 5)
            return SB_EPARSE;
        int32_t scale = 100;
        for (size_t i = 2; i < s.len; i++, scale /= 10) {
            if (!sb_is_digit((unsigned char)s.p[i]))
                return SB_EPARSE;
            q += (s.p[i] - '0') * scale;
        }
    }
    if (q > 1000)
        return SB_EPARSE;
    *out = q;
    return 0;
}

sb_res sb__cf_append_branch(struct sb_sctx *ctx, const struct sb_arg *a)
{
    struct sb_route_state *rs = ctx->rs;
    if (!rs || !ctx->msg)
        return sb_res_false();
    struct sb_msg *m = ctx->msg;
    if (rs->n_branches >= SB_MAX_BRANCHES - 1) {
        SB_WARN("script: append_branch: destination set full (%d branches)", SB_MAX_BRANCHES);
        return sb_res_false();
    }
    struct sb_branch_ent b = {.q = -1};
    if (a[1].present) {
        sb_str qs;
        if (sb_val_to_str(ctx, &a[1].v, &qs) < 0)
            return sb_res_error(SB_ENOMEM);
        if (qvalue_parse(sb_str_trim(qs), &b.q) != 0) {
            SB_WARN("script: append_branch: bad q value '%.*s'", SB_STR_ARG(qs));
            return sb_res_false();
        }
    }
    bool have_uri = a[0].present && a[0].v.s.len;
    if (have_uri) {
        sb_str uri = sb_str_trim(a[0].v.s);
        struct sb_uri u;
        if (sb_uri_parse(uri, &u) != 0) {
            SB_WARN("script: append_branch: bad URI '%.*s'", SB_STR_ARG(uri));
            return sb_res_false();
        }
        b.uri = sb_msg_strdup(m, uri);
    } else {
        /* no URI: the current branch 0 as it stands, destination and flags included */
        sb_str ru = sb_ruri_get(ctx);
        if (!ru.p)
            return sb_res_false();
        b.uri = sb_msg_strdup(m, ru);
        if (rs->dst_uri.p)
            b.dst_uri = sb_msg_strdup(m, rs->dst_uri);
        b.bflags = rs->bflags;
        b.sock = rs->send_sock;
    }
    if (!b.uri.p || (rs->dst_uri.p && !have_uri && !b.dst_uri.p))
        return sb_res_error(SB_ENOMEM);
    if (!rs->branches) {
        rs->branches = sb_arena_zalloc(&m->arena, (SB_MAX_BRANCHES - 1) * sizeof(*rs->branches));
        if (!rs->branches)
            return sb_res_error(SB_ENOMEM);
    }
    rs->branches[rs->n_branches++] = b;
    return sb_res_true();
}
