/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the auth header parser: Digest credentials and challenges from RFC 3261, RFC 2617,
 * RFC 7616 and RFC 8760, other schemes, and malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"

/* Expected well-known fields; NULL means absent (p == NULL). */
struct want {
    const char *scheme;
    bool is_digest;
    bool stale, userhash;
    uint8_t alg;
    const char *username, *realm, *nonce, *uri, *response, *algorithm, *cnonce, *opaque, *qop, *nc,
        *domain, *params;
};

static void check_view(sb_str v, const char *lit, const char *what, sb_str in, int line)
{
    if (lit == NULL) {
        if (v.p != NULL)
            fail_msg("line %d: %s: expected absent, got \"%.*s\"", line, what, SB_STR_ARG(v));
        return;
    }
    if (v.p == NULL)
        fail_msg("line %d: %s: expected \"%s\", got absent", line, what, lit);
    if (v.len != strlen(lit) || memcmp(v.p, lit, v.len) != 0)
        fail_msg("line %d: %s: expected \"%s\", got \"%.*s\"", line, what, lit, SB_STR_ARG(v));
    if (v.p < in.p || v.p + v.len > in.p + in.len)
        fail_msg("line %d: %s: view outside the input", line, what);
}

static void digest_ok(const char *s, const struct want *w, int line)
{
    struct sb_digest d;
    memset(&d, 0xa5, sizeof(d));
    sb_str in = sb_str_cstr(s);
    int rc = sb_digest_parse(in, &d);
    if (rc != 0)
        fail_msg("line %d: \"%s\": rc %d", line, s, rc);
    check_view(d.scheme, w->scheme, "scheme", in, line);
    if (d.is_digest != w->is_digest || d.stale != w->stale || d.userhash != w->userhash)
        fail_msg("line %d: is_digest/stale/userhash %d/%d/%d, expected %d/%d/%d", line, d.is_digest,
                 d.stale, d.userhash, w->is_digest, w->stale, w->userhash);
    if (d.alg != w->alg)
        fail_msg("line %d: alg %d, expected %d", line, d.alg, w->alg);
#define V(f) check_view(d.f, w->f, #f, in, line)
    V(username), V(realm), V(nonce), V(uri), V(response), V(algorithm), V(cnonce), V(opaque);
    V(qop), V(nc), V(domain), V(params);
#undef V
}
#define DIGEST_OK(s, ...) digest_ok((s), &(struct want){__VA_ARGS__}, __LINE__)

static void digest_bad(const char *s, size_t len, int line)
{
    struct sb_digest d;
    int rc = sb_digest_parse((sb_str){s, len}, &d);
    if (rc != SB_EPARSE)
        fail_msg("line %d: \"%.*s\" accepted (rc %d), expected SB_EPARSE", line, (int)len, s, rc);
}
#define DIGEST_BAD(s)  digest_bad((s), strlen(s), __LINE__)
#define DIGEST_BADN(s) digest_bad((s), sizeof(s) - 1, __LINE__)

/* ---- RFC 3261 ------------------------------------------------------------------------------ */

