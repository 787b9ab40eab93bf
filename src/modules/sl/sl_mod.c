/* SPDX-License-Identifier: BSD-2-Clause */
/* sl: stateless replies from the script (sl_send_reply, sl_reply_error) and their counters. */
#include <stdatomic.h>

#include "sb/fwd.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/worker.h"

#include "sl.h"

/* One slot per worker, plus one for every thread that is not a worker (tests, startup). Only the
 * owning thread writes its slot; readers sum with relaxed loads. */
struct slot {
    _Alignas(64) _Atomic uint64_t by_class[6]; /* a cache line per worker: no false sharing */
    _Atomic uint64_t sent, sent_err;
};
static struct slot slots[SB_MAX_WORKERS + 1];

static struct slot *my_slot(void)
{
    unsigned id = sb_worker_self ? sb_worker_self->id : SB_MAX_WORKERS;
    return &slots[id < SB_MAX_WORKERS ? id : SB_MAX_WORKERS];
}

static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

void sb__sl_stats(struct sb_sl_stats *out)
{
    uint64_t cls[6] = {0}, sent = 0, err = 0;
    for (unsigned i = 0; i <= SB_MAX_WORKERS; i++) {
        for (int c = 0; c < 6; c++)
            cls[c] += atomic_load_explicit(&slots[i].by_class[c], memory_order_relaxed);
        sent += atomic_load_explicit(&slots[i].sent, memory_order_relaxed);
        err += atomic_load_explicit(&slots[i].sent_err, memory_order_relaxed);
    }
    *out = (struct sb_sl_stats){
        .replies_1xx = cls[0],
        .replies_2xx = cls[1],
        .replies_3xx = cls[2],
        .replies_4xx = cls[3],
        .replies_5xx = cls[4],
        .replies_6xx = cls[5],
        .sent_replies = sent,
        .sent_err_replies = err,
    };
}

void sb__sl_stats_reset(void)
{
    for (unsigned i = 0; i <= SB_MAX_WORKERS; i++) {
        for (int c = 0; c < 6; c++)
            atomic_store_explicit(&slots[i].by_class[c], 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].sent, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].sent_err, 0, memory_order_relaxed);
    }
}

int sb__sl_code(const struct sb_val *v, int *out)
{
    int32_t code;
    if (v->type == SB_VAL_INT)
        code = v->i;
    else if (v->type != SB_VAL_STR || !sb_val_to_int(v, &code))
        return SB_EINVAL;
    if (code < 100 || code > 699)
        return SB_EINVAL;
    *out = code;
    return 0;
}

int sb__sl_reply(struct sb_sctx *ctx, int code, sb_str reason)
{
    if (code < 100 || code > 699)
        return SB_EINVAL;
    if (!ctx->msg || !sb_msg_is_request(ctx->msg))
        return SB_EINVAL;
    if (ctx->msg->method_id == SB_METHOD_ACK)
        return SB_EINVAL; /* RFC3261-17.2.1: an ACK is never answered; not worth a log line */
    int rc = sb_sl_reply(ctx, code, reason);
    if (rc < 0) {
        SB_ERR("sl: failed to send %d reply: error %d", code, rc);
        return rc;
    }
    struct slot *s = my_slot();
    bump(&s->by_class[code / 100 - 1]);
    bump(&s->sent);
    return 0;
}

/* sl_send_reply(code, reason): 1 sent, -1 not (bad code, an ACK, a send failure). */
static sb_res w_send_reply(struct sb_sctx *ctx, const struct sb_arg *args)
{
    int code;
    if (sb__sl_code(&args[0].v, &code) != 0) {
        SB_ERR("sl: sl_send_reply: bad reply code");
        return sb_res_false();
    }
    sb_str reason = args[1].present ? args[1].v.s : SB_STR_NULL;
    if (reason.len == 0)
        reason = SB_STR_NULL;
    return sb__sl_reply(ctx, code, reason) == 0 ? sb_res_true() : sb_res_false();
}

/* sl_reply_error(): answer after a failure. The only error this layer can know about is a
 * malformed part of the request found while the script read it (the parser records it in the
 * message); anything else gets 500. */
static sb_res w_reply_error(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    struct sb_msg *m = ctx->msg;
    int code = 500;
    sb_str reason = SB_STR("Server Internal Error");
    char buf[128];
    if (m->err.code != 0) {
        int st = sb_msg_err_status(m);
        if (st >= 400 && st <= 699) {
            code = st;
            size_t n = sb_msg_err_reason(m, buf, sizeof(buf));
            reason = n ? sb_str_make(buf, n) : SB_STR_NULL;
        }
    }
    if (sb__sl_reply(ctx, code, reason) != 0)
        return sb_res_false();
    bump(&my_slot()->sent_err);
    return sb_res_true();
}

static const struct sb_mod_fn fns[] = {
    {.name = "sl_send_reply",
     .fn = w_send_reply,
     .n_args = 2,
     .args = {{.kind = SB_ARG_ANY}, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_ERROR},
    {.name = "sl_reply_error",
     .fn = w_reply_error,
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_ERROR},
    {.name = NULL},
};

const struct sb_module sb_module_sl = {
    .name = "sl",
    .summary = "stateless replies",
    .fns = fns,
};
