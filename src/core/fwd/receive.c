/* SPDX-License-Identifier: BSD-2-Clause */
/* Receiving a message: parse, the checks a server makes before its script (RFC 3261 §8.2.2,
 * §16.3), error_route and the 400/416/420/505 answers, the request route, the onreply_route and
 * the stateless relay of replies, then reset for the next message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd/fwd_int.h"
#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/evi.h"
#include "sb/loop.h"
#include "sb/log.h"
#include "sb/script.h"
#include "sb/uri.h"
#include "sb/worker.h"

/* ---- $err.* (error_route) ------------------------------------------------------------------ */

static int err_int(struct sb_val *out, int v)
{
    *out = (struct sb_val){.type = SB_VAL_INT, .i = v};
    return 0;
}

static int err_str(struct sb_val *out, const char *s)
{
    *out = s ? (struct sb_val){.type = SB_VAL_STR, .s = sb_str_cstr(s)}
             : (struct sb_val){.type = SB_VAL_NULL};
    return 0;
}

#define ERR_GETTER(fn, expr)                                                                       \
    static int fn(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)    \
    {                                                                                              \
        (void)ctx;                                                                                 \
        (void)pv;                                                                                  \
        (void)idx;                                                                                 \
        struct sb__fwd_state *st = sb__fwd_state();                                                \
        if (!st || !st->err_class)                                                                 \
            return err_str(out, NULL);                                                             \
        return expr;                                                                               \
    }

ERR_GETTER(get_err_class, err_int(out, st->err_class))
ERR_GETTER(get_err_level, err_int(out, st->err_level))
ERR_GETTER(get_err_info, err_str(out, st->err_info))
ERR_GETTER(get_err_rcode, err_int(out, st->err_rcode))
ERR_GETTER(get_err_rreason, err_str(out, st->err_reason))

static const struct sb_pv_def err_pvs[] = {
    {.name = "err.class", .get = get_err_class},     {.name = "err.level", .get = get_err_level},
    {.name = "err.info", .get = get_err_info},       {.name = "err.rcode", .get = get_err_rcode},
    {.name = "err.rreason", .get = get_err_rreason}, {0},
};

/* The variables must exist before any script is checked; this file is linked in wherever
 * sb_receive is, which is wherever scripts run on received messages. */
__attribute__((constructor)) static void err_pvs_register(void)
{
    if (!sb_pv_lookup(SB_STR("err.class")) && sb_pv_register(err_pvs) < 0)
        SB_ERR("cannot register the $err variables");
}

/* ---- messages a transaction keeps ----------------------------------------------------------- */

sb_fwd_request_fn sb_fwd_request_hook;

static struct sb_msg *msg_get(struct sb__fwd_state *st)
{
    if (st->n_free)
        return st->free_msgs[--st->n_free];
    struct sb_msg *m = malloc(sizeof(*m));
    if (m)
        sb_msg_init(m, NULL);
    return m;
}

struct sb_msg *sb__fwd_msg_take(void)
{
    struct sb__fwd_state *st = sb__fwd_state();
    if (!st || !st->cur)
        return NULL;
    if (!st->cur_taken) {
        /* the message's spans point into the received buffer: keep it alive with the message */
        if (!st->cur->owner && st->cur_buf)
            st->cur->owner = sb_buf_ref(st->cur_buf);
        st->cur_taken = true;
    }
    return st->cur;
}

void sb__fwd_msg_release(struct sb_msg *m)
{
    if (!m)
        return;
    struct sb__fwd_state *st = sb__fwd_state();
    if (st && st->cur == m && !st->cur_taken)
        return; /* still the receive path's */
    sb_msg_reset(m);
    if (st && st->n_free < SB_ARRAY_LEN(st->free_msgs)) {
        st->free_msgs[st->n_free++] = m;
        return;
    }
    sb_msg_deinit(m);
    free(m);
}

void sb__fwd_msgs_free(struct sb__fwd_state *st)
{
    for (unsigned i = 0; i < st->n_free; i++) {
        sb_msg_deinit(st->free_msgs[i]);
        free(st->free_msgs[i]);
    }
    st->n_free = 0;
    if (st->cur && !st->cur_taken) {
        sb_msg_deinit(st->cur);
        free(st->cur);
    }
    st->cur = NULL;
}

struct sb_avps *sb__fwd_avps_take(void)
{
    struct sb__fwd_state *st = sb__fwd_state();
    if (!st)
        return NULL;
    struct sb_avps *l = st->avps;
    st->avps = NULL;
    return l;
}

/* ---- replies for another worker ------------------------------------------------------------ */

