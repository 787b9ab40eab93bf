/* SPDX-License-Identifier: BSD-2-Clause */
/* Stateless forwarding: requests to a URI (forward(), send()) with our Via and a stable branch,
 * replies upstream by their second Via. Destinations are resolved per RFC 3263; when the resolver
 * has to ask the network the message is built at once and sent when the answer comes. */
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/core_cfg.h"
#include "sb/dns.h"
#include "sb/hdr.h"
#include "sb/log.h"
#include "sb/script.h"
#include "sb/uri.h"
#include "sb/worker.h"

static sb_fwd_hook fwd_hook;

void sb_fwd_set_hook(sb_fwd_hook fn)
{
    fwd_hook = fn;
}

sb_fwd_hook sb_fwd_get_hook(void)
{
    return fwd_hook;
}

int sb_uri_hop(const struct sb_uri *u, struct sb_hop *out)
{
    memset(out, 0, sizeof(*out));
    if (u->scheme != SB_URI_SIP && u->scheme != SB_URI_SIPS)
        return SB_EINVAL;
    /* RFC3263-4.1 (RFC3261-16.5 / 8.1.2): maddr overrides the host */
    sb_str host = u->maddr.len ? u->maddr : u->host;
    if (!host.len)
        return SB_EINVAL;
    out->host = sb__unbracket(host);
    out->port = u->port_no;
    if (u->transport.len) {
        out->proto = sb_proto_lookup(u->transport);
        if (out->proto == SB_PROTO_OTHER)
            return SB_EINVAL;
    }
    if (u->scheme == SB_URI_SIPS) {
        /* RFC3261-26.2.2: sips means TLS on every hop */
        if (out->proto == SB_PROTO_OTHER || out->proto == SB_PROTO_TCP)
            out->proto = SB_PROTO_TLS;
        else if (out->proto == SB_PROTO_WS)
            out->proto = SB_PROTO_WSS;
    }
    out->secure = out->proto == SB_PROTO_TLS || out->proto == SB_PROTO_WSS;
    return 0;
}

static const char *proto_name(uint8_t proto)
{
    switch (proto) {
    case SB_PROTO_TCP: return "TCP";
    case SB_PROTO_TLS: return "TLS";
    case SB_PROTO_SCTP: return "SCTP";
    case SB_PROTO_WS: return "WS";
    case SB_PROTO_WSS: return "WSS";
    default: return "UDP";
    }
}

int sb_via_make(struct sb_wbuf *w, const struct sb_socket *sock, uint8_t proto, sb_str branch)
{
    if (!sock)
        return SB_EINVAL;
    sb_wbuf_cstr(w, "SIP/2.0/");
    sb_wbuf_cstr(w, proto_name(proto ? proto : sock->proto));
    sb_wbuf_put(w, " ", 1);
    sb_wbuf_cstr(w, sock->adv_host);
    /* per relayed request: no printf */
    sb_wbuf_put(w, ":", 1);
    sb_wbuf_u64(w, sock->adv_port);
    sb_wbuf_put(w, ";branch=", 8);
    sb_wbuf_str(w, branch);
    return w->err;
}

uint64_t sb__fwd_branch_key(struct sb_msg *m, sb_str ruri)
{
    uint64_t h = SB__FNV_INIT;
    const struct sb_via *v = sb_msg_via1(m);
    if (v && v->branch.len > 7 && sb_str_caseeq_lit((sb_str){v->branch.p, 7}, "z9hg4bk")) {
        /* RFC3261-16.11: the received branch identifies the transaction (and its CANCEL / ACK) */
        h = sb__fnv(h, v->branch);
    } else {
        /* RFC 2543 peers: what identifies their transaction */
        h = sb__fnv(h, sb_msg_callid(m));
        const struct sb_nameaddr *from = sb_msg_from(m);
        h = sb__fnv(h, from ? from->tag : SB_STR_NULL);
        const struct sb_cseq *cs = sb_msg_cseq(m);
        char num[24];
        size_t n = sb_u64_to_dec(cs ? cs->num : 0, num);
        h = sb__fnv(h, (sb_str){num, n});
        if (v)
            h = sb__fnv(h, v->raw);
    }
    return sb__fnv(h, ruri);
}

static const struct sb_socket *pick_sock(const struct sb_socket *forced,
                                         const struct sb_socket *hint, uint8_t proto,
                                         const struct sb_addr *to)
{
    if (forced && forced->proto == proto &&
        (!to || !to->len || sb_addr_family(&forced->addr) == sb_addr_family(to)))
        return forced;
    if (!to || !to->len)
        return hint && hint->proto == proto ? hint : NULL;
    return sb_tp_pick(proto, to, hint);
}

