/* SPDX-License-Identifier: BSD-2-Clause */
/* tm: the stateful proxy from the script. t_relay and friends over the transaction layer
 * (include/sb/tx.h), the $T_* variables, module parameters and tm: statistics. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/avp.h"
#include "sb/hdr.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/msg_build.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/stats.h"
#include "sb/tp.h"
#include "sb/tx.h"

#include "../signaling/signaling.h"

static struct tm_conf {
    int t1, t2, fr, fr_inv, wt, restart_fr, auto_100, no_6xx_block;
    /* accepted for OpenSIPS configs; what each means here is in README.md */
    int ruri_matching, via1_matching, onreply_avp_mode, enable_stats, syn_branch, pass_prov;
    int timer_partitions, unix_tx_timeout, repl_cluster, repl_auto_cancel;
    char *tw_append, *cluster_param;
    bool minor_branch_flag;
} conf = {.t1 = 500,
          .t2 = 4000,
          .fr = 30,
          .fr_inv = 120,
          .wt = 5,
          .restart_fr = 1,
          .auto_100 = 1,
          .ruri_matching = 1,
          .via1_matching = 1,
          .enable_stats = 1,
          .syn_branch = 1,
          .timer_partitions = 1,
          .unix_tx_timeout = 2,
          .repl_auto_cancel = 1};

/* ---- helpers ------------------------------------------------------------------------------- */

static int reply_code(const struct sb_val *v)
{
    int32_t code;
    if (v->type == SB_VAL_INT)
        code = v->i;
    else if (!sb_val_to_int(v, &code))
        return -1;
    return code >= 100 && code <= 699 ? code : -1;
}

static sb_res rc_res(int rc)
{
    return rc > 0 ? sb_res_true() : sb_res_code(rc < 0 ? rc : -1);
}

/* "no-auto-477, no-dns-failover" or a number (0x01 / 0x02 / 0x04 as OpenSIPS 2.x). */
static unsigned relay_flags(const struct sb_arg *a)
{
    if (!a->present)
        return 0;
    if (a->v.type == SB_VAL_INT)
        return (unsigned)a->v.i;
    int32_t n;
    if (sb_val_to_int(&a->v, &n))
        return (unsigned)n;
    unsigned f = 0;
    sb_str s = a->v.s;
    while (s.len) {
        long c = sb_str_chr(s, ',');
        sb_str tok = sb_str_trim((sb_str){s.p, c < 0 ? s.len : (size_t)c});
        if (sb_str_caseeq_lit(tok, "no-auto-477"))
            f |= SB_TX_RELAY_NO_AUTO_477;
        else if (sb_str_caseeq_lit(tok, "no-dns-failover"))
            f |= SB_TX_RELAY_NO_DNS_FAILOVER;
        else if (sb_str_caseeq_lit(tok, "pass-reason-hdr"))
            f |= SB_TX_RELAY_PASS_REASON;
        else if (tok.len && !sb_str_caseeq_lit(tok, "allow-no-cancel"))
            SB_WARN("tm: t_relay: unknown flag \"" SB_STR_FMT "\"", SB_STR_ARG(tok));
        if (c < 0)
            break;
        s.p += c + 1;
        s.len -= (size_t)c + 1;
    }
    return f;
}

/* ---- script functions ---------------------------------------------------------------------- */

/* t_relay's outbound proxy as a URI: "sip:..." as given, "[proto:]host[:port]" made one. */
static sb_str proxy_uri(struct sb_sctx *ctx, sb_str p)
{
    p = sb_str_trim(p);
    if (!p.len || sb_str_chr(p, ':') < 0 || p.len > 512)
        return p.len ? sb_msg_printf(ctx->msg, "sip:" SB_STR_FMT, SB_STR_ARG(p)) : SB_STR_NULL;
    if ((p.len > 4 && !strncasecmp(p.p, "sip:", 4)) || (p.len > 5 && !strncasecmp(p.p, "sips:", 5)))
        return p;
    long c = sb_str_chr(p, ':');
    sb_str tok = {p.p, (size_t)c};
    uint8_t proto = sb_proto_lookup(tok);
    if (proto == SB_PROTO_OTHER)
        return sb_msg_printf(ctx->msg, "sip:" SB_STR_FMT, SB_STR_ARG(p));
    sb_str rest = {p.p + c + 1, p.len - (size_t)c - 1};
    return sb_msg_printf(ctx->msg, "sip:" SB_STR_FMT ";transport=" SB_STR_FMT, SB_STR_ARG(rest),
                         SB_STR_ARG(tok));
}

/* t_relay([flags], [outbound_proxy]): the proxy is the next hop of every branch of this relay
 * ($du and the branches' destination URIs are put back afterwards). */
static sb_res w_t_relay(struct sb_sctx *ctx, const struct sb_arg *args)
{
    unsigned flags = relay_flags(&args[0]);
    if (!args[1].present || !args[1].v.s.len || !ctx->rs || !ctx->msg) {
        int rc = sb_tx_relay(ctx, flags);
        return rc > 0 ? sb_res_true() : sb_res_code(rc);
    }
    sb_str proxy = proxy_uri(ctx, args[1].v.s);
    if (!proxy.p)
        return sb_res_code(-1);
    struct sb_route_state *rs = ctx->rs;
    sb_str keep_du = sb_duri_get(ctx);
    sb_str keep[SB_MAX_BRANCHES];
    uint32_t n = rs->n_branches < SB_MAX_BRANCHES ? rs->n_branches : SB_MAX_BRANCHES;
    if (keep_du.p)
        keep_du = sb_msg_strdup(ctx->msg, keep_du);
    if (sb_duri_set(ctx, proxy) < 0)
        return sb_res_code(-1);
    for (uint32_t i = 0; i < n; i++) {
        keep[i] = rs->branches[i].dst_uri;
        rs->branches[i].dst_uri = proxy;
    }
    int rc = sb_tx_relay(ctx, flags);
    sb_duri_set(ctx, keep_du.len ? keep_du : SB_STR_NULL);
    for (uint32_t i = 0; i < n && i < rs->n_branches; i++)
        rs->branches[i].dst_uri = keep[i];
    return rc > 0 ? sb_res_true() : sb_res_code(rc);
}