/* A reply whose top Via carries a branch of another worker belongs to a transaction there
 * (DESIGN.md §5): its bytes and receive context are moved to that worker's loop. */
struct moved {
    struct sb_rcv rcv;
    uint32_t len;
    bool ip_text; /* rcv.src_ip holds the source address as text already */
    struct sb_buf *b;
};

static void receive(struct sb_rcv *rcv, struct sb_buf *buf, uint32_t len, bool moved);

static void moved_run(void *arg)
{
    struct moved *mv = arg;
    /* the peer's strings pointed into the sender's copy of the context */
    if (mv->ip_text)
        mv->rcv.peer.src_ip.p = mv->rcv.src_ip;
    else
        sb_rcv_fill_peer(&mv->rcv);
    receive(&mv->rcv, mv->b, mv->len, true);
    sb_buf_unref(mv->b);
    free(mv);
}

static void moved_drop(void *arg)
{
    struct moved *mv = arg;
    sb_buf_unref(mv->b);
    free(mv);
}

int sb__fwd_move(unsigned wid, const struct sb_rcv *rcv, const char *p, uint32_t len)
{
    if (wid >= sb_rt.n_workers || !sb_rt.workers || !sb_rt.workers[wid].loop)
        return SB_EINVAL;
    struct moved *mv = malloc(sizeof(*mv));
    if (!mv)
        return SB_ENOMEM;
    mv->b = sb_buf_new(len);
    if (!mv->b) {
        free(mv);
        return SB_ENOMEM;
    }
    memcpy(mv->b->data, p, len);
    mv->b->data[len] = '\0';
    mv->b->len = len;
    mv->len = len;
    mv->rcv = *rcv;
    mv->ip_text = rcv->peer.src_ip.p == rcv->src_ip && rcv->peer.src_ip.len < sizeof(rcv->src_ip);
    int rc = sb_loop_post(sb_rt.workers[wid].loop, moved_run, moved_drop, mv);
    if (rc != 0)
        moved_drop(mv);
    return rc;
}

/* Whether a reply may move at all: only a transaction layer keeps per-worker state a reply must
 * find; without one, a move would cost a copy and a cross-thread wakeup per reply for nothing. */
static bool may_move(void)
{
    return sb_worker_self && sb_fwd_reply_hook && sb_rt.n_workers >= 2 && sb_rt.workers;
}

/* core:replies_moved: what the kernel's steering (src/core/tp/steer.c) did not save */
static void count_moved(void)
{
    struct sb__fwd_state *st = sb__fwd_state();
    if (st)
        SB_FWD_COUNT(&st->st, replies_moved);
}

static bool move_to_owner(struct sb_msg *m, const struct sb_rcv *rcv, struct sb_buf *buf,
                          uint32_t len)
{
    if (!may_move())
        return false;
    const struct sb_via *v = sb_msg_via1(m);
    int wid = v ? sb_branch_worker(v->branch) : -1;
    if (wid < 0 || (unsigned)wid >= sb_rt.n_workers || (unsigned)wid == sb_worker_self->id)
        return false;
    if (sb__fwd_move((unsigned)wid, rcv, buf->data, len) != 0)
        return false;
    count_moved();
    return true;
}

/* ---- helpers ------------------------------------------------------------------------------- */

enum { ERR_CLASS_PARSE = 1, ERR_LEVEL_ERROR = 1 };

static sb_res run_route(struct sb__fwd_state *st, const struct sb_script *s,
                        const struct sb_rcv *rcv, struct sb_msg *m, struct sb_route_state *rs,
                        uint32_t type, int idx)
{
    struct sb_sctx ctx = {
        .msg = m,
        .reply = type == SB_ROUTE_ONREPLY ? m : NULL,
        .peer = &rcv->peer,
        .script = s,
        .rs = rs,
        .avps = st->avps,
        .scratch = &st->scratch,
        .route_type = type,
    };
    sb_res r = sb_script_run(&ctx, type, idx);
    if (r.ctl == SB_CTL_SUSPEND)
        SB_DEBUG("script suspended on a message of the stateless core; it is not resumed here");
    return r;
}

/* What every message must have (sb_msg_check), and RFC 3261 §10.3: a registrar reads every
 * Contact of a REGISTER, so a malformed one is answered 400 here, before any script (RFC 4475
 * §3.1.2.20 regbadct). Returns 0 or < 0 with m->err describing the fault. */
