/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions over stream connections: force_tcp_alias(). */
#include "core_fns.h"
#include "fwd/fwd_int.h"
#include "sb/fwd.h"
#include "sb/log.h"
#include "sb/script.h"

/* force_tcp_alias([port]): requests later routed to the sender's address at <port> (default: the
 * top Via's sent-by port) reuse the connection this request came on, as if its Via carried
 * ";alias" with tcp_accept_aliases set. False over UDP or when the connection is gone. */
sb_res sb__cf_force_tcp_alias(struct sb_sctx *ctx, const struct sb_arg *a)
{
    if (!ctx->msg || !sb_msg_is_request(ctx->msg))
        return sb_res_false();
    int32_t port = a[0].present ? a[0].v.i : 0;
    if (port < 0 || port > 65535) {
        SB_INFO("force_tcp_alias: port %d out of range", (int)port);
        return sb_res_false();
    }
    int rc = sb__fwd_tcp_alias(ctx->msg, sb_sctx_rcv(ctx), (uint16_t)port);
    return rc < 0 ? sb_res_false() : sb_res_true();
}
