/* SPDX-License-Identifier: BSD-2-Clause */
/* save(): process a REGISTER against the location table (RFC 3261 §10.3, RFC 3327 Path,
 * RFC 5626 instance/reg-id) and answer it with every current binding. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sb/avp.h"
#include "sb/base.h"
#include "sb/buf.h"
#include "sb/fwd.h"
#include "sb/log.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/tp.h"
#include "sb/tx.h"
#include "sb/uri.h"

#include "reg.h"

#define MAX_REQ_CONTACTS 32

struct req_ct {
    const struct sb_nameaddr *na;
    int64_t exp; /* seconds, 0 = remove */
    int16_t q;
    sb_str instance;
    uint32_t reg_id;
    struct sb_ul_contact *match; /* existing binding it refers to */
};

/* ---- reply --------------------------------------------------------------------------------- */

static int send_reply(struct sb_sctx *ctx, int code, const char *reason, sb_str hdrs)
{
    sb_str r = sb_str_cstr(reason);
    if (sb_tx_of(ctx))
        return sb_tx_reply(ctx, code, r, hdrs, SB_STR_NULL, SB_STR_NULL);
    struct sb_reply_opts o = {.code = code, .reason = r, .hdrs = hdrs};
    return sb_sl_reply_opts(ctx, &o);
}

static sb_res reject(struct sb_sctx *ctx, const struct reg_flags *fl, int code, const char *reason,
                     sb_str hdrs)
{
    sb_stat_inc(sb__reg_st_rejected);
    if (!(fl->f & REG_SF_NO_REPLY) && send_reply(ctx, code, reason, hdrs) < 0)
        SB_ERR("registrar: cannot send %d reply", code);
    return sb_res_false();
}

/* The Date line of the current second, per worker: formatting a date per REGISTER was a visible
 * share of the registrar's CPU. */
static _Thread_local struct {
    int64_t at;
    size_t len;
    char line[80];
} date_cache = {.at = -1};

static void put_date(struct sb_wbuf *w, int64_t now)
{
    /* RFC3261-10.3 step 8: a Date header lets the UA learn the registrar's clock */
    if (date_cache.at != now) {
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(date_cache.line, sizeof(date_cache.line),
                            "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        if (!n)
            return; /* cannot happen with this format and size */
        date_cache.len = n;
        date_cache.at = now;
    }
    sb_wbuf_put(w, date_cache.line, date_cache.len);
}

/* ---- request parsing ----------------------------------------------------------------------- */

/* q-value "0.5" / "1" / "1.000" -> 0..1000 */
static int parse_q(sb_str s, int16_t *out)
{
    s = sb_str_trim(s);
    if (!s.len || !(s.p[0] == '0' || s.p[0] == '1'))
        return SB_EPARSE;
    int v = (s.p[0] - '0') * 1000, scale = 100;
    size_t i = 1;
    if (i < s.len && s.p[i] == '.')
        for (i++; i < s.len && scale; i++, scale /= 10) {
            if (!sb_is_digit((unsigned char)s.p[i]))
                return SB_EPARSE;
            v += (s.p[i] - '0') * scale;
        }
    if (i != s.len || v > 1000)
        return SB_EPARSE;
    *out = (int16_t)v;
    return 0;
}

static uint32_t allowed_methods(struct sb_msg *m)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_ALLOW);
    if (!h)
        return 0xffffffffu;
    uint32_t bits = 0;
    for (; h; h = sb_msg_hdr_next(m, h)) {
        const struct sb_hdr_token *t = sb_msg_hdr_parsed(m, h);
        if (t)
            bits |= sb_method_lookup(t->v);
    }
    return bits;
}

