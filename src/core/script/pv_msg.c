/* SPDX-License-Identifier: BSD-2-Clause */
/* Message pseudo-variables: Request-URI and destination ($ru ... $du, partly writable), From/To,
 * Call-ID, CSeq, Contact, any header, body, identities, credentials, source address. Each family
 * is one getter switching on the variable's position in the table; values borrow from the
 * message through the lazy accessors. */
#include <string.h>

#include "pv_int.h"
#include "sb/msg.h"
#include "sb/uri.h"

enum pvm_id {
    PVM_RU,
    PVM_RU_USER,
    PVM_RU_HOST,
    PVM_RU_PORT,
    PVM_RU_PROTO,
    PVM_OU,
    PVM_OU_USER,
    PVM_OU_HOST,
    PVM_DU,
    PVM_DU_HOST,
    PVM_DU_PORT,
    PVM_DU_PROTO,
    PVM_FU,
    PVM_FU_USER,
    PVM_FU_HOST,
    PVM_FU_NAME,
    PVM_FU_TAG,
    PVM_TU,
    PVM_TU_USER,
    PVM_TU_HOST,
    PVM_TU_NAME,
    PVM_TU_TAG,
    PVM_AI,
    PVM_PU,
    PVM_RE,
    PVM_DI,
    PVM_CI,
    PVM_CS,
    PVM_RM,
    PVM_RS,
    PVM_RR,
    PVM_CTYPE,
    PVM_CLEN,
    PVM_UA,
    PVM_RB,
    PVM_ML,
    PVM_MB,
    PVM_PATH,
    PVM_CT,
    PVM_CT_FIELDS,
    PVM_HDR,
    PVM_HDRCNT,
    PVM_HDR_NAME,
    PVM_SI,
    PVM_SP,
    PVM_AU,
    PVM_AD,
    PVM_AR,
    PVM_AN,
    PVM_AUSER,
    PVM__COUNT
};

static enum pvm_id pvm_id(const struct sb_pv *pv)
{
    return (enum pvm_id)(pv->def - sb__pv_msg_defs);
}

static struct sb_msg *req(struct sb_sctx *ctx)
{
    struct sb_msg *m = ctx->msg;
    return m && m->kind == SB_MSG_REQUEST ? m : NULL;
}

/* A string, or NULL when absent (p == NULL). */
static void put(struct sb_val *out, sb_str s)
{
    if (s.p)
        sb__val_str(out, s);
}

/* ---- URIs: $ru $rU $rd $rp $rP $ou $oU $od $du $dd $dp $dP --------------------------------- */

enum uri_src { SRC_RURI, SRC_ORIG, SRC_DST };
enum uri_part { PART_ALL, PART_USER, PART_HOST, PART_PORT, PART_PROTO };

static const struct {
    uint8_t src, part;
} uri_pvs[] = {
    [PVM_RU] = {SRC_RURI, PART_ALL},         [PVM_RU_USER] = {SRC_RURI, PART_USER},
    [PVM_RU_HOST] = {SRC_RURI, PART_HOST},   [PVM_RU_PORT] = {SRC_RURI, PART_PORT},
    [PVM_RU_PROTO] = {SRC_RURI, PART_PROTO}, [PVM_OU] = {SRC_ORIG, PART_ALL},
    [PVM_OU_USER] = {SRC_ORIG, PART_USER},   [PVM_OU_HOST] = {SRC_ORIG, PART_HOST},
    [PVM_DU] = {SRC_DST, PART_ALL},          [PVM_DU_HOST] = {SRC_DST, PART_HOST},
    [PVM_DU_PORT] = {SRC_DST, PART_PORT},    [PVM_DU_PROTO] = {SRC_DST, PART_PROTO},
};

/* Parse <s> once per distinct string: the cache is keyed by the string's address, and every
 * write makes a new string in the message arena. */
static const struct sb_uri *parse_cached(struct sb_msg *m, const struct sb_uri **cache, sb_str s)
{
    const struct sb_uri *c = *cache;
    if (c && c->raw.p == s.p && c->raw.len == s.len)
        return c;
    struct sb_uri *u = sb_arena_alloc(&m->arena, sizeof(*u));
    if (!u || sb_uri_parse(s, u) != 0)
        return NULL;
    *cache = u;
    return u;
}

