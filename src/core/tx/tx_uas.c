/* SPDX-License-Identifier: BSD-2-Clause */
/* The server side of a transaction: replies upstream (local or relayed), the last reply kept for
 * retransmissions, Timer G/H/I/J (RFC 3261 §17.2), and cancelling the branches. */
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/log.h"
#include "tx/tx_int.h"

static void timer_g(struct sb_timer *tm)
{
    struct sb_tx *t = tm->data;
    struct sb_loop *l = sb__tx_loop();
    if (t->uas_state != UAS_COMPLETED || !t->last_reply || !l)
        return;
    /* RFC3261-17.2.1: the non-2xx final again, doubling up to T2, until the ACK or Timer H */
    sb__tx_send(&t->reply_dest, t->last_reply->data, t->last_reply->len);
    t->g_ms = t->g_ms * 2 < (uint64_t)sb_tx_conf.t2_ms ? t->g_ms * 2 : (uint64_t)sb_tx_conf.t2_ms;
    sb_timer_start(l, &t->g, t->g_ms);
}

static bool has_pending_branch(const struct sb_tx *t)
{
    for (unsigned i = 0; i < t->n_br; i++)
        if (t->br[i]->state < UAC_COMPLETED)
            return true;
    return false;
}

int sb__tx_send_upstream(struct sb_tx *t, int code, struct sb_buf *b, bool local)
{
    struct tx_worker *tw = sb__tx_worker();
    if (t->is_local) {
        sb_buf_unref(b);
        return 0;
    }
    if (t->status >= 200 && !(code >= 200 && code < 300 && t->status < 300 && t->is_invite)) {
        sb_buf_unref(b);
        return SB_EINVAL; /* a final went already; only more 2xx of an INVITE follow it */
    }
    int rc = t->reply_dest_ok ? sb__tx_send(&t->reply_dest, b->data, b->len) : SB_EINVAL;
    if (rc < 0)
        SB_DEBUG("tm: cannot send a %d reply upstream (%d)", code, rc);
    if (local)
        TX_COUNT(tw, local_replies);
    else
        TX_COUNT(tw, relayed_replies);
    bool first_final = code >= 200 && t->status < 200;
    if (t->last_reply)
        sb_buf_unref(t->last_reply);
    t->last_reply = b;
    if (code < 200) {
        if (t->status < code)
            t->status = code;
        t->uas_state = UAS_PROCEEDING;
        return rc;
    }
    if (!first_final)
        return rc;
    t->status = code;
    t->local_replied = local;
    switch (code / 100) {
    case 2: TX_COUNT(tw, replies_2xx); break;
    case 3: TX_COUNT(tw, replies_3xx); break;
    case 4: TX_COUNT(tw, replies_4xx); break;
    case 5: TX_COUNT(tw, replies_5xx); break;
    default: TX_COUNT(tw, replies_6xx); break;
    }
    /* RFC3261-16.7 step 10: a final reply ends the other branches */
    if (has_pending_branch(t)) {
        if (code < 300)
            sb__tx_cancel_all(
                t, SB_STR("Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n"));
        else
            sb__tx_cancel_all(t, SB_STR_NULL);
        t->cancelled = false; /* not cancelled by the caller */
    }
    bool rel = sb__is_stream(t->reply_dest.proto);
    uint64_t t1 = (uint64_t)sb_tx_conf.t1_ms, wait;
    if (t->is_invite && code >= 300) {
        t->uas_state = UAS_COMPLETED;
        struct sb_loop *l = sb__tx_loop();
        if (!rel && l) {
            t->g_ms = t1;
            t->g.cb = timer_g;
            sb_timer_start(l, &t->g, t1);
        }
        wait = 64 * t1; /* Timer H */
    } else if (t->is_invite) {
        t->uas_state = UAS_ACCEPTED; /* RFC 6026: absorb INVITE retransmissions a while */
        /* RFC6026-7.1: the 2xx is never sent again by us; do not hold it through the wait */
        sb_buf_unref(t->last_reply);
        t->last_reply = NULL;
        wait = (uint64_t)sb_tx_conf.wt_timer * 1000;
    } else {
        t->uas_state = UAS_COMPLETED;
        wait = rel ? 0 : 64 * t1; /* Timer J */
    }
    if (has_pending_branch(t) && wait < (uint64_t)sb_tx_conf.wt_timer * 1000)
        wait = (uint64_t)sb_tx_conf.wt_timer * 1000;
    sb__tx_finish(t, wait);
    return rc;
}

int sb__tx_local_reply(struct sb_tx *t, int code, sb_str reason, sb_str hdrs, sb_str body,
                       sb_str ctype)
{
    if (t->status >= 200 || t->is_local)
        return SB_EINVAL;
    struct sb_reply_opts o = {
        .code = code,
        .reason = reason.len ? reason : SB_STR_NULL,
        .to_tag = code > 100 ? sb_str_cstr(t->to_tag) : SB_STR_NULL,
        .hdrs = hdrs,
        .body = body,
        .content_type = ctype.len ? ctype : (body.len ? SB_STR("application/sdp") : SB_STR_NULL),
        .copy_record_route = (code >= 180 && code < 190) || (code >= 200 && code < 300),
    };
    struct sb_buf *b = NULL;
    int rc = sb_msg_build_reply(t->req, &o, &b);
    if (rc < 0) {
        SB_INFO("tm: cannot build a %d reply (%d)", code, rc);
        return rc;
    }
    rc = sb__tx_send_upstream(t, code, b, true);
    return rc == SB_EINVAL ? rc : 0;
}

void sb__tx_cancel_all(struct sb_tx *t, sb_str reason_line)
{
    t->cancelled = true;
    if (reason_line.len && !t->cancel_reason) {
        t->cancel_reason = malloc(reason_line.len + 1);
        if (t->cancel_reason) {
            memcpy(t->cancel_reason, reason_line.p, reason_line.len);
            t->cancel_reason[reason_line.len] = '\0';
        }
    }
    for (unsigned i = 0; i < t->n_br; i++)
        if (t->br[i]->state < UAC_COMPLETED)
            sb__tx_branch_cancel(t->br[i]);
}