static int check_mandatory(struct sb_msg *m)
{
    int rc = sb_msg_check(m);
    if (rc || m->method_id != SB_METHOD_REGISTER || !sb_msg_is_request(m))
        return rc;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTACT); h; h = sb_msg_hdr_next(m, h))
        if (!sb_msg_hdr_parsed(m, h))
            return m->err.code ? m->err.code : SB_EPARSE;
    return 0;
}

/* Enough of the request to build any reply (RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq). */
static bool can_reply(struct sb_msg *m)
{
    if (!sb_msg_is_request(m) || m->method_id == SB_METHOD_ACK || !sb_msg_via1(m))
        return false;
    return sb_msg_hdr_first(m, SB_HDR_FROM) && sb_msg_hdr_first(m, SB_HDR_TO) &&
           sb_msg_hdr_first(m, SB_HDR_CALL_ID) && sb_msg_hdr_first(m, SB_HDR_CSEQ);
}

/* ---- requests ------------------------------------------------------------------------------ */

/* The parser stops at a broken start line (a bad Request-URI, another SIP version), so the
 * headers a reply copies come from a copy of the request whose start line is replaced by a
 * well-formed one: the method as written (when it is a token) and a placeholder URI. The reply is
 * a SIP/2.0 message anyway (RFC3261-8.2.2 / 21.5.20: 505 for another version; 400 otherwise). */
static void answer_from_copy(struct sb__fwd_state *st, const struct sb_rcv *rcv, struct sb_msg *m,
                             unsigned flags, int code, const char *reason)
{
    const char *buf = m->buf;
    size_t n = m->rcv_len, ls = 0;
    while (ls < n && (buf[ls] == '\r' || buf[ls] == '\n'))
        ls++;
    const char *eol = memchr(buf + ls, '\n', n - ls);
    if (!eol || n - ls < 4 || memcmp(buf + ls, "SIP/", 4) == 0) /* a reply: nobody to answer */
        return;
    size_t le = (size_t)(eol - buf) + 1, ml = 0;
    while (ls + ml < le && sb_is_token((unsigned char)buf[ls + ml]))
        ml++;
    sb_str meth =
        ml && ls + ml < le && buf[ls + ml] == ' ' ? (sb_str){buf + ls, ml} : SB_STR("OPTIONS");
    static const char uri[] = " sip:invalid SIP/2.0\r\n";
    size_t cap = meth.len + sizeof(uri) - 1 + (n - le);
    char *copy = sb_arena_alloc(&st->scratch, cap);
    if (!copy)
        return;
    memcpy(copy, meth.p, meth.len);
    memcpy(copy + meth.len, uri, sizeof(uri) - 1);
    memcpy(copy + meth.len + sizeof(uri) - 1, buf + le, n - le);
    struct sb_msg m2;
    sb_msg_init(&m2, m->limits);
    if (sb_msg_parse(&m2, copy, cap, flags) == 0 && can_reply(&m2)) {
        struct sb_reply_opts o = {.code = code, .reason = sb_str_cstr(reason)};
        sb__sl_send(&m2, rcv, NULL, &o);
    }
    sb_msg_deinit(&m2);
}

static void bad_request(struct sb__fwd_state *st, const struct sb_script *s,
                        const struct sb_rcv *rcv, struct sb_msg *m, unsigned flags)
{
    SB_FWD_COUNT(&st->st, bad_msg_hdr);
    SB_FWD_COUNT(&st->st, err_requests);
    if (m->err.part == SB_MSG_ERRP_RURI)
        SB_FWD_COUNT(&st->st, bad_URIs_rcvd);
    char desc[160];
    sb_msg_err_describe(m, desc, sizeof(desc));
    SB_LOG(sb__fwd_warn_ok() ? SB_LOG_WARN : SB_LOG_INFO, "bad request from %s:%u: %s", rcv->src_ip,
           (unsigned)rcv->peer.src_port, desc);
    int status = sb_msg_err_status(m);
    if (status < 400)
        status = 400;
    st->err_class = ERR_CLASS_PARSE;
    st->err_level = ERR_LEVEL_ERROR;
    st->err_info = m->err.what ? m->err.what : "parse error";
    st->err_rcode = status;
    sb_msg_err_reason(m, st->err_reason, sizeof(st->err_reason));

    struct sb_route_state rs = {.seq = sb_worker_unique()};
    int idx = s ? sb_script_route(s, SB_ROUTE_ERROR, SB_STR("")) : -1;
    if (idx >= 0)
        run_route(st, s, rcv, m, &rs, SB_ROUTE_ERROR, idx);
    /* RFC3261-8.2.2/16.3: answer the broken request when a reply can reach its sender */
    if (!rs.replied && can_reply(m)) {
        struct sb_reply_opts o = {.code = status, .reason = sb_str_cstr(st->err_reason)};
        sb__sl_send(m, rcv, NULL, &o);
    } else if (!rs.replied && !m->n_hdrs) {
        answer_from_copy(st, rcv, m, flags, status, st->err_reason);
    }
    st->err_class = 0;
}