const struct sb_socket *sb_fwd_socket(struct sb_sctx *ctx, uint8_t proto, const struct sb_addr *to)
{
    const struct sb_rcv *rcv = sb_sctx_rcv(ctx);
    const struct sb_socket *forced = ctx->rs ? ctx->rs->send_sock : NULL;
    return pick_sock(forced, rcv ? rcv->sock : NULL, proto, to);
}

/* ---- sending to resolved targets ----------------------------------------------------------- */

/* A message on its way: built (without our Via for a request) and waiting for its targets. */
struct fjob {
    struct sb_buf *b;
    bool on_heap;    /* waits for the resolver; else on the caller's stack */
    uint32_t via_at; /* where our Via goes: just after the request line */
    bool add_via;
    bool is_reply;
    uint8_t proto;    /* transport fixed by the URI or the caller; 0: each target's */
    bool no_new_conn; /* tcp_no_new_conn_bflag set on the branch: open connections only */
    const struct sb_socket *forced, *hint;
    size_t branch_len;
    char branch[SB_BRANCH_LEN + 1];
};

static void job_free(struct fjob *j)
{
    if (j->b)
        sb_buf_unref(j->b);
    if (j->on_heap)
        free(j);
}

/* ---- per-worker caches ----------------------------------------------------------------------
 * A stateless relay sends to few destinations, mostly literal addresses: its script's forward()
 * target and the sent-by of the Vias of the replies. Parsing the same destination URI, the same
 * address (inet_pton) and writing the same Via prefix on every message was a visible share of
 * the relay's CPU. Each cache holds a few entries, replaced round robin; only pure functions of
 * their key are cached, so an entry never goes stale. */
#define FWD_CACHE_N 4

/* forward("sip:...") / $du: the URI text and the next hop it names. */
#define DEST_TEXT_MAX 128
struct dest_entry {
    size_t len;
    struct sb_hop hop; /* hop.host points into text */
    char text[DEST_TEXT_MAX];
};
static _Thread_local struct {
    struct dest_entry e[FWD_CACHE_N];
    unsigned next;
} dest_cache;

static int dest_hop(sb_str dst, struct sb_hop *hop)
{
    for (unsigned i = 0; i < FWD_CACHE_N; i++) {
        const struct dest_entry *e = &dest_cache.e[i];
        if (e->len == dst.len && e->len && memcmp(e->text, dst.p, dst.len) == 0) {
            *hop = e->hop;
            return 0;
        }
    }
    struct sb_uri u;
    if (sb_uri_parse(dst, &u) < 0 || sb_uri_hop(&u, hop) < 0)
        return SB_EINVAL;
    if (dst.len <= DEST_TEXT_MAX && hop->host.p >= dst.p &&
        hop->host.p + hop->host.len <= dst.p + dst.len) {
        struct dest_entry *e = &dest_cache.e[dest_cache.next];
        dest_cache.next = (dest_cache.next + 1) % FWD_CACHE_N;
        memcpy(e->text, dst.p, dst.len);
        e->len = dst.len;
        e->hop = *hop;
        e->hop.host.p = e->text + (hop->host.p - dst.p);
    }
    return 0;
}

/* The resolver's answer for a literal IP address: one target, the same for the same question. */
struct lit_entry {
    uint16_t port;
    uint8_t proto;
    bool secure;
    uint8_t len; /* 0: unused */
    char host[SB_IP_STRLEN];
    struct sb_dns_target t;
};
static _Thread_local struct {
    struct lit_entry e[FWD_CACHE_N];
    unsigned next;
} lit_cache;

/* The answer for <hop> when it is a literal address seen lately. */
static bool lit_lookup(const struct sb_hop *hop, struct sb_dns_result *res)
{
    for (unsigned i = 0; i < FWD_CACHE_N; i++) {
        const struct lit_entry *e = &lit_cache.e[i];
        if (e->len && e->len == hop->host.len && e->port == hop->port && e->proto == hop->proto &&
            e->secure == hop->secure && memcmp(e->host, hop->host.p, e->len) == 0) {
            res->err = 0;
            res->n = 1;
            res->t[0] = e->t;
            return true;
        }
    }
    return false;
}

static void job_dns_done(void *arg, const struct sb_dns_result *res);