static sb_str uri_text(struct sb_sctx *ctx, enum uri_src src)
{
    struct sb_msg *m = req(ctx);
    struct sb_route_state *rs = ctx->rs;
    if (!m)
        return SB_STR_NULL;
    if (src == SRC_DST)
        return rs ? rs->dst_uri : SB_STR_NULL;
    if (src == SRC_RURI && rs && rs->new_ruri.p)
        return rs->new_ruri;
    return sb_msg_span(m, m->ruri);
}

static const struct sb_uri *uri_parsed(struct sb_sctx *ctx, enum uri_src src)
{
    struct sb_msg *m = req(ctx);
    struct sb_route_state *rs = ctx->rs;
    if (!m)
        return NULL;
    if (src == SRC_DST)
        return rs && rs->dst_uri.p ? parse_cached(m, &rs->duri_parsed, rs->dst_uri) : NULL;
    if (src == SRC_RURI && rs && rs->new_ruri.p)
        return parse_cached(m, &rs->ruri_parsed, rs->new_ruri);
    return sb_msg_ruri(m);
}

static bool is_sip(const struct sb_uri *u)
{
    return u->scheme == SB_URI_SIP || u->scheme == SB_URI_SIPS;
}

static bool is_tls(const struct sb_uri *u)
{
    return u->scheme == SB_URI_SIPS || sb_str_caseeq_lit(u->transport, "tls");
}

static int get_uri(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    enum uri_src src = uri_pvs[pvm_id(pv)].src;
    enum uri_part part = uri_pvs[pvm_id(pv)].part;
    if (part == PART_ALL) {
        put(out, uri_text(ctx, src));
        return 0;
    }
    const struct sb_uri *u = uri_parsed(ctx, src);
    if (!u)
        return 0;
    switch (part) {
    case PART_USER: put(out, u->user); break;
    case PART_HOST: put(out, u->host); break;
    case PART_PORT:
        /* no port written: the scheme's default, so that "$rp == 5060" works either way */
        if (is_sip(u))
            sb__val_int(out, u->port_no ? u->port_no : is_tls(u) ? 5061 : 5060);
        break;
    case PART_PROTO:
        if (u->transport.p)
            put(out, u->transport);
        else if (is_sip(u))
            put(out, u->scheme == SB_URI_SIPS ? SB_STR("tls") : SB_STR("udp"));
        break;
    default: break;
    }
    return 0;
}

/* Make <raw> with [from, to) replaced by <pre><val><post> in the message arena, check that it is
 * still a URI and make it the new value of *dst (its parse becoming the cache). */
static int store_uri(struct sb_msg *m, sb_str raw, size_t from, size_t to, const char *pre,
                     sb_str val, const char *post, sb_str *dst, const struct sb_uri **cache)
{
    size_t lpre = strlen(pre), lpost = strlen(post);
    size_t n = from + lpre + val.len + lpost + (raw.len - to);
    if (n == 0)
        return SB_EINVAL;
    char *p = sb_arena_alloc(&m->arena, n);
    struct sb_uri *u = sb_arena_alloc(&m->arena, sizeof(*u));
    if (!p || !u)
        return SB_ENOMEM;
    char *w = p;
    memcpy(w, raw.p, from), w += from;
    memcpy(w, pre, lpre), w += lpre;
    if (val.len)
        memcpy(w, val.p, val.len), w += val.len;
    memcpy(w, post, lpost), w += lpost;
    memcpy(w, raw.p + to, raw.len - to);
    if (sb_uri_parse((sb_str){p, n}, u) != 0)
        return SB_EPARSE;
    *dst = (sb_str){p, n};
    *cache = u;
    return 0;
}

