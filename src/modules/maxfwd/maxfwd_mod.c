/* SPDX-License-Identifier: BSD-2-Clause */
/* maxfwd: adds or decrements Max-Forwards from the script (RFC 3261 §16.6 step 3) so that the
 * script can answer 483 itself; the forwarding code then leaves the header alone. */
#include <string.h>

#include "sb/base.h"

#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/msg_build.h"

#define MF_RFC_MAX 255 /* RFC3261-20.22: Max-Forwards is 0..255 */

static struct {
    int max_limit;
} conf = {
    .max_limit = 256,
};

static int set_max_limit(const struct sb_val *v, const char **err)
{
    if (v->i < 1 || v->i > 256) {
        *err = "max_limit must be between 1 and 256";
        return -1;
    }
    conf.max_limit = v->i;
    return 0;
}

static const struct sb_mod_param params[] = {
    {.name = "max_limit", .type = SB_MP_FUNC, .accepts = 1 << SB_VAL_INT, .set = set_max_limit},
    {.name = NULL},
};

/* The value this module wrote for the message being routed, so that is_maxfwd_lt() sees the
 * header as it will be sent. Valid only while the routing state says we handled it. */
static _Thread_local struct {
    const struct sb_msg *msg;
    const char *buf;
    uint32_t n_lumps;
    uint32_t value;
} written;

/* Value of the received Max-Forwards: 0 and *out, SB_ENOENT when absent, SB_EPARSE when it is not
 * a number. A number above 255 is read as 255: a peer that overshoots the RFC range still gets its
 * request routed, with the hop count capped. */
static int mf_read(struct sb_msg *m, struct sb_hdr **hp, uint32_t *out)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_MAX_FORWARDS);
    *hp = h;
    if (!h)
        return SB_ENOENT;
    sb_str v = sb_str_trim(sb_msg_hdr_value(m, h));
    uint64_t n;
    int rc = sb_str_to_u64(v, UINT64_MAX, &n);
    if (rc == SB_ERANGE || (rc == 0 && n > MF_RFC_MAX))
        n = MF_RFC_MAX;
    else if (rc != 0)
        return SB_EPARSE;
    *out = (uint32_t)n;
    return 0;
}

static void remember(struct sb_sctx *ctx, uint32_t value)
{
    written.msg = ctx->msg;
    written.buf = ctx->msg->buf;
    written.n_lumps = ctx->msg->n_lumps;
    written.value = value;
    ctx->rs->maxfwd_done = true;
}

static bool has_written(const struct sb_sctx *ctx)
{
    return ctx->rs->maxfwd_done && written.msg == ctx->msg && written.buf == ctx->msg->buf &&
           written.n_lumps <= ctx->msg->n_lumps;
}

/* mf_process_maxfwd_header(max): 2 added, 1 decremented, -1 the value is 0 (answer 483), -2 an
 * error (malformed header, bad argument, lump failure). */
static sb_res w_process(struct sb_sctx *ctx, const struct sb_arg *args)
{
    struct sb_msg *m = ctx->msg;
    int32_t max = args[0].v.i;
    if (max < 0 || max > MF_RFC_MAX) {
        SB_ERR("maxfwd: mf_process_maxfwd_header(%d): the value must be 0..255", (int)max);
        return sb_res_code(-2);
    }
    if (!sb_msg_is_request(m) || !ctx->rs)
        return sb_res_code(-2);
    if (has_written(ctx))
        /* a second call on the same request must not decrement twice */
        return sb_res_code(1);

    struct sb_hdr *h;
    uint32_t val;
    int rc = mf_read(m, &h, &val);
    if (rc == SB_ENOENT) {
        if (max > conf.max_limit)
            max = conf.max_limit;
        char tmp[sizeof("Max-Forwards: ") + 20];
        memcpy(tmp, "Max-Forwards: ", 14);
        size_t n = 14 + sb_u64_to_dec((uint64_t)max, tmp + 14);
        sb_str line = sb_msg_strdup(m, (sb_str){tmp, n});
        if (!line.p || sb_msg_hdr_append(m, line) != 0)
            return sb_res_code(-2);
        remember(ctx, (uint32_t)max);
        return sb_res_code(2);
    }
    if (rc != 0) {
        SB_DEBUG("maxfwd: malformed Max-Forwards");
        return sb_res_code(-2);
    }
    if (val == 0)
        return sb_res_code(-1);
    val--;
    if (val > (uint32_t)conf.max_limit)
        val = (uint32_t)conf.max_limit;
    /* no printf per request: the value is at most three digits */
    char digits[20];
    sb_str text = sb_msg_strdup(m, (sb_str){digits, sb_u64_to_dec(val, digits)});
    if (!text.p || sb_msg_lump_replace(m, h->value, text) != 0)
        return sb_res_code(-2);
    remember(ctx, val);
    return sb_res_code(1);
}

/* is_maxfwd_lt(n): 1 when the header (as it will be sent, after mf_process_maxfwd_header) is
 * below n, -1 when it is not, -2 when there is none, -3 when it is malformed. */
static sb_res w_lt(struct sb_sctx *ctx, const struct sb_arg *args)
{
    int32_t limit = args[0].v.i;
    uint32_t val;
    if (ctx->rs && has_written(ctx)) {
        val = written.value;
    } else {
        struct sb_hdr *h;
        int rc = mf_read(ctx->msg, &h, &val);
        if (rc == SB_ENOENT)
            return sb_res_code(-2);
        if (rc != 0)
            return sb_res_code(-3);
    }
    return (int64_t)val < (int64_t)limit ? sb_res_true() : sb_res_false();
}

static const struct sb_mod_fn fns[] = {
    {.name = "mf_process_maxfwd_header",
     .fn = w_process,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH},
    {.name = "is_maxfwd_lt",
     .fn = w_lt,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT}},
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH},
    {.name = NULL},
};

const struct sb_module sb_module_maxfwd = {
    .name = "maxfwd",
    .summary = "Max-Forwards processing from the script",
    .conf = &conf,
    .params = params,
    .fns = fns,
};
