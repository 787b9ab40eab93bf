/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the transformations: every {s.*}, {uri.*}, {param.*}, {nameaddr.*}, {via.*},
 * {ip.*}, {csv.*} and {re.subst} with valid and invalid input, chains, variable arguments and
 * check-time errors. Expected values are worked out by hand (digests from their RFC/FIPS test
 * vectors). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pv_fixture.h"

/* Put <in> (<n> bytes) in $var(in) and read it through <trs>. */
static struct sb_val apply_n(const char *in, size_t n, const char *trs)
{
    char text[512];
    snprintf(text, sizeof(text), "$(var(in)%s)", trs);
    struct sb_val v = {.type = SB_VAL_STR, .s = {in, n}};
    if (!in)
        v.type = SB_VAL_NULL;
    assert_int_equal(sb_pv_set(&F->ctx, P("$var(in)"), SB_OP_SET, &v), 0);
    return get(text);
}

static struct sb_val apply(const char *in, const char *trs)
{
    return apply_n(in, in ? strlen(in) : 0, trs);
}

static void check_str(const char *in, const char *trs, const char *want)
{
    struct sb_val v = apply(in, trs);
    if (v.type != SB_VAL_STR)
        fail_msg("\"%s\"%s: type %d, expected \"%s\"", in, trs, v.type, want);
    if (v.s.len != strlen(want) || memcmp(v.s.p, want, v.s.len) != 0)
        fail_msg("\"%s\"%s: got \"%.*s\", expected \"%s\"", in, trs, (int)v.s.len, v.s.p, want);
}

static void check_int(const char *in, const char *trs, int32_t want)
{
    struct sb_val v = apply(in, trs);
    if (v.type != SB_VAL_INT || v.i != want)
        fail_msg("\"%s\"%s: got type %d value %d (\"%.*s\"), expected %d", in ? in : "(null)", trs,
                 v.type, v.i, (int)v.s.len, v.s.p ? v.s.p : "", want);
}

/* The transformation fails: the value becomes NULL. */
static void check_fail(const char *in, const char *trs)
{
    struct sb_val v = apply(in, trs);
    if (v.type != SB_VAL_NULL)
        fail_msg("\"%s\"%s: expected NULL, got type %d (\"%.*s\" / %d)", in ? in : "(null)", trs,
                 v.type, (int)v.s.len, v.s.p ? v.s.p : "", v.i);
}

/* ---- {s.*} --------------------------------------------------------------------------------- */

static void test_s_len_int(void **state)
{
    (void)state;
    check_int("hello", "{s.len}", 5);
    check_int("", "{s.len}", 0);
    check_int(NULL, "{s.len}", 0);
    assert_int_equal(set_int("$var(n)", -12345), 0);
    expect_int("$(var(n){s.len})", 6);
    check_int("42", "{s.int}", 42);
    check_int("-7", "{s.int}", -7);
    check_int("2147483647", "{s.int}", 2147483647);
    check_fail("2147483648", "{s.int}");
    check_fail("12a", "{s.int}");
    check_fail("", "{s.int}");
    check_fail(" 1", "{s.int}");
    check_fail(NULL, "{s.int}");
    expect_int("$(var(n){s.int})", -12345);
}

