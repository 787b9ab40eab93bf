/* SPDX-License-Identifier: BSD-2-Clause */
/* Stateless replies: where a reply goes (RFC 3261 §18.2.2, RFC 3581), the received/rport
 * parameters of the top Via, the stateless to-tag, and sending. */
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/core_cfg.h"
#include "sb/dns.h"
#include "sb/log.h"
#include "sb/msg_build.h"
#include "sb/net.h"

static uint16_t default_port(uint8_t proto)
{
    return proto == SB_PROTO_TLS || proto == SB_PROTO_WSS ? 5061 : 5060;
}

static uint16_t via_port(const struct sb_via *v)
{
    return v->port_no ? v->port_no : default_port(v->proto);
}

static void dns_ignore(void *arg, const struct sb_dns_result *res)
{
    (void)arg;
    (void)res;
}

/* <host>:<port> as an address: a literal at once; a name through the resolver (RFC 3263 §5:
 * <port> 0 allows SRV). A name that needs the network gives SB_EAGAIN; the answer lands in the
 * resolver's cache, so a retransmission finds it. */
static int host_addr(sb_str host, uint16_t port, uint8_t proto, struct sb_addr *out)
{
    host = sb__unbracket(host);
    if (sb_addr_set(out, host, port ? port : default_port(proto)) == 0)
        return 0;
    struct sb_dns_result res;
    int rc = sb_dns_resolve(host, port, proto, proto == SB_PROTO_TLS, &res, dns_ignore, NULL);
    if (rc < 0)
        return rc;
    if (res.err || res.n == 0)
        return res.err ? res.err : SB_ENOENT;
    *out = res.t[0].addr;
    if (port)
        sb_addr_set_port(out, port);
    return 0;
}

static bool rport_value(const struct sb_via *v, uint16_t *port)
{
    uint32_t n;
    if (!v->rport.len || sb_str_to_u32(v->rport, &n) < 0 || n == 0 || n > 65535)
        return false;
    *port = (uint16_t)n;
    return true;
}

void sb__via_hop(const struct sb_via *v, struct sb_hop *out)
{
    memset(out, 0, sizeof(*out));
    out->proto = v->proto ? v->proto : SB_PROTO_UDP;
    out->secure = out->proto == SB_PROTO_TLS || out->proto == SB_PROTO_WSS;
    uint16_t port;
    if (!rport_value(v, &port))
        port = v->port_no;
    /* RFC3261-18.2.2: streams go back on the connection, which a stateless relay does not know:
     * one to the received address (or sent-by) is used or opened */
    if (sb__is_stream(out->proto)) {
        out->host = v->received.len ? v->received : v->host;
        out->port = port;
    } else if (v->maddr.len) {
        out->host = v->maddr;
        out->port = via_port(v);
    } else if (v->received.len) {
        out->host = v->received;
        out->port = port ? port : via_port(v);
    } else {
        out->host = v->host;
        out->port = port; /* RFC3261-18.2.2 / RFC3263-5: no port allows SRV */
    }
    out->host = sb__unbracket(out->host);
    if (!out->port && (sb_is_ip4(out->host) || sb_is_ip6(out->host)))
        out->port = via_port(v);
}

int sb__via_dest(const struct sb_via *v, struct sb_dest *out)
{
    struct sb_hop h;
    sb__via_hop(v, &h);
    memset(out, 0, sizeof(*out));
    out->proto = h.proto;
    return host_addr(h.host, h.port, h.proto, &out->to);
}

int sb_reply_dest(struct sb_msg *req, const struct sb_rcv *rcv, struct sb_dest *out)
{
    const struct sb_via *v = sb_msg_via1(req);
    if (!v)
        return SB_EPARSE;
    if (!rcv)
        return sb__via_dest(v, out);
    memset(out, 0, sizeof(*out));
    out->sock = rcv->sock;
    out->proto = rcv->sock ? rcv->sock->proto : rcv->peer.proto;
    if (!out->proto)
        out->proto = SB_PROTO_UDP;
    if (sb__is_stream(out->proto)) {
        /* RFC3261-18.2.2: the connection the request came on */
        out->conn_id = rcv->conn_id;
        out->to = rcv->src;
        return 0;
    }
    if (v->maddr.len) {
        /* RFC3261-18.2.2 sends to maddr; honoured only when it is the source address itself, so
         * that a forged Via cannot aim our replies at a third party or a multicast group */
        struct sb_addr m;
        if (host_addr(v->maddr, via_port(v), out->proto, &m) == 0 && sb_addr_ip_eq(&m, &rcv->src)) {
            out->to = m;
            return 0;
        }
    }
    /* RFC3261-18.2.2: the sent-by, or the received address when it differs from the sent-by
     * (which is then the source). RFC3581-4: the source port when rport was asked for. */
    out->to = rcv->src;
    uint16_t src_port = sb_addr_port(&rcv->src);
    if (v->has_rport || sb__fwd_rport_done(req))
        sb_addr_set_port(&out->to, src_port);
    else
        sb_addr_set_port(&out->to, via_port(v));
    return 0;
}

