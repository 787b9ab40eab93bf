/* SPDX-License-Identifier: BSD-2-Clause */
/* Nonces that prove themselves: expiry, a replay-table generation and the algorithm, sealed with an
 * HMAC-SHA-256 under a per-start random secret (or one derived from modparam secret). The replay
 * table keeps, per generation slot, a sliding window of the nonce-counts seen (RFC 7616 §3.4's
 * replay protection), shared by every worker. Each thread keeps its own keyed HMAC context. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "auth_int.h"
#include "sb/base.h"
#include "sb/log.h"
#include "sb/tkey.h"

#define KEY_LEN  32
#define BODY_LEN 13 /* expiry (8) + generation (4) + algorithm (1) */
#define MAC_LEN  16 /* HMAC-SHA-256 truncated: 128 bits are plenty against forgery */
#define RAW_LEN  (BODY_LEN + MAC_LEN)
_Static_assert(RAW_LEN * 2 == SB_AUTH_NONCE_LEN, "nonce length");

#define N_STRIPES 64
#define WIN_BITS  64

int64_t sb__auth_clock_skew;

int64_t sb__auth_now(void)
{
    return (int64_t)time(NULL) + sb__auth_clock_skew;
}

struct slot {
    uint32_t gen;    /* the nonce that owns the slot; 0: none */
    uint32_t max_nc; /* highest nonce-count accepted; 0: never used */
    uint64_t win;    /* bit i: max_nc - i was accepted */
};

/* Initialised on first use from the parameters; <ready> is set once key and table are complete and
 * never change until sb__auth_nonce_reset (no worker running then). <key_gen> changes whenever the
 * key does, so that the per-thread HMAC contexts know when to take the new one. */
static struct {
    pthread_mutex_t init_lock;
    atomic_bool ready;
    bool stripes_made;
    atomic_uint key_gen;
    unsigned char key[KEY_LEN];
    struct slot *slots; /* NULL when the nonce check is disabled */
    uint32_t n_slots;
    pthread_mutex_t stripes[N_STRIPES]; /* slot i is guarded by stripes[i % N_STRIPES] */
    atomic_uint next_gen;
} T = {.init_lock = PTHREAD_MUTEX_INITIALIZER};

static int ensure(void)
{
    if (atomic_load_explicit(&T.ready, memory_order_acquire))
        return 0;
    int rc = 0;
    pthread_mutex_lock(&T.init_lock);
    if (atomic_load_explicit(&T.ready, memory_order_relaxed))
        goto out;
    if (!T.stripes_made) {
        for (int i = 0; i < N_STRIPES; i++)
            pthread_mutex_init(&T.stripes[i], NULL);
        T.stripes_made = true;
    }
    const char *secret = sb__auth_conf.secret;
    if (secret && *secret) {
        unsigned kl = 0;
        if (!EVP_Digest(secret, strlen(secret), T.key, &kl, EVP_sha256(), NULL) || kl != KEY_LEN) {
            rc = SB_EINVAL;
            goto out;
        }
    } else if (RAND_bytes(T.key, KEY_LEN) != 1) {
        SB_ERR("auth: no random bytes for the nonce secret");
        rc = SB_EINVAL;
        goto out;
    }
    if (!sb__auth_conf.disable_nonce_check) {
        uint32_t n = sb__auth_conf.max_nonces > 0 ? (uint32_t)sb__auth_conf.max_nonces : 1;
        T.slots = calloc(n, sizeof(*T.slots));
        if (!T.slots) {
            rc = SB_ENOMEM;
            goto out;
        }
        T.n_slots = n;
    }
    /* a random start keeps generations of a previous run from matching this run's slots */
    uint32_t start;
    if (RAND_bytes((unsigned char *)&start, sizeof(start)) != 1)
        start = (uint32_t)time(NULL);
    atomic_store(&T.next_gen, start);
    atomic_fetch_add(&T.key_gen, 1);
    atomic_store_explicit(&T.ready, true, memory_order_release);
out:
    pthread_mutex_unlock(&T.init_lock);
    return rc;
}