/* sb_dns_resolve() for <job>, keeping the answer when <hop> is a literal address. */
static int resolve(const struct sb_hop *hop, struct sb_dns_result *res, struct fjob *job)
{
    int rc = sb_dns_resolve(hop->host, hop->port, hop->proto, hop->secure, res, job_dns_done, job);
    if (rc == 0 && !res->err && res->n == 1 && hop->host.len < SB_IP_STRLEN &&
        (sb_is_ip4(hop->host) || sb_is_ip6(hop->host))) {
        struct lit_entry *e = &lit_cache.e[lit_cache.next];
        lit_cache.next = (lit_cache.next + 1) % FWD_CACHE_N;
        e->port = hop->port;
        e->proto = hop->proto;
        e->secure = hop->secure;
        e->len = (uint8_t)hop->host.len;
        memcpy(e->host, hop->host.p, hop->host.len);
        e->t = res->t[0];
    }
    return rc;
}

/* "Via: SIP/2.0/UDP host:port;branch=" of the last socket and transport used. */
static _Thread_local struct {
    const struct sb_socket *sock;
    uint8_t proto;
    size_t len;
    char text[SB_IP_STRLEN + 256 + 48];
} via_prefix;

static int via_line(struct sb_wbuf *w, const struct sb_socket *sock, uint8_t proto, sb_str branch)
{
    if (via_prefix.sock != sock || via_prefix.proto != proto) {
        struct sb_wbuf p;
        sb_wbuf_init(&p, via_prefix.text, sizeof(via_prefix.text));
        sb_wbuf_cstr(&p, "Via: ");
        int rc = sb_via_make(&p, sock, proto, SB_STR_NULL);
        via_prefix.sock = NULL;
        if (rc < 0 || p.err)
            return rc < 0 ? rc : p.err;
        via_prefix.sock = sock;
        via_prefix.proto = proto;
        via_prefix.len = p.len;
    }
    sb_wbuf_put(w, via_prefix.text, via_prefix.len);
    sb_wbuf_str(w, branch);
    sb_wbuf_put(w, "\r\n", 2);
    return w->err;
}

static uint8_t target_proto(const struct fjob *j, const struct sb_dns_target *t)
{
    if (j->proto)
        return j->proto;
    return t->proto ? t->proto : SB_PROTO_UDP;
}

/* Send to the first target that takes it (RFC3263-4.3: fail over on a transport error). */
static int job_send(struct fjob *j, const struct sb_dns_result *res)
{
    int rc = SB_ENOENT;
    for (unsigned i = 0; i < res->n; i++) {
        struct sb_dest d = {.proto = target_proto(j, &res->t[i]),
                            .to = res->t[i].addr,
                            .no_new_conn = j->no_new_conn};
        d.sock = pick_sock(j->forced, j->hint, d.proto, &d.to);
        if (!d.sock) {
            SB_DEBUG("fwd: no socket for %s to target %u", proto_name(d.proto), i);
            continue;
        }
        if (j->add_via) {
            char vb[SB_IP_STRLEN + 256 + 96];
            struct sb_wbuf w;
            sb_wbuf_init(&w, vb, sizeof(vb));
            int vrc = via_line(&w, d.sock, d.proto, (sb_str){j->branch, j->branch_len});
            if (vrc < 0)
                return vrc;
            struct iovec iov[3] = {
                {j->b->data, j->via_at},
                {vb, w.len},
                {j->b->data + j->via_at, j->b->len - j->via_at},
            };
            rc = sb_tp_send(&d, iov, 3);
        } else {
            rc = sb_tp_send_buf(&d, j->b->data, j->b->len);
        }
        if (rc == 0) {
            struct sb__fwd_state *st = sb__fwd_state();
            if (st) {
                if (j->is_reply)
                    SB_FWD_COUNT(&st->st, fwd_replies);
                else
                    SB_FWD_COUNT(&st->st, fwd_requests);
            }
            return 0;
        }
        SB_DEBUG("fwd: send to target %u failed (%d)", i, rc);
    }
    return rc;
}

static void job_dns_done(void *arg, const struct sb_dns_result *res)
{
    struct fjob *j = arg;
    if (j->b) {
        int rc = res->err || !res->n ? (res->err ? res->err : SB_ENOENT) : job_send(j, res);
        if (rc < 0) {
            struct sb__fwd_state *st = sb__fwd_state();
            if (st) {
                if (j->is_reply)
                    SB_FWD_COUNT(&st->st, drop_replies);
                else
                    SB_FWD_COUNT(&st->st, drop_requests);
            }
            SB_INFO("fwd: %s not sent after resolving (%d)", j->is_reply ? "reply" : "request", rc);
        }
    }
    job_free(j);
}