static void test_s_digests(void **state)
{
    (void)state;
    /* RFC 1321 A.5, FIPS 180-2 appendix vectors */
    check_str("abc", "{s.md5}", "900150983cd24fb0d6963f7d28e17f72");
    check_str("", "{s.md5}", "d41d8cd98f00b204e9800998ecf8427e");
    check_str("abc", "{s.sha1}", "a9993e364706816aba3e25717850c26c9cd0d89d");
    check_str("abc", "{s.sha256}",
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_str("abc", "{s.sha512}",
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    check_str("abc", "{s.sha224}", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    check_fail(NULL, "{s.md5}");
    check_fail(NULL, "{s.sha256}");
    /* CRC-32/ISO-HDLC check value */
    check_str("123456789", "{s.crc32}", "3421780262");
    check_str("", "{s.crc32}", "0");
    check_fail(NULL, "{s.crc32}");
}

static void test_s_slicing(void **state)
{
    (void)state;
    check_str("abc", "{s.reverse}", "cba");
    check_str("", "{s.reverse}", "");
    check_fail(NULL, "{s.reverse}");

    check_str("abcdef", "{s.substr,1,3}", "bcd");
    check_str("abcdef", "{s.substr,2,0}", "cdef");
    check_str("abcdef", "{s.substr,-2,0}", "ef");
    check_str("abcdef", "{s.substr,1,-1}", "bcde");
    check_str("abcdef", "{s.substr,0,10}", "abcdef");
    check_str("abcdef", "{s.substr,6,0}", "");
    check_fail("abcdef", "{s.substr,7,1}");
    check_fail("abcdef", "{s.substr,-7,1}");
    check_fail("abcdef", "{s.substr,4,-3}");
    assert_int_equal(set_int("$var(o)", 2), 0);
    assert_int_equal(set_str("$var(l)", "2"), 0);
    check_str("abcdef", "{s.substr,$var(o),$var(l)}", "cd");
    assert_int_equal(set_str("$var(l)", "x"), 0);
    check_fail("abcdef", "{s.substr,$var(o),$var(l)}");

    check_str("a,b,c", "{s.select,1,,}", "b");
    check_str("a,b,c", "{s.select,0,,}", "a");
    check_str("a,b,c", "{s.select,-1,,}", "c");
    check_str("a,,c", "{s.select,1,,}", "");
    check_str("a:b", "{s.select,0,:}", "a");
    check_str("abc", "{s.select,0,:}", "abc");
    check_fail("a,b,c", "{s.select,3,,}");
    check_fail("a,b,c", "{s.select,-4,,}");
    check_fail("a,b,c", "{s.select,0,}");

    check_int("hello world", "{s.index,o}", 4);
    check_int("hello world", "{s.index,o,5}", 7);
    check_int("hello world", "{s.index,world}", 6);
    check_int("hello world", "{s.index,z}", -1);
    check_int("hello world", "{s.index,o,-3}", -1);
    check_int("hello world", "{s.index,o,-4}", 7);
    check_int("hello world", "{s.rindex,o}", 7);
    check_int("hello world", "{s.rindex,o,6}", 4);
    check_int("hello world", "{s.rindex,hello}", 0);
    check_int("hello world", "{s.rindex,q}", -1);
    check_int("ab", "{s.index,abc}", -1);
    check_fail(NULL, "{s.index,a}");
}

static void test_s_padding_case(void **state)
{
    (void)state;
    check_str("42", "{s.fill.left,0,5}", "00042");
    check_str("ab", "{s.fill.right,x,4}", "abxx");
    check_str("7", "{s.fill.left,ab,4}", "aba7");
    check_str("abcdef", "{s.fill.left,0,3}", "abcdef");
    check_fail("ab", "{s.fill.left,,5}");
    check_fail("ab", "{s.fill.left,0,-1}");
    check_str("abc", "{s.width,5}", "abc  ");
    check_str("abcdefg", "{s.width,5}", "abcde");
    check_str("abc", "{s.width,0}", "");
    check_fail("abc", "{s.width,-1}");
    check_str(" \t a b \r\n", "{s.trim}", "a b");
    check_str(" \t a b \r\n", "{s.trimr}", " \t a b");
    check_str(" \t a b \r\n", "{s.triml}", "a b \r\n");
    check_str("   ", "{s.trim}", "");
    check_str("AbC-9", "{s.tolower}", "abc-9");
    check_str("AbC-9", "{s.toupper}", "ABC-9");
    check_fail(NULL, "{s.toupper}");
    check_fail(NULL, "{s.trim}");
}

static void test_s_numbers(void **state)
{
    (void)state;
    check_str("255", "{s.dec2hex}", "ff");
    check_str("0", "{s.dec2hex}", "0");
    check_str("-1", "{s.dec2hex}", "ffffffff");
    check_fail("abc", "{s.dec2hex}");
    check_int("ff", "{s.hex2dec}", 255);
    check_int("0x1A", "{s.hex2dec}", 26);
    check_int("ffffffff", "{s.hex2dec}", -1);
    check_fail("xyz", "{s.hex2dec}");
    check_fail("123456789", "{s.hex2dec}");
    check_fail("", "{s.hex2dec}");
    check_fail("0x", "{s.hex2dec}");
    check_int("1234", "{s.dec2hex}{s.hex2dec}", 1234);
}

static void test_s_encodings(void **state)
{
    (void)state;
    check_str("Hi!", "{s.encode.hexa}", "486921");
    check_str("486921", "{s.decode.hexa}", "Hi!");
    check_str("4A4b", "{s.decode.hexa}", "JK");
    check_fail("486", "{s.decode.hexa}");
    check_fail("zz", "{s.decode.hexa}");
    struct sb_val v = apply_n("a\0b", 3, "{s.encode.hexa}");
    assert_int_equal(v.s.len, 6);
    assert_memory_equal(v.s.p, "610062", 6);

    /* RFC 4648 §10 vectors */
    check_str("", "{s.b64encode}", "");
    check_str("f", "{s.b64encode}", "Zg==");
    check_str("fo", "{s.b64encode}", "Zm8=");
    check_str("foo", "{s.b64encode}", "Zm9v");
    check_str("foobar", "{s.b64encode}", "Zm9vYmFy");
    check_str("hello", "{s.b64encode}", "aGVsbG8=");
    check_str("aGVsbG8=", "{s.b64decode}", "hello");
    check_str("aGVsbG8", "{s.b64decode}", "hello");
    check_str("Zm9vYmFy", "{s.b64decode}", "foobar");
    check_str("Zg==", "{s.b64decode}", "f");
    check_fail("a", "{s.b64decode}");
    check_fail("a*==", "{s.b64decode}");
    check_fail("Zg=a", "{s.b64decode}");
    check_str("any text", "{s.b64encode}{s.b64decode}", "any text");
}

static void test_s_escaping(void **state)
{
    (void)state;
    check_str("a'b\"c\\d", "{s.escape.common}", "a\\'b\\\"c\\\\d");
    check_str("a\\'b\\\"c\\\\d", "{s.unescape.common}", "a'b\"c\\d");
    struct sb_val v = apply_n("x\0y", 3, "{s.escape.common}");
    assert_int_equal(v.s.len, 4);
    assert_memory_equal(v.s.p, "x\\0y", 4);
    v = apply("x\\0y", "{s.unescape.common}");
    assert_int_equal(v.s.len, 3);
    assert_memory_equal(v.s.p, "x\0y", 3);
    check_fail("a\\x", "{s.unescape.common}");
    check_fail("a\\", "{s.unescape.common}");

    check_str("alice smith@x", "{s.escape.user}", "alice%20smith%40x");
    check_str("a&b=c+d$e,f;g?h/i-j_k.l!m~n*o'p(q)", "{s.escape.user}",
              "a&b=c+d$e,f;g?h/i-j_k.l!m~n*o'p(q)");
    check_str("a:b", "{s.escape.user}", "a%3Ab");
    check_str("alice%20smith", "{s.unescape.user}", "alice smith");
    check_str("%41%42c", "{s.unescape.user}", "ABc");
    check_fail("%zz", "{s.unescape.user}");
    check_fail("abc%4", "{s.unescape.user}");
    check_str("a b;c=d", "{s.escape.param}", "a%20b%3Bc%3Dd");
    check_str("[::1]:5060/x&y+z$", "{s.escape.param}", "[::1]:5060/x&y+z$");
    check_str("a%3Bb", "{s.unescape.param}", "a;b");
    check_fail("%G0", "{s.unescape.param}");
    check_str("some user@x;y", "{s.escape.user}{s.unescape.user}", "some user@x;y");
}

/* ---- {uri.*} {param.*} {nameaddr.*} {via.*} ----------------------------------------------- */

static const char URI[] = "sip:alice:pw@atlanta.example.com:5061;transport=tls;ttl=5;user=phone;"
                          "maddr=239.1.1.1;method=INVITE;lr;r2=on;foo=bar?subject=hi&x=y";

static void test_uri(void **state)
{
    (void)state;
    check_str(URI, "{uri.user}", "alice");
    check_str(URI, "{uri.passwd}", "pw");
    check_str(URI, "{uri.host}", "atlanta.example.com");
    check_str(URI, "{uri.port}", "5061");
    check_str(URI, "{uri.params}",
              "transport=tls;ttl=5;user=phone;maddr=239.1.1.1;method=INVITE;lr;r2=on;foo=bar");
    check_str(URI, "{uri.param,foo}", "bar");
    check_str(URI, "{uri.param,FOO}", "bar");
    check_str(URI, "{uri.param,nope}", "");
    check_str(URI, "{uri.headers}", "subject=hi&x=y");
    check_str(URI, "{uri.transport}", "tls");
    check_str(URI, "{uri.ttl}", "5");
    check_str(URI, "{uri.uparam}", "phone");
    check_str(URI, "{uri.maddr}", "239.1.1.1");
    check_str(URI, "{uri.method}", "INVITE");
    check_str(URI, "{uri.lr}", "");
    check_str(URI, "{uri.r2}", "on");
    check_str(URI, "{uri.schema}", "sip");
    /* absent parts are empty */
    check_str("sips:h.example.com", "{uri.user}", "");
    check_str("sips:h.example.com", "{uri.port}", "");
    check_str("sips:h.example.com", "{uri.transport}", "");
    check_str("sips:h.example.com", "{uri.schema}", "sips");
    check_str("tel:+1-555-1234", "{uri.user}", "+1-555-1234");
    check_str("sip:[2001:db8::1]:5070", "{uri.host}", "[2001:db8::1]");
    check_fail("not a uri", "{uri.user}");
    check_fail("sip:", "{uri.host}");
    check_fail(NULL, "{uri.host}");
    assert_int_equal(set_str("$var(p)", "ttl"), 0);
    check_str(URI, "{uri.param,$var(p)}", "5");
    /* a message variable through a chain */
    expect_str("$(hdr(From){nameaddr.uri}{uri.user}{s.toupper})", "ALICE");
    expect_str("$(ru{uri.transport})", "tcp");
    expect_str("$(ct{nameaddr.uri}{uri.param,transport})", "udp");
}

static void test_param(void **state)
{
    (void)state;
    const char *list = "a=1;b=two;flag;c=\"x;y\"";
    check_str(list, "{param.value,b}", "two");
    check_str(list, "{param.value,B}", "two");
    check_str(list, "{param.value,flag}", "");
    check_str(list, "{param.value,zzz}", "");
    check_str(list, "{param.value,c}", "\"x;y\"");
    check_int(list, "{param.exist,flag}", 1);
    check_int(list, "{param.exist,a}", 1);
    check_int(list, "{param.exist,zzz}", 0);
    check_str(list, "{param.valueat,1}", "two");
    check_str(list, "{param.valueat,-1}", "\"x;y\"");
    check_str(list, "{param.name,2}", "flag");
    check_str(list, "{param.name,-1}", "c");
    check_fail(list, "{param.valueat,9}");
    check_fail(list, "{param.name,-5}");
    check_int(list, "{param.count}", 4);
    check_int("", "{param.count}", 0);
    check_int(";x=1; y = 2 ;", "{param.count}", 2);
    check_str(";x=1; y = 2 ;", "{param.value,y}", "2");
    check_fail(NULL, "{param.count}");
    assert_int_equal(set_str("$var(name)", "a"), 0);
    check_str(list, "{param.value,$var(name)}", "1");
    /* header parameters of a Contact */
    expect_str("$(ct{nameaddr.params}{param.value,expires})", "60");
}

static void test_nameaddr(void **state)
{
    (void)state;
    const char *na = "\"Alice\" <sip:alice@a.example.com;transport=tcp>;tag=abc;x=1";
    check_str(na, "{nameaddr.name}", "Alice");
    check_str(na, "{nameaddr.uri}", "sip:alice@a.example.com;transport=tcp");
    check_int(na, "{nameaddr.len}", (int32_t)strlen(na));
    check_str(na, "{nameaddr.param,tag}", "abc");
    check_str(na, "{nameaddr.param,x}", "1");
    check_str(na, "{nameaddr.param,y}", "");
    check_str(na, "{nameaddr.params}", "tag=abc;x=1");
    check_str("<sip:b@h>", "{nameaddr.name}", "");
    check_str("<sip:b@h>", "{nameaddr.params}", "");
    check_str("sip:b@h;tag=9", "{nameaddr.uri}", "sip:b@h");
    check_str("sip:b@h;tag=9", "{nameaddr.param,tag}", "9");
    check_str("*", "{nameaddr.uri}", "*");
    check_fail("<sip:bad", "{nameaddr.uri}");
    check_fail("", "{nameaddr.uri}");
    check_fail(NULL, "{nameaddr.uri}");
    expect_str("$(fu{nameaddr.uri})", "sip:alice@atlanta.example.com");
    expect_str("$(hdr(From){nameaddr.param,tag})", "1928301774");
}

static void test_via(void **state)
{
    (void)state;
    const char *via = "SIP/2.0/TCP host.example.com:5070;branch=z9hG4bK1;received=192.0.2.1;"
                      "rport=5071;x=y";
    check_str(via, "{via.name}", "SIP");
    check_str(via, "{via.version}", "2.0");
    check_str(via, "{via.transport}", "TCP");
    check_str(via, "{via.host}", "host.example.com");
    check_str(via, "{via.port}", "5070");
    check_str(via, "{via.params}", "branch=z9hG4bK1;received=192.0.2.1;rport=5071;x=y");
    check_str(via, "{via.param,x}", "y");
    check_str(via, "{via.param,nope}", "");
    check_str(via, "{via.branch}", "z9hG4bK1");
    check_str(via, "{via.received}", "192.0.2.1");
    check_str(via, "{via.rport}", "5071");
    check_str(via, "{via.comment}", "");
    const char *bare = "SIP/2.0/UDP [2001:db8::9];rport";
    check_str(bare, "{via.host}", "[2001:db8::9]");
    check_str(bare, "{via.port}", "");
    check_str(bare, "{via.rport}", "");
    check_str(bare, "{via.branch}", "");
    check_fail("garbage", "{via.host}");
    check_fail("SIP/2.0/UDP", "{via.host}");
    check_fail(NULL, "{via.host}");
    expect_str("$(hdr(Via)[1]{via.port})", "5070");
    expect_str("$(hdr(Via)[-1]{via.received})", "192.0.2.9");
}

/* ---- {ip.*} {csv.*} {re.subst} ------------------------------------------------------------- */

static void test_ip(void **state)
{
    (void)state;
    check_str("192.0.2.1", "{ip.pton}{s.encode.hexa}", "c0000201");
    check_str("::1", "{ip.pton}{s.encode.hexa}", "00000000000000000000000000000001");
    check_str("[2001:db8::1]", "{ip.pton}{s.encode.hexa}", "20010db8000000000000000000000001");
    check_int("::1", "{ip.pton}{s.len}", 16);
    check_fail("300.1.1.1", "{ip.pton}");
    check_fail("host.example.com", "{ip.pton}");
    check_str("192.0.2.1", "{ip.pton}{ip.ntop}", "192.0.2.1");
    check_str("2001:DB8:0::1", "{ip.pton}{ip.ntop}", "2001:db8::1");
    struct sb_val v = apply_n("\x0a\x00\x00\x01", 4, "{ip.ntop}");
    assert_int_equal(v.type, SB_VAL_STR);
    assert_int_equal(v.s.len, 8);
    assert_memory_equal(v.s.p, "10.0.0.1", 8);
    check_fail("abc", "{ip.ntop}");

    check_int("1.2.3.4", "{ip.isip}", 1);
    check_int("[::1]", "{ip.isip}", 1);
    check_int("fe80::1", "{ip.isip}", 1);
    check_int("foo", "{ip.isip}", 0);
    check_int("1.2.3", "{ip.isip}", 0);
    check_int("1.2.3.4", "{ip.isip4}", 1);
    check_int("::1", "{ip.isip4}", 0);
    check_int("::1", "{ip.isip6}", 1);
    check_int("1.2.3.4", "{ip.isip6}", 0);
    check_str("1.2.3.4", "{ip.family}", "INET");
    check_str("::ffff:1.2.3.4", "{ip.family}", "INET6");
    check_fail("foo", "{ip.family}");

    check_int("10.1.2.3", "{ip.matches,10.0.0.0/8}", 1);
    check_int("11.0.0.1", "{ip.matches,10.0.0.0/8}", 0);
    check_int("192.168.1.77", "{ip.matches,192.168.1.64/26}", 1);
    check_int("192.168.1.128", "{ip.matches,192.168.1.64/26}", 0);
    check_int("10.0.0.5", "{ip.matches,10.0.0.5}", 1);
    check_int("10.0.0.6", "{ip.matches,10.0.0.5}", 0);
    check_int("1.2.3.4", "{ip.matches,0.0.0.0/0}", 1);
    check_int("2001:db8::1", "{ip.matches,2001:db8::/32}", 1);
    check_int("2001:db9::1", "{ip.matches,2001:db8::/32}", 0);
    check_int("10.0.0.1", "{ip.matches,2001:db8::/32}", 0);
    check_fail("nope", "{ip.matches,10.0.0.0/8}");
    assert_int_equal(set_str("$var(net)", "172.16.0.0/12"), 0);
    check_int("172.20.1.1", "{ip.matches,$var(net)}", 1);
    assert_int_equal(set_str("$var(net)", "172.16.0.0/99"), 0);
    check_fail("172.20.1.1", "{ip.matches,$var(net)}");

    check_int("192.168.1.1", "{ip.isprivate}", 1);
    check_int("10.255.0.1", "{ip.isprivate}", 1);
    check_int("172.31.255.255", "{ip.isprivate}", 1);
    check_int("172.32.0.1", "{ip.isprivate}", 0);
    check_int("8.8.8.8", "{ip.isprivate}", 0);
    check_int("127.0.0.1", "{ip.isprivate}", 0);
    check_int("fd00::1", "{ip.isprivate}", 1);
    check_int("2001:db8::1", "{ip.isprivate}", 0);
    check_fail("foo", "{ip.isprivate}");
    check_fail(NULL, "{ip.isip}");
    F->ctx.peer = &F->peer;
    expect_int("$(si{ip.isip4})", 1);
}

static void test_csv(void **state)
{
    (void)state;
    check_int("a,b,c", "{csv.count}", 3);
    check_int("a", "{csv.count}", 1);
    check_int("", "{csv.count}", 0);
    check_int("a,,", "{csv.count}", 3);
    check_int("a,\"b,c\",d", "{csv.count}", 3);
    check_str("a,\"b,c\",d", "{csv.value,1}", "b,c");
    check_str("a,\"b,c\",d", "{csv.value,-1}", "d");
    check_str("a,\"b,c\",d", "{csv.value,0}", "a");
    check_str("a,,", "{csv.value,2}", "");
    check_str("\"un\"\"q\",x", "{csv.value,0}", "un\"q");
    check_str("\"\"", "{csv.value,0}", "");
    check_fail("a,b", "{csv.value,2}");
    check_fail("a,b", "{csv.value,-3}");
    check_fail("\"bad", "{csv.count}");
    check_fail("\"a\"b,c", "{csv.count}");
    check_fail(NULL, "{csv.count}");
    expect_parse_error("$(var(x){csv.value,one})", "argument 1 of {csv.value} must be a number", 0);
}

static void test_re_subst(void **state)
{
    (void)state;
    check_str("banana", "{re.subst,/a/o/}", "bonana");
    check_str("banana", "{re.subst,/a/o/g}", "bonono");
    check_str("banana", "{re.subst,/x/o/g}", "banana");
    check_str("10-20", "{re.subst,/([0-9]+)-([0-9]+)/\\2-\\1/}", "20-10");
    check_str("aAa", "{re.subst,/A/x/gi}", "xxx");
    check_str("aAa", "{re.subst,/A/x/g}", "axa");
    check_str("ab", "{re.subst,/x*/-/g}", "-a-b-");
    check_str("a,b", "{re.subst,/,/;/g}", "a;b");
    check_str("a/b", "{re.subst,#/#\\\\#}", "a\\b");
    check_str("a/b", "{re.subst,/\\//_/}", "a_b");
    check_str("+15551234", "{re.subst,/^\\+1(.*)$/00\\1/}", "005551234");
    check_str("abc", "{re.subst,/(x)?b/[\\1]/}", "a[]c");
    /* a group the pattern does not have inserts nothing, whatever an earlier match left */
    check_str("abc", "{re.subst,/(a)(b)(c)/\\3\\2\\1/}", "cba");
    check_str("xyz", "{re.subst,/(x)/[\\3]/}", "[]yz");
    check_str("sip:bob@old.example.com", "{re.subst,/@.*$/@new.example.com/}",
              "sip:bob@new.example.com");
    /* a regex from a variable, compiled at run time */
    assert_int_equal(set_str("$var(re)", "/o+/0/g"), 0);
    check_str("foo boo", "{re.subst,$var(re)}", "f0 b0");
    assert_int_equal(set_str("$var(re)", "/(/x/"), 0);
    check_fail("foo", "{re.subst,$var(re)}");
    check_fail(NULL, "{re.subst,/a/b/}");
    /* the compiled pattern is reused across executions */
    const struct sb_pv *pv = P("$(var(in){re.subst,/[0-9]/#/g})");
    assert_non_null(pv->trs[0].fixed);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(set_str("$var(in)", "a1b22"), 0);
        struct sb_val v;
        assert_int_equal(sb_pv_get(&F->ctx, pv, &v), 0);
        assert_int_equal(v.s.len, 5);
        assert_memory_equal(v.s.p, "a#b##", 5);
    }
}

/* ---- chains and arguments ------------------------------------------------------------------ */

static void test_chains(void **state)
{
    (void)state;
    /* a failure ends the chain with NULL, even before a transformation that takes NULL */
    check_fail("abc", "{s.int}{s.len}");
    check_int("abc", "{s.toupper}{s.len}", 3);
    check_str("  Sip:Bob@Example.COM  ", "{s.trim}{s.tolower}{uri.host}", "example.com");
    check_int("a=1;b=22", "{param.value,b}{s.int}", 22);
    /* an integer input is rendered first */
    assert_int_equal(set_int("$var(n)", 255), 0);
    expect_str("$(var(n){s.dec2hex}{s.toupper})", "FF");
    expect_str("$(var(n){s.fill.left,0,6})", "000255");
    /* a constant that looks like a number keeps its text as a string argument */
    check_str("5", "{s.fill.left,007,4}", "0075");
    /* a transformation argument can be transformed itself */
    assert_int_equal(set_str("$var(sep)", "x;y"), 0);
    check_str("a;b", "{s.select,1,$(var(sep){s.substr,1,1})}", "b");
    /* arguments are counted at check time */
    expect_parse_error("$(var(x){s.len,1})", "too many arguments for {s.len}", 0);
}

static int tr_double(struct sb_sctx *ctx, const struct sb_tr *tr, struct sb_val *v)
{
    (void)ctx, (void)tr;
    int32_t i;
    if (!sb_val_to_int(v, &i) || v->type == SB_VAL_NULL)
        return SB_EINVAL;
    v->type = SB_VAL_INT;
    v->i = 2 * i;
    return 0;
}

static const struct sb_tr_def module_trs[] = {
    {.cls = "math", .name = "double", .apply = tr_double},
    {.cls = NULL},
};

static void test_register(void **state)
{
    (void)state;
    assert_int_equal(sb_tr_register(module_trs), 0);
    check_int("21", "{math.double}", 42);
    check_int("21", "{math.double}{math.double}", 84);
    check_fail("x", "{math.double}");
    assert_int_equal(sb_tr_register(module_trs), SB_EINVAL);
    static const struct sb_tr_def clash[] = {{.cls = "s", .name = "len", .apply = tr_double},
                                             {.cls = NULL}};
    assert_int_equal(sb_tr_register(clash), SB_EINVAL);
    static const struct sb_tr_def bad[] = {
        {.cls = "m", .name = "x", .min_args = 2, .max_args = 1, .apply = tr_double}, {.cls = NULL}};
    assert_int_equal(sb_tr_register(bad), SB_EINVAL);
    /* sb_tr_arg evaluates a constant or a variable */
    const struct sb_pv *pv = P("$(var(x){s.substr,1,$var(len)})");
    struct sb_val a;
    assert_int_equal(sb_tr_arg(&F->ctx, &pv->trs[0], 0, &a), 0);
    assert_int_equal(a.type, SB_VAL_INT);
    assert_int_equal(a.i, 1);
    assert_int_equal(set_int("$var(len)", 9), 0);
    assert_int_equal(sb_tr_arg(&F->ctx, &pv->trs[0], 1, &a), 0);
    assert_int_equal(a.i, 9);
    assert_int_equal(sb_tr_arg(&F->ctx, &pv->trs[0], 2, &a), SB_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_s_len_int, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_s_digests, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_s_slicing, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_s_padding_case, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_s_numbers, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_s_encodings, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_s_escaping, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_uri, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_param, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_nameaddr, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_via, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_ip, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_csv, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_re_subst, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_chains, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_register, fix_setup, fix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