static int set_whole(struct sb_sctx *ctx, bool dst, const struct sb_val *v)
{
    struct sb_msg *m = req(ctx);
    struct sb_route_state *rs = ctx->rs;
    if (!m || !rs || v->type == SB_VAL_INT)
        return SB_EINVAL;
    sb_str *target = dst ? &rs->dst_uri : &rs->new_ruri;
    if (v->type == SB_VAL_NULL || (dst && v->s.len == 0)) {
        /* $ru = NULL goes back to the received Request-URI; $du = NULL / "" clears it */
        *target = SB_STR_NULL;
        return 0;
    }
    return store_uri(m, v->s, v->s.len, v->s.len, "", SB_STR_NULL, "", target,
                     dst ? &rs->duri_parsed : &rs->ruri_parsed);
}

static bool valid_port(sb_str s)
{
    uint32_t port;
    return sb_str_to_u32(s, &port) == 0 && port >= 1 && port <= 65535;
}

/* $rU / $rd / $rp: the current R-URI with one part replaced, everything else kept as written. */
static int set_part(struct sb_sctx *ctx, enum uri_part part, const struct sb_val *v)
{
    struct sb_msg *m = req(ctx);
    const struct sb_uri *u = uri_parsed(ctx, SRC_RURI);
    if (!m || !ctx->rs || !u)
        return SB_EINVAL;
    sb_str val = SB_STR_NULL;
    int r;
    if (v->type != SB_VAL_NULL && (r = sb_val_to_str(ctx, v, &val)) < 0)
        return r;
    sb_str raw = u->raw;
    size_t from, to;
    const char *pre = "", *post = "";
#define OFF(s) ((size_t)((s).p - raw.p))
    if (u->scheme == SB_URI_TEL && part == PART_USER && val.len) {
        from = OFF(u->user), to = from + u->user.len;
    } else if (!is_sip(u)) {
        return SB_EINVAL;
    } else if (part == PART_USER) {
        if (!val.len && !u->user.p)
            return 0;
        if (!val.len) /* remove the userinfo: user, password and '@' */
            from = OFF(u->user), to = OFF(u->host);
        else if (u->user.p)
            from = OFF(u->user), to = from + u->user.len;
        else
            from = to = OFF(u->host), post = "@";
    } else if (part == PART_HOST) {
        if (!val.len)
            return SB_EINVAL;
        from = OFF(u->host), to = from + u->host.len;
    } else {
        size_t host_end = OFF(u->host) + u->host.len;
        if (!val.len && !u->port.p)
            return 0;
        if (val.len && !valid_port(val))
            return SB_EINVAL;
        if (!val.len)
            from = host_end, to = OFF(u->port) + u->port.len;
        else if (u->port.p)
            from = OFF(u->port), to = from + u->port.len;
        else
            from = to = host_end, pre = ":";
    }
#undef OFF
    return store_uri(m, raw, from, to, pre, val, post, &ctx->rs->new_ruri, &ctx->rs->ruri_parsed);
}

static int set_uri(struct sb_sctx *ctx, const struct sb_pv *pv, int op, const struct sb_val *v)
{
    (void)op;
    switch (pvm_id(pv)) {
    case PVM_RU: return set_whole(ctx, false, v);
    case PVM_DU: return set_whole(ctx, true, v);
    case PVM_RU_USER: return set_part(ctx, PART_USER, v);
    case PVM_RU_HOST: return set_part(ctx, PART_HOST, v);
    case PVM_RU_PORT: return set_part(ctx, PART_PORT, v);
    default: return SB_EINVAL;
    }
}

/* ---- name-addr headers: $fu $fU $fd $fn $ft $tu ... $ai $pu $re $di ------------------------- */

enum na_part { NP_URI, NP_USER, NP_HOST, NP_NAME, NP_TAG };

static const struct {
    uint8_t hdr; /* enum sb_hdr_type; SB_HDR_OTHER: Remote-Party-ID */
    uint8_t part;
} na_pvs[] = {
    [PVM_FU] = {SB_HDR_FROM, NP_URI},
    [PVM_FU_USER] = {SB_HDR_FROM, NP_USER},
    [PVM_FU_HOST] = {SB_HDR_FROM, NP_HOST},
    [PVM_FU_NAME] = {SB_HDR_FROM, NP_NAME},
    [PVM_FU_TAG] = {SB_HDR_FROM, NP_TAG},
    [PVM_TU] = {SB_HDR_TO, NP_URI},
    [PVM_TU_USER] = {SB_HDR_TO, NP_USER},
    [PVM_TU_HOST] = {SB_HDR_TO, NP_HOST},
    [PVM_TU_NAME] = {SB_HDR_TO, NP_NAME},
    [PVM_TU_TAG] = {SB_HDR_TO, NP_TAG},
    [PVM_AI] = {SB_HDR_P_ASSERTED_IDENTITY, NP_URI},
    [PVM_PU] = {SB_HDR_P_PREFERRED_IDENTITY, NP_URI},
    [PVM_RE] = {SB_HDR_OTHER, NP_URI},
    [PVM_DI] = {SB_HDR_DIVERSION, NP_URI},
};