static uint32_t after_first_line(const struct sb_buf *b)
{
    const char *lf = memchr(b->data, '\n', b->len);
    return lf ? (uint32_t)(lf - b->data + 1) : b->len;
}

/* forward() and send(): <fwd> pushes our Via and handles Max-Forwards. */
static int relay(struct sb_sctx *ctx, sb_str uri, uint8_t proto_force, bool fwd)
{
    struct sb_msg *m = ctx->msg;
    if (!m || !ctx->rs)
        return SB_EINVAL;
    bool is_req = sb_msg_is_request(m);
    if (fwd && !is_req)
        return SB_EINVAL;
    const struct sb_rcv *rcv = sb_sctx_rcv(ctx);
    if (is_req && rcv)
        sb__fwd_via_fix(m, rcv, ctx->rs->force_rport);
    sb_str dst = uri.len ? uri : SB_STR_NULL;
    if (!dst.p && is_req) {
        dst = sb_duri_get(ctx);
        if (!dst.p)
            dst = sb_ruri_get(ctx);
    }
    struct sb_hop hop;
    if (!dst.p || dest_hop(dst, &hop) < 0) {
        SB_INFO("fwd: cannot forward to \"" SB_STR_FMT "\": not a usable SIP URI",
                SB_STR_ARG(dst.p ? dst : SB_STR("")));
        return SB_EINVAL;
    }
    if (proto_force)
        hop.proto = proto_force;

    /* the job lives on the stack unless the resolver may have to ask the network */
    struct sb_dns_result res;
    struct fjob sj = {0}, *j = &sj;
    bool cached = lit_lookup(&hop, &res);
    if (!cached) {
        j = calloc(1, sizeof(*j));
        if (!j)
            return SB_ENOMEM;
        j->on_heap = true;
    }
    j->add_via = fwd;
    j->is_reply = !is_req;
    j->proto = hop.proto;
    j->no_new_conn = is_req && sb_core_no_new_conn(sb__fwd_cfg(), ctx->rs->bflags);
    j->forced = ctx->rs->send_sock;
    j->hint = rcv ? rcv->sock : NULL;
    if (fwd) {
        uint64_t key = sb__fwd_branch_key(m, sb_ruri_get(ctx));
        unsigned wid = sb_worker_self ? sb_worker_self->id : 0;
        j->branch_len = sb_branch_make(j->branch, sizeof(j->branch), wid, key);
    }

    int rc = cached ? 0 : resolve(&hop, &res, j);
    bool pending = rc == SB_EAGAIN;
    if (!pending && (rc < 0 || res.err || res.n == 0)) {
        SB_INFO("fwd: cannot resolve \"" SB_STR_FMT "\" (%d)", SB_STR_ARG(hop.host),
                rc < 0    ? rc
                : res.err ? res.err
                          : SB_ENOENT);
        job_free(j);
        return rc < 0 ? rc : SB_ENOENT;
    }

    /* the destination the hook sees: the first target, or only the transport while resolving */
    struct sb_dest d = {.proto = hop.proto ? hop.proto : SB_PROTO_UDP};
    if (!pending) {
        d.proto = target_proto(j, &res.t[0]);
        d.to = res.t[0].addr;
    }
    d.sock = pick_sock(j->forced, j->hint, d.proto, &d.to);

    struct sb_fwd_opts o = {0};
    if (is_req && ctx->rs->new_ruri.p)
        o.ruri = ctx->rs->new_ruri;
    char top[2048];
    if (fwd) {
        /* RFC3261-16.6 step 3: decrement, unless the maxfwd module already did */
        o.maxfwd_dec = ctx->rs->maxfwd_done ? 0 : 1;
        struct sb_wbuf w;
        sb_wbuf_init(&w, top, sizeof(top));
        if (fwd_hook && d.sock && (rc = fwd_hook(ctx, &d, &w)) < 0) {
            SB_INFO("fwd: the forwarding hook refused the request (%d)", rc);
            goto fail;
        }
        if (w.err) {
            rc = w.err;
            goto fail;
        }
        o.top_hdrs = (sb_str){top, w.len};
    }
    rc = sb_msg_build_request(m, &o, &j->b);
    if (rc < 0) {
        j->b = NULL;
        if (rc == SB_ERANGE) {
            /* RFC3261-16.3 step 2 */
            if (m->method_id != SB_METHOD_ACK)
                sb_sl_reply(ctx, 483, SB_STR_NULL);
        } else {
            SB_INFO("fwd: cannot build the message (%d)", rc);
        }
        goto fail;
    }
    j->via_at = after_first_line(j->b);
    if (pending) {
        ctx->rs->forwarded = true;
        return 1; /* job_dns_done owns the job now */
    }
    rc = job_send(j, &res);
    job_free(j);
    if (rc < 0) {
        SB_INFO("fwd: cannot send to \"" SB_STR_FMT "\" (%d)", SB_STR_ARG(hop.host), rc);
        return rc;
    }
    ctx->rs->forwarded = true;
    return 1;
fail:
    if (pending) {
        /* the resolver still calls back: an empty job is only freed there */
        return rc;
    }
    job_free(j);
    return rc;
}

