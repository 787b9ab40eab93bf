/* SPDX-License-Identifier: BSD-2-Clause */
/* rr: record-routing (RFC 3261 §16.6 step 4, RFC 5658 double Record-Route) and routing by the
 * Route set (loose_route: RFC 3261 §16.4 and §16.12), with the Record-Route parameters that
 * dialog-aware scripts use (ftag, is_direction, check_route_param). */
#include "sb/diag.h"
#include "sb/fwd.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/uri.h"
#include "script/action.h" /* sb__re_match */

#define RR_PREFIX     "Record-Route: <sip:"
#define RR_PARAMS_MAX 512

static struct {
    int append_fromtag;
    int enable_double_rr;
    int add_username;
    int enable_socket_mismatch_warning;
} conf = {
    .append_fromtag = 0,
    .enable_double_rr = 1,
    .add_username = 0,
    .enable_socket_mismatch_warning = 1,
};

static const struct sb_mod_param mod_params[] = {
    {.name = "append_fromtag", .type = SB_MP_INT, .offset = offsetof(typeof(conf), append_fromtag)},
    {.name = "enable_double_rr",
     .type = SB_MP_INT,
     .offset = offsetof(typeof(conf), enable_double_rr)},
    {.name = "add_username", .type = SB_MP_INT, .offset = offsetof(typeof(conf), add_username)},
    {.name = "enable_socket_mismatch_warning",
     .type = SB_MP_INT,
     .offset = offsetof(typeof(conf), enable_socket_mismatch_warning)},
    {.name = NULL},
};

/* What record_route() did to the request being routed on this thread. The Record-Route line is a
 * lump of the message, so the lump list tells whether it is still this message's: after a reset
 * the list is empty. The key (message, buffer, length) guards the parameters added before
 * record_route(). */
static _Thread_local struct {
    uint64_t seq; /* the routing state's message number: tells two messages in one buffer apart */
    const struct sb_msg *msg;
    const char *buf;
    uint32_t len;
    sb_str line;       /* the Record-Route line we prepended (message arena), p == NULL: none */
    uint32_t tail_off; /* where ";lr..." starts in <line> */
    sb_str user;       /* add_username: the user part written before '@' */
    bool preset2;      /* record_route_preset with two addresses: both written already */
    char pending[RR_PARAMS_MAX]; /* add_rr_param before record_route: ";a=b;c" */
    size_t n_pending;
} st;

static bool st_is(const struct sb_sctx *ctx)
{
    const struct sb_msg *m = ctx->msg;
    uint64_t seq = ctx->rs ? ctx->rs->seq : 0;
    return st.msg == m && st.buf == m->buf && st.len == m->len && st.seq == seq;
}

static void st_claim(const struct sb_sctx *ctx)
{
    const struct sb_msg *m = ctx->msg;
    if (st_is(ctx))
        return;
    st.seq = ctx->rs ? ctx->rs->seq : 0;
    st.msg = m;
    st.buf = m->buf;
    st.len = m->len;
    st.line = SB_STR_NULL;
    st.tail_off = 0;
    st.user = SB_STR_NULL;
    st.preset2 = false;
    st.n_pending = 0;
}

/* Our Record-Route lump in <m>, or NULL when record_route() did not run on this message. */
static struct sb_lump *rr_lump(const struct sb_sctx *ctx)
{
    const struct sb_msg *m = ctx->msg;
    if (!st_is(ctx) || !st.line.p)
        return NULL;
    for (uint32_t i = 0; i < m->n_lumps; i++)
        if (m->lumps[i].ins.p == st.line.p && m->lumps[i].ins.len == st.line.len)
            return &m->lumps[i];
    return NULL;
}

static const char *proto_param(uint8_t proto)
{
    switch (proto) {
    case SB_PROTO_TCP: return "tcp";
    case SB_PROTO_TLS: return "tls";
    case SB_PROTO_SCTP: return "sctp";
    case SB_PROTO_WS: return "ws";
    case SB_PROTO_WSS: return "wss";
    default: return NULL;
    }
}

/* Append ";p" to <w>: <p> with or without its leading ';'. */
static void put_param(struct sb_wbuf *w, sb_str p)
{
    p = sb_str_trim(p);
    if (!p.len)
        return;
    if (p.p[0] != ';')
        sb_wbuf_put(w, ";", 1);
    sb_wbuf_str(w, p);
}