static void test_rfc3261_credentials(void **state)
{
    (void)state;
    /* RFC3261-20.7 */
    DIGEST_OK("Digest username=\"Alice\", realm=\"atlanta.com\", "
              "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", "
              "response=\"7587245234b3434cc3412213e5f113a5432\"",
              .scheme = "Digest", .is_digest = true, .username = "Alice", .realm = "atlanta.com",
              .nonce = "84a4cc6f3082121f32b42a2187831a9e",
              .response = "7587245234b3434cc3412213e5f113a5432",
              .params = "username=\"Alice\", realm=\"atlanta.com\", "
                        "nonce=\"84a4cc6f3082121f32b42a2187831a9e\", "
                        "response=\"7587245234b3434cc3412213e5f113a5432\"");
    /* RFC3261-20.28 */
    DIGEST_OK("Digest username=\"Alice\", realm=\"atlanta.com\", "
              "nonce=\"c60f3082ee1212b402a21831ae\", response=\"245f23415f11432b3434341c022\"",
              .scheme = "Digest", .is_digest = true, .username = "Alice", .realm = "atlanta.com",
              .nonce = "c60f3082ee1212b402a21831ae", .response = "245f23415f11432b3434341c022",
              .params = "username=\"Alice\", realm=\"atlanta.com\", "
                        "nonce=\"c60f3082ee1212b402a21831ae\", "
                        "response=\"245f23415f11432b3434341c022\"");
    /* RFC3261-25.1 digest-response with every dig-resp: digest-uri carries ':' '@' ';' inside
     * quotes, message-qop and nonce-count are bare */
    DIGEST_OK("Digest username=\"bob\", realm=\"biloxi.com\", "
              "nonce=\"dcd98b7102dd2f0e8b11d0f600bf\", uri=\"sip:bob@biloxi.com;transport=udp\", "
              "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", "
              "opaque=\"5ccc069c403ebaf9f017\", qop=auth,"
              " nc=00000001",
              .scheme = "Digest", .is_digest = true, .alg = SB_DIGEST_ALG_MD5, .username = "bob",
              .realm = "biloxi.com", .nonce = "dcd98b7102dd2f0e8b11d0f600bf",
              .uri = "sip:bob@biloxi.com;transport=udp",
              .response = "6629fae49393a05397450978507c4ef1", .algorithm = "MD5",
              .cnonce = "0a4f113b", .opaque = "5ccc069c403ebaf9f017", .qop = "auth",
              .nc = "00000001",
              .params = "username=\"bob\", realm=\"biloxi.com\", "
                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bf\", "
                        "uri=\"sip:bob@biloxi.com;transport=udp\", "
                        "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, "
                        "cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f017\", qop=auth, "
                        "nc=00000001");
}

static void test_rfc3261_challenges(void **state)
{
    (void)state;
    /* RFC3261-20.27: opaque="" is present but empty; stale=FALSE */
    const char *pa = "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", "
                     "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, "
                     "algorithm=MD5";
    DIGEST_OK(pa, .scheme = "Digest", .is_digest = true, .alg = SB_DIGEST_ALG_MD5,
              .realm = "atlanta.com", .domain = "sip:ss1.carrier.com", .qop = "auth",
              .nonce = "f84f1cec41e6cbe5aea9c8e88d359", .opaque = "", .algorithm = "MD5",
              .params = pa + 7);
    /* RFC3261-20.44 */
    const char *wa = "Digest realm=\"atlanta.com\", domain=\"sip:boxesbybob.com\", qop=\"auth\", "
                     "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, "
                     "algorithm=MD5";
    DIGEST_OK(wa, .scheme = "Digest", .is_digest = true, .alg = SB_DIGEST_ALG_MD5,
              .realm = "atlanta.com", .domain = "sip:boxesbybob.com", .qop = "auth",
              .nonce = "f84f1cec41e6cbe5aea9c8e88d359", .opaque = "", .algorithm = "MD5",
              .params = wa + 7);
    /* RFC 3665 §2.1 (REGISTER with authentication) */
    DIGEST_OK("Digest realm=\"atlanta.example.com\", qop=\"auth\", "
              "nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", stale=TRUE, algorithm=MD5",
              .scheme = "Digest", .is_digest = true, .stale = true, .alg = SB_DIGEST_ALG_MD5,
              .realm = "atlanta.example.com", .qop = "auth",
              .nonce = "ea9c8e88df84f1cec4341ae6cbe5a359", .opaque = "", .algorithm = "MD5",
              .params = "realm=\"atlanta.example.com\", qop=\"auth\", "
                        "nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", stale=TRUE, "
                        "algorithm=MD5");
}

/* ---- RFC 2617 / RFC 7616 / RFC 8760 -------------------------------------------------------- */