/* t_add_cancel_reason(header): the Reason header of the CANCELs this transaction sends. */
static sb_res w_add_cancel_reason(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return sb_tx_set_cancel_reason(ctx, args[0].v.s) == 0 ? sb_res_true() : sb_res_false();
}

static void new_request_done(void *arg, int code, struct sb_msg *reply)
{
    (void)arg;
    (void)reply;
    SB_DEBUG("tm: t_new_request ended with %d", code);
}

/* A From/To argument as a header value: a bare URI gets its angle brackets (in <buf>). */
static sb_str name_addr(sb_str v, char *buf, size_t cap)
{
    v = sb_str_trim(v);
    if (!v.len || sb_str_chr(v, '<') >= 0)
        return v;
    int n = snprintf(buf, cap, "<" SB_STR_FMT ">", SB_STR_ARG(v));
    return n > 0 && (size_t)n < cap ? (sb_str){buf, (size_t)n} : SB_STR_NULL;
}

/* t_new_request(method, ruri, from, to[, body[, ctx]]): a request of our own, sent
 * statefully; its replies end here. A body goes out as text/plain. */
static sb_res w_new_request(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)ctx;
    char fb[1024], tb[1024];
    sb_str from = name_addr(args[2].v.s, fb, sizeof(fb)),
           to = name_addr(args[3].v.s, tb, sizeof(tb));
    sb_str body = args[4].present ? args[4].v.s : SB_STR_NULL;
    sb_str hdrs = body.len ? SB_STR("Content-Type: text/plain\r\n") : SB_STR_NULL;
    if (!from.len || !to.len) {
        SB_ERR("tm: t_new_request: From and To needed");
        return sb_res_false();
    }
    int rc = sb_tx_uac_request(args[0].v.s, args[1].v.s, from, to, hdrs, body, SB_STR_NULL,
                               new_request_done, NULL);
    return rc == 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_t_newtran(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    int rc = sb_tx_new(ctx);
    return rc >= 0 ? sb_res_true() : sb_res_code(-1);
}

static sb_res w_t_check_trans(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    /* retransmissions, ACKs of our non-2xx replies and CANCELs of known INVITEs never reach the
     * script: they are absorbed or handled before it runs */
    return sb_tx_of(ctx) ? sb_res_true() : sb_res_false();
}