/* The first entry of <t> as a name-addr; headers without a parser in the index (Diversion,
 * Remote-Party-ID) are parsed into <tmp>, whose views still borrow from the message. */
static const struct sb_nameaddr *nameaddr_of(struct sb_msg *m, enum sb_hdr_type t,
                                             struct sb_nameaddr *tmp)
{
    struct sb_hdr *h =
        t == SB_HDR_OTHER ? sb_msg_hdr_find(m, SB_STR("Remote-Party-ID")) : sb_msg_hdr_first(m, t);
    if (!h)
        return NULL;
    if (sb_hdr_info[h->type].parse == (sb_hdr_parse_fn)sb_nameaddr_parse)
        return sb_msg_hdr_parsed(m, h);
    return sb_nameaddr_parse(sb_msg_hdr_value(m, h), tmp) == 0 ? tmp : NULL;
}

static int get_na(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    if (!ctx->msg)
        return 0;
    struct sb_nameaddr tmp;
    const struct sb_nameaddr *na = nameaddr_of(ctx->msg, na_pvs[pvm_id(pv)].hdr, &tmp);
    if (!na || na->is_star)
        return 0;
    switch (na_pvs[pvm_id(pv)].part) {
    case NP_URI: put(out, na->uri_str); break;
    case NP_USER: put(out, na->uri.user); break;
    case NP_HOST: put(out, na->uri.host); break;
    case NP_NAME: put(out, na->display); break;
    default: put(out, na->tag); break;
    }
    return 0;
}

/* ---- simple message values ----------------------------------------------------------------- */

static sb_str first_value(struct sb_msg *m, enum sb_hdr_type t)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, t);
    return h ? sb_msg_hdr_value(m, h) : SB_STR_NULL;
}

/* All values of <t> joined with ",". */
static int all_values(struct sb_sctx *ctx, struct sb_msg *m, enum sb_hdr_type t, struct sb_val *out)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, t);
    if (!h)
        return 0;
    if (!h->next) {
        put(out, sb_msg_hdr_value(m, h));
        return 0;
    }
    struct sb__sbuf b;
    sb__sbuf_init(&b, ctx->scratch, 128);
    for (; h; h = sb_msg_hdr_next(m, h)) {
        sb__sbuf_str(&b, sb_msg_hdr_value(m, h));
        if (h->next)
            sb__sbuf_ch(&b, ',');
    }
    sb_str s;
    int r = sb__sbuf_done(&b, &s);
    if (r == 0)
        put(out, s);
    return r;
}

static int get_simple(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    struct sb_msg *m = ctx->msg;
    if (!m)
        return 0;
    const struct sb_cseq *cs;
    uint32_t n;
    switch (pvm_id(pv)) {
    case PVM_CI: put(out, sb_msg_callid(m)); break;
    case PVM_CS:
        if ((cs = sb_msg_cseq(m)))
            sb__val_int(out, (int32_t)cs->num);
        break;
    case PVM_RM:
        if (m->kind == SB_MSG_REQUEST)
            put(out, sb_msg_method(m));
        else if ((cs = sb_msg_cseq(m)))
            put(out, cs->method);
        break;
    case PVM_RS:
        if (m->kind == SB_MSG_REPLY)
            sb__val_int(out, m->status);
        break;
    case PVM_RR:
        if (m->kind == SB_MSG_REPLY)
            sb__val_str(out, sb_msg_span(m, m->reason));
        break;
    case PVM_CTYPE: put(out, first_value(m, SB_HDR_CONTENT_TYPE)); break;
    case PVM_CLEN:
        if (sb_msg_num(m, SB_HDR_CONTENT_LENGTH, &n) == 0)
            sb__val_int(out, (int32_t)n);
        break;
    case PVM_UA: put(out, first_value(m, SB_HDR_USER_AGENT)); break;
    case PVM_RB: sb__val_str(out, sb_msg_span(m, m->body)); break;
    case PVM_ML: sb__val_int(out, (int32_t)m->len); break;
    case PVM_MB: sb__val_str(out, (sb_str){m->buf, m->len}); break;
    case PVM_PATH: return all_values(ctx, m, SB_HDR_PATH, out);
    default: break;
    }
    return 0;
}

