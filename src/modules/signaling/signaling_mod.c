/* SPDX-License-Identifier: BSD-2-Clause */
/* signaling: send_reply(), which answers within the transaction when there is one and statelessly
 * otherwise, so that a script need not know whether tm is loaded. */
#include "sb/log.h"
#include "sb/mod-t.h"

#include "../sl/sl.h"
#include "signaling.h"

sb_signaling_tx_reply_fn sb__signaling_tx_reply;

/* send_reply(code, reason): 1 sent, -1 not. */
static sb_res w_send_reply(struct sb_sctx *ctx, const struct sb_arg *args)
{
    int code;
    if (sb__sl_code(&args[0].v, &code) != 0) {
        SB_ERR("signaling: send_reply: bad reply code");
        return sb_res_false();
    }
    sb_str reason = args[1].present && args[1].v.s.len ? args[1].v.s : SB_STR_NULL;
    if (sb__signaling_tx_reply) {
        int rc = sb__signaling_tx_reply(ctx, code, reason);
        if (rc != 0)
            return rc > 0 ? sb_res_true() : sb_res_false();
    }
    return sb__sl_reply(ctx, code, reason) == 0 ? sb_res_true() : sb_res_false();
}

static const struct sb_mod_fn fns[] = {
    {.name = "send_reply",
     .fn = w_send_reply,
     .n_args = 2,
     .args = {{.kind = SB_ARG_ANY}, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_ERROR},
    {.name = NULL},
};

const struct sb_module sb_module_signaling = {
    .name = "signaling",
    .summary = "replies, stateful when a transaction exists",
    .deps = (const char *const[]){"sl", NULL},
    .fns = fns,
};