/* The ";lr;ftag=...;params>" tail shared by the inbound and the outbound Record-Route. */
static void put_tail(struct sb_wbuf *w, struct sb_msg *m, sb_str params)
{
    sb_wbuf_cstr(w, ";lr");
    if (conf.append_fromtag) {
        const struct sb_nameaddr *from = sb_msg_from(m);
        if (from && from->tag.p && from->tag.len) {
            sb_wbuf_cstr(w, ";ftag=");
            sb_wbuf_str(w, from->tag);
        }
    }
    sb_wbuf_put(w, st.pending, st.n_pending);
    put_param(w, params);
    sb_wbuf_put(w, ">", 1);
}

static void put_addr(struct sb_wbuf *w, const struct sb_socket *s, uint8_t proto)
{
    sb_wbuf_cstr(w, s->adv_host);
    sb_wbuf_put(w, ":", 1);
    sb_wbuf_u64(w, s->adv_port);
    const char *t = proto_param(proto);
    if (t) {
        sb_wbuf_cstr(w, ";transport=");
        sb_wbuf_cstr(w, t);
    }
}

static sb_str user_part(struct sb_sctx *ctx)
{
    if (!conf.add_username)
        return SB_STR_NULL;
    const struct sb_uri *u = sb_ruri_parsed(ctx);
    return u && u->user.len ? u->user : SB_STR_NULL;
}

/* Prepend the inbound Record-Route whose address part is <addr> ("host:port;transport=x").
 * Returns 0 or < 0. */
static int rr_insert(struct sb_sctx *ctx, sb_str addr, sb_str params)
{
    struct sb_msg *m = ctx->msg;
    char tmp[1024];
    struct sb_wbuf w;
    sb_wbuf_init(&w, tmp, sizeof(tmp));
    sb_wbuf_cstr(&w, RR_PREFIX);
    sb_str user = user_part(ctx);
    if (user.len) {
        sb_wbuf_str(&w, user);
        sb_wbuf_put(&w, "@", 1);
    }
    sb_wbuf_str(&w, addr);
    size_t tail_off = w.len;
    put_tail(&w, m, params);
    if (w.err)
        return w.err;
    sb_str line = sb_msg_strdup(m, sb_str_make(tmp, w.len));
    if (!line.p)
        return SB_ENOMEM;
    int rc = sb_msg_hdr_prepend(m, line);
    if (rc != 0)
        return rc;
    st.line = line;
    st.tail_off = (uint32_t)tail_off;
    st.user = user.len ? sb_msg_strdup(m, user) : SB_STR_NULL;
    st.n_pending = 0; /* now part of the line */
    st.preset2 = false;
    return 0;
}

static bool can_record(struct sb_sctx *ctx)
{
    if (!ctx->msg || !sb_msg_is_request(ctx->msg))
        return false;
    st_claim(ctx);
    if (rr_lump(ctx)) {
        SB_ERR("rr: the request is already record-routed");
        return false;
    }
    return true;
}

/* record_route([params]): 1 inserted, -1 not (already done, no receiving socket, no room). */
static sb_res w_record_route(struct sb_sctx *ctx, const struct sb_arg *args)
{
    if (!can_record(ctx))
        return sb_res_false();
    const struct sb_rcv *rcv = sb_sctx_rcv(ctx);
    if (!rcv || !rcv->sock) {
        SB_ERR("rr: record_route: no receiving socket");
        return sb_res_false();
    }
    char a[sizeof(rcv->sock->adv_host) + 32];
    struct sb_wbuf w;
    sb_wbuf_init(&w, a, sizeof(a));
    put_addr(&w, rcv->sock, rcv->sock->proto);
    if (w.err)
        return sb_res_false();
    sb_str params = args[0].present ? args[0].v.s : SB_STR_NULL;
    return rr_insert(ctx, sb_str_make(a, w.len), params) == 0 ? sb_res_true() : sb_res_false();
}

/* record_route_preset(addr [, addr2]): <addr> ("host[:port][;params]") as the Record-Route
 * address; with <addr2>, a second Record-Route on top of it for the outbound side (RFC 5658),
 * written now instead of by the sending hook. 1 inserted, -1 not. */