/* ---- headers: $hdr(name)[i] $hdrcnt(name) $hdr_name[i] $ct[i] $ct.fields(f)[i] ------------- */

/* The header type is fixed at check time; SB_HDR_OTHER entries are then matched by name. */
static int fix_hdr(struct sb_fixup *fx, sb_str sub, void **fixed)
{
    (void)fx;
    *fixed = (void *)(uintptr_t)(sb_hdr_lookup(sub) + 1);
    return 0;
}

static enum sb_hdr_type hdr_type(const struct sb_pv *pv)
{
    return pv->fixed ? (enum sb_hdr_type)((uintptr_t)pv->fixed - 1) : sb_hdr_lookup(pv->sub);
}

/* The <i>th value (0-based) of the header <pv> names; with i < 0, none, and *count gets how many
 * there are. */
static struct sb_hdr *hdr_nth(struct sb_msg *m, enum sb_hdr_type t, sb_str name, int32_t i,
                              unsigned *count)
{
    unsigned n = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h)) {
        if (t == SB_HDR_OTHER && !sb_str_caseeq(sb_msg_hdr_name(m, h), name))
            continue;
        if ((int32_t)n == i)
            return h;
        n++;
    }
    if (count)
        *count = n;
    return NULL;
}

static int count_hdr(struct sb_sctx *ctx, const struct sb_pv *pv)
{
    unsigned n = 0;
    enum sb_hdr_type t =
        pvm_id(pv) == PVM_HDR || pvm_id(pv) == PVM_HDRCNT ? hdr_type(pv) : SB_HDR_CONTACT;
    if (ctx->msg)
        hdr_nth(ctx->msg, t, pv->sub, -1, &n);
    return (int)n;
}

/* $hdr_name counts header fields: a comma list "Via: a, b" is one field of two values. */
static bool field_start(const struct sb_hdr *h)
{
    return !(sb_hdr_info[h->type].flags & SB_HDRI_LIST) || (h->flags & SB_HDRF_LIST_FIRST);
}

static int count_fields(struct sb_sctx *ctx, const struct sb_pv *pv)
{
    (void)pv;
    int n = 0;
    for (uint32_t i = 0; ctx->msg && i < ctx->msg->n_hdrs; i++)
        n += field_start(&ctx->msg->hdrs[i]);
    return n;
}

static int fix_ct_field(struct sb_fixup *fx, sb_str sub, void **fixed);

enum ct_field { CTF_URI = 1, CTF_NAME, CTF_Q, CTF_EXPIRES, CTF_PARAMS };

static void ct_field(const struct sb_nameaddr *na, enum ct_field f, struct sb_val *out)
{
    if (na->is_star) {
        if (f == CTF_URI)
            put(out, SB_STR("*"));
        return;
    }
    switch (f) {
    case CTF_URI: put(out, na->uri_str); break;
    case CTF_NAME: put(out, na->display); break;
    case CTF_Q: put(out, na->q); break;
    case CTF_EXPIRES: put(out, na->expires); break;
    default: put(out, na->params); break;
    }
}

