/* SPDX-License-Identifier: BSD-2-Clause */
/* Digest authentication (RFC 2617, RFC 7616, RFC 8760) as the auth module provides it to the
 * credential back ends (auth_db): response computation, nonces, the two-step authorize flow and the
 * results the script sees. Implemented in src/modules/auth/; callable whether or not the script
 * loads "auth" (the parameters then keep their defaults). Worker threads unless said otherwise. */
#ifndef SB_AUTH_H
#define SB_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "sb/base-t.h"
#include "sb/hdr-t.h"
#include "sb/script-t.h"

struct sb_hdr;

/* Results of www_authorize() and friends, as OpenSIPS numbers them. */
enum sb_auth_result {
    SB_AUTH_AUTHORIZED = 1,
    SB_AUTH_USER_UNKNOWN = -1, /* no such subscriber */
    SB_AUTH_INVALID_PASSWORD =
        -2,                      /* the response does not match (or the credentials are not ours) */
    SB_AUTH_STALE_NONCE = -3,    /* right response, but the nonce expired or is not usable: the
                                    next challenge carries stale=true */
    SB_AUTH_NO_CREDENTIALS = -4, /* no credentials for the realm */
    SB_AUTH_ERROR = -5,          /* malformed credentials, unsupported algorithm, internal error;
                                    nothing was sent */
    SB_AUTH_NONCE_REUSED = -6,   /* a nonce-count seen before with this nonce: a replay */
};

/* Which pair of headers: 401 + WWW-Authenticate / Authorization, or 407 + Proxy-Authenticate /
 * Proxy-Authorization. */
enum sb_auth_kind {
    SB_AUTH_WWW = 0,
    SB_AUTH_PROXY = 1,
};

/* ---- digest computation -------------------------------------------------------------------- */

#define SB_AUTH_HEX_MAX 64 /* hex length of the longest supported hash (SHA-256, SHA-512/256) */

/* Hex length of the hash of <alg> (enum sb_digest_alg; NONE means MD5): 32 or 64; 0 when the
 * algorithm is not supported. */
size_t sb_auth_hexlen(uint8_t alg);
/* The algorithm name as written in a challenge ("MD5", "SHA-256-sess" ...); NULL if unsupported. */
const char *sb_auth_alg_name(uint8_t alg);
/* The algorithm without its "-sess" variant (SHA-256-sess -> SHA-256): selects the hash and which
 * stored HA1 fits. */
uint8_t sb_auth_alg_base(uint8_t alg);
static inline bool sb_auth_alg_is_sess(uint8_t alg)
{
    return alg == SB_DIGEST_ALG_MD5_SESS || alg == SB_DIGEST_ALG_SHA256_SESS ||
           alg == SB_DIGEST_ALG_SHA512_256_SESS;
}

/* HA1 = H(username ":" realm ":" password) in lower-case hex, NUL-terminated in <out>. Returns the
 * hex length or < 0 (unsupported algorithm). The -sess step is separate (sb_auth_ha1_sess). */
int sb_auth_ha1(uint8_t alg, sb_str user, sb_str realm, sb_str password,
                char out[SB_AUTH_HEX_MAX + 1]);
/* RFC2617-3.2.2.2 / RFC7616-3.4.2: for a -sess algorithm, H(HA1 ":" nonce ":" cnonce). */
int sb_auth_ha1_sess(uint8_t alg, sb_str ha1, sb_str nonce, sb_str cnonce,
                     char out[SB_AUTH_HEX_MAX + 1]);

/* Inputs of the request-digest. <ha1> is the final HA1 (after the -sess step). With an empty <qop>
 * the RFC 2069 form H(HA1:nonce:HA2) is used; "auth-int" hashes <body> into A2. */
struct sb_auth_resp_in {
    uint8_t alg;
    sb_str ha1, nonce, nc, cnonce, qop, method, uri, body;
};
/* The expected response in lower-case hex. Returns the hex length or < 0. */
int sb_auth_response(const struct sb_auth_resp_in *in, char out[SB_AUTH_HEX_MAX + 1]);