static sb_res w_record_route_preset(struct sb_sctx *ctx, const struct sb_arg *args)
{
    if (!can_record(ctx))
        return sb_res_false();
    sb_str addr = sb_str_trim(args[0].v.s);
    if (addr.len > 4 && sb_str_caseeq_lit(sb_str_make(addr.p, 4), "sip:")) {
        addr.p += 4;
        addr.len -= 4;
    }
    if (!addr.len)
        return sb_res_false();
    if (args[1].present && args[1].v.s.len) {
        sb_str addr2 = sb_str_trim(args[1].v.s);
        if (addr2.len > 4 && sb_str_caseeq_lit(sb_str_make(addr2.p, 4), "sip:")) {
            addr2.p += 4;
            addr2.len -= 4;
        }
        /* prepended lines keep their order: the outbound one must come first */
        char tmp[1024];
        struct sb_wbuf w;
        sb_wbuf_init(&w, tmp, sizeof(tmp));
        sb_wbuf_cstr(&w, RR_PREFIX);
        sb_wbuf_str(&w, addr2);
        put_tail(&w, ctx->msg, SB_STR_NULL);
        sb_str line = w.err ? SB_STR_NULL : sb_msg_strdup(ctx->msg, sb_str_make(tmp, w.len));
        if (!line.p || sb_msg_hdr_prepend(ctx->msg, line) != 0)
            return sb_res_false();
    }
    if (rr_insert(ctx, addr, SB_STR_NULL) != 0)
        return sb_res_false();
    st.preset2 = args[1].present && args[1].v.s.len;
    return sb_res_true();
}

/* add_rr_param(param): 1 added (to the Record-Route already inserted, or to the one
 * record_route() will insert), -1 not. */
static sb_res w_add_rr_param(struct sb_sctx *ctx, const struct sb_arg *args)
{
    struct sb_msg *m = ctx->msg;
    sb_str p = sb_str_trim(args[0].v.s);
    if (!p.len)
        return sb_res_false();
    st_claim(ctx);
    struct sb_lump *l = rr_lump(ctx);
    if (!l) {
        struct sb_wbuf w;
        sb_wbuf_init(&w, st.pending + st.n_pending, sizeof(st.pending) - st.n_pending);
        put_param(&w, p);
        if (w.err)
            return sb_res_false();
        st.n_pending += w.len;
        return sb_res_true();
    }
    /* The line is already a lump: point the lump at a longer copy. Lump texts are only read when
     * the message is built, so swapping one before that is safe. */
    char tmp[1024];
    struct sb_wbuf w;
    sb_wbuf_init(&w, tmp, sizeof(tmp));
    sb_wbuf_put(&w, st.line.p, st.line.len - 1); /* without the closing '>' */
    put_param(&w, p);
    sb_wbuf_put(&w, ">", 1);
    if (w.err)
        return sb_res_false();
    sb_str line = sb_msg_strdup(m, sb_str_make(tmp, w.len));
    if (!line.p)
        return sb_res_false();
    l->ins = line;
    st.line = line;
    return sb_res_true();
}

/* ---- RFC 5658: the outbound Record-Route ---------------------------------------------------- */

static int fwd_hook(struct sb_sctx *ctx, const struct sb_dest *d, struct sb_wbuf *top)
{
    if (!conf.enable_double_rr || !ctx || !ctx->msg || !rr_lump(ctx) || st.preset2)
        return 0;
    const struct sb_rcv *rcv = sb_sctx_rcv(ctx);
    const struct sb_socket *in = rcv ? rcv->sock : NULL;
    if (!in)
        return 0;
    const struct sb_socket *out = d->sock ? d->sock : sb_tp_pick(d->proto, &d->to, in);
    uint8_t proto = d->proto ? d->proto : out ? out->proto : in->proto;
    if (!out || (out == in && proto == in->proto))
        return 0;
    /* RFC5658-4: the Record-Route for the interface the request leaves on goes above the one for
     * the interface it arrived on */
    sb_wbuf_cstr(top, RR_PREFIX);
    if (st.user.len) {
        sb_wbuf_str(top, st.user);
        sb_wbuf_put(top, "@", 1);
    }
    put_addr(top, out, proto);
    sb_wbuf_put(top, st.line.p + st.tail_off, st.line.len - st.tail_off);
    sb_wbuf_put(top, "\r\n", 2);
    return top->err;
}

/* ---- loose_route ---------------------------------------------------------------------------- */

static struct sb_hdr *route_first(const struct sb_msg *m)
{
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_ROUTE); h; h = sb_msg_hdr_next(m, h))
        if (!(h->flags & SB_HDRF_REMOVED))
            return h;
    return NULL;
}

