/* SPDX-License-Identifier: BSD-2-Clause */
/* auth: digest challenges (www_challenge, proxy_challenge), consume_credentials, the nonce
 * parameters, and the $adu / $auth.* variables. The credential back ends (auth_db) verify through
 * include/sb/auth.h. */
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"
#include "sb/diag.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"

struct sb__auth_conf sb__auth_conf = {
    .nonce_expire = 30,
    .max_nonces = 100000,
};

static int set_positive(const struct sb_val *v, const char **err, int *dst, const char *what)
{
    if (v->i <= 0) {
        *err = what;
        return -1;
    }
    *dst = v->i;
    return 0;
}

static int set_nonce_expire(const struct sb_val *v, const char **err)
{
    return set_positive(v, err, &sb__auth_conf.nonce_expire, "nonce_expire must be positive");
}

static int set_max_nonces(const struct sb_val *v, const char **err)
{
    return set_positive(v, err, &sb__auth_conf.max_nonces, "max_nonces must be positive");
}

#define CONF_OFF(f) offsetof(struct sb__auth_conf, f)

static const struct sb_mod_param params[] = {
    {.name = "secret", .type = SB_MP_STR, .offset = CONF_OFF(secret)},
    {.name = "nonce_expire",
     .type = SB_MP_FUNC,
     .accepts = 1 << SB_VAL_INT,
     .set = set_nonce_expire},
    {.name = "max_nonces", .type = SB_MP_FUNC, .accepts = 1 << SB_VAL_INT, .set = set_max_nonces},
    {.name = "calculate_ha1", .type = SB_MP_INT, .offset = CONF_OFF(calculate_ha1)},
    {.name = "disable_nonce_check", .type = SB_MP_INT, .offset = CONF_OFF(disable_nonce_check)},
    {.name = "realm_prefix", .type = SB_MP_STR, .offset = CONF_OFF(realm_prefix)},
    {.name = NULL},
};

/* ---- challenges ---------------------------------------------------------------------------- */

static int fix_qop(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    struct sb__auth_chal *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return SB_ENOMEM;
    const char *bad = NULL;
    int rc = 0;
    if (in->type == SB_VAL_INT)
        ch->qop = in->i ? SB__AUTH_QOP_AUTH : 0;
    else
        rc = sb__auth_parse_qop(in->s, &ch->qop, &bad);
    if (rc < 0) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "argument %u of '%s': %s", fx->arg_no,
                      fx->fn_name, bad);
        free(ch);
        return rc;
    }
    *out = ch;
    return 0;
}

static int fix_algs(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    struct sb__auth_chal *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return SB_ENOMEM;
    const char *bad = NULL;
    if (sb__auth_parse_algs(in->s, ch, &bad) < 0) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "argument %u of '%s': %s", fx->arg_no,
                      fx->fn_name, bad);
        free(ch);
        return SB_EPARSE;
    }
    *out = ch;
    return 0;
}

static sb_res challenge(struct sb_sctx *ctx, const struct sb_arg *a, int kind)
{
    struct sb__auth_chal ch = {0};
    const char *bad = NULL;
    if (a[1].present) {
        if (a[1].fixed)
            ch.qop = ((const struct sb__auth_chal *)a[1].fixed)->qop;
        else if (a[1].v.type == SB_VAL_INT)
            ch.qop = a[1].v.i ? SB__AUTH_QOP_AUTH : 0;
        else if (sb__auth_parse_qop(a[1].v.s, &ch.qop, &bad) < 0)
            goto bad_arg;
    }
    if (a[2].present && a[2].fixed) {
        const struct sb__auth_chal *f = a[2].fixed;
        ch.n_algs = f->n_algs;
        memcpy(ch.algs, f->algs, sizeof(ch.algs));
    } else if (sb__auth_parse_algs(a[2].present ? a[2].v.s : SB_STR_NULL, &ch, &bad) < 0) {
        goto bad_arg;
    }
    if (sb__auth_challenge(ctx, kind, a[0].v.s, &ch) < 0)
        return sb_res_code(-1);
    return sb_res_code(1);
bad_arg:
    SB_ERR("auth: %s_challenge: %s", kind == SB_AUTH_PROXY ? "proxy" : "www", bad);
    return sb_res_code(-1);
}

static sb_res w_www_challenge(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return challenge(ctx, a, SB_AUTH_WWW);
}

static sb_res w_proxy_challenge(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return challenge(ctx, a, SB_AUTH_PROXY);
}

