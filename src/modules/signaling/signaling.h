/* SPDX-License-Identifier: BSD-2-Clause */
/* The seam between signaling and the transaction layer: tm sets the hook at its init so that
 * send_reply() answers statefully when the request has a transaction. */
#ifndef SB_MOD_SIGNALING_H
#define SB_MOD_SIGNALING_H

#include "sb/script-t.h"

/* Reply to the request of <ctx> within its transaction. Returns 1 when a transaction existed and
 * the reply went through it, 0 when there is no transaction (signaling then replies statelessly),
 * < 0 on failure. Set once, at module init (control thread), before any worker runs; NULL while
 * no transaction layer is loaded. */
typedef int (*sb_signaling_tx_reply_fn)(struct sb_sctx *ctx, int code, sb_str reason);
extern sb_signaling_tx_reply_fn sb__signaling_tx_reply;

#endif