/* ---- received / rport ---------------------------------------------------------------------- */

static bool in_msg(const struct sb_msg *m, const char *p)
{
    return p && p >= m->buf && p <= m->buf + m->len;
}

static bool sent_by_differs(const struct sb_via *v, const struct sb_rcv *rcv)
{
    sb_str host = sb__unbracket(v->host);
    /* the common case, a sent-by written as the source address is, costs no address parse */
    if (rcv->src_ip[0] && sb_str_eq(host, sb_str_cstr(rcv->src_ip)))
        return false;
    struct sb_addr a;
    if (sb_addr_set(&a, host, 0) < 0)
        return true; /* a host name */
    return !sb_addr_ip_eq(&a, &rcv->src);
}

/* "<prefix><port>" in the message arena, without printf: this runs for every relayed request. */
static sb_str port_text(struct sb_msg *m, const char *prefix, uint16_t port)
{
    char b[16];
    size_t n = strlen(prefix);
    memcpy(b, prefix, n);
    n += sb_u64_to_dec(port, b + n);
    return sb_msg_strdup(m, (sb_str){b, n});
}

bool sb__fwd_rport_done(const struct sb_msg *req)
{
    return (req->via_fixed & SB_MSG_VF_RPORT) != 0;
}

int sb__fwd_via_fix(struct sb_msg *req, const struct sb_rcv *rcv, bool force_rport)
{
    if (!rcv || !sb_msg_is_request(req))
        return 0;
    struct sb_hdr *h = sb_msg_hdr_first(req, SB_HDR_VIA);
    const struct sb_via *v = sb_msg_via1(req);
    if (!h || !v)
        return SB_EPARSE;
    uint32_t end = h->value.off + h->value.len;
    if (v->comment.len && in_msg(req, v->comment.p))
        end = (uint32_t)(v->comment.p - req->buf);
    bool want_rport = (v->has_rport || force_rport) && !(req->via_fixed & SB_MSG_VF_RPORT);
    int rc = 0;
    uint16_t port = sb_addr_port(&rcv->src);
    /* the rport value goes first: a bare ";rport" may end the value, where ;received goes too */
    if (want_rport) {
        if (v->has_rport && in_msg(req, v->rport.p)) {
            uint32_t off = (uint32_t)(v->rport.p - req->buf);
            if (v->rport.len == 0)
                rc = sb_msg_lump_insert(req, off, port_text(req, "=", port));
            else
                rc = sb_msg_lump_replace(req, (sb_span){off, (uint32_t)v->rport.len},
                                         port_text(req, "", port));
        } else if (!v->has_rport) {
            rc = sb_msg_lump_insert(req, end, port_text(req, ";rport=", port));
        }
        req->via_fixed |= SB_MSG_VF_RPORT;
    }
    /* RFC3261-18.2.1: received when the sent-by is not the source; RFC3581-4: always with rport */
    if (rc == 0 && !(req->via_fixed & SB_MSG_VF_RECEIVED) &&
        ((req->via_fixed & SB_MSG_VF_RPORT) || sent_by_differs(v, rcv))) {
        /* the transport formatted the source already; a context built elsewhere may not have */
        char ip[10 + SB_IP_STRLEN] = ";received=";
        size_t n = rcv->src_ip[0] ? strlen(rcv->src_ip) : 0;
        if (n)
            memcpy(ip + 10, rcv->src_ip, n + 1);
        else
            n = sb_addr_ip(&rcv->src, ip + 10);
        if (v->received.p && in_msg(req, v->received.p))
            rc = sb_msg_lump_replace(
                req, (sb_span){(uint32_t)(v->received.p - req->buf), (uint32_t)v->received.len},
                sb_msg_strdup(req, (sb_str){ip + 10, n}));
        else
            rc = sb_msg_lump_insert(req, end, sb_msg_strdup(req, (sb_str){ip, 10 + n}));
        req->via_fixed |= SB_MSG_VF_RECEIVED;
    }
    return rc;
}

/* ---- stateless to-tag ---------------------------------------------------------------------- */