static sb_res do_reply(struct sb_sctx *ctx, const struct sb_arg *args, sb_str body)
{
    int code = reply_code(&args[0].v);
    if (code < 0) {
        SB_ERR("tm: t_reply: bad reply code");
        return sb_res_false();
    }
    sb_str reason = args[1].present ? args[1].v.s : SB_STR_NULL;
    int rc = sb_tx_reply(ctx, code, reason, SB_STR_NULL, body, SB_STR_NULL);
    return rc == 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_t_reply(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return do_reply(ctx, args, SB_STR_NULL);
}

static sb_res w_t_reply_body(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return do_reply(ctx, args, args[2].v.s);
}

static sb_res arm(struct sb_sctx *ctx, const struct sb_arg *args, enum sb_tx_route which,
                  uint32_t type)
{
    int idx = -1;
    if (args[0].present && args[0].v.s.len) {
        idx = sb_script_route(ctx->script, type, args[0].v.s);
        if (idx < 0) {
            SB_ERR("tm: no route \"" SB_STR_FMT "\" of that type", SB_STR_ARG(args[0].v.s));
            return sb_res_false();
        }
    }
    return sb_tx_arm(ctx, which, idx) == 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_on_failure(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return arm(ctx, args, SB_TX_ON_FAILURE, SB_ROUTE_FAILURE);
}

static sb_res w_on_reply(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return arm(ctx, args, SB_TX_ON_REPLY, SB_ROUTE_ONREPLY);
}

static sb_res w_on_branch(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return arm(ctx, args, SB_TX_ON_BRANCH, SB_ROUTE_BRANCH);
}

static sb_res w_check_status(struct sb_sctx *ctx, const struct sb_arg *args)
{
    struct sb_tx_info ti;
    int code = 0;
    if (ctx->reply)
        code = ctx->reply->status;
    else if (sb_tx_info(ctx, &ti) == 0)
        code = ti.reply_code;
    if (!code)
        return sb_res_false();
    char txt[8];
    int n = snprintf(txt, sizeof(txt), "%d", code);
    const pcre2_code *re = args[0].regex;
    if (!re)
        return sb_str_eq(args[0].v.s, (sb_str){txt, (size_t)n}) ? sb_res_true() : sb_res_false();
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return sb_res_false();
    int rc = pcre2_match(re, (PCRE2_SPTR)txt, (size_t)n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_was_cancelled(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    return sb_tx_was_cancelled(ctx) ? sb_res_true() : sb_res_false();
}

static sb_res w_local_replied(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    return sb_tx_local_replied(ctx) > 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_cancel_branch(struct sb_sctx *ctx, const struct sb_arg *args)
{
    bool all = args[0].present && sb_str_caseeq_lit(args[0].v.s, "a");
    return sb_tx_cancel_branches(ctx, all) >= 0 ? sb_res_true() : sb_res_false();
}

static sb_res w_add_hdrs(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return sb_tx_add_hdrs(ctx, args[0].v.s) == 0 ? sb_res_true() : sb_res_false();
}

/* t_replicate(uri[, flags]): the flags of OpenSIPS (no 100 Trying, no DNS failover) change
 * nothing here: a replica never answers upstream. */
static sb_res w_replicate(struct sb_sctx *ctx, const struct sb_arg *args)
{
    return rc_res(sb_tx_replicate(ctx, args[0].v.s));
}

static sb_res w_flush_flags(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    return sb_tx_flush_flags(ctx) == 0 ? sb_res_true() : sb_res_false();
}

/* ---- serial forking by q-value ------------------------------------------------------------- */

/* The destinations not tried yet, one AVP value each ("q SP uri SP duri"), highest q on top. They
 * live in the transaction's AVP list, so failure routes see them. */
static uint32_t serial_avp;

struct cand {
    sb_str uri, duri;
    int q;
    uint32_t bflags;
};

static int q_eff(int q)
{
    return q < 0 ? 1000 : q; /* no q: as 1.0 */
}

static bool set_dest(struct sb_sctx *ctx, sb_str uri, sb_str duri)
{
    return sb_ruri_set(ctx, uri) == 0 && sb_duri_set(ctx, duri.len ? duri : SB_STR_NULL) == 0;
}

static bool push_branch(struct sb_sctx *ctx, sb_str uri, sb_str duri, int q)
{
    struct sb_route_state *rs = ctx->rs;
    if (rs->n_branches >= SB_MAX_BRANCHES - 1)
        return false;
    struct sb_branch_ent *v = sb_arena_alloc(&ctx->msg->arena, sizeof(*v) * SB_MAX_BRANCHES);
    if (!v)
        return false;
    if (rs->n_branches)
        memcpy(v, rs->branches, sizeof(*v) * rs->n_branches);
    struct sb_branch_ent *e = &v[rs->n_branches];
    *e = (struct sb_branch_ent){.q = q};
    e->uri = sb_msg_strdup(ctx->msg, uri);
    e->dst_uri = duri.len ? sb_msg_strdup(ctx->msg, duri) : SB_STR_NULL;
    if (!e->uri.p)
        return false;
    rs->branches = v;
    rs->n_branches++;
    return true;
}

/* serialize_branches(clear): keep the highest-q destinations for now, the rest for
 * next_branches(). All of the same q: nothing to do. */
static sb_res w_serialize(struct sb_sctx *ctx, const struct sb_arg *args)
{
    struct sb_route_state *rs = ctx->rs;
    if (!rs || !ctx->msg || !ctx->avps)
        return sb_res_false();
    if (args[0].present && args[0].v.type == SB_VAL_INT && args[0].v.i)
        sb_avps_del_all(ctx->avps, serial_avp);
    struct cand c[SB_MAX_BRANCHES];
    unsigned n = 0;
    c[n++] = (struct cand){sb_ruri_get(ctx), sb_duri_get(ctx), -1, rs->bflags};
    for (uint32_t i = 0; i < rs->n_branches && n < SB_MAX_BRANCHES; i++)
        c[n++] = (struct cand){rs->branches[i].uri, rs->branches[i].dst_uri, rs->branches[i].q,
                               rs->branches[i].bflags};
    bool same = true;
    for (unsigned i = 1; i < n; i++)
        same = same && q_eff(c[i].q) == q_eff(c[0].q);
    if (same)
        return sb_res_true();
    /* stable: equal q keep their order */
    for (unsigned i = 1; i < n; i++) {
        struct cand k = c[i];
        unsigned j = i;
        for (; j > 0 && q_eff(c[j - 1].q) < q_eff(k.q); j--)
            c[j] = c[j - 1];
        c[j] = k;
    }
    unsigned first = 1;
    while (first < n && q_eff(c[first].q) == q_eff(c[0].q))
        first++;
    for (unsigned i = n; i-- > first;) {
        size_t cap = c[i].uri.len + c[i].duri.len + 16;
        char *p = sb_arena_alloc(ctx->scratch, cap);
        if (!p)
            return sb_res_error(SB_ENOMEM);
        int len = snprintf(p, cap, "%d " SB_STR_FMT " " SB_STR_FMT, q_eff(c[i].q),
                           SB_STR_ARG(c[i].uri), SB_STR_ARG(c[i].duri));
        struct sb_val v = {.type = SB_VAL_STR, .s = {p, (size_t)len}};
        if (sb_avps_push(ctx->avps, serial_avp, &v) < 0)
            return sb_res_error(SB_ENOMEM);
    }
    rs->n_branches = 0;
    if (!set_dest(ctx, c[0].uri, c[0].duri))
        return sb_res_false();
    for (unsigned i = 1; i < first; i++)
        if (!push_branch(ctx, c[i].uri, c[i].duri, c[i].q))
            return sb_res_false();
    return sb_res_true();
}

static bool split_cand(sb_str s, int *q, sb_str *uri, sb_str *duri)
{
    long a = sb_str_chr(s, ' ');
    if (a <= 0)
        return false;
    uint32_t qv;
    if (sb_str_to_u32((sb_str){s.p, (size_t)a}, &qv) < 0)
        return false;
    *q = (int)qv;
    sb_str rest = {s.p + a + 1, s.len - (size_t)a - 1};
    long b = sb_str_chr(rest, ' ');
    if (b < 0)
        return false;
    *uri = (sb_str){rest.p, (size_t)b};
    *duri = (sb_str){rest.p + b + 1, rest.len - (size_t)b - 1};
    return uri->len > 0;
}

/* next_branches(): the next group of equal q becomes the destination set; -1 when none is
 * left. */
static sb_res w_next_branches(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    if (!ctx->rs || !ctx->msg || !ctx->avps)
        return sb_res_false();
    struct sb_val v;
    int gq = -1;
    bool any = false;
    while (sb_avps_get(ctx->avps, serial_avp, 0, &v)) {
        int q;
        sb_str uri, duri;
        if (v.type != SB_VAL_STR || !split_cand(v.s, &q, &uri, &duri)) {
            sb_avps_del(ctx->avps, serial_avp, 0);
            continue;
        }
        if (any && q != gq)
            break;
        /* the value goes with the delete: set_dest / push_branch copy into the message first */
        bool ok;
        if (!any) {
            ctx->rs->n_branches = 0;
            ok = set_dest(ctx, uri, duri);
        } else {
            ok = push_branch(ctx, uri, duri, q);
        }
        sb_avps_del(ctx->avps, serial_avp, 0);
        if (!ok)
            return sb_res_false();
        any = true;
        gq = q;
    }
    return any ? sb_res_true() : sb_res_false();
}

#define R_REQ  SB_ROUTE_REQUEST
#define R_FAIL SB_ROUTE_FAILURE
#define R_RPL  SB_ROUTE_ONREPLY
#define R_BR   SB_ROUTE_BRANCH

static const struct sb_mod_fn fns[] = {
    {.name = "t_relay",
     .fn = w_t_relay,
     .n_args = 2,
     .args = {{.kind = SB_ARG_ANY, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = R_REQ | R_FAIL},
    {.name = "t_newtran", .fn = w_t_newtran, .routes = R_REQ},
    {.name = "t_check_trans", .fn = w_t_check_trans, .routes = R_REQ | R_FAIL | R_BR | R_RPL},
    {.name = "t_reply",
     .fn = w_t_reply,
     .n_args = 2,
     .args = {{.kind = SB_ARG_ANY}, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = R_REQ | R_FAIL},
    {.name = "t_reply_with_body",
     .fn = w_t_reply_body,
     .n_args = 3,
     .args = {{.kind = SB_ARG_ANY}, {.kind = SB_ARG_STR}, {.kind = SB_ARG_STR}},
     .routes = R_REQ | R_FAIL},
    {.name = "t_on_failure",
     .fn = w_on_failure,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = R_REQ | R_FAIL | R_BR},
    {.name = "t_on_reply",
     .fn = w_on_reply,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = R_REQ | R_FAIL | R_BR},
    {.name = "t_on_branch",
     .fn = w_on_branch,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = R_REQ | R_FAIL},
    {.name = "t_check_status",
     .fn = w_check_status,
     .n_args = 1,
     .args = {{.kind = SB_ARG_REGEX}},
     .routes = R_REQ | R_FAIL | R_RPL | R_BR},
    {.name = "t_was_cancelled", .fn = w_was_cancelled, .routes = R_FAIL | R_RPL | R_BR},
    {.name = "t_local_replied",
     .fn = w_local_replied,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = R_FAIL | R_RPL},
    {.name = "t_cancel_branch",
     .fn = w_cancel_branch,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = R_RPL},
    {.name = "t_add_hdrs",
     .fn = w_add_hdrs,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = R_REQ | R_FAIL},
    {.name = "t_replicate",
     .fn = w_replicate,
     .n_args = 2,
     .args = {{.kind = SB_ARG_STR}, {.kind = SB_ARG_ANY, .flags = SB_ARGF_OPT}},
     .routes = R_REQ},
    {.name = "t_add_cancel_reason",
     .fn = w_add_cancel_reason,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = R_REQ | R_FAIL | R_RPL | R_BR},
    {.name = "t_new_request",
     .fn = w_new_request,
     .n_args = 6,
     .args = {{.kind = SB_ARG_STR},
              {.kind = SB_ARG_STR},
              {.kind = SB_ARG_STR},
              {.kind = SB_ARG_STR},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_ANY, .flags = SB_ARGF_OPT}},
     .routes = R_REQ | R_FAIL | R_RPL | R_BR | SB_ROUTE_TIMER | SB_ROUTE_EVENT},
    {.name = "t_flush_flags", .fn = w_flush_flags, .routes = R_REQ | R_BR},
    {.name = "serialize_branches",
     .fn = w_serialize,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT, .flags = SB_ARGF_OPT}},
     .routes = R_REQ | R_FAIL},
    {.name = "next_branches", .fn = w_next_branches, .routes = R_REQ | R_FAIL},
    {.name = NULL},
};

/* ---- $T_* ---------------------------------------------------------------------------------- */

static int get_info(struct sb_sctx *ctx, struct sb_tx_info *ti)
{
    return sb_tx_info(ctx, ti);
}

static int pv_reply_code(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx,
                         struct sb_val *out)
{
    (void)pv;
    (void)idx;
    struct sb_tx_info ti;
    int code = ctx->reply ? ctx->reply->status : get_info(ctx, &ti) == 0 ? ti.reply_code : 0;
    *out = (struct sb_val){.type = SB_VAL_INT, .i = code};
    return 0;
}

static int pv_branch_idx(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx,
                         struct sb_val *out)
{
    (void)pv;
    (void)idx;
    struct sb_tx_info ti;
    int b = get_info(ctx, &ti) == 0 ? ti.branch_idx : -1;
    *out = (struct sb_val){.type = SB_VAL_INT, .i = b < 0 ? 0 : b};
    return 0;
}

static int pv_ruri(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)pv;
    (void)idx;
    struct sb_tx_info ti;
    if (get_info(ctx, &ti) != 0 || !ti.ruri.p) {
        *out = (struct sb_val){.type = SB_VAL_NULL};
        return 0;
    }
    *out = (struct sb_val){.type = SB_VAL_STR, .s = ti.ruri};
    return 0;
}

static int pv_id(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)pv;
    (void)idx;
    struct sb_tx_info ti;
    if (get_info(ctx, &ti) != 0) {
        *out = (struct sb_val){.type = SB_VAL_NULL};
        return 0;
    }
    char *p = sb_arena_alloc(ctx->scratch, 24);
    if (!p)
        return SB_ENOMEM;
    int n = snprintf(p, 24, "%u:%u", (unsigned)ti.hash, (unsigned)ti.label);
    *out = (struct sb_val){.type = SB_VAL_STR, .s = {p, (size_t)n}};
    return 0;
}

static int pv_fr_get(struct sb_sctx *ctx, bool inv, struct sb_val *out)
{
    int s = 0;
    sb_tx_get_timeout(ctx, inv, &s);
    *out = (struct sb_val){.type = SB_VAL_INT, .i = s};
    return 0;
}

static int pv_fr_set(struct sb_sctx *ctx, bool inv, const struct sb_val *v)
{
    int32_t n = 0;
    if (v->type != SB_VAL_NULL && !sb_val_to_int(v, &n))
        return SB_EINVAL;
    return sb_tx_set_timeout(ctx, inv, n);
}

static int pv_fr(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)pv;
    (void)idx;
    return pv_fr_get(ctx, false, out);
}

static int pv_fr_inv(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)pv;
    (void)idx;
    return pv_fr_get(ctx, true, out);
}

static int pv_fr_w(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    (void)pv;
    (void)op;
    return pv_fr_set(ctx, false, v);
}

static int pv_fr_inv_w(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    (void)pv;
    (void)op;
    return pv_fr_set(ctx, true, v);
}

/* ---- $bavp(name) ----------------------------------------------------------------------------- */

/* Branch AVPs: $avp semantics on a list each branch owns (freed with the branch). */
static int pv_bavp(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    return sb_pv_avps_get(sb_tx_branch_avps(ctx, false), pv, idx, out);
}

static int pv_bavp_n(struct sb_sctx *ctx, const struct sb_pv *pv)
{
    return sb_pv_avps_count(sb_tx_branch_avps(ctx, false), pv);
}

static int pv_bavp_w(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    struct sb_avps *l = sb_tx_branch_avps(ctx, true);
    if (!l) {
        SB_ERR("tm: cannot write " SB_STR_FMT " in %s: no branch there (only branch_route, "
               "onreply_route and failure_route of a transaction have one)",
               SB_STR_ARG(pv->text), ctx->route_name ? ctx->route_name : "this route");
        return SB_EINVAL;
    }
    return sb_pv_avps_set(ctx, l, pv, op, v);
}

static const struct sb_pv_def pvs[] = {
    {.name = "T_reply_code", .get = pv_reply_code},
    {.name = "T_branch_idx", .get = pv_branch_idx},
    {.name = "T_ruri", .get = pv_ruri},
    {.name = "T_id", .get = pv_id},
    {.name = "T_fr_timeout", .get = pv_fr, .set = pv_fr_w},
    {.name = "T_fr_inv_timeout", .get = pv_fr_inv, .set = pv_fr_inv_w},
    {.name = "bavp",
     .flags = SB_PVF_SUB | SB_PVF_SUB_REQ | SB_PVF_INDEX,
     .fix_sub = sb_pv_avps_fix,
     .get = pv_bavp,
     .count = pv_bavp_n,
     .set = pv_bavp_w},
    {.name = NULL},
};

/* ---- statistics ---------------------------------------------------------------------------- */

#define STAT_GETTER(fn, field)                                                                     \
    static int64_t fn(void)                                                                        \
    {                                                                                              \
        struct sb_tx_stats s;                                                                      \
        sb_tx_stats(&s);                                                                           \
        return (int64_t)s.field;                                                                   \
    }

STAT_GETTER(st_uas, uas_transactions)
STAT_GETTER(st_uac, uac_transactions)
STAT_GETTER(st_inuse, inuse)
STAT_GETTER(st_2xx, replies_2xx)
STAT_GETTER(st_3xx, replies_3xx)
STAT_GETTER(st_4xx, replies_4xx)
STAT_GETTER(st_5xx, replies_5xx)
STAT_GETTER(st_6xx, replies_6xx)
STAT_GETTER(st_rcv, received_replies)
STAT_GETTER(st_rel, relayed_replies)
STAT_GETTER(st_loc, local_replies)
STAT_GETTER(st_timeout, timeout_finalresponse)

static const struct sb_stat_def stats[] = {
    {.name = "UAS_transactions", .get = st_uas},
    {.name = "UAC_transactions", .get = st_uac},
    {.name = "inuse_transactions", .get = st_inuse},
    {.name = "2xx_transactions", .get = st_2xx},
    {.name = "3xx_transactions", .get = st_3xx},
    {.name = "4xx_transactions", .get = st_4xx},
    {.name = "5xx_transactions", .get = st_5xx},
    {.name = "6xx_transactions", .get = st_6xx},
    {.name = "received_replies", .get = st_rcv},
    {.name = "relayed_replies", .get = st_rel},
    {.name = "local_replies", .get = st_loc},
    {.name = "timeout_finalresponse", .get = st_timeout},
    {.name = NULL},
};

/* ---- MI ------------------------------------------------------------------------------------ */

/* t_uac_dlg is asynchronous: the handler posts the request to worker 0 and returns; the final
 * reply (or the transaction's own timeout) completes the MI call from that worker. */

/* The MI result of a final reply: {"Status": "<code> <reason>", "Message": "<the reply>"}. */
static json_t *uac_result(int code, struct sb_msg *reply)
{
    char status[300];
    const char *reason = code == 408 ? "Request Timeout" : "Local Error";
    sb_str r = reply ? sb_msg_span(reply, reply->reason) : SB_STR_NULL;
    if (reply)
        snprintf(status, sizeof(status), "%d %.*s", code, (int)r.len, r.p ? r.p : "");
    else
        snprintf(status, sizeof(status), "%d %s", code, reason);
    json_t *res = json_pack("{s:s}", "Status", status);
    if (res && reply)
        json_object_set_new(res, "Message", json_stringn(reply->buf, reply->len));
    return res;
}

/* Set on a worker while it drops its transactions at exit: the pending calls are answered with
 * the same error the management interface gives when it stops first. */
static _Thread_local bool worker_exiting;

/* The transaction's final outcome, on the worker that sent it. */
static void uac_done(void *arg, int code, struct sb_msg *reply)
{
    struct sb_mi_async *a = arg;
    if (worker_exiting) {
        sb_mi_async_error(a, SB_MI_SERVER_ERROR, "shutting down");
        return;
    }
    json_t *res = uac_result(code, reply);
    if (res)
        sb_mi_async_done(a, res);
    else
        sb_mi_async_error(a, SB_MI_SERVER_ERROR, "out of memory");
}

/* What the MI thread hands to the worker. */
struct uac_job {
    struct sb_mi_async *a;
    sb_str method, ruri, from, to, hdrs, body, next_hop;
    const struct sb_socket *sock;
    int rc;
    bool ran;
};

static void uac_on_worker(unsigned worker, void *arg)
{
    struct uac_job *j = arg;
    if (worker != 0 || j->ran)
        return;
    j->ran = true;
    /* on success the callback owns j->a (the completer's reference) */
    j->rc = sb_tx_uac_request_from(j->sock, j->method, j->ruri, j->from, j->to, j->hdrs, j->body,
                                   j->next_hop, uac_done, j->a);
}

/* The listening socket named "proto:address[:port]" (IPv6 in brackets; no port: 5060), or
 * NULL. The socket table is fixed once the server runs: any thread may read it. */
static const struct sb_socket *socket_by_name(sb_str spec)
{
    long c = sb_str_chr(spec, ':');
    if (c <= 0)
        return NULL;
    uint8_t proto = sb_proto_lookup((sb_str){spec.p, (size_t)c});
    sb_str rest = {spec.p + c + 1, spec.len - (size_t)c - 1}, ip = rest, port = SB_STR_NULL;
    if (rest.len && rest.p[0] == '[') {
        long rb = sb_str_chr(rest, ']');
        if (rb < 2)
            return NULL;
        ip = (sb_str){rest.p + 1, (size_t)rb - 1};
        if ((size_t)rb + 1 < rest.len) {
            if (rest.p[rb + 1] != ':')
                return NULL;
            port = (sb_str){rest.p + rb + 2, rest.len - (size_t)rb - 2};
        }
    } else {
        /* one colon: address:port; more: a bare IPv6 address without a port */
        long first = sb_str_chr(rest, ':');
        sb_str after = {rest.p + first + 1, rest.len - (size_t)first - 1};
        if (first >= 0 && sb_str_chr(after, ':') < 0) {
            ip = (sb_str){rest.p, (size_t)first};
            port = after;
        }
    }
    uint32_t pn = 5060;
    if (port.p && (sb_str_to_u32(port, &pn) < 0 || pn == 0 || pn > 65535))
        return NULL;
    for (unsigned i = 0, n = sb_tp_n_sockets(); i < n; i++) {
        const struct sb_socket *s = sb_tp_socket(i);
        if (s && s->proto == proto && s->port == pn && sb_str_caseeq(sb_str_cstr(s->ip), ip))
            return s;
    }
    return NULL;
}

static sb_str opt_param(struct sb_mi_call *c, const char *name)
{
    const char *v = sb_mi_param_str(c, name);
    /* "." stands for an absent value (OpenSIPS MI convention) */
    if (!v || !*v || !strcmp(v, "."))
        return SB_STR_NULL;
    return sb_str_cstr(v);
}

/* Take the From and To lines out of <hdrs> (the transaction layer writes them itself) into
 * *from / *to; the rest is copied to <rest>. */
static size_t split_hdrs(sb_str hdrs, char *rest, sb_str *from, sb_str *to)
{
    size_t n = 0;
    const char *p = hdrs.p, *end = hdrs.p + hdrs.len;
    while (p && p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *le = lf ? lf + 1 : end;
        sb_str line = sb_str_trim((sb_str){p, (size_t)(le - p)});
        long colon = sb_str_chr(line, ':');
        sb_str name = colon > 0 ? sb_str_trim((sb_str){line.p, (size_t)colon}) : SB_STR_NULL;
        sb_str val = colon > 0
                         ? sb_str_trim((sb_str){line.p + colon + 1, line.len - (size_t)colon - 1})
                         : SB_STR_NULL;
        if (sb_str_caseeq_lit(name, "from") || sb_str_caseeq_lit(name, "f")) {
            *from = val;
        } else if (sb_str_caseeq_lit(name, "to") || sb_str_caseeq_lit(name, "t")) {
            *to = val;
        } else if (line.len) {
            memcpy(rest + n, line.p, line.len);
            n += line.len;
            memcpy(rest + n, "\r\n", 2);
            n += 2;
        }
        p = lf ? lf + 1 : NULL;
    }
    return n;
}

static json_t *mi_uac_dlg(struct sb_mi_call *c)
{
    const char *method = sb_mi_param_str(c, "method");
    const char *ruri = sb_mi_param_str(c, "ruri");
    if (!method || !*method || !ruri || !*ruri)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "method and ruri needed");
    const struct sb_socket *sock = NULL;
    sb_str sock_name = opt_param(c, "socket");
    if (sock_name.len && !(sock = socket_by_name(sock_name)))
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "no listening socket \"%.*s\"",
                           (int)sock_name.len, sock_name.p);
    sb_str hdrs = opt_param(c, "headers");
    /* MI clients may write "\n" alone between header lines */
    char *rest = malloc(hdrs.len * 2 + 4);
    if (!rest)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "out of memory");
    char from_def[] = "<sip:switchboard@localhost>";
    sb_str from = SB_STR_NULL, to = SB_STR_NULL;
    size_t rest_len = split_hdrs(hdrs, rest, &from, &to);
    char to_def[1024];
    if (!from.len)
        from = sb_str_cstr(from_def);
    if (!to.len) {
        snprintf(to_def, sizeof(to_def), "<%s>", ruri);
        to = sb_str_cstr(to_def);
    }
    /* the transaction ends by itself (fr timers): the MI time limit is a little later */
    bool inv = !strcasecmp(method, "INVITE");
    int wait_s = (inv ? sb_tx_conf.fr_inv_timeout : sb_tx_conf.fr_timeout) + 2;
    struct sb_mi_async *a = sb_mi_async_start(c, (unsigned)wait_s * 1000u);
    if (!a) {
        free(rest);
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "cannot wait for the reply");
    }
    struct uac_job j = {
        .a = a,
        .method = sb_str_cstr(method),
        .ruri = sb_str_cstr(ruri),
        .from = from,
        .to = to,
        .hdrs = {rest, rest_len},
        .body = opt_param(c, "body"),
        .next_hop = opt_param(c, "next_hop"),
        .sock = sock,
        .rc = SB_EAGAIN,
    };
    int n = sb_mi_on_workers(uac_on_worker, &j, 2000);
    free(rest);
    if (n <= 0 || !j.ran || j.rc < 0) {
        /* no callback will come: the handler answers itself */
        sb_mi_async_unref(a);
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "cannot send the request (%d)", j.ran ? j.rc : n);
    }
    return SB_MI_PENDING;
}