int sb_forward(struct sb_sctx *ctx, sb_str uri, uint8_t proto_force)
{
    return relay(ctx, uri, proto_force, true);
}

int sb_send_to(struct sb_sctx *ctx, sb_str uri, uint8_t proto_force)
{
    return relay(ctx, uri, proto_force, false);
}

/* ---- replies ------------------------------------------------------------------------------- */

/* Our Via carries our own address as sent-by: a branch that merely looks like ours is not enough,
 * or a forged reply could make us relay it to whatever its second Via names. */
static bool via_names_us(const struct sb_via *v)
{
    uint16_t port = v->port_no
                        ? v->port_no
                        : (v->proto == SB_PROTO_TLS || v->proto == SB_PROTO_WSS ? 5061 : 5060);
    return sb_is_myself(sb__unbracket(v->host), port, v->proto);
}

int sb_forward_reply(struct sb_msg *reply, const struct sb_rcv *rcv)
{
    struct sb_hdr *h = sb_msg_hdr_first(reply, SB_HDR_VIA);
    const struct sb_via *v = sb_msg_via1(reply);
    if (!h || !v || sb_msg_is_request(reply))
        return SB_EPARSE;
    /* RFC3261-16.7 step 3 / 18.1.2: a reply whose top Via is not ours is not for us. OpenSIPS
     * checks this only with check_via; here it always holds, and check_via makes the drop an
     * error in the log, as there. */
    if (!via_names_us(v)) {
        const struct sb_core_cfg *cfg = sb__fwd_cfg();
        if (cfg && cfg->check_via && sb__fwd_warn_ok())
            SB_ERR("fwd: reply from %s:%u dropped: top Via " SB_STR_FMT ":%u is not ours",
                   rcv ? rcv->src_ip : "?", rcv ? (unsigned)rcv->peer.src_port : 0u,
                   SB_STR_ARG(v->host), (unsigned)v->port_no);
        else
            SB_DEBUG("fwd: reply with a top Via that is not ours dropped");
        return SB_EINVAL;
    }
    const struct sb_via *v2 = sb_msg_via2(reply);
    if (!v2) {
        SB_DEBUG("fwd: reply to a request we originated, no Via left to relay it by");
        return SB_ENOENT;
    }
    if (via_names_us(v2) && !v2->received.len && !v2->rport.len) {
        /* a chain of our own Vias would bounce the reply through our socket once per Via */
        SB_DEBUG("fwd: reply whose next Via is ours again dropped");
        return SB_EINVAL;
    }
    int rc = sb_msg_hdr_remove(reply, h);
    if (rc < 0)
        return rc;
    struct sb_hop hop;
    sb__via_hop(v2, &hop);
    struct sb_dns_result res;
    struct fjob sj = {0}, *j = &sj;
    bool cached = lit_lookup(&hop, &res);
    if (!cached) {
        j = calloc(1, sizeof(*j));
        if (!j)
            return SB_ENOMEM;
        j->on_heap = true;
    }
    j->is_reply = true;
    rc = sb_msg_build_request(reply, NULL, &j->b);
    if (rc < 0) {
        j->b = NULL;
        job_free(j);
        return rc;
    }
    j->proto = hop.proto;
    rc = cached ? 0 : resolve(&hop, &res, j);
    if (rc == SB_EAGAIN)
        return 0;
    if (rc == 0 && !res.err && res.n)
        rc = job_send(j, &res);
    else if (rc == 0)
        rc = res.err ? res.err : SB_ENOENT;
    job_free(j);
    return rc;
}
