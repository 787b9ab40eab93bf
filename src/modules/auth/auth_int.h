/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared between the files of the auth module, and seen by its tests: the parameters, the clock,
 * the per-request result that consume_credentials() and the stale flag read. */
#ifndef SB_MOD_AUTH_INT_H
#define SB_MOD_AUTH_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sb/auth.h"
#include "sb/script-t.h"

struct sb__auth_conf {
    char *secret;            /* modparam secret; NULL: a random one per start */
    int nonce_expire;        /* seconds */
    int calculate_ha1;       /* pv_*_authorize: the password variable holds plaintext */
    int disable_nonce_check; /* no replay table: nonces are checked for integrity and age only */
    int max_nonces;          /* slots of the replay table */
    char *realm_prefix;      /* stripped from realms ("sip.") */
    char *username_spec;     /* pv_*_authorize: the variables holding the username and secret */
    char *password_spec;
};
extern struct sb__auth_conf sb__auth_conf;

/* Added to the wall clock: lets the tests age nonces without sleeping. */
extern int64_t sb__auth_clock_skew;
int64_t sb__auth_now(void);

/* Forget the secret and the replay table, so that the next use starts afresh with the current
 * parameters (module destroy, tests). Not while workers run. */
void sb__auth_nonce_reset(void);
/* Make the secret and the replay table now (module init) rather than on first use. */
int sb__auth_nonce_init(void);

/* The outcome of the last sb_auth_verify on the request being routed by this thread. */
struct sb__auth_last {
    const struct sb_msg *msg;
    const char *buf;
    uint64_t seq;
    struct sb_hdr *authorized; /* NULL unless authorized */
    bool stale;                /* the next challenge says stale=true */
};
/* The record for <ctx>'s request, or NULL when the last verify was on another request. */
const struct sb__auth_last *sb__auth_last(const struct sb_sctx *ctx);

/* What a challenge offers: qop-options (SB__AUTH_QOP_* bits; 0 for none) and the algorithms, one
 * challenge header each, in the order of preference given (RFC7616-3.7: most preferred first). */
enum {
    SB__AUTH_QOP_AUTH = 1 << 0,
    SB__AUTH_QOP_AUTH_INT = 1 << 1,
};
#define SB__AUTH_MAX_ALGS 6
struct sb__auth_chal {
    unsigned qop;
    uint8_t n_algs;
    uint8_t algs[SB__AUTH_MAX_ALGS]; /* enum sb_digest_alg */
};
/* Parse the qop argument ("auth", "auth-int", "auth,auth-int", "" or the older "1" / "0") and the
 * algorithms argument ("MD5,SHA-256", empty: MD5) into <out>. SB_EPARSE with *bad pointing at a
 * static description of the problem. */
int sb__auth_parse_qop(sb_str s, unsigned *out, const char **bad);
int sb__auth_parse_algs(sb_str s, struct sb__auth_chal *out, const char **bad);

/* Write the challenge header lines for <realm>, one per algorithm, each with a new nonce and
 * stale=true when asked. Lines end with CRLF. Returns the length written, or < 0 (SB_ENOSPC when
 * <cap> is too small). */
long sb__auth_challenge_hdrs(int kind, sb_str realm, const struct sb__auth_chal *ch, bool stale,
                             char *out, size_t cap);
/* Send the 401 / 407 with those headers for the request of <ctx> (through the transaction when
 * one exists, else statelessly), the realm defaulting as sb_auth_default_realm. Returns 0 or < 0.
 */
int sb__auth_challenge(struct sb_sctx *ctx, int kind, sb_str realm, const struct sb__auth_chal *ch);

#endif
