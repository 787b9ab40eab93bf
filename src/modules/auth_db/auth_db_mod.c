/* SPDX-License-Identifier: BSD-2-Clause */
/* auth_db: www_authorize / proxy_authorize against a subscriber table (plaintext passwords with
 * calculate_ha1, else the stored HA1 of the credentials' algorithm), extra columns loaded into
 * AVPs on success. The digest work is the auth module's (include/sb/auth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/auth.h"
#include "sb/avp.h"
#include "sb/base.h"
#include "sb/db.h"
#include "sb/log.h"
#include "sb/mod-t.h"
#include "sb/msg.h"

static struct {
    char *db_url;
    char *user_column;
    char *domain_column;
    char *password_column;
    char *hash_column;
    char *hash_column_sha256;
    char *hash_column_sha512t256;
    char *load_credentials;
    int calculate_ha1;
    int use_domain;
} conf;

#define MAX_CREDS 8

/* load_credentials, parsed at init: column -> AVP. */
static struct cred_map {
    char col[64];
    uint32_t avp;
} creds[MAX_CREDS];
static unsigned n_creds;

static const char *col_or(const char *v, const char *dflt)
{
    return v && *v ? v : dflt;
}

static bool is_ident(sb_str s)
{
    if (!s.len || s.len >= sizeof(creds[0].col))
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!sb_is_alpha((unsigned char)s.p[i]) && !sb_is_digit((unsigned char)s.p[i]) &&
            s.p[i] != '_')
            return false;
    return true;
}

/* "$avp(name)=column;column2": a bare column loads into the AVP of the same name. */
static int parse_creds(const char *spec)
{
    n_creds = 0;
    sb_str s = sb_str_cstr(spec ? spec : "");
    while (s.len) {
        long semi = sb_str_chr(s, ';');
        sb_str item = sb_str_trim((sb_str){s.p, semi < 0 ? s.len : (size_t)semi});
        s = semi < 0 ? SB_STR_NULL : (sb_str){s.p + semi + 1, s.len - (size_t)semi - 1};
        if (!item.len)
            continue;
        sb_str avp = item, col = item;
        long eq = sb_str_chr(item, '=');
        if (eq >= 0) {
            avp = sb_str_trim((sb_str){item.p, (size_t)eq});
            col = sb_str_trim((sb_str){item.p + eq + 1, item.len - (size_t)eq - 1});
            if (avp.len < 7 || memcmp(avp.p, "$avp(", 5) != 0 || avp.p[avp.len - 1] != ')')
                goto bad;
            avp = (sb_str){avp.p + 5, avp.len - 6};
        }
        if (!is_ident(col) || n_creds == MAX_CREDS)
            goto bad;
        struct cred_map *c = &creds[n_creds++];
        memcpy(c->col, col.p, col.len);
        c->col[col.len] = '\0';
        if (sb_avp_id(avp, &c->avp) < 0)
            goto bad;
    }
    return 0;
bad:
    SB_ERR("auth_db: load_credentials: cannot use '%s' (at most %d items of "
           "\"$avp(name)=column\" or \"column\")",
           spec, MAX_CREDS);
    return SB_EINVAL;
}

/* ---- the credential source ----------------------------------------------------------------- */

/* One connection per thread: a handle must not be shared. */
static _Thread_local struct sb_db *tconn;

static struct sb_db *conn(void)
{
    if (tconn)
        return tconn;
    if (!conf.db_url || !*conf.db_url) {
        SB_ERR("auth_db: db_url is not set");
        return NULL;
    }
    char err[256];
    if (sb_db_open(conf.db_url, &tconn, err, sizeof(err)) != 0) {
        SB_ERR("auth_db: %s", err);
        tconn = NULL;
    }
    return tconn;
}

static void conn_close(void)
{
    sb_db_close(tconn);
    tconn = NULL;
}

/* The subscriber's secret for <c>: the plaintext password or the stored HA1 of the algorithm's
 * hash. Returns 1 found, 0 no such user, < 0 error. *res is the row's result, freed by the caller.
 */
static int lookup(const char *table, const struct sb_auth_cred *c, struct sb_db_res **res,
                  sb_str *secret)
{
    struct sb_db *db = conn();
    if (!db)
        return SB_EAGAIN;
    const char *cols[1 + MAX_CREDS];
    unsigned n = 0;
    if (conf.calculate_ha1) {
        cols[n++] = col_or(conf.password_column, "password");
    } else {
        switch (sb_auth_alg_base(c->alg)) {
        case SB_DIGEST_ALG_SHA256: cols[n++] = col_or(conf.hash_column_sha256, "ha1_sha256"); break;
        case SB_DIGEST_ALG_SHA512_256:
            cols[n++] = col_or(conf.hash_column_sha512t256, "ha1_sha512t256");
            break;
        default: cols[n++] = col_or(conf.hash_column, "ha1"); break;
        }
    }
    for (unsigned i = 0; i < n_creds; i++)
        cols[n++] = creds[i].col;
    struct sb_db_cond where[2] = {
        {.col = col_or(conf.user_column, "username"), .op = SB_DB_EQ, .val = SB_DB_VSTR(c->user)},
        {.col = col_or(conf.domain_column, "domain"), .op = SB_DB_EQ, .val = SB_DB_VSTR(c->domain)},
    };
    struct sb_db_query q = {
        .table = table,
        .cols = cols,
        .n_cols = n,
        .where = where,
        .n_where = conf.use_domain ? 2 : 1,
        .limit = 1,
    };
    int rc = sb_db_select(db, &q, res);
    if (rc < 0) {
        SB_ERR("auth_db: query on '%s' failed: %s", table, sb_db_errmsg(db));
        if (sb_db_err_is_retryable(rc))
            conn_close();
        return rc;
    }
    if (!(*res)->n_rows)
        return 0;
    *secret = sb_db_val_str(sb_db_res_at(*res, 0, 0));
    return 1;
}