size_t sb__sl_tag(struct sb_msg *req, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = sb__fnv(SB__FNV_INIT, sb_msg_callid(req));
    const struct sb_nameaddr *from = sb_msg_from(req);
    h = sb__fnv(h, from ? from->tag : SB_STR_NULL);
    const struct sb_via *v = sb_msg_via1(req);
    h = sb__fnv(h, v ? v->branch : SB_STR_NULL);
    size_t n = sizeof(SB__SL_TAG_PREFIX) - 1;
    memcpy(out, SB__SL_TAG_PREFIX, n);
    for (int i = 60; i >= 0; i -= 4)
        out[n++] = hex[(h >> i) & 0xf];
    out[n] = '\0';
    return n;
}

bool sb__sl_tag_is_ours(sb_str tag)
{
    size_t np = sizeof(SB__SL_TAG_PREFIX) - 1;
    if (tag.len != SB__SL_TAG_LEN || !sb_str_caseeq_lit((sb_str){tag.p, np}, SB__SL_TAG_PREFIX))
        return false;
    for (size_t i = np; i < tag.len; i++)
        if (!sb_is_hex((unsigned char)tag.p[i]))
            return false;
    return true;
}

/* ---- sending ------------------------------------------------------------------------------- */

/* The Server value, or a whole other line in *line when server_header names another header. */
static sb_str server_value(const struct sb_core_cfg *cfg, sb_str *line)
{
    *line = SB_STR_NULL;
    if (!cfg || !cfg->server_signature || !cfg->server_header || !*cfg->server_header)
        return SB_STR_NULL;
    sb_str s = sb_str_cstr(cfg->server_header);
    if (strcmp(cfg->server_header, "Server: Switchboard") == 0)
        return SB_STR("Switchboard (" SB_VERSION ")");
    long colon = sb_str_chr(s, ':');
    if (colon > 0 && sb_str_caseeq_lit(sb_str_trim((sb_str){s.p, (size_t)colon}), "server"))
        return sb_str_trim((sb_str){s.p + colon + 1, s.len - (size_t)colon - 1});
    *line = s;
    return SB_STR_NULL;
}

/* RFC3261-8.2.6.2: a reply copies Via, From, To, Call-ID and CSeq. Without all of them, or with a
 * Via that does not parse (copied as is, it would make the reply malformed too), nobody could match
 * what we send: we do not answer. */
static bool answerable(struct sb_msg *req)
{
    if (!sb_msg_hdr_first(req, SB_HDR_FROM) || !sb_msg_hdr_first(req, SB_HDR_TO) ||
        !sb_msg_hdr_first(req, SB_HDR_CALL_ID) || !sb_msg_hdr_first(req, SB_HDR_CSEQ) ||
        !sb_msg_hdr_first(req, SB_HDR_VIA))
        return false;
    for (struct sb_hdr *h = sb_msg_hdr_first(req, SB_HDR_VIA); h; h = sb_msg_hdr_next(req, h))
        if (!sb_msg_hdr_parsed(req, h))
            return false;
    return true;
}

int sb__sl_send(struct sb_msg *req, const struct sb_rcv *rcv, struct sb_route_state *rs,
                const struct sb_reply_opts *in)
{
    if (!sb_msg_is_request(req) || req->method_id == SB_METHOD_ACK || !answerable(req))
        return SB_EINVAL;
    if (rcv && sb__fwd_via_fix(req, rcv, rs && rs->force_rport) < 0)
        SB_DEBUG("sl: cannot record received/rport on the top Via");
    struct sb_reply_opts o = *in;
    char tag[SB__SL_TAG_LEN + 1];
    if (!o.to_tag.len)
        o.to_tag = (sb_str){tag, sb__sl_tag(req, tag)};
    sb_str line;
    o.server = server_value(sb__fwd_cfg(), &line);
    if ((o.code >= 180 && o.code < 190) || (o.code >= 200 && o.code < 300))
        o.copy_record_route = true;
    sb_str rh = rs ? rs->reply_hdrs : SB_STR_NULL;
    char *hbuf = NULL;
    if (rh.len || line.len) {
        size_t n = in->hdrs.len + rh.len + line.len + 2;
        hbuf = malloc(n);
        if (!hbuf)
            return SB_ENOMEM;
        size_t k = 0;
        memcpy(hbuf + k, in->hdrs.p ? in->hdrs.p : "", in->hdrs.len), k += in->hdrs.len;
        memcpy(hbuf + k, rh.p ? rh.p : "", rh.len), k += rh.len;
        if (line.len) {
            memcpy(hbuf + k, line.p, line.len), k += line.len;
            memcpy(hbuf + k, "\r\n", 2), k += 2;
        }
        o.hdrs = (sb_str){hbuf, k};
    }
    struct sb_buf *b = NULL;
    int rc = sb_msg_build_reply(req, &o, &b);
    free(hbuf);
    if (rc < 0) {
        SB_DEBUG("sl: cannot build a %d reply (%d)", o.code, rc);
        return rc;
    }
    struct sb_dest d;
    rc = sb_reply_dest(req, rcv, &d);
    if (rc == 0)
        rc = sb_tp_send_buf(&d, b->data, b->len);
    sb_buf_unref(b);
    if (rc < 0) {
        SB_DEBUG("sl: cannot send a %d reply (%d)", o.code, rc);
        return rc;
    }
    if (rs)
        rs->replied = true;
    struct sb__fwd_state *st = sb__fwd_state();
    if (st)
        SB_FWD_COUNT(&st->st, sl_replies);
    return 0;
}