struct cancel_job {
    sb_str callid;
    uint32_t cseq;
    int n;
};

static void cancel_on_worker(unsigned worker, void *arg)
{
    (void)worker;
    struct cancel_job *j = arg;
    j->n += sb_tx_uac_cancel(j->callid, j->cseq);
}

static json_t *mi_uac_cancel(struct sb_mi_call *c)
{
    const char *callid = sb_mi_param_str(c, "callid");
    int64_t cseq;
    if (!callid || !*callid || sb_mi_param_int(c, "cseq", &cseq) < 0 || cseq < 0 ||
        cseq > UINT32_MAX)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "callid and cseq (a number) needed");
    struct cancel_job j = {.callid = sb_str_cstr(callid), .cseq = (uint32_t)cseq};
    if (sb_mi_on_workers(cancel_on_worker, &j, 2000) < 0)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "workers did not answer");
    if (!j.n)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "no such transaction");
    return json_string("OK");
}

struct hash_job {
    unsigned count[256];
    unsigned n;
};

static void hash_on_worker(unsigned worker, void *arg)
{
    struct hash_job *j = arg;
    if (worker < SB_ARRAY_LEN(j->count)) {
        j->count[worker] = sb_tx_count();
        if (worker + 1 > j->n)
            j->n = worker + 1;
    }
}

