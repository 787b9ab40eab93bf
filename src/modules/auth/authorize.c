/* SPDX-License-Identifier: BSD-2-Clause */
/* The authorize flow shared by the credential back ends: pick the credentials for a realm, check
 * their form and nonce, then the response against the subscriber's secret, then the nonce-count. */
#include <string.h>

#include <openssl/crypto.h>

#include "auth_int.h"
#include "sb/arena.h"
#include "sb/base.h"
#include "sb/log.h"
#include "sb/msg.h"

static _Thread_local struct sb__auth_last last;

static bool is_this_request(const struct sb_sctx *ctx)
{
    return ctx->msg && last.msg == ctx->msg && last.buf == ctx->msg->buf &&
           last.seq == (ctx->rs ? ctx->rs->seq : 0);
}

const struct sb__auth_last *sb__auth_last(const struct sb_sctx *ctx)
{
    return is_this_request(ctx) ? &last : NULL;
}

struct sb_hdr *sb_auth_authorized(const struct sb_sctx *ctx)
{
    return is_this_request(ctx) ? last.authorized : NULL;
}

static void record(const struct sb_sctx *ctx, struct sb_hdr *authorized, bool stale)
{
    last = (struct sb__auth_last){.msg = ctx->msg,
                                  .buf = ctx->msg->buf,
                                  .seq = ctx->rs ? ctx->rs->seq : 0,
                                  .authorized = authorized,
                                  .stale = stale};
}

static sb_str strip_prefix(sb_str realm)
{
    const char *pfx = sb__auth_conf.realm_prefix;
    size_t n = pfx ? strlen(pfx) : 0;
    if (n && realm.len > n && sb_str_caseeq((sb_str){realm.p, n}, (sb_str){pfx, n}))
        return (sb_str){realm.p + n, realm.len - n};
    return realm;
}

sb_str sb_auth_default_realm(struct sb_sctx *ctx)
{
    struct sb_msg *m = ctx->msg;
    if (!m)
        return SB_STR_NULL;
    /* the To of a REGISTER names the user being registered; otherwise the caller is in From */
    const struct sb_nameaddr *na =
        m->method_id == SB_METHOD_REGISTER ? sb_msg_to(m) : sb_msg_from(m);
    if (!na || !na->uri.host.len)
        return SB_STR_NULL;
    return strip_prefix(na->uri.host);
}

/* A quoted-string value with its quoted-pairs resolved (a copy in the scratch arena when needed).
 */
static sb_str unquote(struct sb_sctx *ctx, sb_str s)
{
    if (!s.len || sb_str_chr(s, '\\') < 0)
        return s;
    char *o = sb_arena_alloc(ctx->scratch, s.len);
    if (!o)
        return SB_STR_NULL;
    size_t k = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '\\' && i + 1 < s.len)
            i++;
        o[k++] = s.p[i];
    }
    return (sb_str){o, k};
}

static bool qop_ok(sb_str qop)
{
    return !qop.len || sb_str_caseeq_lit(qop, "auth") || sb_str_caseeq_lit(qop, "auth-int");
}