/* One "Contact: <uri>[;q=0.x]" line of a redirect. */
static void dset_line(struct sb_wbuf *w, sb_str uri, int32_t q)
{
    sb_wbuf_cstr(w, "Contact: <");
    sb_wbuf_str(w, uri);
    sb_wbuf_cstr(w, ">");
    if (q >= 0 && q <= 1000) {
        char qs[8];
        int n = q == 1000 ? snprintf(qs, sizeof(qs), "1") : snprintf(qs, sizeof(qs), "0.%03d", q);
        while (n > 3 && qs[n - 1] == '0') /* 0.500 -> 0.5 */
            n--;
        sb_wbuf_cstr(w, ";q=");
        sb_wbuf_put(w, qs, (size_t)n);
    }
    sb_wbuf_cstr(w, "\r\n");
}

/* A 3xx lists the destination set as Contact headers, as OpenSIPS does: the Request-URI when the
 * script changed it (lookup, seturi ...) and every appended branch. Nothing when the set is the
 * received Request-URI alone. Returns the lines in the message arena, or an empty string. */
static sb_str dset_contacts(struct sb_sctx *ctx)
{
    struct sb_route_state *rs = ctx->rs;
    if (!rs || (!rs->new_ruri.p && !rs->n_branches))
        return SB_STR_NULL;
    size_t cap = 32 + rs->new_ruri.len;
    for (uint32_t i = 0; i < rs->n_branches; i++)
        cap += 32 + rs->branches[i].uri.len;
    char *p = sb_arena_alloc(&ctx->msg->arena, cap);
    if (!p)
        return SB_STR_NULL;
    struct sb_wbuf w;
    sb_wbuf_init(&w, p, cap);
    if (rs->new_ruri.p)
        dset_line(&w, rs->new_ruri, -1);
    for (uint32_t i = 0; i < rs->n_branches; i++)
        dset_line(&w, rs->branches[i].uri, rs->branches[i].q);
    return w.err ? SB_STR_NULL : (sb_str){p, w.len};
}

int sb_sl_reply_opts(struct sb_sctx *ctx, const struct sb_reply_opts *o)
{
    if (!ctx->msg)
        return SB_EINVAL;
    if (o->code >= 300 && o->code < 400) {
        sb_str dset = dset_contacts(ctx);
        if (dset.len) {
            struct sb_reply_opts o2 = *o;
            size_t n = o->hdrs.len + dset.len;
            char *h = sb_arena_alloc(&ctx->msg->arena, n);
            if (!h)
                return SB_ENOMEM;
            if (o->hdrs.len)
                memcpy(h, o->hdrs.p, o->hdrs.len);
            memcpy(h + o->hdrs.len, dset.p, dset.len);
            o2.hdrs = (sb_str){h, n};
            return sb__sl_send(ctx->msg, sb_sctx_rcv(ctx), ctx->rs, &o2);
        }
    }
    return sb__sl_send(ctx->msg, sb_sctx_rcv(ctx), ctx->rs, o);
}

int sb_sl_reply(struct sb_sctx *ctx, int code, sb_str reason)
{
    struct sb_reply_opts o = {.code = code, .reason = reason.len ? reason : SB_STR_NULL};
    return sb_sl_reply_opts(ctx, &o);
}

int sb_sl_reply_rcv(struct sb_msg *req, const struct sb_rcv *rcv, int code, sb_str reason)
{
    struct sb_reply_opts o = {.code = code, .reason = reason.len ? reason : SB_STR_NULL};
    return sb__sl_send(req, rcv, NULL, &o);
}