static bool scheme_ok(const struct sb_uri *u)
{
    return u->scheme == SB_URI_SIP || u->scheme == SB_URI_SIPS || u->scheme == SB_URI_TEL;
}

/* RFC3261-16.3 step 4 / 8.2.2.3: Proxy-Require options we do not support (we support none).
 * Writes "Unsupported: a, b\r\n" into <w>; returns the number of tags. */
static unsigned proxy_require(struct sb_msg *m, struct sb_wbuf *w)
{
    unsigned n = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_PROXY_REQUIRE); h;
         h = sb_msg_hdr_next(m, h)) {
        sb_str v = sb_str_trim(sb_msg_hdr_value(m, h));
        if (!v.len)
            continue;
        sb_wbuf_cstr(w, n ? ", " : "Unsupported: ");
        sb_wbuf_str(w, v);
        n++;
    }
    if (n)
        sb_wbuf_put(w, "\r\n", 2);
    return n;
}

static void on_request(struct sb__fwd_state *st, const struct sb_script *s,
                       const struct sb_rcv *rcv, struct sb_msg *m)
{
    SB_FWD_COUNT(&st->st, rcv_requests);
    bool ack = m->method_id == SB_METHOD_ACK;
    if (ack) {
        /* the ACK of a non-2xx reply we sent statelessly ends there (RFC3261-17.2.1) */
        const struct sb_nameaddr *to = sb_msg_to(m);
        if (to && to->tag.len && sb__sl_tag_is_ours(to->tag)) {
            SB_FWD_COUNT(st, sl_acks);
            return;
        }
    }
    /* the transaction layer first: retransmissions, ACKs of our non-2xx replies, CANCELs */
    if (sb_fwd_request_hook && sb_fwd_request_hook(m, rcv) > 0)
        return;
    if (sb__fwd_via_fix(m, rcv, false) < 0)
        SB_DEBUG("cannot record received/rport on the top Via");
    (void)sb__fwd_accept_alias(m, rcv);

    const struct sb_uri *ru = sb_msg_ruri(m);
    if (!scheme_ok(ru)) {
        SB_FWD_COUNT(&st->st, bad_URIs_rcvd);
        if (!ack)
            sb_sl_reply_rcv(m, rcv, 416, SB_STR_NULL);
        return;
    }
    char ub[512];
    struct sb_wbuf w;
    sb_wbuf_init(&w, ub, sizeof(ub));
    if (proxy_require(m, &w)) {
        if (!ack) {
            struct sb_reply_opts o = {.code = 420};
            if (!w.err)
                o.hdrs = (sb_str){ub, w.len};
            sb__sl_send(m, rcv, NULL, &o);
        }
        return;
    }

    int idx = s ? sb_script_route(s, SB_ROUTE_REQUEST, SB_STR("")) : -1;
    if (idx < 0)
        return;
    struct sb_route_state rs = {.seq = sb_worker_unique()};
    sb_res r = run_route(st, s, rcv, m, &rs, SB_ROUTE_REQUEST, idx);
    if (r.ctl == SB_CTL_DROP)
        SB_FWD_COUNT(&st->st, drop_requests);
    else if (r.ctl == SB_CTL_ERROR)
        SB_FWD_COUNT(&st->st, err_requests);
}

/* ---- replies ------------------------------------------------------------------------------- */

static void on_reply(struct sb__fwd_state *st, const struct sb_script *s, const struct sb_rcv *rcv,
                     struct sb_msg *m)
{
    SB_FWD_COUNT(&st->st, rcv_replies);
    int idx = s ? sb_script_route(s, SB_ROUTE_ONREPLY, SB_STR("")) : -1;
    if (idx >= 0) {
        struct sb_route_state rs = {.seq = sb_worker_unique()};
        sb_res r = run_route(st, s, rcv, m, &rs, SB_ROUTE_ONREPLY, idx);
        if (r.ctl == SB_CTL_DROP) {
            SB_FWD_COUNT(&st->st, drop_replies);
            return;
        }
    }
    if (sb_fwd_reply_hook) {
        int rc = sb_fwd_reply_hook(m, rcv);
        if (rc > 0)
            return;
        if (rc < 0) {
            SB_FWD_COUNT(&st->st, drop_replies);
            return;
        }
    }
    int rc = sb_forward_reply(m, rcv);
    if (rc < 0) {
        SB_FWD_COUNT(&st->st, drop_replies);
        SB_DEBUG("reply %u from %s:%u not relayed (%d)", (unsigned)m->status, rcv->src_ip,
                 (unsigned)rcv->peer.src_port, rc);
    }
}

