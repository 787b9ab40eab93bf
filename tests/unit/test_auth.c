/* SPDX-License-Identifier: BSD-2-Clause */
/* auth and auth_db: the digest arithmetic against the RFC examples, nonces (integrity, expiry,
 * replay by nonce-count), the challenge header text, and www_authorize / proxy_authorize run from a
 * script against a SQLite subscriber table, with every result code. Expected responses are
 * computed here with OpenSSL directly, not with the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../src/modules/auth/auth_int.h"
#include "sb/auth.h"
#include "sb/avp.h"
#include "sb/db.h"
#include "sb/hdr.h"
#include "sb/mod.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"

extern const struct sb_module sb_module_auth_db;

/* ---- independent digest helpers ------------------------------------------------------------ */

static void hexhash(const EVP_MD *md, const char *s, char *out)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    assert_int_equal(EVP_Digest(s, strlen(s), h, &n, md, NULL), 1);
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

/* response = H(H(user:realm:pw):nonce:nc:cnonce:qop:H(method:uri)), or without qop
 * H(HA1:nonce:HA2). */
static void expect_resp(const EVP_MD *md, const char *user, const char *realm, const char *pw,
                        const char *nonce, const char *nc, const char *cnonce, const char *qop,
                        const char *method, const char *uri, char *out)
{
    char buf[1024], ha1[129], ha2[129];
    snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, pw);
    hexhash(md, buf, ha1);
    snprintf(buf, sizeof(buf), "%s:%s", method, uri);
    hexhash(md, buf, ha2);
    if (qop && *qop)
        snprintf(buf, sizeof(buf), "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
    else
        snprintf(buf, sizeof(buf), "%s:%s:%s", ha1, nonce, ha2);
    hexhash(md, buf, out);
}

/* ---- the RFC examples ---------------------------------------------------------------------- */

/* RFC 2617 §3.5 */
/* RFC 2617 §3.5: the example's HA1 written to <ha1> (its length returned in *<n>), and the
 * request whose response the RFC gives. */
