/* SPDX-License-Identifier: BSD-2-Clause */
/* Digest arithmetic: HA1, the -sess step and the request-digest for MD5, SHA-256 and SHA-512/256
 * (RFC 2617 §3.2.2, RFC 7616 §3.4, RFC 8760 §2). */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "sb/auth.h"
#include "sb/base.h"
#include "sb/tkey.h"

/* The hash implementations, fetched once: EVP_md5() and friends would be looked up again by every
 * EVP_DigestInit_ex. They stay until the process ends. */
enum { MD_MD5, MD_SHA256, MD_SHA512_256, N_MDS };
static EVP_MD *mds[N_MDS];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void mds_fetch(void)
{
    static const char *const names[N_MDS] = {"MD5", "SHA256", "SHA512-256"};
    for (int i = 0; i < N_MDS; i++)
        mds[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

static const EVP_MD *alg_md(uint8_t alg)
{
    pthread_once(&mds_once, mds_fetch);
    switch (sb_auth_alg_base(alg)) {
    case SB_DIGEST_ALG_MD5: return mds[MD_MD5];
    case SB_DIGEST_ALG_SHA256: return mds[MD_SHA256];
    case SB_DIGEST_ALG_SHA512_256: return mds[MD_SHA512_256];
    default: return NULL;
    }
}

/* The calling thread's digest context, reused by every hash; freed at thread exit. */
static _Thread_local EVP_MD_CTX *md_ctx;

/* At thread exit; a hash from a later destructor makes a new one (freed in the next round). */
static void md_free(void *p)
{
    md_ctx = NULL;
    EVP_MD_CTX_free(p);
}

static struct sb_tkey md_key = SB_TKEY_INIT(md_free);

static EVP_MD_CTX *md_get(void)
{
    if (md_ctx)
        return md_ctx;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        return NULL;
    if (sb_tkey_set(&md_key, c) != 0) {
        EVP_MD_CTX_free(c);
        return NULL;
    }
    md_ctx = c;
    return c;
}

uint8_t sb_auth_alg_base(uint8_t alg)
{
    switch (alg) {
    case SB_DIGEST_ALG_NONE:
    case SB_DIGEST_ALG_MD5:
    case SB_DIGEST_ALG_MD5_SESS: return SB_DIGEST_ALG_MD5;
    case SB_DIGEST_ALG_SHA256:
    case SB_DIGEST_ALG_SHA256_SESS: return SB_DIGEST_ALG_SHA256;
    case SB_DIGEST_ALG_SHA512_256:
    case SB_DIGEST_ALG_SHA512_256_SESS: return SB_DIGEST_ALG_SHA512_256;
    default: return SB_DIGEST_ALG_OTHER;
    }
}

size_t sb_auth_hexlen(uint8_t alg)
{
    switch (sb_auth_alg_base(alg)) {
    case SB_DIGEST_ALG_MD5: return 32;
    case SB_DIGEST_ALG_SHA256:
    case SB_DIGEST_ALG_SHA512_256: return 64;
    default: return 0;
    }
}

const char *sb_auth_alg_name(uint8_t alg)
{
    switch (alg) {
    case SB_DIGEST_ALG_NONE:
    case SB_DIGEST_ALG_MD5: return "MD5";
    case SB_DIGEST_ALG_MD5_SESS: return "MD5-sess";
    case SB_DIGEST_ALG_SHA256: return "SHA-256";
    case SB_DIGEST_ALG_SHA256_SESS: return "SHA-256-sess";
    case SB_DIGEST_ALG_SHA512_256: return "SHA-512-256";
    case SB_DIGEST_ALG_SHA512_256_SESS: return "SHA-512-256-sess";
    default: return NULL;
    }
}

/* H(p[0] ":" p[1] ":" ... ) in lower-case hex. */
static int hash_hex(uint8_t alg, const sb_str *parts, size_t n, char out[SB_AUTH_HEX_MAX + 1])
{
    const EVP_MD *md = alg_md(alg);
    if (!md)
        return SB_EINVAL;
    EVP_MD_CTX *c = md_get();
    if (!c)
        return SB_ENOMEM;
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    int ok = EVP_DigestInit_ex2(c, md, NULL);
    for (size_t i = 0; ok && i < n; i++) {
        if (i)
            ok = EVP_DigestUpdate(c, ":", 1);
        if (ok && parts[i].len)
            ok = EVP_DigestUpdate(c, parts[i].p, parts[i].len);
    }
    if (ok)
        ok = EVP_DigestFinal_ex(c, h, &hl);
    if (!ok)
        EVP_MD_CTX_reset(c); /* a failure leaves no half-done state for the next hash */
    if (!ok || hl * 2 > SB_AUTH_HEX_MAX)
        return SB_EINVAL;
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < hl; i++) {
        out[2 * i] = hx[h[i] >> 4];
        out[2 * i + 1] = hx[h[i] & 15];
    }
    out[2 * hl] = '\0';
    return (int)(2 * hl);
}

int sb_auth_ha1(uint8_t alg, sb_str user, sb_str realm, sb_str password,
                char out[SB_AUTH_HEX_MAX + 1])
{
    sb_str parts[] = {user, realm, password};
    return hash_hex(alg, parts, 3, out);
}

int sb_auth_ha1_sess(uint8_t alg, sb_str ha1, sb_str nonce, sb_str cnonce,
                     char out[SB_AUTH_HEX_MAX + 1])
{
    sb_str parts[] = {ha1, nonce, cnonce};
    return hash_hex(alg, parts, 3, out);
}

int sb_auth_response(const struct sb_auth_resp_in *in, char out[SB_AUTH_HEX_MAX + 1])
{
    char ha2[SB_AUTH_HEX_MAX + 1];
    int rc;
    if (sb_str_caseeq_lit(in->qop, "auth-int")) {
        /* RFC2617-3.2.2.3: A2 = Method ":" digest-uri-value ":" H(entity-body) */
        char hb[SB_AUTH_HEX_MAX + 1];
        rc = hash_hex(in->alg, &in->body, 1, hb);
        if (rc < 0)
            return rc;
        sb_str a2[] = {in->method, in->uri, {hb, (size_t)rc}};
        rc = hash_hex(in->alg, a2, 3, ha2);
    } else {
        sb_str a2[] = {in->method, in->uri};
        rc = hash_hex(in->alg, a2, 2, ha2);
    }
    if (rc < 0)
        return rc;
    sb_str h2 = {ha2, (size_t)rc};
    if (!in->qop.len) {
        /* RFC2617-3.2.2.1: the RFC 2069 compatible form */
        sb_str parts[] = {in->ha1, in->nonce, h2};
        return hash_hex(in->alg, parts, 3, out);
    }
    sb_str parts[] = {in->ha1, in->nonce, in->nc, in->cnonce, in->qop, h2};
    return hash_hex(in->alg, parts, 6, out);
}