/* ---- entry --------------------------------------------------------------------------------- */

void sb_receive(struct sb_rcv *rcv, struct sb_buf *buf, uint32_t len)
{
    receive(rcv, buf, len, false);
}

/* <moved>: the message came from another worker; it is parsed in full here, which moves it on
 * when the parse names yet another owner (sb_branch_reply_worker may guess wrong, never twice). */
static void receive(struct sb_rcv *rcv, struct sb_buf *buf, uint32_t len, bool moved)
{
    /* a reply for another worker's transaction goes there unparsed: it is parsed once, there */
    if (!moved && len && buf->data[0] == 'S' && may_move()) {
        int wid = sb_branch_reply_worker(buf->data, len);
        if (wid >= 0 && (unsigned)wid < sb_rt.n_workers && (unsigned)wid != sb_worker_self->id &&
            sb__fwd_move((unsigned)wid, rcv, buf->data, len) == 0) {
            count_moved();
            return;
        }
    }
    struct sb_worker *w = sb_worker_self;
    if (w)
        sb_worker_adopt_script(w);
    struct sb__fwd_state *st = sb__fwd_state();
    if (!st)
        return;
    if (!st->avps)
        st->avps = sb_avps_new();
    const struct sb_script *s = w ? w->script : sb_current_script();
    struct sb_msg *m = msg_get(st);
    if (!m)
        return;
    /* a nested receive (a test, a local loop) keeps the outer message */
    struct sb_msg *outer = st->cur;
    struct sb_buf *outer_buf = st->cur_buf;
    bool outer_taken = st->cur_taken;
    st->cur = m;
    st->cur_buf = buf;
    st->cur_taken = false;
    /* exec_msg_threshold: time the whole handling only when someone asked for it */
    const struct sb_core_cfg *cfg = sb__fwd_cfg();
    int threshold = cfg ? cfg->exec_msg_threshold : 0;
    uint64_t t0 = threshold > 0 ? sb_now_us() : 0;
    uint8_t proto = rcv->sock ? rcv->sock->proto : rcv->peer.proto;
    unsigned flags = sb__is_stream(proto) ? SB_MSG_STREAM : 0;
    int rc = sb_msg_parse(m, buf->data, len, flags);
    if (rc == 0)
        rc = check_mandatory(m);
    if (m->kind == SB_MSG_REPLY) {
        if (rc < 0) {
            SB_FWD_COUNT(&st->st, bad_msg_hdr);
            SB_FWD_COUNT(&st->st, err_replies);
            if (sb__fwd_warn_ok()) {
                char desc[160];
                sb_msg_err_describe(m, desc, sizeof(desc));
                SB_INFO("bad reply from %s:%u dropped: %s", rcv->src_ip,
                        (unsigned)rcv->peer.src_port, desc);
            }
        } else if (!move_to_owner(m, rcv, buf, len)) {
            on_reply(st, s, rcv, m);
        }
    } else if (rc < 0) {
        bad_request(st, s, rcv, m, flags);
    } else {
        on_request(st, s, rcv, m);
    }
    if (threshold > 0) {
        uint64_t us = sb_now_us() - t0;
        if (us > (uint64_t)threshold) {
            char what[96];
            int n = snprintf(what, sizeof(what), "%s from %s:%u",
                             m->kind == SB_MSG_REPLY ? "reply" : "request", rcv->src_ip,
                             (unsigned)rcv->peer.src_port);
            SB_WARN("processing a %s took %llu us (exec_msg_threshold %d)", what,
                    (unsigned long long)us, threshold);
            sb_evi_core_threshold("msg processing", (int64_t)us,
                                  (sb_str){what, n > 0 ? (size_t)n : 0});
        }
    }
    bool taken = st->cur_taken;
    st->cur = outer;
    st->cur_buf = outer_buf;
    st->cur_taken = outer_taken;
    if (!taken) {
        sb_msg_reset(m);
        if (st->n_free < SB_ARRAY_LEN(st->free_msgs)) {
            st->free_msgs[st->n_free++] = m;
        } else {
            sb_msg_deinit(m);
            free(m);
        }
    }
    if (!outer) {
        sb_arena_reset(&st->scratch);
        if (st->avps)
            sb_avps_clear(st->avps);
    }
}