static struct sb_auth_resp_in rfc2617_example(char ha1[SB_AUTH_HEX_MAX + 1], int *n)
{
    *n = sb_auth_ha1(SB_DIGEST_ALG_MD5, SB_STR("Mufasa"), SB_STR("testrealm@host.com"),
                     SB_STR("Circle Of Life"), ha1);
    return (struct sb_auth_resp_in){
        .alg = SB_DIGEST_ALG_MD5,
        .ha1 = {ha1, 32},
        .nonce = SB_STR("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
        .nc = SB_STR("00000001"),
        .cnonce = SB_STR("0a4f113b"),
        .qop = SB_STR("auth"),
        .method = SB_STR("GET"),
        .uri = SB_STR("/dir/index.html"),
    };
}

static void test_rfc2617_example(void **state)
{
    (void)state;
    char ha1[SB_AUTH_HEX_MAX + 1], resp[SB_AUTH_HEX_MAX + 1];
    int n = 0;
    struct sb_auth_resp_in in = rfc2617_example(ha1, &n);
    assert_int_equal(n, 32);
    assert_int_equal(sb_auth_response(&in, resp), 32);
    assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
    /* a NONE algorithm (no parameter) is MD5 */
    in.alg = SB_DIGEST_ALG_NONE;
    assert_int_equal(sb_auth_response(&in, resp), 32);
    assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}

/* RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5. */
static void test_rfc7616_example(void **state)
{
    (void)state;
    struct {
        uint8_t alg;
        const char *want;
    } cases[] = {
        {SB_DIGEST_ALG_SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
        {SB_DIGEST_ALG_MD5, "8ca523f5e9506fed4657c9700eebdbec"},
    };
    for (size_t i = 0; i < 2; i++) {
        char ha1[SB_AUTH_HEX_MAX + 1], resp[SB_AUTH_HEX_MAX + 1];
        int n = sb_auth_ha1(cases[i].alg, SB_STR("Mufasa"), SB_STR("http-auth@example.org"),
                            SB_STR("Circle of Life"), ha1);
        assert_int_equal(n, (int)sb_auth_hexlen(cases[i].alg));
        struct sb_auth_resp_in in = {
            .alg = cases[i].alg,
            .ha1 = {ha1, (size_t)n},
            .nonce = SB_STR("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
            .nc = SB_STR("00000001"),
            .cnonce = SB_STR("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
            .qop = SB_STR("auth"),
            .method = SB_STR("GET"),
            .uri = SB_STR("/dir/index.html"),
        };
        assert_int_equal(sb_auth_response(&in, resp), n);
        assert_string_equal(resp, cases[i].want);
    }
}

/* The RFC 2069 form, auth-int, -sess and SHA-512/256 against the formulas computed here. */
static void test_other_forms(void **state)
{
    (void)state;
    char ha1[SB_AUTH_HEX_MAX + 1], resp[SB_AUTH_HEX_MAX + 1], want[129], buf[512], hb[129],
        ha2[129], sess[129];
    sb_auth_ha1(SB_DIGEST_ALG_MD5, SB_STR("bob"), SB_STR("r"), SB_STR("pw"), ha1);
    struct sb_auth_resp_in in = {.alg = SB_DIGEST_ALG_MD5,
                                 .ha1 = {ha1, 32},
                                 .nonce = SB_STR("n1"),
                                 .method = SB_STR("INVITE"),
                                 .uri = SB_STR("sip:a@b")};
    sb_auth_response(&in, resp);
    expect_resp(EVP_md5(), "bob", "r", "pw", "n1", "", "", "", "INVITE", "sip:a@b", want);
    assert_string_equal(resp, want);

    /* auth-int: A2 = method:uri:H(body) */
    in.qop = SB_STR("auth-int"), in.nc = SB_STR("00000002"), in.cnonce = SB_STR("c");
    in.body = SB_STR("v=0\r\n");
    sb_auth_response(&in, resp);
    hexhash(EVP_md5(), "v=0\r\n", hb);
    snprintf(buf, sizeof(buf), "INVITE:sip:a@b:%s", hb);
    hexhash(EVP_md5(), buf, ha2);
    snprintf(buf, sizeof(buf), "%s:n1:00000002:c:auth-int:%s", ha1, ha2);
    hexhash(EVP_md5(), buf, want);
    assert_string_equal(resp, want);

    /* MD5-sess: HA1' = H(HA1:nonce:cnonce) */
    assert_int_equal(sb_auth_ha1_sess(SB_DIGEST_ALG_MD5_SESS, (sb_str){ha1, 32}, SB_STR("n1"),
                                      SB_STR("c"), sess),
                     32);
    snprintf(buf, sizeof(buf), "%s:n1:c", ha1);
    hexhash(EVP_md5(), buf, want);
    assert_string_equal(sess, want);

    /* SHA-512/256 */
    assert_int_equal(
        sb_auth_ha1(SB_DIGEST_ALG_SHA512_256_SESS, SB_STR("bob"), SB_STR("r"), SB_STR("pw"), ha1),
        64);
    hexhash(EVP_sha512_256(), "bob:r:pw", want);
    assert_string_equal(ha1, want);

    assert_true(sb_auth_ha1(SB_DIGEST_ALG_OTHER, SB_STR("a"), SB_STR("b"), SB_STR("c"), ha1) < 0);
    assert_int_equal(sb_auth_hexlen(SB_DIGEST_ALG_OTHER), 0);
}

/* ---- nonces -------------------------------------------------------------------------------- */

static int nonce_setup(void **state)
{
    (void)state;
    sb__auth_conf.nonce_expire = 30;
    sb__auth_conf.max_nonces = 1000;
    sb__auth_conf.disable_nonce_check = 0;
    sb__auth_clock_skew = 0;
    sb__auth_nonce_reset();
    return 0;
}

static void test_nonce_integrity(void **state)
{
    (void)state;
    char n[SB_AUTH_NONCE_LEN + 1];
    int64_t now = 1700000000;
    assert_int_equal(sb_auth_nonce_new(now, SB_DIGEST_ALG_MD5, n), 0);
    assert_int_equal(strlen(n), SB_AUTH_NONCE_LEN);
    sb_str s = {n, SB_AUTH_NONCE_LEN};
    uint32_t gen = 0;
    assert_int_equal(sb_auth_nonce_check(s, now, SB_DIGEST_ALG_MD5, &gen), SB_AUTH_NONCE_OK);
    assert_int_not_equal(gen, 0);
    /* credentials without an algorithm parameter are MD5 */
    assert_int_equal(sb_auth_nonce_check(s, now + 30, SB_DIGEST_ALG_NONE, NULL), SB_AUTH_NONCE_OK);
    assert_int_equal(sb_auth_nonce_check(s, now + 31, SB_DIGEST_ALG_MD5, NULL),
                     SB_AUTH_NONCE_EXPIRED);
    /* issued for MD5: SHA-256 credentials over it do not fit */
    assert_int_equal(sb_auth_nonce_check(s, now, SB_DIGEST_ALG_SHA256, NULL),
                     SB_AUTH_NONCE_INVALID);
    /* every single changed character breaks it: the expiry, the generation, the MAC */
    for (size_t i = 0; i < SB_AUTH_NONCE_LEN; i++) {
        char t[SB_AUTH_NONCE_LEN + 1];
        memcpy(t, n, sizeof(t));
        t[i] = t[i] == '0' ? '1' : '0';
        assert_int_equal(
            sb_auth_nonce_check((sb_str){t, SB_AUTH_NONCE_LEN}, now, SB_DIGEST_ALG_MD5, NULL),
            SB_AUTH_NONCE_INVALID);
    }
    assert_int_equal(sb_auth_nonce_check((sb_str){n, 20}, now, SB_DIGEST_ALG_MD5, NULL),
                     SB_AUTH_NONCE_INVALID);
    /* another start (a new random secret) does not know it */
    sb__auth_nonce_reset();
    assert_int_equal(sb_auth_nonce_check(s, now, SB_DIGEST_ALG_MD5, NULL), SB_AUTH_NONCE_INVALID);
    /* a configured secret survives a restart */
    sb__auth_conf.secret = "shared";
    sb__auth_nonce_reset();
    assert_int_equal(sb_auth_nonce_new(now, SB_DIGEST_ALG_SHA256, n), 0);
    sb__auth_nonce_reset();
    assert_int_equal(sb_auth_nonce_check(s, now, SB_DIGEST_ALG_SHA256, NULL), SB_AUTH_NONCE_OK);
    sb__auth_conf.secret = NULL;
    sb__auth_nonce_reset();
}

/* Nonces written out by hand: expiry 1700000030, generation, algorithm byte, then the first 16
 * bytes of HMAC-SHA-256(SHA-256("s3cret"), those 13 bytes), computed outside this code base. */
static void test_nonce_known_vectors(void **state)
{
    (void)state;
    sb__auth_conf.secret = "s3cret";
    sb__auth_nonce_reset();
    static const char md5_gen01020304[] =
        "000000006553f11e0102030401bd9e838eef6d90fcb8b014d0e378d68b";
    static const char sha256_gendeadbeef[] =
        "000000006553f11edeadbeef03ee3443588664b8f078181c54c6daf339";
    uint32_t gen = 0;
    assert_int_equal(sb_auth_nonce_check((sb_str){md5_gen01020304, SB_AUTH_NONCE_LEN}, 1700000000,
                                         SB_DIGEST_ALG_MD5, &gen),
                     SB_AUTH_NONCE_OK);
    assert_int_equal(gen, 0x01020304);
    assert_int_equal(sb_auth_nonce_check((sb_str){sha256_gendeadbeef, SB_AUTH_NONCE_LEN},
                                         1700000030, SB_DIGEST_ALG_SHA256, &gen),
                     SB_AUTH_NONCE_OK);
    assert_int_equal(gen, 0xdeadbeef);
    /* the same bytes under another secret are forgeries */
    sb__auth_conf.secret = "s3creT";
    sb__auth_nonce_reset();
    assert_int_equal(sb_auth_nonce_check((sb_str){md5_gen01020304, SB_AUTH_NONCE_LEN}, 1700000000,
                                         SB_DIGEST_ALG_MD5, NULL),
                     SB_AUTH_NONCE_INVALID);
    sb__auth_conf.secret = NULL;
    sb__auth_nonce_reset();
}

/* <n> was sealed under the secret <secret>: the MAC recomputed here with OpenSSL's one-shot HMAC,
 * the body with the expiry and algorithm asked for. */
static void assert_sealed(const char *n, const char *secret, int64_t expires, uint8_t alg)
{
    unsigned char raw[SB_AUTH_NONCE_LEN / 2], key[32], mac[EVP_MAX_MD_SIZE];
    for (int i = 0; i < SB_AUTH_NONCE_LEN / 2; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(n + 2 * i, "%2x", &v), 1);
        raw[i] = (unsigned char)v;
    }
    uint64_t e = 0;
    for (int i = 0; i < 8; i++)
        e = e << 8 | raw[i];
    assert_int_equal(e, (uint64_t)expires);
    assert_int_equal(raw[12], alg);
    unsigned kl = 0, ml = 0;
    assert_int_equal(EVP_Digest(secret, strlen(secret), key, &kl, EVP_sha256(), NULL), 1);
    assert_non_null(HMAC(EVP_sha256(), key, (int)kl, raw, 13, mac, &ml));
    assert_int_equal(ml, 32);
    assert_memory_equal(raw + 13, mac, 16);
}

/* A worker thread keeps its own HMAC and digest contexts: when the secret changes under it (reset
 * while it waits), it must seal with the new one and no longer accept its own earlier nonce. */
struct rekey_run {
    pthread_barrier_t step;
    char n1[SB_AUTH_NONCE_LEN + 1], n2[SB_AUTH_NONCE_LEN + 1], n3[SB_AUTH_NONCE_LEN + 1];
    int new1, check1, check_old, check_new, new3;
    char resp[SB_AUTH_HEX_MAX + 1], resp256[SB_AUTH_HEX_MAX + 1];
};

static void *rekey_worker(void *arg)
{
    struct rekey_run *r = arg;
    r->new1 = sb_auth_nonce_new(1700000000, SB_DIGEST_ALG_MD5, r->n1);
    r->check1 = sb_auth_nonce_check((sb_str){r->n1, SB_AUTH_NONCE_LEN}, 1700000000,
                                    SB_DIGEST_ALG_MD5, NULL);
    pthread_barrier_wait(&r->step); /* the main thread checks n1, changes the secret, makes n2 */
    pthread_barrier_wait(&r->step);
    r->check_old = sb_auth_nonce_check((sb_str){r->n1, SB_AUTH_NONCE_LEN}, 1700000000,
                                       SB_DIGEST_ALG_MD5, NULL);
    r->check_new = sb_auth_nonce_check((sb_str){r->n2, SB_AUTH_NONCE_LEN}, 1700000000,
                                       SB_DIGEST_ALG_SHA256, NULL);
    r->new3 = sb_auth_nonce_new(1700000000, SB_DIGEST_ALG_SHA256, r->n3);
    /* the digest arithmetic from this thread too: RFC 2617 §3.5 and RFC 7616 §3.9.1 */
    char ha1[SB_AUTH_HEX_MAX + 1];
    int n = 0;
    struct sb_auth_resp_in in = rfc2617_example(ha1, &n);
    sb_auth_response(&in, r->resp);
    sb_auth_ha1(SB_DIGEST_ALG_SHA256, SB_STR("Mufasa"), SB_STR("http-auth@example.org"),
                SB_STR("Circle of Life"), ha1);
    in.alg = SB_DIGEST_ALG_SHA256;
    in.ha1 = (sb_str){ha1, 64};
    in.nonce = SB_STR("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    in.cnonce = SB_STR("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
    sb_auth_response(&in, r->resp256);
    return NULL;
}

static void test_nonce_rekey_threads(void **state)
{
    (void)state;
    struct rekey_run r = {0};
    assert_int_equal(pthread_barrier_init(&r.step, NULL, 2), 0);
    sb__auth_conf.secret = "one";
    sb__auth_nonce_reset();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rekey_worker, &r), 0);
    pthread_barrier_wait(&r.step);
    assert_int_equal(r.new1, 0);
    assert_int_equal(r.check1, SB_AUTH_NONCE_OK);
    assert_sealed(r.n1, "one", 1700000030, SB_DIGEST_ALG_MD5);
    /* this thread's context, keyed with "one", sees the worker's nonce */
    assert_int_equal(
        sb_auth_nonce_check((sb_str){r.n1, SB_AUTH_NONCE_LEN}, 1700000000, SB_DIGEST_ALG_MD5, NULL),
        SB_AUTH_NONCE_OK);
    sb__auth_conf.secret = "two";
    sb__auth_nonce_reset();
    assert_int_equal(sb_auth_nonce_new(1700000000, SB_DIGEST_ALG_SHA256, r.n2), 0);
    assert_sealed(r.n2, "two", 1700000030, SB_DIGEST_ALG_SHA256);
    pthread_barrier_wait(&r.step);
    assert_int_equal(pthread_join(t, NULL), 0);
    pthread_barrier_destroy(&r.step);

    assert_int_equal(r.check_old, SB_AUTH_NONCE_INVALID);
    assert_int_equal(r.check_new, SB_AUTH_NONCE_OK);
    assert_int_equal(r.new3, 0);
    assert_sealed(r.n3, "two", 1700000030, SB_DIGEST_ALG_SHA256);
    assert_int_equal(sb_auth_nonce_check((sb_str){r.n3, SB_AUTH_NONCE_LEN}, 1700000000,
                                         SB_DIGEST_ALG_SHA256, NULL),
                     SB_AUTH_NONCE_OK);
    assert_string_equal(r.resp, "6629fae49393a05397450978507c4ef1");
    assert_string_equal(r.resp256,
                        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");

    /* and back to a random secret: the nonces of "two" are gone, also in this thread */
    sb__auth_conf.secret = NULL;
    sb__auth_nonce_reset();
    assert_int_equal(sb_auth_nonce_check((sb_str){r.n2, SB_AUTH_NONCE_LEN}, 1700000000,
                                         SB_DIGEST_ALG_SHA256, NULL),
                     SB_AUTH_NONCE_INVALID);
}

static uint32_t fresh(int64_t now)
{
    char n[SB_AUTH_NONCE_LEN + 1];
    uint32_t gen = 0;
    assert_int_equal(sb_auth_nonce_new(now, SB_DIGEST_ALG_MD5, n), 0);
    assert_int_equal(
        sb_auth_nonce_check((sb_str){n, SB_AUTH_NONCE_LEN}, now, SB_DIGEST_ALG_MD5, &gen),
        SB_AUTH_NONCE_OK);
    return gen;
}

static void test_nonce_count(void **state)
{
    (void)state;
    uint32_t g = fresh(1000);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000001")), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000001")), SB_AUTH_NONCE_REUSED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000003")), SB_AUTH_AUTHORIZED);
    /* out of order but unseen: accepted once */
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000002")), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000002")), SB_AUTH_NONCE_REUSED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("0000000a")), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("0000000A")), SB_AUTH_NONCE_REUSED);
    /* far ahead: what is behind the window is refused */
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000100")), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000004")), SB_AUTH_NONCE_REUSED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("000000ff")), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000000")), SB_AUTH_NONCE_REUSED);
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("0000001")), SB_AUTH_NONCE_REUSED);

    /* without qop a nonce is good once, then stale */
    uint32_t h = fresh(1000);
    assert_int_equal(sb_auth_nonce_use(h, SB_STR_NULL), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(h, SB_STR_NULL), SB_AUTH_STALE_NONCE);
    /* the first nonce is untouched by the second */
    assert_int_equal(sb_auth_nonce_use(g, SB_STR("00000101")), SB_AUTH_AUTHORIZED);
}

