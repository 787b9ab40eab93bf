/* SPDX-License-Identifier: BSD-2-Clause */
/* Connection reuse for stream transports (RFC 3261 §18, RFC 5923): a client behind NAT or without
 * a listening socket is reachable only over the connection it opened, so requests routed to its
 * Via sent-by port must go back on that connection instead of a new one. */
#include "fwd/fwd_int.h"
#include "sb/core_cfg.h"
#include "sb/log.h"
#include "sb/msg.h"
#include "sb/tp.h"
#include "sb/uri.h"

int sb__fwd_tcp_alias(struct sb_msg *req, const struct sb_rcv *rcv, uint16_t port)
{
    if (!rcv || !rcv->conn_id || !rcv->sock || !sb__is_stream(rcv->sock->proto))
        return SB_EINVAL;
    if (!port) {
        const struct sb_via *v = sb_msg_via1(req);
        port = v ? v->port_no : 0;
    }
    if (!port)
        port = rcv->sock->proto == SB_PROTO_TLS || rcv->sock->proto == SB_PROTO_WSS ? 5061 : 5060;
    /* the peer's own address only: the sent-by host may be a private or made-up one, and
     * trusting it would let any client draw the traffic of another host */
    struct sb_addr a = rcv->src;
    sb_addr_set_port(&a, port);
    int rc = sb_tp_conn_alias(rcv->conn_id, &a);
    if (rc < 0)
        SB_DEBUG("tcp alias %s:%u for connection %u refused (%d)", rcv->src_ip, (unsigned)port,
                 rcv->conn_id, rc);
    return rc;
}

int sb__fwd_accept_alias(struct sb_msg *req, const struct sb_rcv *rcv)
{
    if (!rcv->conn_id)
        return 0;
    const struct sb_core_cfg *cfg = sb__fwd_cfg();
    if (!cfg || !cfg->tcp_accept_aliases)
        return 0;
    const struct sb_via *v = sb_msg_via1(req);
    struct sb_param p;
    if (!v || !v->params.len || sb_param_find(v->params, "alias", &p, true) != 1)
        return 0;
    return sb__fwd_tcp_alias(req, rcv, 0);
}