int sb_auth_find(struct sb_sctx *ctx, sb_str realm, int kind, struct sb_auth_cred *out)
{
    memset(out, 0, sizeof(*out));
    struct sb_msg *m = ctx->msg;
    if (!m || !sb_msg_is_request(m))
        return SB_AUTH_ERROR;
    realm = realm.len ? strip_prefix(realm) : sb_auth_default_realm(ctx);
    if (!realm.len) {
        SB_DEBUG("auth: no realm, and none can be taken from the request");
        return SB_AUTH_ERROR;
    }
    enum sb_hdr_type t = kind == SB_AUTH_PROXY ? SB_HDR_PROXY_AUTHORIZATION : SB_HDR_AUTHORIZATION;
    const struct sb_digest *d = NULL;
    struct sb_hdr *h;
    sb_str r = SB_STR_NULL;
    for (h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h)) {
        if (h->flags & SB_HDRF_REMOVED)
            continue;
        d = sb_msg_hdr_parsed(m, h);
        if (!d || !d->is_digest)
            continue;
        r = unquote(ctx, d->realm);
        /* RFC3261-22.4: a request may carry credentials for several realms; ours are those whose
         * realm is the one we challenge with */
        if (sb_str_eq(r, realm))
            break;
    }
    if (!h)
        return SB_AUTH_NO_CREDENTIALS;

    out->hdr = h;
    out->d = d;
    out->kind = kind;
    out->realm = r;
    out->alg = d->alg == SB_DIGEST_ALG_NONE ? SB_DIGEST_ALG_MD5 : d->alg;
    size_t hl = sb_auth_hexlen(out->alg);
    if (!hl) {
        SB_DEBUG("auth: unsupported algorithm '" SB_STR_FMT "'", SB_STR_ARG(d->algorithm));
        return SB_AUTH_ERROR;
    }
    /* RFC2617-3.2.2 / RFC7616-3.4: what the response needs; cnonce and nc come with qop, and a
     * -sess HA1 needs the cnonce too */
    if (!d->username.len || !d->nonce.len || !d->uri.len || d->response.len != hl ||
        !qop_ok(d->qop) || (d->qop.len && (!d->nc.len || !d->cnonce.len)) ||
        (sb_auth_alg_is_sess(out->alg) && !d->cnonce.len)) {
        SB_DEBUG("auth: malformed credentials");
        return SB_AUTH_ERROR;
    }
    if (d->userhash) {
        /* RFC7616-3.4.4: the username is a hash we would have to search for; not offered by our
         * challenges, so a UA should not send it */
        SB_DEBUG("auth: userhash credentials are not supported");
        return SB_AUTH_ERROR;
    }
    out->username = unquote(ctx, d->username);
    if (!out->username.p)
        return SB_AUTH_ERROR;
    long at = sb_str_chr(out->username, '@');
    if (at >= 0) {
        out->user = (sb_str){out->username.p, (size_t)at};
        out->domain = (sb_str){out->username.p + at + 1, out->username.len - (size_t)at - 1};
    } else {
        out->user = out->username;
        out->domain = r;
    }
    out->nonce_state = (uint8_t)sb_auth_nonce_check(d->nonce, sb__auth_now(), out->alg, &out->gen);
    return 0;
}

int sb_auth_verify(struct sb_sctx *ctx, const struct sb_auth_cred *c, sb_str secret, bool is_ha1)
{
    const struct sb_digest *d = c->d;
    size_t hl = sb_auth_hexlen(c->alg);
    char ha1[SB_AUTH_HEX_MAX + 1];
    if (is_ha1) {
        if (secret.len != hl) {
            SB_WARN("auth: stored HA1 for '" SB_STR_FMT "' has %zu characters, %s needs %zu",
                    SB_STR_ARG(c->username), secret.len, sb_auth_alg_name(c->alg), hl);
            return SB_AUTH_ERROR;
        }
        for (size_t i = 0; i < hl; i++)
            ha1[i] = (char)sb_lower((unsigned char)secret.p[i]);
        ha1[hl] = '\0';
    } else if (sb_auth_ha1(c->alg, c->username, c->realm, secret, ha1) < 0) {
        return SB_AUTH_ERROR;
    }
    if (sb_auth_alg_is_sess(c->alg)) {
        char sess[SB_AUTH_HEX_MAX + 1];
        if (sb_auth_ha1_sess(c->alg, (sb_str){ha1, hl}, d->nonce, d->cnonce, sess) < 0)
            return SB_AUTH_ERROR;
        memcpy(ha1, sess, hl + 1);
    }
    struct sb_msg *m = ctx->msg;
    struct sb_auth_resp_in in = {
        .alg = c->alg,
        .ha1 = {ha1, hl},
        .nonce = d->nonce,
        .nc = d->nc,
        .cnonce = d->cnonce,
        .qop = d->qop,
        .method = sb_msg_method(m),
        .uri = d->uri,
        .body = sb_msg_span(m, m->body),
    };
    char want[SB_AUTH_HEX_MAX + 1], got[SB_AUTH_HEX_MAX];
    if (sb_auth_response(&in, want) != (int)hl)
        return SB_AUTH_ERROR;
    for (size_t i = 0; i < hl; i++)
        got[i] = (char)sb_lower((unsigned char)d->response.p[i]);
    if (CRYPTO_memcmp(want, got, hl) != 0) {
        record(ctx, NULL, false);
        return SB_AUTH_INVALID_PASSWORD;
    }
    /* the password is right: whatever is wrong with the nonce, a fresh one (stale=true) lets the UA
     * retry without asking its user (RFC7616-3.3) */
    if (c->nonce_state != SB_AUTH_NONCE_OK) {
        record(ctx, NULL, true);
        return SB_AUTH_STALE_NONCE;
    }
    int rc = sb_auth_nonce_use(c->gen, d->qop.len ? d->nc : SB_STR_NULL);
    record(ctx, rc == SB_AUTH_AUTHORIZED ? c->hdr : NULL, rc == SB_AUTH_STALE_NONCE);
    return rc;
}