static int get_hdr(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    struct sb_msg *m = ctx->msg;
    if (!m)
        return 0;
    if (idx == SB_PV_IDX_NONE)
        idx = 0;
    enum pvm_id id = pvm_id(pv);
    struct sb_hdr *h;
    unsigned n = 0;
    switch (id) {
    case PVM_HDRCNT:
        hdr_nth(m, hdr_type(pv), pv->sub, -1, &n);
        sb__val_int(out, (int32_t)n);
        return 0;
    case PVM_HDR_NAME:
        for (uint32_t i = 0; i < m->n_hdrs; i++) {
            if (field_start(&m->hdrs[i]) && (int32_t)n++ == idx) {
                put(out, sb_msg_hdr_name(m, &m->hdrs[i]));
                break;
            }
        }
        return 0;
    case PVM_HDR:
        if ((h = hdr_nth(m, hdr_type(pv), pv->sub, idx, NULL)))
            put(out, sb_msg_hdr_value(m, h));
        return 0;
    default: break;
    }
    if (!(h = hdr_nth(m, SB_HDR_CONTACT, SB_STR_NULL, idx, NULL)))
        return 0;
    if (id == PVM_CT) {
        put(out, sb_msg_hdr_value(m, h));
        return 0;
    }
    const struct sb_nameaddr *na = sb_msg_hdr_parsed(m, h);
    if (na)
        ct_field(na, (enum ct_field)(uintptr_t)pv->fixed, out);
    return 0;
}

static int fix_ct_field(struct sb_fixup *fx, sb_str sub, void **fixed)
{
    static const char *const names[] = {NULL, "uri", "name", "q", "expires", "params"};
    for (uintptr_t i = CTF_URI; i <= CTF_PARAMS; i++) {
        if (sb_str_eq(sub, sb_str_cstr(names[i]))) {
            *fixed = (void *)i;
            return 0;
        }
    }
    sb__fx_error(fx, 0, "unknown Contact field '%.*s': expected uri, name, q, expires or params",
                 (int)sub.len, sub.p);
    return SB_EPARSE;
}

/* ---- source address and credentials -------------------------------------------------------- */

static int get_peer(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    if (!ctx->peer)
        return 0;
    if (pvm_id(pv) == PVM_SI)
        put(out, ctx->peer->src_ip);
    else
        sb__val_int(out, ctx->peer->src_port);
    return 0;
}

/* Credentials: the first Authorization, else the first Proxy-Authorization. */
static int get_auth(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    struct sb_msg *m = ctx->msg;
    if (!m)
        return 0;
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_AUTHORIZATION);
    if (!h)
        h = sb_msg_hdr_first(m, SB_HDR_PROXY_AUTHORIZATION);
    const struct sb_digest *d = h ? sb_msg_hdr_parsed(m, h) : NULL;
    if (!d)
        return 0;
    /* username may be "user@domain": $au is the user, $ad the domain (else the realm) */
    long at = d->username.p ? sb_str_chr(d->username, '@') : -1;
    switch (pvm_id(pv)) {
    case PVM_AU: put(out, at < 0 ? d->username : (sb_str){d->username.p, (size_t)at}); break;
    case PVM_AD:
        put(out,
            at < 0 ? d->realm : (sb_str){d->username.p + at + 1, d->username.len - (size_t)at - 1});
        break;
    case PVM_AR: put(out, d->realm); break;
    case PVM_AN: put(out, d->nonce); break;
    default: put(out, d->username); break;
    }
    return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

#define M             SB_ROUTE_MSG
#define RO(id, n, fn) [id] = {.name = n, .routes = M, .get = fn}
#define RW(id, n, fn) [id] = {.name = n, .routes = M, .get = fn, .set = set_uri}
#define IX(id, n, fl, fx, fn, cnt)                                                                 \
    [id] = {.name = n,                                                                             \
            .flags = SB_PVF_INDEX | (fl),                                                          \
            .routes = M,                                                                           \
            .fix_sub = fx,                                                                         \
            .get = fn,                                                                             \
            .count = cnt}