static void load_avps(struct sb_sctx *ctx, const struct sb_db_res *r)
{
    for (unsigned i = 0; i < n_creds && ctx->avps; i++) {
        const struct sb_db_val *v = sb_db_res_at(r, 0, 1 + i);
        struct sb_val sv;
        switch (v->type) {
        case SB_DB_NULL: continue;
        case SB_DB_INT:
        case SB_DB_BIGINT:
            sv = (struct sb_val){.type = SB_VAL_INT, .i = (int32_t)sb_db_val_int(v, 0)};
            break;
        case SB_DB_STR:
        case SB_DB_BLOB: sv = (struct sb_val){.type = SB_VAL_STR, .s = v->v.s}; break;
        default: continue;
        }
        if (sb_avps_push(ctx->avps, creds[i].avp, &sv) < 0)
            SB_WARN("auth_db: cannot store column '%s' in its AVP", creds[i].col);
    }
}

static sb_res authorize(struct sb_sctx *ctx, const struct sb_arg *a, int kind)
{
    char table[64];
    sb_str t = a[1].v.s;
    if (!is_ident(t)) {
        SB_ERR("auth_db: bad table name '" SB_STR_FMT "'", SB_STR_ARG(t));
        return sb_res_code(SB_AUTH_ERROR);
    }
    memcpy(table, t.p, t.len);
    table[t.len] = '\0';

    struct sb_auth_cred c;
    int rc = sb_auth_find(ctx, a[0].v.s, kind, &c);
    if (rc != 0)
        return sb_res_code(rc);
    struct sb_db_res *res = NULL;
    sb_str secret = SB_STR_NULL;
    int found = lookup(table, &c, &res, &secret);
    if (found < 0) {
        rc = SB_AUTH_ERROR;
    } else if (found == 0) {
        SB_DEBUG("auth_db: no subscriber '" SB_STR_FMT "'", SB_STR_ARG(c.username));
        rc = SB_AUTH_USER_UNKNOWN;
    } else if (!secret.len) {
        SB_WARN("auth_db: subscriber '" SB_STR_FMT "' has no %s for %s", SB_STR_ARG(c.username),
                conf.calculate_ha1 ? "password" : "HA1", sb_auth_alg_name(c.alg));
        rc = SB_AUTH_ERROR;
    } else {
        rc = sb_auth_verify(ctx, &c, secret, !conf.calculate_ha1);
        if (rc == SB_AUTH_AUTHORIZED)
            load_avps(ctx, res);
    }
    sb_db_res_free(res);
    return sb_res_code(rc);
}

static sb_res w_www_authorize(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return authorize(ctx, a, SB_AUTH_WWW);
}

static sb_res w_proxy_authorize(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return authorize(ctx, a, SB_AUTH_PROXY);
}

#define AUTHORIZE_ARGS                                                                             \
    .n_args = 2, .args = {{.kind = SB_ARG_STR}, {.kind = SB_ARG_STR}},                             \
    .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE

static const struct sb_mod_fn fns[] = {
    {.name = "www_authorize", .fn = w_www_authorize, AUTHORIZE_ARGS},
    {.name = "proxy_authorize", .fn = w_proxy_authorize, AUTHORIZE_ARGS},
    {.name = NULL},
};

#define P_STR(n)                                                                                   \
    {                                                                                              \
        .name = #n, .type = SB_MP_STR, .offset = offsetof(__typeof__(conf), n)                     \
    }
#define P_INT(n)                                                                                   \
    {                                                                                              \
        .name = #n, .type = SB_MP_INT, .offset = offsetof(__typeof__(conf), n)                     \
    }

static const struct sb_mod_param params[] = {
    P_STR(db_url),
    P_STR(user_column),
    P_STR(domain_column),
    P_STR(password_column),
    P_STR(hash_column),
    P_STR(hash_column_sha256),
    P_STR(hash_column_sha512t256),
    P_STR(load_credentials),
    P_INT(calculate_ha1),
    P_INT(use_domain),
    {.name = NULL},
};

static int mod_init(void)
{
    if (parse_creds(conf.load_credentials) < 0)
        return SB_EINVAL;
    if (!conf.db_url || !*conf.db_url) {
        SB_ERR("auth_db: modparam(\"auth_db\", \"db_url\", ...) is required");
        return SB_EINVAL;
    }
    return 0;
}

static int mod_init_worker(unsigned worker)
{
    (void)worker;
    /* open now so that a wrong URL shows at start; a lost server is retried per request */
    if (!conn())
        SB_WARN("auth_db: no database connection yet; will retry on each request");
    return 0;
}

static void mod_exit_worker(unsigned worker)
{
    (void)worker;
    conn_close();
}

static void mod_destroy(void)
{
    conn_close();
}

static const char *const deps[] = {"auth", NULL};

const struct sb_module sb_module_auth_db = {
    .name = "auth_db",
    .summary = "Digest authorization against a subscriber table",
    .deps = deps,
    .conf = &conf,
    .params = params,
    .fns = fns,
    .init = mod_init,
    .init_worker = mod_init_worker,
    .exit_worker = mod_exit_worker,
    .destroy = mod_destroy,
};