/* The calling thread's HMAC context, keyed with T.key as of T.key_gen == mac_gen. Freed at thread
 * exit; the main thread's lives until the process ends. */
static _Thread_local EVP_MAC_CTX *mac_ctx;
static _Thread_local unsigned mac_gen;

/* At thread exit; a seal from a later destructor makes a new one, freed in the next round. */
static void mac_free(void *p)
{
    mac_ctx = NULL;
    EVP_MAC_CTX_free(p);
}

static struct sb_tkey mac_key = SB_TKEY_INIT(mac_free);

/* Drop the calling thread's context, and the copy of the key it holds. */
static void mac_drop(void)
{
    if (!mac_ctx)
        return;
    sb_tkey_set(&mac_key, NULL);
    EVP_MAC_CTX_free(mac_ctx);
    mac_ctx = NULL;
}

void sb__auth_nonce_reset(void)
{
    pthread_mutex_lock(&T.init_lock);
    free(T.slots);
    T.slots = NULL;
    T.n_slots = 0;
    OPENSSL_cleanse(T.key, sizeof(T.key));
    atomic_fetch_add(&T.key_gen, 1);
    atomic_store(&T.ready, false);
    pthread_mutex_unlock(&T.init_lock);
    mac_drop();
}

/* The calling thread's HMAC-SHA-256 context keyed with the current secret; NULL when out of memory.
 * After ensure(). */
static EVP_MAC_CTX *mac_get(void)
{
    unsigned gen = atomic_load_explicit(&T.key_gen, memory_order_relaxed);
    if (mac_ctx && mac_gen == gen)
        return mac_ctx;
    if (!mac_ctx) {
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
            return NULL;
        EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac); /* the context holds its own reference */
        if (!c)
            return NULL;
        if (sb_tkey_set(&mac_key, c) != 0) {
            EVP_MAC_CTX_free(c);
            return NULL;
        }
        mac_ctx = c;
    }
    char md[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, md, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_init(mac_ctx, T.key, KEY_LEN, params)) {
        mac_drop();
        return NULL;
    }
    mac_gen = gen;
    return mac_ctx;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The MAC of <body> under the current secret. Returns 0, SB_ENOMEM or SB_EINVAL (OpenSSL failed).
 * After ensure(). */
static int seal(const unsigned char body[BODY_LEN], unsigned char mac[MAC_LEN])
{
    EVP_MAC_CTX *c = mac_get();
    if (!c)
        return SB_ENOMEM;
    unsigned char full[EVP_MAX_MD_SIZE];
    size_t len = 0;
    /* without a key, init starts over with the one the context already holds */
    if (!EVP_MAC_init(c, NULL, 0, NULL) || !EVP_MAC_update(c, body, BODY_LEN) ||
        !EVP_MAC_final(c, full, &len, sizeof(full)) || len < MAC_LEN) {
        mac_drop();
        return SB_EINVAL;
    }
    memcpy(mac, full, MAC_LEN);
    return 0;
}

static uint8_t norm_alg(uint8_t alg)
{
    return alg == SB_DIGEST_ALG_NONE ? SB_DIGEST_ALG_MD5 : alg;
}

int sb_auth_nonce_new(int64_t now, uint8_t alg, char out[SB_AUTH_NONCE_LEN + 1])
{
    int rc = ensure();
    if (rc < 0)
        return rc;
    uint32_t gen;
    do
        gen = atomic_fetch_add(&T.next_gen, 1);
    while (gen == 0);
    if (T.slots) {
        uint32_t i = gen % T.n_slots;
        pthread_mutex_t *l = &T.stripes[i % N_STRIPES];
        pthread_mutex_lock(l);
        T.slots[i] = (struct slot){.gen = gen};
        pthread_mutex_unlock(l);
    }
    unsigned char raw[RAW_LEN];
    put_be(raw, (uint64_t)(now + sb__auth_conf.nonce_expire), 8);
    put_be(raw + 8, gen, 4);
    raw[12] = norm_alg(alg);
    rc = seal(raw, raw + BODY_LEN);
    if (rc < 0)
        return rc;
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < RAW_LEN; i++) {
        out[2 * i] = hx[raw[i] >> 4];
        out[2 * i + 1] = hx[raw[i] & 15];
    }
    out[SB_AUTH_NONCE_LEN] = '\0';
    return 0;
}