const struct sb_pv_def sb__pv_msg_defs[PVM__COUNT + 1] = {
    RW(PVM_RU, "ru", get_uri),
    RW(PVM_RU_USER, "rU", get_uri),
    RW(PVM_RU_HOST, "rd", get_uri),
    RW(PVM_RU_PORT, "rp", get_uri),
    RO(PVM_RU_PROTO, "rP", get_uri),
    RO(PVM_OU, "ou", get_uri),
    RO(PVM_OU_USER, "oU", get_uri),
    RO(PVM_OU_HOST, "od", get_uri),
    RW(PVM_DU, "du", get_uri),
    RO(PVM_DU_HOST, "dd", get_uri),
    RO(PVM_DU_PORT, "dp", get_uri),
    RO(PVM_DU_PROTO, "dP", get_uri),
    RO(PVM_FU, "fu", get_na),
    RO(PVM_FU_USER, "fU", get_na),
    RO(PVM_FU_HOST, "fd", get_na),
    RO(PVM_FU_NAME, "fn", get_na),
    RO(PVM_FU_TAG, "ft", get_na),
    RO(PVM_TU, "tu", get_na),
    RO(PVM_TU_USER, "tU", get_na),
    RO(PVM_TU_HOST, "td", get_na),
    RO(PVM_TU_NAME, "tn", get_na),
    RO(PVM_TU_TAG, "tt", get_na),
    RO(PVM_AI, "ai", get_na),
    RO(PVM_PU, "pu", get_na),
    RO(PVM_RE, "re", get_na),
    RO(PVM_DI, "di", get_na),
    RO(PVM_CI, "ci", get_simple),
    RO(PVM_CS, "cs", get_simple),
    RO(PVM_RM, "rm", get_simple),
    RO(PVM_RS, "rs", get_simple),
    RO(PVM_RR, "rr", get_simple),
    RO(PVM_CTYPE, "cT", get_simple),
    RO(PVM_CLEN, "cl", get_simple),
    RO(PVM_UA, "ua", get_simple),
    RO(PVM_RB, "rb", get_simple),
    RO(PVM_ML, "ml", get_simple),
    RO(PVM_MB, "mb", get_simple),
    RO(PVM_PATH, "path", get_simple),
    IX(PVM_CT, "ct", 0, NULL, get_hdr, count_hdr),
    IX(PVM_CT_FIELDS, "ct.fields", SB_PVF_SUB | SB_PVF_SUB_REQ, fix_ct_field, get_hdr, count_hdr),
    IX(PVM_HDR, "hdr", SB_PVF_SUB | SB_PVF_SUB_REQ | SB_PVF_SUB_DYN, fix_hdr, get_hdr, count_hdr),
    [PVM_HDRCNT] = {.name = "hdrcnt",
                    .flags = SB_PVF_SUB | SB_PVF_SUB_REQ | SB_PVF_SUB_DYN,
                    .routes = M,
                    .fix_sub = fix_hdr,
                    .get = get_hdr},
    IX(PVM_HDR_NAME, "hdr_name", 0, NULL, get_hdr, count_fields),
    RO(PVM_SI, "si", get_peer),
    RO(PVM_SP, "sp", get_peer),
    RO(PVM_AU, "au", get_auth),
    RO(PVM_AD, "ad", get_auth),
    RO(PVM_AR, "ar", get_auth),
    RO(PVM_AN, "an", get_auth),
    RO(PVM_AUSER, "aU", get_auth),
    [PVM__COUNT] = {.name = NULL},
};

/* ---- the routing state, for core functions and modules ------------------------------------- */

sb_str sb_ruri_get(struct sb_sctx *ctx)
{
    return uri_text(ctx, SRC_RURI);
}

const struct sb_uri *sb_ruri_parsed(struct sb_sctx *ctx)
{
    return uri_parsed(ctx, SRC_RURI);
}

sb_str sb_duri_get(struct sb_sctx *ctx)
{
    return uri_text(ctx, SRC_DST);
}

const struct sb_uri *sb_duri_parsed(struct sb_sctx *ctx)
{
    return uri_parsed(ctx, SRC_DST);
}

int sb_ruri_set(struct sb_sctx *ctx, sb_str uri)
{
    struct sb_val v = {.type = uri.p ? SB_VAL_STR : SB_VAL_NULL, .s = uri};
    return set_whole(ctx, false, &v);
}

int sb_duri_set(struct sb_sctx *ctx, sb_str uri)
{
    struct sb_val v = {.type = uri.p ? SB_VAL_STR : SB_VAL_NULL, .s = uri};
    return set_whole(ctx, true, &v);
}