static void test_nonce_table_wrap(void **state)
{
    (void)state;
    sb__auth_conf.max_nonces = 2;
    sb__auth_nonce_reset();
    uint32_t a = fresh(1000), b = fresh(1000), c = fresh(1000);
    (void)b;
    /* c took a's slot: a cannot be tracked any more, so it is stale rather than replayable */
    assert_int_equal(sb_auth_nonce_use(a, SB_STR("00000001")), SB_AUTH_STALE_NONCE);
    assert_int_equal(sb_auth_nonce_use(c, SB_STR("00000001")), SB_AUTH_AUTHORIZED);
    /* with the check disabled there is no table and any count passes */
    sb__auth_conf.disable_nonce_check = 1;
    sb__auth_nonce_reset();
    uint32_t d = fresh(1000);
    assert_int_equal(sb_auth_nonce_use(d, SB_STR("00000001")), SB_AUTH_AUTHORIZED);
    assert_int_equal(sb_auth_nonce_use(d, SB_STR("00000001")), SB_AUTH_AUTHORIZED);
    sb__auth_conf.disable_nonce_check = 0;
}

/* ---- challenge headers --------------------------------------------------------------------- */

static void test_challenge_text(void **state)
{
    (void)state;
    struct sb__auth_chal ch = {0};
    const char *bad = NULL;
    assert_int_equal(sb__auth_parse_qop(SB_STR("auth"), &ch.qop, &bad), 0);
    assert_int_equal(sb__auth_parse_algs(SB_STR("SHA-256, md5"), &ch, &bad), 0);
    assert_int_equal(ch.n_algs, 2);
    char out[2048];
    long n = sb__auth_challenge_hdrs(SB_AUTH_WWW, SB_STR("example.com"), &ch, false, out,
                                     sizeof(out) - 1);
    assert_true(n > 0);
    out[n] = '\0';
    /* two lines, SHA-256 first as asked */
    const char *l1 = out, *l2 = strstr(out, "\r\n") + 2;
    assert_int_equal(strncmp(l1, "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"", 53),
                     0);
    assert_int_equal(strncmp(l2, "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"", 53),
                     0);
    const char *tail1 = l1 + 53 + SB_AUTH_NONCE_LEN;
    assert_int_equal(strncmp(tail1, "\", qop=\"auth\", algorithm=SHA-256\r\n", 34), 0);
    const char *tail2 = l2 + 53 + SB_AUTH_NONCE_LEN;
    assert_string_equal(tail2, "\", qop=\"auth\", algorithm=MD5\r\n");
    /* each nonce is good for its own algorithm only */
    assert_int_equal(sb_auth_nonce_check((sb_str){l1 + 53, SB_AUTH_NONCE_LEN}, sb__auth_now(),
                                         SB_DIGEST_ALG_SHA256, NULL),
                     SB_AUTH_NONCE_OK);
    assert_int_equal(sb_auth_nonce_check((sb_str){l2 + 53, SB_AUTH_NONCE_LEN}, sb__auth_now(),
                                         SB_DIGEST_ALG_MD5, NULL),
                     SB_AUTH_NONCE_OK);
    assert_int_equal(strncmp(l1 + 53, l2 + 53, SB_AUTH_NONCE_LEN) != 0, 1);

    /* proxy, both qops, stale, a realm that needs escaping; the digest parser reads it back */
    ch.qop = SB__AUTH_QOP_AUTH | SB__AUTH_QOP_AUTH_INT;
    assert_int_equal(sb__auth_parse_algs(SB_STR(""), &ch, &bad), 0);
    n = sb__auth_challenge_hdrs(SB_AUTH_PROXY, SB_STR("a\"b"), &ch, true, out, sizeof(out) - 1);
    assert_true(n > 0);
    out[n] = '\0';
    assert_int_equal(strncmp(out, "Proxy-Authenticate: Digest realm=\"a\\\"b\", nonce=\"", 48), 0);
    assert_string_equal(out + 48 + SB_AUTH_NONCE_LEN,
                        "\", qop=\"auth,auth-int\", stale=true, algorithm=MD5\r\n");
    struct sb_digest d;
    sb_str v = {out + 20, (size_t)n - 22};
    assert_int_equal(sb_digest_parse(v, &d), 0);
    assert_true(d.stale);
    assert_int_equal(d.alg, SB_DIGEST_ALG_MD5);
    assert_int_equal(d.nonce.len, SB_AUTH_NONCE_LEN);

    /* too small a buffer */
    assert_int_equal(sb__auth_challenge_hdrs(SB_AUTH_WWW, SB_STR("x"), &ch, false, out, 40),
                     SB_ENOSPC);
    /* argument parsing */
    unsigned q;
    assert_int_equal(sb__auth_parse_qop(SB_STR("1"), &q, &bad), 0);
    assert_int_equal(q, SB__AUTH_QOP_AUTH);
    assert_int_equal(sb__auth_parse_qop(SB_STR("auth-int"), &q, &bad), 0);
    assert_int_equal(q, SB__AUTH_QOP_AUTH_INT);
    assert_int_equal(sb__auth_parse_qop(SB_STR(""), &q, &bad), 0);
    assert_int_equal(q, 0);
    assert_int_equal(sb__auth_parse_qop(SB_STR("auth,"), &q, &bad), SB_EPARSE);
    assert_int_equal(sb__auth_parse_qop(SB_STR("xyz"), &q, &bad), SB_EPARSE);
    assert_int_equal(sb__auth_parse_algs(SB_STR("MD5,SHA-1"), &ch, &bad), SB_EPARSE);
    assert_int_equal(sb__auth_parse_algs(SB_STR("sha-512-256-sess,MD5-sess,MD5"), &ch, &bad), 0);
    assert_int_equal(ch.n_algs, 3);
    assert_int_equal(ch.algs[0], SB_DIGEST_ALG_SHA512_256_SESS);
}

/* ---- www_authorize / proxy_authorize from a script over SQLite ---------------------------- */

static char db_path[64];

static int db_group_setup(void **state)
{
    (void)state;
    assert_int_equal(sb_db_register_linked(), 0);
    snprintf(db_path, sizeof(db_path), "/tmp/sb-test-auth-%d.db", (int)getpid());
    unlink(db_path);
    char url[128], err[256];
    snprintf(url, sizeof(url), "sqlite://%s", db_path);
    struct sb_db *db = NULL;
    assert_int_equal(sb_db_open(url, &db, err, sizeof(err)), 0);
    char ha1_md5[33], ha1_sha[65];
    hexhash(EVP_md5(), "dave:example.com:hashed-pw", ha1_md5);
    hexhash(EVP_sha256(), "dave:example.com:hashed-pw", ha1_sha);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE subscriber (id INTEGER PRIMARY KEY, username TEXT, domain TEXT,"
             " password TEXT, ha1 TEXT, ha1_sha256 TEXT, ha1_sha512t256 TEXT, rpid TEXT);"
             "INSERT INTO subscriber (username, domain, password, ha1, rpid) VALUES"
             " ('alice', 'example.com', 'secret1', '', 'sip:+15551234@example.com');"
             "INSERT INTO subscriber (username, domain, password, ha1) VALUES"
             " ('alice', 'other.org', 'other-pw', '');"
             "INSERT INTO subscriber (username, domain, password, ha1, ha1_sha256) VALUES"
             " ('dave', 'example.com', '', '%s', '%s');",
             ha1_md5, ha1_sha);
    int rc = sb_db_raw(db, sql, NULL, 0, NULL);
    if (rc != 0)
        fail_msg("%s", sb_db_errmsg(db));
    sb_db_close(db);
    return 0;
}

static int db_group_teardown(void **state)
{
    (void)state;
    unlink(db_path);
    char wal[80];
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", db_path);
    unlink(wal);
    return 0;
}

#include "fixture_script.h"

static uint64_t seq; /* of the requests run, as a worker numbers them */

static int setup(void **state)
{
    nonce_setup(state);
    seq = 0;
    return sfx_setup(state);
}

static void load(const char *modparams, const char *route)
{
    sfx_loadf("loadmodule \"db_sqlite.so\"\nloadmodule \"auth.so\"\nloadmodule \"auth_db.so\"\n"
              "modparam(\"auth_db\", \"db_url\", \"sqlite://%s\")\n%s\n%s",
              db_path, modparams, route);
    assert_int_equal(sb_module_auth_db.init(), 0);
}

static const char *AUTHZ = "route {\n"
                           "  www_authorize(\"example.com\", \"subscriber\");\n"
                           "  $var(rc) = $rc;\n"
                           "}\n";

/* A REGISTER for <user> carrying <cred> (a whole header line, or "" for none). */
static void run(const char *cred_line)
{
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
             "Max-Forwards: 70\r\n"
             "To: <sip:alice@example.com>\r\n"
             "From: <sip:alice@example.com>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
             "CSeq: 2 REGISTER\r\n"
             "%s"
             "Contact: <sip:alice@10.1.2.3>\r\n"
             "Content-Length: 0\r\n\r\n",
             cred_line);
    sfx_parse(F.req);
    memset(&F.rs, 0, sizeof(F.rs));
    F.rs.seq = ++seq;
    sfx_run_route(SB_ROUTE_REQUEST, "");
}

static int32_t rc_var(void)
{
    return sfx_int("$var(rc)");
}

struct cred {
    const char *hdr; /* "Authorization" */
    const char *user, *realm, *pw, *alg, *qop, *nc, *uri;
    const char *nonce; /* NULL: a fresh one */
    const char *tamper_resp;
};

static char last_nonce[SB_AUTH_NONCE_LEN + 1];

/* Build a credentials line the way a UA would, computing the response here. */
static const char *cred_line(const struct cred *c, char *out, size_t cap)
{
    const char *alg = c->alg ? c->alg : "MD5";
    const EVP_MD *md = strncmp(alg, "SHA-256", 7) == 0 ? EVP_sha256() : EVP_md5();
    uint8_t a = md == EVP_sha256() ? SB_DIGEST_ALG_SHA256 : SB_DIGEST_ALG_MD5;
    if (!c->nonce)
        assert_int_equal(sb_auth_nonce_new(sb__auth_now(), a, last_nonce), 0);
    const char *nonce = c->nonce ? c->nonce : last_nonce;
    const char *uri = c->uri ? c->uri : "sip:example.com";
    const char *qop = c->qop ? c->qop : "auth";
    const char *nc = c->nc ? c->nc : "00000001";
    char resp[129];
    expect_resp(md, c->user, c->realm, c->pw, nonce, nc, "0a4f113b", qop, "REGISTER", uri, resp);
    if (*qop)
        snprintf(out, cap,
                 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                 "response=\"%s\", algorithm=%s, qop=%s, nc=%s, cnonce=\"0a4f113b\"\r\n",
                 c->hdr ? c->hdr : "Authorization", c->user, c->realm, nonce, uri,
                 c->tamper_resp ? c->tamper_resp : resp, alg, qop, nc);
    else
        snprintf(out, cap,
                 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                 "response=\"%s\"\r\n",
                 c->hdr ? c->hdr : "Authorization", c->user, c->realm, nonce, uri,
                 c->tamper_resp ? c->tamper_resp : resp);
    return out;
}

static int32_t try_cred(const struct cred *c)
{
    char line[1024];
    run(cred_line(c, line, sizeof(line)));
    return rc_var();
}

static void test_authorize_plaintext(void **state)
{
    (void)state;
    load("modparam(\"auth_db\", \"calculate_ha1\", 1)\nmodparam(\"auth_db\", \"use_domain\", 1)",
         AUTHZ);
    struct cred ok = {.user = "alice", .realm = "example.com", .pw = "secret1"};
    assert_int_equal(try_cred(&ok), SB_AUTH_AUTHORIZED);
    /* the same request again: nonce-count 1 was seen */
    char line[1024];
    cred_line(
        &(struct cred){
            .user = "alice", .realm = "example.com", .pw = "secret1", .nonce = last_nonce},
        line, sizeof(line));
    run(line);
    assert_int_equal(rc_var(), SB_AUTH_NONCE_REUSED);
    /* the next count on the same nonce is fine */
    assert_int_equal(try_cred(&(struct cred){.user = "alice",
                                             .realm = "example.com",
                                             .pw = "secret1",
                                             .nonce = last_nonce,
                                             .nc = "00000002"}),
                     SB_AUTH_AUTHORIZED);
    /* wrong password, unknown user, user of another domain */
    struct cred bad = ok;
    bad.pw = "secret2";
    assert_int_equal(try_cred(&bad), SB_AUTH_INVALID_PASSWORD);
    bad = ok;
    bad.user = "mallory";
    assert_int_equal(try_cred(&bad), SB_AUTH_USER_UNKNOWN);
    /* no credentials; credentials for another realm */
    run("");
    assert_int_equal(rc_var(), SB_AUTH_NO_CREDENTIALS);
    bad = ok;
    bad.realm = "other.org";
    bad.pw = "other-pw";
    assert_int_equal(try_cred(&bad), SB_AUTH_NO_CREDENTIALS);
    /* Proxy-Authorization is not what www_authorize reads */
    bad = ok;
    bad.hdr = "Proxy-Authorization";
    assert_int_equal(try_cred(&bad), SB_AUTH_NO_CREDENTIALS);
    /* malformed: a response of the wrong length */
    bad = ok;
    bad.tamper_resp = "abc";
    assert_int_equal(try_cred(&bad), SB_AUTH_ERROR);
    /* qop without nc/cnonce */
    run("Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"x\", "
        "uri=\"sip:example.com\", response=\"6629fae49393a05397450978507c4ef1\", qop=auth\r\n");
    assert_int_equal(rc_var(), SB_AUTH_ERROR);
    /* an unsupported algorithm */
    run("Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"x\", "
        "uri=\"sip:example.com\", response=\"6629fae49393a05397450978507c4ef1\", "
        "algorithm=AKAv1-MD5\r\n");
    assert_int_equal(rc_var(), SB_AUTH_ERROR);
}

static void test_authorize_stale_and_tampered(void **state)
{
    (void)state;
    load("modparam(\"auth_db\", \"calculate_ha1\", 1)\nmodparam(\"auth_db\", \"use_domain\", 0)",
         AUTHZ);
    struct cred ok = {.user = "alice", .realm = "example.com", .pw = "secret1"};
    char line[1024];
    /* a nonce issued 31 s ago (nonce_expire 30): right password -> stale */
    sb__auth_clock_skew = -31;
    cred_line(&ok, line, sizeof(line));
    sb__auth_clock_skew = 0;
    run(line);
    assert_int_equal(rc_var(), SB_AUTH_STALE_NONCE);
    const struct sb__auth_last *l = sb__auth_last(&F.ctx);
    assert_non_null(l);
    assert_true(l->stale);
    assert_null(sb_auth_authorized(&F.ctx));
    /* ... and with a wrong one it is just a wrong password, not stale */
    struct cred bad = ok;
    bad.pw = "nope";
    sb__auth_clock_skew = -31;
    cred_line(&bad, line, sizeof(line));
    sb__auth_clock_skew = 0;
    run(line);
    assert_int_equal(rc_var(), SB_AUTH_INVALID_PASSWORD);
    assert_false(sb__auth_last(&F.ctx)->stale);
    /* a nonce we never issued (tampered), response computed over it: stale, never authorized */
    char forged[SB_AUTH_NONCE_LEN + 1];
    assert_int_equal(sb_auth_nonce_new(sb__auth_now(), SB_DIGEST_ALG_MD5, forged), 0);
    forged[0] = forged[0] == 'f' ? '0' : 'f';
    bad = ok;
    bad.nonce = forged;
    assert_int_equal(try_cred(&bad), SB_AUTH_STALE_NONCE);
    bad.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    assert_int_equal(try_cred(&bad), SB_AUTH_STALE_NONCE);
    bad.pw = "wrong";
    assert_int_equal(try_cred(&bad), SB_AUTH_INVALID_PASSWORD);
    /* without qop: once, then stale */
    struct cred noqop = ok;
    noqop.qop = "";
    assert_int_equal(try_cred(&noqop), SB_AUTH_AUTHORIZED);
    noqop.nonce = last_nonce;
    assert_int_equal(try_cred(&noqop), SB_AUTH_STALE_NONCE);
    /* use_domain 0: alice is found whatever the domain (the first row) */
    assert_int_equal(try_cred(&ok), SB_AUTH_AUTHORIZED);
}

static void test_authorize_ha1_columns(void **state)
{
    (void)state;
    load("modparam(\"auth_db\", \"calculate_ha1\", 0)\nmodparam(\"auth_db\", \"use_domain\", 1)",
         AUTHZ);
    struct cred md5 = {.user = "dave", .realm = "example.com", .pw = "hashed-pw"};
    assert_int_equal(try_cred(&md5), SB_AUTH_AUTHORIZED);
    struct cred sha = md5;
    sha.alg = "SHA-256";
    assert_int_equal(try_cred(&sha), SB_AUTH_AUTHORIZED);
    sha.pw = "wrong";
    assert_int_equal(try_cred(&sha), SB_AUTH_INVALID_PASSWORD);
    /* alice has no HA1 stored: nothing to check against */
    struct cred alice = {.user = "alice", .realm = "example.com", .pw = "secret1"};
    assert_int_equal(try_cred(&alice), SB_AUTH_ERROR);
}

static void test_proxy_consume_load(void **state)
{
    (void)state;
    load("modparam(\"auth_db\", \"calculate_ha1\", 1)\n"
         "modparam(\"auth_db\", \"use_domain\", 1)\n"
         "modparam(\"auth_db\", \"load_credentials\", \"$avp(caller_id)=rpid\")",
         "route {\n"
         "  proxy_authorize(\"\", \"subscriber\");\n"
         "  $var(rc) = $rc;\n"
         "  if ($var(rc) == 1) consume_credentials();\n"
         "  $var(crc) = $rc;\n"
         "}\n");
    struct cred ok = {
        .hdr = "Proxy-Authorization", .user = "alice", .realm = "example.com", .pw = "secret1"};
    /* the empty realm is taken from To of a REGISTER: example.com */
    assert_int_equal(try_cred(&ok), SB_AUTH_AUTHORIZED);
    assert_int_equal(sfx_get("$var(crc)").i, 1);
    struct sb_val v = sfx_get("$avp(caller_id)");
    assert_int_equal(v.type, SB_VAL_STR);
    assert_int_equal(v.s.len, strlen("sip:+15551234@example.com"));
    assert_memory_equal(v.s.p, "sip:+15551234@example.com", v.s.len);
    /* the credentials are gone from what is sent on */
    sfx_output();
    assert_null(strstr(F.out, "Proxy-Authorization"));
    assert_non_null(strstr(F.out, "CSeq: 2 REGISTER\r\nContact: <sip:alice@10.1.2.3>\r\n"));
    /* a failed authorization leaves nothing to consume */
    ok.pw = "x";
    assert_int_equal(try_cred(&ok), SB_AUTH_INVALID_PASSWORD);
    assert_int_equal(sfx_get("$var(crc)").i, SB_AUTH_INVALID_PASSWORD);
    sfx_output();
    assert_non_null(strstr(F.out, "Proxy-Authorization: Digest"));
}

static void test_pvs(void **state)
{
    (void)state;
    load("modparam(\"auth_db\", \"calculate_ha1\", 1)", AUTHZ);
    struct cred ok = {.user = "alice", .realm = "example.com", .pw = "secret1", .nc = "0000000b"};
    try_cred(&ok);
    struct {
        const char *pv, *want;
    } cases[] = {
        {"$adu", "sip:example.com"}, {"$auth.nonce", last_nonce}, {"$auth.alg", "MD5"},
        {"$auth.qop", "auth"},       {"$auth.nc", "0000000b"},    {"$au", "alice"},
        {"$ar", "example.com"},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        struct sb_val v = sfx_get(cases[i].pv);
        if (v.type != SB_VAL_STR || v.s.len != strlen(cases[i].want) ||
            memcmp(v.s.p, cases[i].want, v.s.len) != 0)
            fail_msg("%s: got '%.*s'", cases[i].pv, v.type == SB_VAL_STR ? (int)v.s.len : 4,
                     v.type == SB_VAL_STR ? v.s.p : "null");
    }
    assert_int_equal(sfx_get("$auth.resp").s.len, 32);
    assert_int_equal(sfx_get("$auth.opaque").type, SB_VAL_NULL);
}

static void test_bad_args(void **state)
{
    (void)state;
    const char *text = "loadmodule \"auth.so\"\n"
                       "route { www_challenge(\"r\", \"auth-foo\"); "
                       "proxy_challenge(\"r\", \"auth\", \"MD5,SHA-1\"); }\n";
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    assert_true(sb_script_load_text("t.cfg", text, strlen(text), &d, &s) != 0 || d.n_errors);
    assert_int_equal(d.n_errors, 2);
    sb_diag_free(&d);
    sb_script_free(s);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_rfc2617_example),
        cmocka_unit_test(test_rfc7616_example),
        cmocka_unit_test(test_other_forms),
        cmocka_unit_test_setup(test_nonce_integrity, nonce_setup),
        cmocka_unit_test_setup(test_nonce_count, nonce_setup),
        cmocka_unit_test_setup(test_nonce_table_wrap, nonce_setup),
        cmocka_unit_test_setup(test_nonce_known_vectors, nonce_setup),
        cmocka_unit_test_setup(test_nonce_rekey_threads, nonce_setup),
        cmocka_unit_test_setup(test_challenge_text, nonce_setup),
        cmocka_unit_test(test_bad_args),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test_setup_teardown(test_authorize_plaintext, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_authorize_stale_and_tampered, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_authorize_ha1_columns, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_proxy_consume_load, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_pvs, setup, sfx_teardown),
    };
    int rc = cmocka_run_group_tests_name("auth", pure, NULL, NULL);
    rc += cmocka_run_group_tests_name("auth_db", db, db_group_setup, db_group_teardown);
    return rc;
}