static void test_rfc2617(void **state)
{
    (void)state;
    /* RFC2617-3.5, unfolded */
    DIGEST_OK("Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
              "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
              "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
              .scheme = "Digest", .is_digest = true, .realm = "testrealm@host.com",
              .qop = "auth,auth-int", .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
              .opaque = "5ccc069c403ebaf9f0171e9517f40e41",
              .params = "realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
    DIGEST_OK("Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
              "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
              "nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
              "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
              .scheme = "Digest", .is_digest = true, .username = "Mufasa",
              .realm = "testrealm@host.com", .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
              .uri = "/dir/index.html", .qop = "auth", .nc = "00000001", .cnonce = "0a4f113b",
              .response = "6629fae49393a05397450978507c4ef1",
              .opaque = "5ccc069c403ebaf9f0171e9517f40e41",
              .params = "username=\"Mufasa\", realm=\"testrealm@host.com\", "
                        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                        "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                        "response=\"6629fae49393a05397450978507c4ef1\", "
                        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
}

static void test_rfc7616_sha256(void **state)
{
    (void)state;
    /* RFC7616-3.9.1: the SHA-256 challenge, folded lines joined with one space each */
    const char *ch = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                     "algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                     "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    DIGEST_OK(ch, .scheme = "Digest", .is_digest = true, .alg = SB_DIGEST_ALG_SHA256,
              .realm = "http-auth@example.org", .qop = "auth, auth-int", .algorithm = "SHA-256",
              .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
              .opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", .params = ch + 7);
    /* the SHA-256 response; "Authorization:Digest" has no space after the colon in the RFC */
    const char *cr = "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
                     "uri=\"/dir/index.html\", algorithm=SHA-256, "
                     "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
                     "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
                     "response="
                     "\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
                     "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    DIGEST_OK(cr, .scheme = "Digest", .is_digest = true, .alg = SB_DIGEST_ALG_SHA256,
              .username = "Mufasa", .realm = "http-auth@example.org", .uri = "/dir/index.html",
              .algorithm = "SHA-256", .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
              .nc = "00000001", .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
              .qop = "auth",
              .response = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
              .opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", .params = cr + 7);
    /* the MD5 response of the same section */
    const char *cm = "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
                     "uri=\"/dir/index.html\", algorithm=MD5, "
                     "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, "
                     "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
                     "response=\"8ca523f5e9506fed4657c9700eebdbec\", "
                     "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    DIGEST_OK(cm, .scheme = "Digest", .is_digest = true, .alg = SB_DIGEST_ALG_MD5,
              .username = "Mufasa", .realm = "http-auth@example.org", .uri = "/dir/index.html",
              .algorithm = "MD5", .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
              .nc = "00000001", .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
              .qop = "auth", .response = "8ca523f5e9506fed4657c9700eebdbec",
              .opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", .params = cm + 7);
}

static void test_rfc7616_userhash(void **state)
{
    (void)state;
    /* RFC7616-3.9.2: SHA-512-256 with userhash; charset is an extension the parser passes over */
    const char *ch = "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                     "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                     "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, "
                     "userhash=true";
    DIGEST_OK(ch, .scheme = "Digest", .is_digest = true, .userhash = true,
              .alg = SB_DIGEST_ALG_SHA512_256, .realm = "api@example.org", .qop = "auth",
              .algorithm = "SHA-512-256", .nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
              .opaque = "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", .params = ch + 7);
    const char *cr =
        "Digest username=\"488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec\", "
        "realm=\"api@example.org\", uri=\"/doe.json\", algorithm=SHA-512-256, "
        "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", nc=00000001, "
        "cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, "
        "response=\"ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd\", "
        "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", userhash=true";
    DIGEST_OK(cr, .scheme = "Digest", .is_digest = true, .userhash = true,
              .alg = SB_DIGEST_ALG_SHA512_256,
              .username = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec",
              .realm = "api@example.org", .uri = "/doe.json", .algorithm = "SHA-512-256",
              .nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", .nc = "00000001",
              .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", .qop = "auth",
              .response = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd",
              .opaque = "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", .params = cr + 7);
    /* RFC7616-3.4.4: username* is a different parameter; username stays absent */
    const char *ux = "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"api@example.org\", "
                     "userhash=false";
    DIGEST_OK(ux, .scheme = "Digest", .is_digest = true, .realm = "api@example.org",
              .params = ux + 7);
}

static void test_algorithms(void **state)
{
    (void)state;
    static const struct {
        const char *in, *as_written;
        uint8_t alg;
    } cases[] = {
        {"Digest realm=\"r\", algorithm=MD5", "MD5", SB_DIGEST_ALG_MD5},
        {"Digest realm=\"r\", algorithm=md5", "md5", SB_DIGEST_ALG_MD5},
        {"Digest realm=\"r\", algorithm=MD5-sess", "MD5-sess", SB_DIGEST_ALG_MD5_SESS},
        {"Digest realm=\"r\", algorithm=SHA-256", "SHA-256", SB_DIGEST_ALG_SHA256},
        {"Digest realm=\"r\", algorithm=sha-256-SESS", "sha-256-SESS", SB_DIGEST_ALG_SHA256_SESS},
        /* RFC8760-2.x names */
        {"Digest realm=\"r\", algorithm=SHA-512-256", "SHA-512-256", SB_DIGEST_ALG_SHA512_256},
        {"Digest realm=\"r\", algorithm=SHA-512-256-sess", "SHA-512-256-sess",
         SB_DIGEST_ALG_SHA512_256_SESS},
        /* quoted by some user agents */
        {"Digest realm=\"r\", algorithm=\"SHA-256\"", "SHA-256", SB_DIGEST_ALG_SHA256},
        /* RFC 3310 AKA and unknown names */
        {"Digest realm=\"r\", algorithm=AKAv1-MD5", "AKAv1-MD5", SB_DIGEST_ALG_OTHER},
        {"Digest realm=\"r\", algorithm=SHA-1", "SHA-1", SB_DIGEST_ALG_OTHER},
        {"Digest realm=\"r\", algorithm=MD5x", "MD5x", SB_DIGEST_ALG_OTHER},
        {"Digest realm=\"r\", algorithm=\"\"", "", SB_DIGEST_ALG_OTHER},
        {"Digest realm=\"r\"", NULL, SB_DIGEST_ALG_NONE},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        struct sb_digest d;
        sb_str in = sb_str_cstr(cases[i].in);
        assert_int_equal(sb_digest_parse(in, &d), 0);
        if (d.alg != cases[i].alg)
            fail_msg("\"%s\": alg %d, expected %d", cases[i].in, d.alg, cases[i].alg);
        check_view(d.algorithm, cases[i].as_written, "algorithm", in, __LINE__);
    }
}

static void test_flags(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool stale, userhash;
    } cases[] = {
        {"Digest realm=\"r\", stale=true", true, false},
        {"Digest realm=\"r\", stale=TRUE", true, false},
        {"Digest realm=\"r\", stale=\"true\"", true, false},
        {"Digest realm=\"r\", STALE=True", true, false},
        {"Digest realm=\"r\", stale=FALSE", false, false},
        /* RFC2617-3.2.1: anything other than TRUE is false */
        {"Digest realm=\"r\", stale=yes", false, false},
        {"Digest realm=\"r\", stale=truex", false, false},
        {"Digest realm=\"r\", userhash=true", false, true},
        {"Digest realm=\"r\", userhash=\"TRUE\"", false, true},
        {"Digest realm=\"r\", userhash=false", false, false},
        {"Digest realm=\"r\", userhash=true, stale=true", true, true},
        {"Digest realm=\"r\"", false, false},
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        struct sb_digest d;
        assert_int_equal(sb_digest_parse(sb_str_cstr(cases[i].in), &d), 0);
        if (d.stale != cases[i].stale || d.userhash != cases[i].userhash)
            fail_msg("\"%s\": stale %d userhash %d", cases[i].in, d.stale, d.userhash);
    }
}

/* ---- syntax variations --------------------------------------------------------------------- */

static void test_lws_and_quoting(void **state)
{
    (void)state;
    /* LWS around '=' and ',', tabs, and a comma without space */
    DIGEST_OK("Digest \t username = \"a\" ,realm=\"b\",\tnonce\t=\t\"c\"  ,  uri=\"sip:x@y\"",
              .scheme = "Digest", .is_digest = true, .username = "a", .realm = "b", .nonce = "c",
              .uri = "sip:x@y",
              .params = "username = \"a\" ,realm=\"b\",\tnonce\t=\t\"c\"  ,  uri=\"sip:x@y\"");
    /* a fold the caller left in place */
    DIGEST_OK("Digest username=\"a\",\r\n realm=\"b\"", .scheme = "Digest", .is_digest = true,
              .username = "a", .realm = "b", .params = "username=\"a\",\r\n realm=\"b\"");
    /* scheme and parameter names are case-insensitive */
    DIGEST_OK("digest USERNAME=\"a\", Realm=\"b\"", .scheme = "digest", .is_digest = true,
              .username = "a", .realm = "b", .params = "USERNAME=\"a\", Realm=\"b\"");
    DIGEST_OK("DIGEST realm=\"b\"", .scheme = "DIGEST", .is_digest = true, .realm = "b",
              .params = "realm=\"b\"");
    /* quoted-pairs stay escaped; ',' '=' and ';' inside quotes are data */
    DIGEST_OK("Digest username=\"a\\\"b\\\\\", realm=\"x, y=z; w\"", .scheme = "Digest",
              .is_digest = true, .username = "a\\\"b\\\\", .realm = "x, y=z; w",
              .params = "username=\"a\\\"b\\\\\", realm=\"x, y=z; w\"");
    /* UTF-8 in a quoted string */
    DIGEST_OK("Digest username=\"J\xc3\xa4s\xc3\xb8n\", realm=\"r\"", .scheme = "Digest",
              .is_digest = true, .username = "J\xc3\xa4s\xc3\xb8n", .realm = "r",
              .params = "username=\"J\xc3\xa4s\xc3\xb8n\", realm=\"r\"");
    /* unquoted values some user agents send: challenge qop=auth, bare nonce and uri */
    DIGEST_OK("Digest realm=r, qop=auth, nonce=abc/def+ghi==, uri=sip:bob@biloxi.com:5060",
              .scheme = "Digest", .is_digest = true, .realm = "r", .qop = "auth",
              .nonce = "abc/def+ghi==", .uri = "sip:bob@biloxi.com:5060",
              .params = "realm=r, qop=auth, nonce=abc/def+ghi==, uri=sip:bob@biloxi.com:5060");
    /* empty list elements are skipped (RFC 7230 §7) */
    DIGEST_OK("Digest , realm=\"r\",, nonce=\"n\",", .scheme = "Digest", .is_digest = true,
              .realm = "r", .nonce = "n", .params = ", realm=\"r\",, nonce=\"n\",");
    /* unknown parameters are accepted and skipped */
    DIGEST_OK("Digest realm=\"r\", auts=\"xyz\", foo=bar, nonce=\"n\"", .scheme = "Digest",
              .is_digest = true, .realm = "r", .nonce = "n",
              .params = "realm=\"r\", auts=\"xyz\", foo=bar, nonce=\"n\"");
    /* nc hex digits of either case */
    DIGEST_OK("Digest nc=0000Abcf", .scheme = "Digest", .is_digest = true, .nc = "0000Abcf",
              .params = "nc=0000Abcf");
    /* surrounding LWS is not part of raw or params */
    struct sb_digest d;
    sb_str in = SB_STR("  Digest realm=\"r\"  ");
    assert_int_equal(sb_digest_parse(in, &d), 0);
    assert_int_equal(d.raw.len, strlen("Digest realm=\"r\""));
    assert_ptr_equal(d.raw.p, in.p + 2);
    assert_int_equal(d.params.len, strlen("realm=\"r\""));
}

static void test_other_schemes(void **state)
{
    (void)state;
    /* RFC 4475 regaut01: unknown scheme, accepted, nothing extracted */
    DIGEST_OK("NoOneKnowsThisScheme opaque-data=here", .scheme = "NoOneKnowsThisScheme",
              .params = "opaque-data=here");
    DIGEST_OK("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", .scheme = "Basic",
              .params = "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    DIGEST_OK("NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==", .scheme = "NTLM",
              .params = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==");
    /* parameters that look like Digest ones are not extracted for another scheme */
    DIGEST_OK("Bearer realm=\"example\", error=\"invalid_token\"", .scheme = "Bearer",
              .params = "realm=\"example\", error=\"invalid_token\"");
    /* a scheme with nothing after it (RFC 4559 Negotiate) */
    DIGEST_OK("Negotiate", .scheme = "Negotiate");
    /* "Digestx" is another scheme */
    DIGEST_OK("Digestx realm=\"r\"", .scheme = "Digestx", .params = "realm=\"r\"");
}

static void test_invalid(void **state)
{
    (void)state;
    DIGEST_BAD("");
    DIGEST_BAD("   ");
    DIGEST_BAD("Digest"); /* RFC3261-25.1: at least one parameter */
    DIGEST_BAD("Digest   ");
    DIGEST_BAD("Digest ,");
    DIGEST_BAD("Digest ,, ,");
    DIGEST_BAD("=x");
    DIGEST_BAD("\"Digest\" realm=\"r\"");
    DIGEST_BAD("Digest,realm=\"r\"");
    DIGEST_BAD("Digest=realm");
    DIGEST_BAD("Digest username");
    DIGEST_BAD("Digest username=");
    DIGEST_BAD("Digest username= , realm=\"r\"");
    DIGEST_BAD("Digest =\"a\"");
    DIGEST_BAD("Digest user name=\"a\"");
    DIGEST_BAD("Digest username=\"abc");
    DIGEST_BAD("Digest username=\"abc\\\""); /* the closing quote is escaped */
    DIGEST_BAD("Digest username=\"abc\\");
    DIGEST_BAD("Digest realm=\"a\" realm2=\"b\""); /* no comma */
    DIGEST_BAD("Digest realm=\"a\"b");
    DIGEST_BAD("Digest realm=a b");
    DIGEST_BAD("Digest realm=\"a\" \"b\"");
    DIGEST_BAD("Digest realm=\"a\"; nonce=\"b\"");
    DIGEST_BAD("Digest realm=a\"b\"");
    /* duplicates of well-known parameters, names compared case-insensitively */
    DIGEST_BAD("Digest username=\"a\", username=\"b\"");
    DIGEST_BAD("Digest username=\"a\", USERNAME=\"a\"");
    DIGEST_BAD("Digest realm=\"r\", nonce=\"1\", response=\"x\", nonce=\"2\"");
    DIGEST_BAD("Digest realm=\"r\", stale=true, stale=false");
    DIGEST_BAD("Digest realm=\"r\", userhash=false, userhash=true");
    DIGEST_BAD("Digest realm=\"r\", algorithm=MD5, algorithm=SHA-256");
    DIGEST_BAD("Digest realm=\"r\", opaque=\"\", opaque=\"\"");
    /* RFC3261-25.1: nc-value = 8LHEX */
    DIGEST_BAD("Digest nc=1");
    DIGEST_BAD("Digest nc=0000001");
    DIGEST_BAD("Digest nc=000000001");
    DIGEST_BAD("Digest nc=0000000g");
    DIGEST_BAD("Digest nc=\"\"");
    /* control characters in a quoted string, bare CR/LF */
    DIGEST_BAD("Digest username=\"a\x01z\"");
    DIGEST_BAD("Digest username=\"a\x7fz\"");
    DIGEST_BAD("Digest username=\"a\nz\"");
    DIGEST_BAD("Digest username=\"a\rz\"");
    DIGEST_BAD("Digest username=\"a\r\nz\"");
    DIGEST_BAD("Digest username=\"a\\\nz\"");
    DIGEST_BADN("Digest username=\"a\0z\"");
    DIGEST_BADN("Digest realm=\"r\"\0");
    DIGEST_BADN("Dig\0est realm=\"r\"");
    /* non-ASCII outside quotes */
    DIGEST_BAD("Digest realm=caf\xc3\xa9");
    DIGEST_BAD("Digest r\xc3\xa9"
               "alm=\"x\"");
}

/* A control character or lone CR is refused; a fold (CRLF SP) inside a quoted string is LWS. */
static void test_quoted_fold(void **state)
{
    (void)state;
    DIGEST_OK("Digest realm=\"a\r\n b\"", .scheme = "Digest", .is_digest = true, .realm = "a\r\n b",
              .params = "realm=\"a\r\n b\"");
    DIGEST_OK("Digest realm=\"a\tb\"", .scheme = "Digest", .is_digest = true, .realm = "a\tb",
              .params = "realm=\"a\tb\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3261_credentials),
        cmocka_unit_test(test_rfc3261_challenges),
        cmocka_unit_test(test_rfc2617),
        cmocka_unit_test(test_rfc7616_sha256),
        cmocka_unit_test(test_rfc7616_userhash),
        cmocka_unit_test(test_algorithms),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_lws_and_quoting),
        cmocka_unit_test(test_other_schemes),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_quoted_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