int sb_auth_nonce_check(sb_str nonce, int64_t now, uint8_t alg, uint32_t *gen)
{
    if (ensure() < 0 || nonce.len != SB_AUTH_NONCE_LEN)
        return SB_AUTH_NONCE_INVALID;
    unsigned char raw[RAW_LEN];
    for (int i = 0; i < RAW_LEN; i++) {
        int hi = sb_hex_val((unsigned char)nonce.p[2 * i]);
        int lo = sb_hex_val((unsigned char)nonce.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return SB_AUTH_NONCE_INVALID;
        raw[i] = (unsigned char)(hi << 4 | lo);
    }
    unsigned char mac[MAC_LEN];
    if (seal(raw, mac) < 0)
        return SB_AUTH_NONCE_INVALID;
    if (CRYPTO_memcmp(mac, raw + BODY_LEN, MAC_LEN) != 0)
        return SB_AUTH_NONCE_INVALID;
    /* RFC7616-3.4: the nonce was issued for one algorithm; credentials of another do not fit */
    if (raw[12] != norm_alg(alg))
        return SB_AUTH_NONCE_INVALID;
    if (gen)
        *gen = (uint32_t)get_be(raw + 8, 4);
    int64_t expires = (int64_t)get_be(raw, 8);
    return now > expires ? SB_AUTH_NONCE_EXPIRED : SB_AUTH_NONCE_OK;
}

int sb_auth_nonce_use(uint32_t gen, sb_str nc)
{
    if (sb__auth_conf.disable_nonce_check)
        return SB_AUTH_AUTHORIZED;
    if (ensure() < 0 || !T.slots)
        return SB_AUTH_STALE_NONCE;
    uint64_t v = 0;
    if (nc.len) {
        if (nc.len != 8)
            return SB_AUTH_NONCE_REUSED;
        for (size_t i = 0; i < nc.len; i++) {
            int d = sb_hex_val((unsigned char)nc.p[i]);
            if (d < 0)
                return SB_AUTH_NONCE_REUSED;
            v = v << 4 | (unsigned)d;
        }
        if (v == 0)
            return SB_AUTH_NONCE_REUSED; /* RFC7616-3.4: the count starts at 00000001 */
    }
    uint32_t i = gen % T.n_slots;
    pthread_mutex_t *l = &T.stripes[i % N_STRIPES];
    int rc = SB_AUTH_AUTHORIZED;
    pthread_mutex_lock(l);
    struct slot *s = &T.slots[i];
    if (s->gen != gen) {
        /* the table wrapped while the nonce was still valid: a fresh challenge fixes it */
        rc = SB_AUTH_STALE_NONCE;
    } else if (!nc.len) {
        /* without a nonce-count the nonce itself must be single-use, else a sniffed request could
         * be replayed within the lifetime; the UA gets a stale challenge and answers it silently */
        if (s->max_nc)
            rc = SB_AUTH_STALE_NONCE;
        else
            s->max_nc = 1, s->win = 1;
    } else if (v > s->max_nc) {
        uint64_t shift = v - s->max_nc;
        s->win = shift >= WIN_BITS ? 1 : (s->win << shift) | 1;
        s->max_nc = (uint32_t)v;
    } else {
        uint64_t d = s->max_nc - v;
        if (d >= WIN_BITS || (s->win & (1ull << d)))
            rc = SB_AUTH_NONCE_REUSED;
        else
            s->win |= 1ull << d;
    }
    pthread_mutex_unlock(l);
    return rc;
}

int sb__auth_nonce_init(void)
{
    return ensure();
}