static struct sb_hdr *route_next(const struct sb_msg *m, struct sb_hdr *h)
{
    for (h = sb_msg_hdr_next(m, h); h; h = sb_msg_hdr_next(m, h))
        if (!(h->flags & SB_HDRF_REMOVED))
            return h;
    return NULL;
}

static const struct sb_nameaddr *route_parsed(struct sb_msg *m, struct sb_hdr *h)
{
    const struct sb_nameaddr *na = h ? sb_msg_hdr_parsed(m, h) : NULL;
    return na && (na->uri.scheme == SB_URI_SIP || na->uri.scheme == SB_URI_SIPS) ? na : NULL;
}

static bool is_ours(const struct sb_uri *u)
{
    return u && (u->scheme == SB_URI_SIP || u->scheme == SB_URI_SIPS) && sb_uri_is_myself(u);
}

static bool has_totag(struct sb_msg *m)
{
    const struct sb_nameaddr *to = sb_msg_to(m);
    return to && to->tag.p && to->tag.len;
}

/* The next hop is the Route value <h>: a loose router gets it as $du; a strict one (no lr) gets
 * it as the Request-URI, and the Request-URI goes to the end of the Route set
 * (RFC3261-16.12.1.2... and -16.6 step 6 seen from the other side). */
static int route_to(struct sb_sctx *ctx, struct sb_hdr *h, const struct sb_nameaddr *na)
{
    struct sb_msg *m = ctx->msg;
    if (na->uri.lr)
        return sb_duri_set(ctx, na->uri_str);
    sb_str old = sb_ruri_get(ctx);
    sb_str line = sb_msg_printf(m, "Route: <" SB_STR_FMT ">", SB_STR_ARG(old));
    if (!line.p)
        return SB_ENOMEM;
    int rc = sb_ruri_set(ctx, na->uri_str);
    if (rc == 0)
        rc = sb_msg_hdr_remove(m, h);
    if (rc == 0)
        rc = sb_msg_hdr_append(m, line);
    return rc;
}

/* loose_route(): 1 when the request was routed by its Route set (in-dialog), -1 when there is
 * no Route set to follow or on error. */
static sb_res w_loose_route(struct sb_sctx *ctx, const struct sb_arg *args)
{
    (void)args;
    struct sb_msg *m = ctx->msg;
    if (!sb_msg_is_request(m))
        return sb_res_false();
    bool fixed_up = false;

    /* RFC3261-16.4: a strict router before us put our Record-Route value into the Request-URI
     * (we only ever record-route with ;lr, so an own URI with lr is one of ours); the real
     * Request-URI is the last Route value */
    const struct sb_uri *ruri = sb_ruri_parsed(ctx);
    if (ruri && ruri->lr && is_ours(ruri)) {
        struct sb_hdr *last = NULL;
        for (struct sb_hdr *h = route_first(m); h; h = route_next(m, h))
            last = h;
        const struct sb_nameaddr *na = route_parsed(m, last);
        if (!na) {
            SB_DEBUG("rr: Request-URI is ours but there is no Route to take the target from");
            return sb_res_false();
        }
        if (sb_ruri_set(ctx, na->uri_str) != 0 || sb_msg_hdr_remove(m, last) != 0)
            return sb_res_false();
        fixed_up = true;
    }

    struct sb_hdr *h = route_first(m);
    if (!h)
        return fixed_up ? sb_res_true() : sb_res_false();
    const struct sb_nameaddr *na = route_parsed(m, h);
    if (!na) {
        SB_DEBUG("rr: malformed Route");
        return sb_res_false();
    }
    if (!is_ours(&na->uri))
        /* a Route set that does not start with us: preloaded towards someone else */
        return route_to(ctx, h, na) == 0 ? sb_res_true() : sb_res_false();

    /* RFC3261-16.4: the first Route is ours: consume it */
    if (sb_msg_hdr_remove(m, h) != 0)
        return sb_res_false();
    struct sb_hdr *next = route_next(m, h);
    const struct sb_nameaddr *nna = route_parsed(m, next);
    if (next && conf.enable_double_rr && nna && is_ours(&nna->uri)) {
        /* RFC5658: the second of our two Record-Route values */
        if (sb_msg_hdr_remove(m, next) != 0)
            return sb_res_false();
        next = route_next(m, next);
        nna = route_parsed(m, next);
    }
    if (!next)
        /* the Request-URI is the target: routed by the Route set only inside a dialog */
        return fixed_up || has_totag(m) ? sb_res_true() : sb_res_false();
    if (!nna)
        return sb_res_false();
    return route_to(ctx, next, nna) == 0 ? sb_res_true() : sb_res_false();
}