/* Remove the credentials this proxy authorized, so that they do not travel downstream. */
static sb_res w_consume_credentials(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)a;
    struct sb_hdr *h = sb_auth_authorized(ctx);
    if (!h) {
        if (ctx->msg && ctx->msg->method_id != SB_METHOD_ACK &&
            ctx->msg->method_id != SB_METHOD_CANCEL)
            SB_WARN("auth: consume_credentials: no authorized credentials on this request");
        return sb_res_code(-1);
    }
    if (sb_msg_hdr_remove(ctx->msg, h) < 0)
        return sb_res_code(-1);
    return sb_res_code(1);
}

#define CHALLENGE_ARGS                                                                             \
    .n_args = 3,                                                                                   \
    .args = {{.kind = SB_ARG_STR},                                                                 \
             {.kind = SB_ARG_ANY, .flags = SB_ARGF_OPT, .fixup = fix_qop, .free_fixup = free},     \
             {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT, .fixup = fix_algs, .free_fixup = free}},   \
    .routes = SB_ROUTE_REQUEST

static const struct sb_mod_fn fns[] = {
    {.name = "www_challenge", .fn = w_www_challenge, CHALLENGE_ARGS},
    {.name = "proxy_challenge", .fn = w_proxy_challenge, CHALLENGE_ARGS},
    {.name = "consume_credentials",
     .fn = w_consume_credentials,
     .n_args = 0,
     .routes = SB_ROUTE_REQUEST},
    {.name = NULL},
};

/* ---- variables ----------------------------------------------------------------------------- */

enum { PV_ADU, PV_RESP, PV_NONCE, PV_OPAQUE, PV_ALG, PV_QOP, PV_NC };

static int get_cred(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out);

static const struct sb_pv_def pvs[] = {
    [PV_ADU] = {.name = "adu", .routes = SB_ROUTE_MSG, .get = get_cred},
    [PV_RESP] = {.name = "auth.resp", .routes = SB_ROUTE_MSG, .get = get_cred},
    [PV_NONCE] = {.name = "auth.nonce", .routes = SB_ROUTE_MSG, .get = get_cred},
    [PV_OPAQUE] = {.name = "auth.opaque", .routes = SB_ROUTE_MSG, .get = get_cred},
    [PV_ALG] = {.name = "auth.alg", .routes = SB_ROUTE_MSG, .get = get_cred},
    [PV_QOP] = {.name = "auth.qop", .routes = SB_ROUTE_MSG, .get = get_cred},
    [PV_NC] = {.name = "auth.nc", .routes = SB_ROUTE_MSG, .get = get_cred},
    {.name = NULL},
};

/* The same credentials as $au, $ar and $an read: the first Authorization, else the first
 * Proxy-Authorization. An absent field reads as NULL. */
static int get_cred(struct sb_sctx *ctx, const struct sb_pv *pv, int32_t idx, struct sb_val *out)
{
    (void)idx;
    *out = (struct sb_val){.type = SB_VAL_NULL};
    struct sb_msg *m = ctx->msg;
    if (!m)
        return 0;
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_AUTHORIZATION);
    if (!h)
        h = sb_msg_hdr_first(m, SB_HDR_PROXY_AUTHORIZATION);
    const struct sb_digest *d = h ? sb_msg_hdr_parsed(m, h) : NULL;
    if (!d)
        return 0;
    sb_str v;
    switch (pv->def - pvs) {
    case PV_ADU: v = d->uri; break;
    case PV_RESP: v = d->response; break;
    case PV_NONCE: v = d->nonce; break;
    case PV_OPAQUE: v = d->opaque; break;
    case PV_ALG: v = d->algorithm; break;
    case PV_QOP: v = d->qop; break;
    default: v = d->nc; break;
    }
    if (v.p)
        *out = (struct sb_val){.type = SB_VAL_STR, .s = v};
    return 0;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static int mod_init(void)
{
    /* the random secret and the shared replay table exist before any worker can ask for them */
    int rc = sb__auth_nonce_init();
    if (rc < 0)
        SB_ERR("auth: cannot set up the nonce secret and replay table (%d)", rc);
    return rc;
}

static void mod_destroy(void)
{
    sb__auth_nonce_reset();
}

const struct sb_module sb_module_auth = {
    .name = "auth",
    .summary = "Digest authentication: challenges, nonces, replay protection",
    .conf = &sb__auth_conf,
    .params = params,
    .fns = fns,
    .pvs = pvs,
    .init = mod_init,
    .destroy = mod_destroy,
};
