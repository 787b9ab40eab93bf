/* SPDX-License-Identifier: BSD-2-Clause */
/* The sl module's interface to other modules (signaling) and to tests: the stateless reply path
 * with its counters, and the counters themselves until a statistics layer exists. */
#ifndef SB_MOD_SL_H
#define SB_MOD_SL_H

#include "sb/script-t.h"

/* The sl: statistics group. Each worker counts in its own slot; a read sums the slots. */
struct sb_sl_stats {
    uint64_t replies_1xx, replies_2xx, replies_3xx, replies_4xx, replies_5xx, replies_6xx;
    uint64_t sent_replies;     /* every stateless reply sent through sl / signaling */
    uint64_t sent_err_replies; /* replies sent by sl_reply_error() */
};

/* Sum of every worker's counters. Any thread; the values are a snapshot, not a consistent cut. */
void sb__sl_stats(struct sb_sl_stats *out);
/* Zero every counter (tests, and reset_statistics later). Control thread. */
void sb__sl_stats_reset(void);

/* Send a stateless reply to the request of <ctx> and count it. <code> must be 100..699; an empty
 * <reason> (p == NULL) takes the default phrase. Returns 0 or < 0 (logged). Worker thread. */
int sb__sl_reply(struct sb_sctx *ctx, int code, sb_str reason);

/* Turn a script value into a reply code: an int, or a string of digits. SB_EINVAL when it is not a
 * number in 100..699. */
int sb__sl_code(const struct sb_val *v, int *out);

#endif
