/* SPDX-License-Identifier: BSD-2-Clause */
/* Challenges: WWW-Authenticate / Proxy-Authenticate lines (RFC 2617 §3.2.1, RFC 7616 §3.3, one per
 * algorithm as RFC 8760 §2.3 asks) and the 401 / 407 that carries them. */
#include <string.h>

#include "../signaling/signaling.h"
#include "../sl/sl.h"
#include "auth_int.h"
#include "sb/base.h"
#include "sb/buf.h"
#include "sb/log.h"
#include "sb/msg.h"
#include "sb/msg_build.h"

#define HDRS_MAX 4096

/* Split <s> at commas, trimming each item; <fn> returns < 0 to stop. */
static int each_item(sb_str s, int (*fn)(sb_str item, void *arg), void *arg)
{
    while (s.len) {
        long c = sb_str_chr(s, ',');
        size_t n = c < 0 ? s.len : (size_t)c;
        sb_str item = sb_str_trim((sb_str){s.p, n});
        if (!item.len)
            return SB_EPARSE;
        int rc = fn(item, arg);
        if (rc < 0)
            return rc;
        if (c < 0)
            break;
        s.p += n + 1, s.len -= n + 1;
        if (!s.len)
            return SB_EPARSE; /* a trailing comma */
    }
    return 0;
}

static int qop_item(sb_str item, void *arg)
{
    unsigned *q = arg;
    if (sb_str_caseeq_lit(item, "auth"))
        *q |= SB__AUTH_QOP_AUTH;
    else if (sb_str_caseeq_lit(item, "auth-int"))
        *q |= SB__AUTH_QOP_AUTH_INT;
    else
        return SB_EPARSE;
    return 0;
}

int sb__auth_parse_qop(sb_str s, unsigned *out, const char **bad)
{
    *out = 0;
    s = sb_str_trim(s);
    /* the 1.x-2.x form: 1 offers qop=auth, 0 none */
    if (!s.len || sb_str_eq(s, SB_STR("0")))
        return 0;
    if (sb_str_eq(s, SB_STR("1"))) {
        *out = SB__AUTH_QOP_AUTH;
        return 0;
    }
    if (each_item(s, qop_item, out) < 0) {
        *bad = "qop must be \"auth\", \"auth-int\" or both, comma-separated";
        return SB_EPARSE;
    }
    return 0;
}

static int alg_item(sb_str item, void *arg)
{
    struct sb__auth_chal *ch = arg;
    for (uint8_t a = SB_DIGEST_ALG_MD5; a < SB_DIGEST_ALG_OTHER; a++) {
        if (sb_str_caseeq(item, sb_str_cstr(sb_auth_alg_name(a)))) {
            for (unsigned i = 0; i < ch->n_algs; i++)
                if (ch->algs[i] == a)
                    return 0; /* named twice: one challenge is enough */
            if (ch->n_algs == SB__AUTH_MAX_ALGS)
                return SB_ELIMIT;
            ch->algs[ch->n_algs++] = a;
            return 0;
        }
    }
    return SB_EPARSE;
}

int sb__auth_parse_algs(sb_str s, struct sb__auth_chal *out, const char **bad)
{
    out->n_algs = 0;
    s = sb_str_trim(s);
    if (!s.len) {
        out->algs[out->n_algs++] = SB_DIGEST_ALG_MD5;
        return 0;
    }
    if (each_item(s, alg_item, out) < 0) {
        *bad = "algorithms must be a comma-separated list of MD5, MD5-sess, SHA-256, "
               "SHA-256-sess, SHA-512-256, SHA-512-256-sess";
        return SB_EPARSE;
    }
    return 0;
}

/* A quoted-string: '"' and '\' escaped (RFC3261-25.1 quoted-pair). */
static void put_quoted(struct sb_wbuf *w, sb_str s)
{
    sb_wbuf_put(w, "\"", 1);
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '"' || s.p[i] == '\\')
            sb_wbuf_put(w, "\\", 1);
        sb_wbuf_put(w, &s.p[i], 1);
    }
    sb_wbuf_put(w, "\"", 1);
}

long sb__auth_challenge_hdrs(int kind, sb_str realm, const struct sb__auth_chal *ch, bool stale,
                             char *out, size_t cap)
{
    struct sb_wbuf w;
    sb_wbuf_init(&w, out, cap);
    int64_t now = sb__auth_now();
    for (unsigned i = 0; i < ch->n_algs; i++) {
        char nonce[SB_AUTH_NONCE_LEN + 1];
        int rc = sb_auth_nonce_new(now, ch->algs[i], nonce);
        if (rc < 0)
            return rc;
        sb_wbuf_cstr(&w, kind == SB_AUTH_PROXY ? "Proxy-Authenticate: Digest realm="
                                               : "WWW-Authenticate: Digest realm=");
        put_quoted(&w, realm);
        sb_wbuf_printf(&w, ", nonce=\"%s\"", nonce);
        if (ch->qop)
            sb_wbuf_printf(&w, ", qop=\"%s%s%s\"", ch->qop & SB__AUTH_QOP_AUTH ? "auth" : "",
                           ch->qop == (SB__AUTH_QOP_AUTH | SB__AUTH_QOP_AUTH_INT) ? "," : "",
                           ch->qop & SB__AUTH_QOP_AUTH_INT ? "auth-int" : "");
        if (stale)
            sb_wbuf_cstr(&w, ", stale=true");
        sb_wbuf_printf(&w, ", algorithm=%s\r\n", sb_auth_alg_name(ch->algs[i]));
    }
    return w.err ? w.err : (long)w.len;
}

int sb__auth_challenge(struct sb_sctx *ctx, int kind, sb_str realm, const struct sb__auth_chal *ch)
{
    struct sb_msg *m = ctx->msg;
    if (!m || !ctx->rs || !sb_msg_is_request(m))
        return SB_EINVAL;
    if (!realm.len)
        realm = sb_auth_default_realm(ctx);
    if (!realm.len) {
        SB_ERR("auth: no realm given and none in the request");
        return SB_EINVAL;
    }
    const struct sb__auth_last *l = sb__auth_last(ctx);
    char hdrs[HDRS_MAX];
    long n = sb__auth_challenge_hdrs(kind, realm, ch, l && l->stale, hdrs, sizeof(hdrs));
    if (n < 0)
        return (int)n;
    /* the lines ride on the append_to_reply list, so the reply goes out through whichever layer
     * answers (the transaction when there is one); they are taken back afterwards so that a later
     * reply to the same request does not repeat the challenge */
    struct sb_route_state *rs = ctx->rs;
    sb_str saved = rs->reply_hdrs;
    sb_str all = sb_msg_printf(m, "%.*s%.*s", (int)saved.len, saved.p ? saved.p : "", (int)n, hdrs);
    if (!all.p)
        return SB_ENOMEM;
    rs->reply_hdrs = all;
    int code = kind == SB_AUTH_PROXY ? 407 : 401;
    int rc = 0;
    if (sb__signaling_tx_reply)
        rc = sb__signaling_tx_reply(ctx, code, SB_STR_NULL);
    if (rc == 0)
        rc = sb__sl_reply(ctx, code, SB_STR_NULL);
    else if (rc > 0)
        rc = 0;
    rs->reply_hdrs = saved;
    return rc;
}