static json_t *mi_hash(struct sb_mi_call *c)
{
    struct hash_job *j = calloc(1, sizeof(*j));
    if (!j)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "out of memory");
    if (sb_mi_on_workers(hash_on_worker, j, 2000) < 0) {
        free(j);
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "workers did not answer");
    }
    /* transactions live in per-worker tables: one entry per worker */
    json_t *arr = json_array();
    unsigned total = 0;
    for (unsigned i = 0; arr && i < j->n; i++) {
        json_array_append_new(arr, json_pack("{s:I,s:I}", "worker", (json_int_t)i, "entries",
                                             (json_int_t)j->count[i]));
        total += j->count[i];
    }
    free(j);
    json_t *res = arr ? json_pack("{s:o,s:I}", "workers", arr, "total", (json_int_t)total) : NULL;
    return res ? res : sb_mi_error(c, SB_MI_SERVER_ERROR, "out of memory");
}

static const struct sb_mi_cmd mi_cmds[] = {
    {.name = "t_uac_dlg",
     .help = "send a request and return its final reply (asynchronous)",
     .recipes = {{mi_uac_dlg, {"method", "ruri", NULL}},
                 {mi_uac_dlg, {"method", "ruri", "next_hop", NULL}},
                 {mi_uac_dlg, {"method", "ruri", "next_hop", "socket", "headers", NULL}},
                 {mi_uac_dlg, {"method", "ruri", "next_hop", "socket", "headers", "body", NULL}}}},
    {.name = "t_uac_cancel",
     .help = "cancel an INVITE sent with t_uac_dlg",
     .recipes = {{mi_uac_cancel, {"callid", "cseq", NULL}}}},
    {.name = "t_hash",
     .help = "transactions in the table of each worker",
     .recipes = {{mi_hash, {NULL}}}},
    {.name = NULL},
};