/* ---- nonces -------------------------------------------------------------------------------- */

/* A new nonce for a challenge with <alg>, valid for nonce_expire seconds from <now> (Unix time).
 * It carries its expiry, a slot in the replay table and an HMAC over both under the module secret,
 * so it needs no server state to be checked. Writes NUL-terminated hex into <out>. Returns 0 or <
 * 0. Any thread. */
#define SB_AUTH_NONCE_LEN 58
int sb_auth_nonce_new(int64_t now, uint8_t alg, char out[SB_AUTH_NONCE_LEN + 1]);

enum sb_auth_nonce_state {
    SB_AUTH_NONCE_OK = 0,
    SB_AUTH_NONCE_EXPIRED,
    SB_AUTH_NONCE_INVALID, /* not ours: bad length or HMAC, or issued for another algorithm */
};
/* Check a nonce's integrity and lifetime for credentials using <alg>. *gen (may be NULL) gets its
 * replay-table generation. Any thread. */
int sb_auth_nonce_check(sb_str nonce, int64_t now, uint8_t alg, uint32_t *gen);
/* Record one use of the nonce <gen> with nonce-count <nc> ("00000001"; empty when the credentials
 * carry no qop, in which case the nonce may be used once). Returns SB_AUTH_AUTHORIZED,
 * SB_AUTH_NONCE_REUSED (nc seen before or too far behind the highest one seen), or
 * SB_AUTH_STALE_NONCE (the slot was taken by a newer nonce, or a nonce without qop is reused).
 * Any thread: the table is shared, with a lock per stripe. */
int sb_auth_nonce_use(uint32_t gen, sb_str nc);

/* ---- the authorize flow -------------------------------------------------------------------- */

/* Credentials picked from a request for a realm. Views borrow from the message (or from
 * ctx->scratch for unescaped values). */
struct sb_auth_cred {
    struct sb_hdr *hdr;        /* the Authorization / Proxy-Authorization field */
    const struct sb_digest *d; /* its parsed value */
    sb_str user;               /* username, unescaped, without an "@domain" suffix */
    sb_str domain;             /* the "@domain" of the username, else the realm */
    sb_str username;           /* the whole username, unescaped (what HA1 is computed over) */
    sb_str realm;              /* the realm, unescaped */
    uint8_t alg;               /* enum sb_digest_alg; NONE is turned into MD5 */
    uint8_t nonce_state;       /* enum sb_auth_nonce_state */
    uint32_t gen;              /* replay-table generation when the nonce is valid */
    int kind;                  /* enum sb_auth_kind */
};

/* The realm to use when the script gives an empty one: the To host for a REGISTER, the From host
 * otherwise (the realm_prefix parameter stripped). p == NULL when the header cannot be parsed. */
sb_str sb_auth_default_realm(struct sb_sctx *ctx);

/* Step one: find the credentials for <realm> in the request (realm_prefix is stripped from
 * <realm>; an empty one is sb_auth_default_realm) and check their form and their nonce. Returns 0
 * with <out> filled, SB_AUTH_NO_CREDENTIALS, or SB_AUTH_ERROR (malformed credentials, an
 * unsupported algorithm or qop). Look the user up next, then call sb_auth_verify. */
int sb_auth_find(struct sb_sctx *ctx, sb_str realm, int kind, struct sb_auth_cred *out);

/* Step two: check the response against the subscriber's secret, which is a plaintext password
 * (<is_ha1> false) or the stored HA1 for the base algorithm of c->alg (in hex). Records the result
 * for consume_credentials() and for the stale flag of a later challenge of the same request.
 * Returns an enum sb_auth_result. */
int sb_auth_verify(struct sb_sctx *ctx, const struct sb_auth_cred *c, sb_str secret, bool is_ha1);

/* The credentials that sb_auth_verify authorized on the request of <ctx>, or NULL. */
struct sb_hdr *sb_auth_authorized(const struct sb_sctx *ctx);

#endif