/* ---- the parameters of our Route --------------------------------------------------------- */

/* The URI parameters of the Route value loose_route() consumed as ours: the first removed Route
 * that is ours, or the received Request-URI when a strict router had put our URI there. */
static bool route_params(struct sb_sctx *ctx, sb_str *out)
{
    struct sb_msg *m = ctx->msg;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_ROUTE); h; h = sb_msg_hdr_next(m, h)) {
        if (!(h->flags & SB_HDRF_REMOVED))
            continue;
        const struct sb_nameaddr *na = route_parsed(m, h);
        if (na && is_ours(&na->uri)) {
            *out = na->uri.params;
            return true;
        }
    }
    const struct sb_uri *r = sb_msg_ruri(m);
    if (r && r->lr && ctx->rs && ctx->rs->new_ruri.p && is_ours(r)) {
        *out = r->params;
        return true;
    }
    return false;
}

/* check_route_param(regex): 1 when the parameters of our Route match, -1 otherwise. */
static sb_res w_check_route_param(struct sb_sctx *ctx, const struct sb_arg *args)
{
    sb_str p;
    if (!route_params(ctx, &p))
        return sb_res_false();
    return sb__re_match(args[0].regex, p) > 0 ? sb_res_true() : sb_res_false();
}

static int fix_direction(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    if (sb_str_caseeq_lit(in->s, "downstream"))
        *out = (void *)(uintptr_t)1;
    else if (sb_str_caseeq_lit(in->s, "upstream"))
        *out = (void *)(uintptr_t)2;
    else {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col,
                      "is_direction: the direction must be \"downstream\" or \"upstream\"");
        return SB_EINVAL;
    }
    return 0;
}

/* is_direction("downstream"|"upstream"): compares the ftag parameter of our Route with the From
 * tag: equal means the request goes the way the dialog was created (downstream). 1 when the
 * direction is the asked one, -1 otherwise or when there is no ftag to tell. */
static sb_res w_is_direction(struct sb_sctx *ctx, const struct sb_arg *args)
{
    bool want_down = (uintptr_t)args[0].fixed == 1;
    sb_str p;
    struct sb_param ftag;
    if (!route_params(ctx, &p) || sb_param_find(p, "ftag", &ftag, false) != 1 || !ftag.has_value)
        return sb_res_false();
    const struct sb_nameaddr *from = sb_msg_from(ctx->msg);
    bool down = from && from->tag.p && sb_str_eq(from->tag, ftag.value);
    return down == want_down ? sb_res_true() : sb_res_false();
}

/* ---- module ------------------------------------------------------------------------------- */

static int mod_init(void)
{
    sb_fwd_set_hook(fwd_hook);
    return 0;
}

static void mod_destroy(void)
{
    if (sb_fwd_get_hook() == fwd_hook)
        sb_fwd_set_hook(NULL);
}

#define RR_ROUTES (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH)

static const struct sb_mod_fn fns[] = {
    {.name = "loose_route", .fn = w_loose_route, .routes = SB_ROUTE_REQUEST},
    {.name = "record_route",
     .fn = w_record_route,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = RR_ROUTES},
    {.name = "record_route_preset",
     .fn = w_record_route_preset,
     .n_args = 2,
     .args = {{.kind = SB_ARG_STR}, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = RR_ROUTES},
    {.name = "add_rr_param",
     .fn = w_add_rr_param,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR}},
     .routes = RR_ROUTES},
    {.name = "check_route_param",
     .fn = w_check_route_param,
     .n_args = 1,
     .args = {{.kind = SB_ARG_REGEX}},
     .routes = SB_ROUTE_REQUEST},
    {.name = "is_direction",
     .fn = w_is_direction,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_STATIC, .fixup = fix_direction}},
     .routes = SB_ROUTE_REQUEST},
    {.name = NULL},
};

const struct sb_module sb_module_rr = {
    .name = "rr",
    .summary = "record-routing and routing by the Route set",
    .conf = &conf,
    .params = mod_params,
    .fns = fns,
    .init = mod_init,
    .destroy = mod_destroy,
};