/* ---- lifecycle ----------------------------------------------------------------------------- */

/* send_reply() of signaling: stateful when the request has a transaction. */
static int signaling_reply(struct sb_sctx *ctx, int code, sb_str reason)
{
    if (!sb_tx_of(ctx))
        return 0;
    return sb_tx_reply(ctx, code, reason, SB_STR_NULL, SB_STR_NULL, SB_STR_NULL) == 0 ? 1 : -1;
}

static int tm_init(void)
{
    if (conf.t1 <= 0 || conf.t2 < conf.t1 || conf.fr <= 0 || conf.fr_inv <= 0 || conf.wt < 0) {
        SB_ERR("tm: bad timer values (T1_timer %d, T2_timer %d, fr_timeout %d, fr_inv_timeout "
               "%d, wt_timer %d)",
               conf.t1, conf.t2, conf.fr, conf.fr_inv, conf.wt);
        return SB_EINVAL;
    }
    sb_tx_conf.t1_ms = conf.t1;
    sb_tx_conf.t2_ms = conf.t2;
    sb_tx_conf.fr_timeout = conf.fr;
    sb_tx_conf.fr_inv_timeout = conf.fr_inv;
    sb_tx_conf.wt_timer = conf.wt;
    sb_tx_conf.restart_fr_on_each_reply = conf.restart_fr;
    sb_tx_conf.auto_100trying = conf.auto_100;
    sb_tx_conf.disable_6xx_block = conf.no_6xx_block;
    if (conf.repl_cluster)
        SB_WARN("tm: tm_replication_cluster %d: transactions are not shared between nodes here; "
                "replies and CANCELs must reach the node that relayed the request",
                conf.repl_cluster);
    if (conf.minor_branch_flag)
        SB_WARN("tm: minor_branch_flag is not supported: every branch counts in the reply "
                "selection");
    if (conf.tw_append && *conf.tw_append)
        SB_WARN("tm: tw_append is not supported (no t_write_req/t_write_unix)");
    if (sb_avp_id(SB_STR("__sb_serial_branches"), &serial_avp) < 0)
        return SB_ENOMEM;
    sb_tx_enable();
    sb__signaling_tx_reply = signaling_reply;
    return 0;
}