/* The Path header values joined with ", " into scratch; p == NULL when there is none. */
static sb_str collect_path(struct sb_sctx *ctx)
{
    struct sb_msg *m = ctx->msg;
    size_t n = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_PATH); h; h = sb_msg_hdr_next(m, h))
        n += sb_msg_hdr_value(m, h).len + 2;
    if (!n)
        return SB_STR_NULL;
    char *p = sb_arena_alloc(ctx->scratch, n);
    if (!p)
        return SB_STR_NULL;
    size_t k = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_PATH); h; h = sb_msg_hdr_next(m, h)) {
        sb_str v = sb_msg_hdr_value(m, h);
        if (k)
            memcpy(p + k, ", ", 2), k += 2;
        memcpy(p + k, v.p, v.len), k += v.len;
    }
    return (sb_str){p, k};
}

/* path-received: the "received" parameter of the first Path URI, where an edge proxy records
 * the address the REGISTER came from (quoted or %-escaped). Unescaped into <buf>. */
static sb_str path_received(sb_str path, char *buf, size_t cap)
{
    long lt = sb_str_chr(path, '<');
    if (lt < 0)
        return SB_STR_NULL;
    sb_str u = {path.p + lt + 1, path.len - (size_t)lt - 1};
    long gt = sb_str_chr(u, '>');
    if (gt < 0)
        return SB_STR_NULL;
    u.len = (size_t)gt;
    long semi = sb_str_chr(u, ';');
    if (semi < 0)
        return SB_STR_NULL;
    struct sb_param p;
    sb_str params = {u.p + semi + 1, u.len - (size_t)semi - 1};
    if (sb_param_find(params, "received", &p, true) != 1 || !p.has_value)
        return SB_STR_NULL;
    sb_str v = p.value;
    if (v.len >= 2 && v.p[0] == '"')
        v = (sb_str){v.p + 1, v.len - 2};
    if (v.len > cap)
        return SB_STR_NULL;
    long n = sb_uri_unescape(v, buf);
    return n > 0 ? (sb_str){buf, (size_t)n} : SB_STR_NULL;
}

static bool same_binding(const struct req_ct *r, const struct sb_ul_contact *c)
{
    /* RFC5626-6: with an instance, the binding is the (instance, reg-id) pair, not the URI */
    if (r->instance.len)
        return sb_str_eq(r->instance, c->instance) && r->reg_id == c->reg_id;
    return !c->instance.len && sb_str_eq(r->na->uri_str, c->uri);
}

/* ---- save ---------------------------------------------------------------------------------- */

static sb_res reply_ok(struct sb_sctx *ctx, const struct reg_flags *fl, struct sb_ul_txn *t,
                       sb_str path_echo)
{
    /* the 200 lists every binding of the AOR with its remaining time (RFC3261-10.3 step 8) */
    int64_t now = sb_ul_now();
    size_t cap = 128 + path_echo.len;
    for (const struct sb_ul_contact *c = sb_ul_contacts(t); c; c = c->next)
        cap += c->uri.len + c->instance.len + 80;
    char *buf = sb_arena_alloc(ctx->scratch, cap);
    if (!buf) {
        sb_ul_end(t);
        return reject(ctx, fl, 500, "Server Internal Error", SB_STR_NULL);
    }
    struct sb_wbuf w;
    sb_wbuf_init(&w, buf, cap);
    for (const struct sb_ul_contact *c = sb_ul_contacts(t); c; c = c->next) {
        int64_t left = c->expires ? c->expires - now : (int64_t)sb__reg_conf.max_expires;
        sb_wbuf_cstr(&w, "Contact: <");
        sb_wbuf_str(&w, c->uri);
        sb_wbuf_cstr(&w, ">;expires=");
        if (left < 0) {
            sb_wbuf_put(&w, "-", 1);
            sb_wbuf_u64(&w, (uint64_t)0 - (uint64_t)left);
        } else {
            sb_wbuf_u64(&w, (uint64_t)left);
        }
        if (c->instance.len) {
            sb_wbuf_cstr(&w, ";+sip.instance=");
            sb_wbuf_str(&w, c->instance);
        }
        if (c->reg_id) {
            sb_wbuf_cstr(&w, ";reg-id=");
            sb_wbuf_u64(&w, c->reg_id);
        }
        sb_wbuf_cstr(&w, "\r\n");
    }
    sb_ul_end(t);
    if (path_echo.len) {
        sb_wbuf_cstr(&w, "Path: ");
        sb_wbuf_str(&w, path_echo);
        sb_wbuf_cstr(&w, "\r\n");
    }
    put_date(&w, now);
    if (w.err)
        return reject(ctx, fl, 500, "Server Internal Error", SB_STR_NULL);
    sb_stat_inc(sb__reg_st_accepted);
    if (!(fl->f & REG_SF_NO_REPLY) && send_reply(ctx, 200, "OK", (sb_str){w.p, w.len}) < 0) {
        SB_ERR("registrar: cannot send the 200 reply");
        return sb_res_code(-1);
    }
    return sb_res_true();
}