static void tm_exit_worker(unsigned worker)
{
    (void)worker;
    worker_exiting = true;
    sb_tx_worker_exit();
    worker_exiting = false;
}

/* a flag name (3.x) or number (older): only noted, see tm_init */
static int set_minor_flag(const struct sb_val *v, const char **err)
{
    (void)v;
    (void)err;
    conf.minor_branch_flag = true;
    return 0;
}

#define P(n, f)                                                                                    \
    {                                                                                              \
        .name = n, .type = SB_MP_INT, .offset = offsetof(struct tm_conf, f)                        \
    }
#define S(n, f)                                                                                    \
    {                                                                                              \
        .name = n, .type = SB_MP_STR, .offset = offsetof(struct tm_conf, f)                        \
    }
static const struct sb_mod_param params[] = {
    P("T1_timer", t1),
    P("T2_timer", t2),
    P("fr_timeout", fr),
    P("fr_inv_timeout", fr_inv),
    P("wt_timer", wt),
    P("restart_fr_on_each_reply", restart_fr),
    P("auto_100trying", auto_100),
    P("disable_6xx_block", no_6xx_block),
    /* OpenSIPS 1.x/2.x names of the final-response timers */
    P("fr_timer", fr),
    P("fr_inv_timer", fr_inv),
    P("ruri_matching", ruri_matching),
    P("via1_matching", via1_matching),
    P("onreply_avp_mode", onreply_avp_mode),
    P("enable_stats", enable_stats),
    P("syn_branch", syn_branch),
    P("pass_provisional_replies", pass_prov),
    P("timer_partitions", timer_partitions),
    P("unix_tx_timeout", unix_tx_timeout),
    P("tm_replication_cluster", repl_cluster),
    P("tm_repl_auto_cancel", repl_auto_cancel),
    S("tw_append", tw_append),
    {.name = "minor_branch_flag",
     .type = SB_MP_FUNC,
     .accepts = 1 << SB_VAL_INT | 1 << SB_VAL_STR,
     .set = set_minor_flag},
    S("cluster_param", cluster_param),
    {.name = NULL},
};

const struct sb_module sb_module_tm = {
    .name = "tm",
    .summary = "stateful transactions: t_relay, forking, failure routes, CANCEL",
    .conf = &conf,
    .params = params,
    .fns = fns,
    .pvs = pvs,
    .stats = stats,
    .mi = mi_cmds,
    .init = tm_init,
    .exit_worker = tm_exit_worker,
};