sb_res sb__reg_save(struct sb_sctx *ctx, struct sb_ul_domain *d, const struct reg_flags *fl,
                    sb_str aor_uri)
{
    struct sb_msg *m = ctx->msg;
    if (!m || !sb_msg_is_request(m) || m->method_id != SB_METHOD_REGISTER) {
        SB_ERR("registrar: save() needs a REGISTER request");
        return sb_res_false();
    }
    /* the AOR: the To URI (RFC3261-10.3 step 5) unless the script names one */
    const struct sb_nameaddr *to = sb_msg_to(m);
    sb_str src = aor_uri.len ? aor_uri : (to ? to->uri_str : SB_STR_NULL);
    char aor[256];
    long alen = src.len ? sb__reg_aor(src, aor, sizeof(aor)) : -1;
    if (alen <= 0)
        return reject(ctx, fl, 400, "Bad AOR", SB_STR_NULL);
    sb_str aor_s = {aor, (size_t)alen};
    sb_str callid = sb_msg_callid(m);
    const struct sb_cseq *cseq = sb_msg_cseq(m);
    if (!callid.p || !cseq)
        return reject(ctx, fl, 400, "Bad Request", SB_STR_NULL);

    int max_ct = fl->max_contacts >= 0 ? fl->max_contacts : sb__reg_conf.max_contacts;
    int min_exp = fl->min_expires >= 0 ? fl->min_expires : sb__reg_conf.min_expires;
    int max_exp = fl->max_expires >= 0 ? fl->max_expires : sb__reg_conf.max_expires;
    uint32_t hexp_v = 0;
    bool has_hexp = sb_msg_num(m, SB_HDR_EXPIRES, &hexp_v) == 0;
    int64_t dflt_exp = has_hexp ? (int64_t)hexp_v : sb__reg_conf.default_expires;

    /* collect the Contact header values */
    struct req_ct rc[MAX_REQ_CONTACTS];
    unsigned n = 0;
    bool star = false;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTACT); h; h = sb_msg_hdr_next(m, h)) {
        const struct sb_nameaddr *na = sb_msg_hdr_parsed(m, h);
        if (!na)
            return reject(ctx, fl, 400, "Bad Contact", SB_STR_NULL);
        if (na->is_star) {
            star = true;
            continue;
        }
        if (n == MAX_REQ_CONTACTS)
            return reject(ctx, fl, 400, "Too Many Contacts In Request", SB_STR_NULL);
        struct req_ct *r = &rc[n++];
        *r = (struct req_ct){.na = na, .exp = dflt_exp, .q = (int16_t)sb__reg_conf.default_q};
        uint32_t e;
        if (na->expires.p && sb_str_to_u32(sb_str_trim(na->expires), &e) == 0)
            r->exp = e;
        if (na->q.p && parse_q(na->q, &r->q) != 0)
            return reject(ctx, fl, 400, "Bad q Value", SB_STR_NULL);
        struct sb_param p;
        if (sb_param_find(na->params, "+sip.instance", &p, true) == 1 && p.has_value)
            r->instance = p.value;
        if (sb_param_find(na->params, "reg-id", &p, true) == 1 && p.has_value)
            sb_str_to_u32(p.value, &r->reg_id);
    }
    if (star) {
        /* RFC3261-10.3 step 6: "*" only alone and with Expires: 0 */
        if (n || !has_hexp || hexp_v != 0)
            return reject(ctx, fl, 400, "Invalid Contact", SB_STR_NULL);
    }

    /* RFC3261-10.3 step 7: too brief an interval is refused with the minimum we accept */
    for (unsigned i = 0; i < n; i++) {
        if (rc[i].exp != 0 && min_exp > 0 && rc[i].exp < min_exp) {
            char hb[48];
            int hl = snprintf(hb, sizeof(hb), "Min-Expires: %d\r\n", min_exp);
            return reject(ctx, fl, 423, "Interval Too Brief", (sb_str){hb, (size_t)hl});
        }
        if (max_exp > 0 && rc[i].exp > max_exp)
            rc[i].exp = max_exp;
    }

    /* Path (RFC 3327): kept only when a path-* mode asks for it */
    sb_str path = SB_STR_NULL, path_echo = SB_STR_NULL, received = SB_STR_NULL;
    char pbuf[128];
    bool ua_path = sb_msg_has_token(m, SB_HDR_SUPPORTED, SB_STR("path"));
    if (fl->f & (REG_SF_PATH_STRICT | REG_SF_PATH_LAZY | REG_SF_PATH_RECEIVED)) {
        path = collect_path(ctx);
        if (path.len && (fl->f & REG_SF_PATH_STRICT) && !ua_path)
            return reject(ctx, fl, 420, "Path Not Supported", SB_STR("Unsupported: path\r\n"));
        if (path.len && ua_path)
            path_echo = path;
        if (path.len && (fl->f & REG_SF_PATH_RECEIVED))
            received = path_received(path, pbuf, sizeof(pbuf));
    }
    uint32_t cflags = ctx->rs ? ctx->rs->bflags : 0;
    char rbuf[96], sbuf[96];
    struct sb_val rv;
    if (!received.len && sb__reg_conf.received_avp_id && ctx->avps &&
        sb_avps_get(ctx->avps, sb__reg_conf.received_avp_id, 0, &rv) && rv.type == SB_VAL_STR &&
        rv.s.len)
        received = rv.s; /* nathelper's fix_nated_register() put the source URI there */
    if (!received.len && ctx->peer && (cflags & sb_ul_nat_bflag())) {
        /* behind NAT: reach the UA where its REGISTER came from */
        int k = snprintf(rbuf, sizeof(rbuf), "sip:%s%.*s%s:%u;transport=%s",
                         sb_str_chr(ctx->peer->src_ip, ':') >= 0 ? "[" : "",
                         SB_STR_ARG(ctx->peer->src_ip),
                         sb_str_chr(ctx->peer->src_ip, ':') >= 0 ? "]" : "", ctx->peer->src_port,
                         sb_tp_proto_name(ctx->peer->proto));
        received = (sb_str){rbuf, (size_t)k};
    }
    sb_str sock = SB_STR_NULL;
    if (ctx->peer && ctx->peer->dst_ip.len) {
        struct sb_wbuf sw;
        sb_wbuf_init(&sw, sbuf, sizeof(sbuf));
        sb_wbuf_cstr(&sw, sb_tp_proto_name(ctx->peer->proto));
        sb_wbuf_put(&sw, ":", 1);
        sb_wbuf_str(&sw, ctx->peer->dst_ip);
        sb_wbuf_put(&sw, ":", 1);
        sb_wbuf_u64(&sw, ctx->peer->dst_port);
        if (!sw.err)
            sock = (sb_str){sbuf, sw.len};
    }
    struct sb_hdr *uah = sb_msg_hdr_first(m, SB_HDR_USER_AGENT);
    sb_str ua = uah ? sb_msg_hdr_value(m, uah) : SB_STR_NULL;
    uint32_t methods = allowed_methods(m);
    int64_t now = sb_ul_now();

    struct sb_ul_txn t;
    sb_ul_begin(d, aor_s, &t);
    if (star) {
        for (struct sb_ul_contact *c = sb_ul_contacts(&t), *nx; c; c = nx) {
            nx = c->next;
            /* RFC3261-10.3 step 6: an older Call-ID/CSeq does not remove a newer binding */
            if (sb_str_eq(c->callid, callid) && cseq->num < c->cseq)
                continue;
            sb_ul_delete(&t, c);
        }
        return reply_ok(ctx, fl, &t, SB_STR_NULL);
    }

    /* match, and count what the AOR will hold afterwards */
    long final = sb_ul_count(&t);
    for (unsigned i = 0; i < n; i++) {
        for (struct sb_ul_contact *c = sb_ul_contacts(&t); c; c = c->next)
            if (same_binding(&rc[i], c))
                rc[i].match = c;
        if (rc[i].match && rc[i].exp == 0)
            final--;
        else if (!rc[i].match && rc[i].exp != 0)
            final++;
        /* a second Contact in the same request for the same binding: count it once */
        for (unsigned j = 0; j < i; j++)
            if (!rc[i].match && !rc[j].match && rc[i].exp && rc[j].exp &&
                sb_str_eq(rc[i].na->uri_str, rc[j].na->uri_str) &&
                sb_str_eq(rc[i].instance, rc[j].instance)) {
                final--;
                break;
            }
    }
    if (max_ct > 0 && final > max_ct) {
        if (!(fl->f & REG_SF_FORCE_REG)) {
            sb_ul_end(&t);
            return reject(ctx, fl, 503, "Too Many Registered Contacts", SB_STR_NULL);
        }
        /* force-registration: make room by dropping the oldest bindings not in this request */
        while (final > max_ct) {
            struct sb_ul_contact *old = NULL;
            for (struct sb_ul_contact *c = sb_ul_contacts(&t); c; c = c->next) {
                bool used = false;
                for (unsigned i = 0; i < n; i++)
                    used = used || rc[i].match == c;
                if (!used && (!old || c->last_modified < old->last_modified))
                    old = c;
            }
            if (!old)
                break;
            sb_ul_delete(&t, old);
            final--;
        }
    }

    for (unsigned i = 0; i < n; i++) {
        struct req_ct *r = &rc[i];
        struct sb_ul_contact *c = NULL;
        for (struct sb_ul_contact *x = sb_ul_contacts(&t); x; x = x->next)
            if (same_binding(r, x))
                c = x;
        /* RFC3261-10.3 step 7: same Call-ID and an older CSeq is out of order. As OpenSIPS does,
         * the stale contact is skipped and the rest of the request still applies; an equal CSeq
         * is a retransmission and refreshes the binding. */
        if (c && sb_str_eq(c->callid, callid) && cseq->num < c->cseq) {
            SB_INFO("registrar: out-of-order CSeq %u < %u for %.*s, contact ignored", cseq->num,
                    c->cseq, SB_STR_ARG(aor_s));
            continue;
        }
        if (r->exp == 0) {
            if (c)
                sb_ul_delete(&t, c);
            continue;
        }
        struct sb_ul_info ci = {
            .uri = r->na->uri_str,
            .received = received,
            .path = path,
            .callid = callid,
            .user_agent = ua,
            .socket = sock,
            .instance = r->instance,
            .expires = now + r->exp,
            .cseq = cseq->num,
            .flags = (fl->f & REG_SF_MEMORY_ONLY) ? SB_UL_FL_MEMORY_ONLY : 0,
            .cflags = cflags,
            .methods = methods,
            .reg_id = r->reg_id,
            .q = r->q,
        };
        int rc2 = c ? sb_ul_update(&t, c, &ci, NULL) : sb_ul_insert(&t, &ci, NULL);
        if (rc2 != 0) {
            sb_ul_end(&t);
            return reject(ctx, fl, 500, "Server Internal Error", SB_STR_NULL);
        }
    }
    return reply_ok(ctx, fl, &t, path_echo);
}
