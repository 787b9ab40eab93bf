/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for sb_nameaddr_parse: RFC 3261 From/To/Contact/Route examples, RFC 4475 display-name
 * and addr-spec torture values, RFC 5118 IPv6 URIs, header parameters and malformed values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/uri.h"

/* <v> must equal <lit> (<len> bytes); a NULL <lit> means the view must be absent. */
static void check_svn(sb_str v, const char *lit, size_t len, const char *file, int line)
{
    if (lit == NULL) {
        if (v.p != NULL || v.len != 0) {
            print_error("expected an absent view, got \"%.*s\"\n", (int)v.len, v.p ? v.p : "");
            _fail(file, line);
        }
        return;
    }
    if (v.p == NULL || v.len != len || memcmp(v.p, lit, len) != 0) {
        print_error("expected \"%.*s\", got %s\"%.*s\"\n", (int)len, lit, v.p ? "" : "(absent) ",
                    (int)v.len, v.p ? v.p : "");
        _fail(file, line);
    }
}
static size_t lit_len(const char *lit)
{
    return lit ? strlen(lit) : 0;
}
#define assert_sv(v, lit)       check_svn((v), (lit), lit_len(lit), __FILE__, __LINE__)
#define assert_svn(v, lit, len) check_svn((v), (lit), (len), __FILE__, __LINE__)

static void ok(sb_str in, struct sb_nameaddr *na, const char *file, int line)
{
    int rc = sb_nameaddr_parse(in, na);
    if (rc != 0) {
        print_error("sb_nameaddr_parse(\"%.*s\") = %d, expected 0\n", (int)in.len, in.p, rc);
        _fail(file, line);
    }
}
#define assert_na_ok(s, na)  ok(sb_str_cstr(s), (na), __FILE__, __LINE__)
#define assert_na_okn(s, na) ok(sb_str_make((s), sizeof(s) - 1), (na), __FILE__, __LINE__)

static void bad(sb_str in, const char *file, int line)
{
    struct sb_nameaddr na;
    int rc = sb_nameaddr_parse(in, &na);
    if (rc != SB_EPARSE) {
        print_error("sb_nameaddr_parse(\"%.*s\") = %d, expected SB_EPARSE\n", (int)in.len, in.p,
                    rc);
        _fail(file, line);
    }
}
#define assert_na_bad(s)  bad(sb_str_cstr(s), __FILE__, __LINE__)
#define assert_na_badn(s) bad(sb_str_make((s), sizeof(s) - 1), __FILE__, __LINE__)

/* RFC3261-20.20: From with a quoted display name, SWS before the tag. */
static void test_rfc3261_from(void **state)
{
    (void)state;
    const char *s = "\"A. G. Bell\" <sip:agb@bell-telephone.com> ;tag=a48s";
    struct sb_nameaddr na;
    assert_na_ok(s, &na);
    assert_ptr_equal(na.raw.p, s);
    assert_int_equal(na.raw.len, strlen(s));
    assert_false(na.is_star);
    assert_true(na.has_angle);
    assert_true(na.display_quoted);
    assert_sv(na.display, "A. G. Bell");
    assert_sv(na.uri_str, "sip:agb@bell-telephone.com");
    assert_int_equal(na.uri.scheme, SB_URI_SIP);
    assert_sv(na.uri.user, "agb");
    assert_sv(na.uri.host, "bell-telephone.com");
    assert_sv(na.params, "tag=a48s");
    assert_sv(na.tag, "a48s");
    assert_sv(na.expires, NULL);
    assert_sv(na.q, NULL);

    assert_na_ok("sip:+12125551212@server.phone2net.com;tag=887s", &na);
    assert_false(na.has_angle);
    assert_sv(na.display, NULL);
    assert_false(na.display_quoted);
    assert_sv(na.uri_str, "sip:+12125551212@server.phone2net.com");
    assert_sv(na.uri.user, "+12125551212");
    assert_sv(na.uri.params, NULL);
    assert_sv(na.tag, "887s");

    assert_na_ok("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", &na);
    assert_false(na.display_quoted);
    assert_sv(na.display, "Anonymous");
    assert_sv(na.uri_str, "sip:c8oqz84zk7z@privacy.org");
    assert_sv(na.tag, "hyh8");
}

/* RFC3261-20.39: To, with a display name of several tokens and without parameters. */
static void test_rfc3261_to(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("The Operator <sip:operator@cs.columbia.edu>;tag=287447", &na);
    assert_sv(na.display, "The Operator");
    assert_false(na.display_quoted);
    assert_sv(na.uri_str, "sip:operator@cs.columbia.edu");
    assert_sv(na.tag, "287447");

    assert_na_ok("sip:+12125551212@server.phone2net.com", &na);
    assert_sv(na.uri_str, "sip:+12125551212@server.phone2net.com");
    assert_sv(na.params, NULL);
    assert_sv(na.tag, NULL);

    /* RFC3261-24.2 */
    assert_na_ok("Bob <sip:bob@biloxi.com>", &na);
    assert_sv(na.display, "Bob");
    assert_sv(na.uri.host, "biloxi.com");
    assert_sv(na.params, NULL);
}

/* RFC3261-20.10: Contact with q and expires, a non-SIP scheme, and STAR. */
static void test_rfc3261_contact(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("\"Mr. Watson\" <sip:watson@worcester.bell-telephone.com> ;q=0.7; expires=3600",
                 &na);
    assert_sv(na.display, "Mr. Watson");
    assert_sv(na.uri_str, "sip:watson@worcester.bell-telephone.com");
    assert_sv(na.params, "q=0.7; expires=3600");
    assert_sv(na.q, "0.7");
    assert_sv(na.expires, "3600");
    assert_sv(na.tag, NULL);

    assert_na_ok("\"Mr. Watson\" <mailto:watson@bell-telephone.com> ;q=0.1", &na);
    assert_sv(na.uri_str, "mailto:watson@bell-telephone.com");
    assert_int_equal(na.uri.scheme, SB_URI_OTHER);
    assert_sv(na.q, "0.1");

    assert_na_ok("<sips:bob@192.0.2.4>;expires=60", &na);
    assert_sv(na.display, NULL);
    assert_true(na.has_angle);
    assert_int_equal(na.uri.scheme, SB_URI_SIPS);
    assert_sv(na.uri.host, "192.0.2.4");
    assert_sv(na.expires, "60");

    const char *star = "*";
    assert_na_ok(star, &na);
    assert_true(na.is_star);
    assert_false(na.has_angle);
    assert_sv(na.uri_str, NULL);
    assert_sv(na.display, NULL);
    assert_sv(na.params, NULL);
    assert_ptr_equal(na.raw.p, star);
    assert_na_ok(" * ", &na);
    assert_true(na.is_star);

    assert_na_bad("*;expires=0");
    assert_na_bad("* ;expires=0");
    assert_na_bad("**");
}

/* RFC3261-20.30, 20.34: Route and Record-Route entries carry lr inside the brackets. */
static void test_rfc3261_route(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("<sip:server10.biloxi.com;lr>", &na);
    assert_sv(na.uri_str, "sip:server10.biloxi.com;lr");
    assert_sv(na.uri.host, "server10.biloxi.com");
    assert_true(na.uri.lr);
    assert_sv(na.uri.params, "lr");
    assert_sv(na.params, NULL);

    /* RFC4475-3.1.1.1 wsinv Route */
    assert_na_ok("<sip:services.example.com;lr;unknownwith=value;unknown-no-value>", &na);
    assert_true(na.uri.lr);
    assert_sv(na.uri.params, "lr;unknownwith=value;unknown-no-value");
    assert_sv(na.params, NULL);
}

/* RFC4475-3.1.1.1 wsinv: LWS before ';' and around '=', escapes inside a quoted display name. */
static void test_rfc4475_wsinv(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", &na);
    assert_false(na.has_angle);
    assert_sv(na.uri_str, "sip:vivekg@chair-dnrc.example.com");
    assert_sv(na.params, "tag    = 1918181833n");
    assert_sv(na.tag, "1918181833n");

    assert_na_ok("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com> ; tag = 98asjd8", &na);
    assert_true(na.display_quoted);
    assert_sv(na.display, "J Rosenberg \\\\\\\"");
    assert_sv(na.uri_str, "sip:jdrosen@example.com");
    assert_sv(na.tag, "98asjd8");

    assert_na_ok("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam = newvalue ; "
                 "secondparam ; q = 0.33",
                 &na);
    assert_sv(na.display, "Quoted string \\\"\\\"");
    assert_sv(na.params, "newparam = newvalue ; secondparam ; q = 0.33");
    assert_sv(na.q, "0.33");
    assert_sv(na.tag, NULL);
}

/* RFC4475-3.1.1.1 wsinv: the header values with their folds still in place. */
static void test_rfc4475_wsinv_folded(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok(
        "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8", &na);
    assert_sv(na.tag, "98asjd8");
    assert_na_ok("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n"
                 "      newvalue ;\r\n  secondparam ; q = 0.33",
                 &na);
    assert_sv(na.q, "0.33");
    assert_na_ok("\"folded\r\n name\" <sip:a@example.com>", &na);
    assert_sv(na.display, "folded\r\n name");

    assert_na_bad("\"bare\rCR\" <sip:a@example.com>");
    assert_na_bad("\"bare\nLF\" <sip:a@example.com>");
    assert_na_bad("<sip:a@example.com>\r;tag=1");
}

/* RFC4475-3.1.1.2 intmeth: escaped controls in a quoted display name, a token display name made of
 * every token character, a UTF-8 quoted parameter value. */
static void test_rfc4475_intmeth(void **state)
{
    (void)state;
    static const char to[] = "\"BEL:\\\x07 NUL:\\\0 DEL:\\\x7f\" "
                             "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
    struct sb_nameaddr na;
    assert_na_okn(to, &na);
    assert_true(na.display_quoted);
    assert_svn(na.display, "BEL:\\\x07 NUL:\\\0 DEL:\\\x7f", 20);
    assert_sv(na.uri_str, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
    assert_sv(na.uri.host, "example.com");

    assert_na_ok("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;"
                 "fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e"
                 "\xd1\x89\xd0\xb8\xd0\xb9\";tag=_token~1'+`*%!-.",
                 &na);
    assert_false(na.display_quoted);
    assert_sv(na.display, "token1~` token2'+_ token3*%!.-");
    assert_sv(na.uri_str, "sip:mundane@example.com");
    assert_sv(na.tag, "_token~1'+`*%!-.");

    /* unescaped controls are not qdtext; CR and LF cannot be escaped */
    assert_na_badn("\"BEL:\x07\" <sip:a@example.com>");
    assert_na_badn("\"NUL:\0\" <sip:a@example.com>");
    assert_na_badn("\"DEL:\x7f\" <sip:a@example.com>");
    assert_na_bad("\"esc CR:\\\r\" <sip:a@example.com>");
    assert_na_bad("\"esc LF:\\\n\" <sip:a@example.com>");
    assert_na_bad("\"esc 8bit:\\\xc3\xa9\" <sip:a@example.com>");
}

/* RFC4475-3.1.1.5 esc02, 3.1.1.6 lwsdisp, 3.1.1.7 longreq: odd but valid display names. */
static void test_rfc4475_display(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("\"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23", &na);
    assert_sv(na.display, "%Z%45");
    assert_sv(na.tag, "f232jadfj23");

    assert_na_ok("caller<sip:caller@example.com>;tag=323", &na);
    assert_sv(na.display, "caller");
    assert_false(na.display_quoted);
    assert_sv(na.uri_str, "sip:caller@example.com");
    assert_sv(na.tag, "323");

    assert_na_ok("\"I have a user name of extreme proportion\"<sip:user@example.com:6000;"
                 "unknownparam1=verylongvalue;longparamname=shortvalue;ParameterNameWithNoValue>",
                 &na);
    assert_sv(na.display, "I have a user name of extreme proportion");
    assert_sv(na.uri.port, "6000");
    assert_int_equal(na.uri.port_no, 6000);
    assert_sv(na.params, NULL);

    assert_na_ok("A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe", &na);
    assert_sv(na.display, "A. Bell");

    assert_na_ok("\"\" <sip:a@example.com>", &na);
    assert_true(na.display_quoted);
    assert_non_null(na.display.p);
    assert_int_equal(na.display.len, 0);

    assert_na_ok("Bob \t Smith\t<sip:bob@example.com>", &na);
    assert_sv(na.display, "Bob \t Smith");

    assert_na_ok("\"Zo\xc3\xab (caf\xc3\xa9) <x>\" <sip:zoe@example.com>", &na);
    assert_sv(na.display, "Zo\xc3\xab (caf\xc3\xa9) <x>");

    assert_na_ok("* <sip:a@example.com>", &na);
    assert_false(na.is_star);
    assert_sv(na.display, "*");
}

/* RFC4475-3.1.2.6 quotbal: an unterminated quoted display name is malformed. */
static void test_rfc4475_quotbal(void **state)
{
    (void)state;
    assert_na_bad("\"Mr. J. User <sip:j.user@example.com>");
    assert_na_bad("\"Mr. J. User <sip:j.user@example.com>;tag=1");
    assert_na_bad("\"ends in an escaped quote\\\" <sip:a@example.com>");
    assert_na_bad("\"trailing backslash\\");
    assert_na_bad("\"");
}

/* RFC4475-3.1.2.15 baddn: non-token characters in an unquoted display name. */
static void test_rfc4475_baddn(void **state)
{
    (void)state;
    assert_na_bad("Bell, Alexander <sip:a.g.bell@example.com>;tag=43");
    assert_na_bad("Watson, Thomas <sip:t.watson@example.org>");
    assert_na_bad("Bob \"The Builder\" <sip:bob@example.com>");
    assert_na_bad("Bob\" <sip:bob@example.com>");
    assert_na_bad("Bob@home <sip:bob@example.com>");
    assert_na_bad("(Bob) <sip:bob@example.com>");
    assert_na_bad("\"Bob\" Smith <sip:bob@example.com>");
    assert_na_bad("Bob <sip:bob@example.com> Smith");

    /* the same names quoted are fine (RFC4475-3.1.2.14 badaspec's From) */
    struct sb_nameaddr na;
    assert_na_ok("\"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423", &na);
    assert_sv(na.display, "Bell, Alexander");
    assert_sv(na.tag, "433423");
}

/* RFC4475-3.1.2.14 badaspec: LAQUOT/RAQUOT leave no room for spaces inside the brackets. */
static void test_rfc4475_badaspec(void **state)
{
    (void)state;
    assert_na_bad("\"Watson, Thomas\" < sip:t.watson@example.org >");
    assert_na_bad("<sip:t.watson@example.org >");
    assert_na_bad("< sip:t.watson@example.org>");
    assert_na_bad("<sip:t.watson @example.org>");
    assert_na_bad("<sip:a@example.com\t>");
    assert_na_bad("<http://www.example.com/a b>");
    assert_na_bad("<urn:a\tb>");
}

/* RFC4475-3.1.2.13 regbadct / 3.3.14 regescrt: an escaped header needs the name-addr form. */
static void test_rfc4475_regbadct(void **state)
{
    (void)state;
    assert_na_bad("sip:user@example.com?Route=%3Csip:sip.example.com%3E");
    assert_na_bad("sip:user@example.com,sip:other@example.com");

    struct sb_nameaddr na;
    assert_na_ok("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", &na);
    assert_sv(na.uri_str, "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
    assert_sv(na.uri.host, "example.com");
    assert_sv(na.uri.headers, "Route=%3Csip:sip.example.com%3E");
}

/* RFC4475-3.3.12 cparam01 / 3.3.13 cparam02: ';' is a header parameter outside <>, a URI
 * parameter inside (RFC3261-20.10). */
static void test_rfc4475_cparam(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("sip:+19725552222@gw1.example.net;unknownparam", &na);
    assert_sv(na.uri_str, "sip:+19725552222@gw1.example.net");
    assert_sv(na.uri.params, NULL);
    assert_sv(na.params, "unknownparam");

    assert_na_ok("<sip:+19725552222@gw1.example.net;unknownparam>", &na);
    assert_sv(na.uri_str, "sip:+19725552222@gw1.example.net;unknownparam");
    assert_sv(na.uri.params, "unknownparam");
    assert_sv(na.params, NULL);

    /* RFC4475-3.4.1 inv2543 */
    assert_na_ok("sip:+16505552222@ss1.example.net;user=phone", &na);
    assert_sv(na.uri_str, "sip:+16505552222@ss1.example.net");
    assert_sv(na.uri.user_param, NULL);
    assert_sv(na.params, "user=phone");
    assert_na_ok("<sip:+13035551111@ift.client.example.net;user=phone>", &na);
    assert_sv(na.uri.user_param, "phone");
    assert_sv(na.params, NULL);
}

/* RFC4475-3.1.1.3 esc01, 3.1.1.4 escnull, 3.3.4 unksm2: escapes and unknown schemes. */
static void test_rfc4475_uris(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("sip:%75se%72@example.com", &na);
    assert_sv(na.uri.user, "%75se%72");
    assert_na_ok("<sip:I%20have%20spaces@example.net>;tag=938", &na);
    assert_sv(na.uri.user, "I%20have%20spaces");
    assert_sv(na.tag, "938");
    assert_na_ok("<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>", &na);
    assert_sv(na.uri.params, "%6C%72;n%61me=v%61lue%25%34%31");
    assert_na_ok("sip:null-%00-null@example.com;tag=839923423", &na);
    assert_sv(na.uri.user, "null-%00-null");
    assert_sv(na.tag, "839923423");

    assert_na_ok("isbn:2983792873", &na);
    assert_int_equal(na.uri.scheme, SB_URI_OTHER);
    assert_sv(na.uri_str, "isbn:2983792873");
    assert_na_ok("<http://www.example.com>;tag=3234233", &na);
    assert_int_equal(na.uri.scheme, SB_URI_OTHER);
    assert_sv(na.uri_str, "http://www.example.com");
    assert_sv(na.tag, "3234233");
    assert_na_ok("<name:John_Smith>", &na);
    assert_sv(na.uri_str, "name:John_Smith");

    /* a URI that does not parse fails the whole value */
    assert_na_bad("<>");
    assert_na_bad("<notauri>");
    assert_na_bad("<sip:>");
}

/* RFC4475-3.1.2.1 badinv01: empty parameters. */
static void test_rfc4475_badinv01(void **state)
{
    (void)state;
    assert_na_bad("\"Joe\" <sip:joe@example.org>;;;;");
    assert_na_bad("\"Joe\" <sip:joe@example.org>;");
    assert_na_bad("\"Joe\" <sip:joe@example.org>; ");
    assert_na_bad("sip:joe@example.org;");
    assert_na_bad("sip:joe@example.org;;tag=1");
}

/* RFC5118-4.1, 4.6, 4.9, 4.10: IPv6 references in URIs. */
static void test_rfc5118(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("\"Caller\" <sip:caller@[2001:db8::1]>", &na);
    assert_sv(na.display, "Caller");
    assert_sv(na.uri.host, "[2001:db8::1]");
    assert_int_equal(na.uri.host_kind, SB_HOST_IPV6);

    assert_na_ok("\"T. desk phone\" <sip:ted@[::ffff:192.0.2.2]>", &na);
    assert_sv(na.uri.host, "[::ffff:192.0.2.2]");

    assert_na_ok("sip:user@[2001:db8::10]", &na);
    assert_sv(na.uri_str, "sip:user@[2001:db8::10]");
    assert_sv(na.uri.host, "[2001:db8::10]");

    assert_na_ok("sip:user@[2001:db8::192.0.2.1]", &na);
    assert_sv(na.uri.host, "[2001:db8::192.0.2.1]");
    /* RFC5118-4.10: RFC 3261's ABNF bug, to be tolerated */
    assert_na_ok("sip:user@[2001:db8:::192.0.2.1]", &na);
    assert_sv(na.uri.host, "[2001:db8:::192.0.2.1]");
    assert_na_bad("sip:user@[2001:db8:::1]");

    assert_na_ok("sip:user@example.com;tag=bd76ya", &na);
    assert_sv(na.tag, "bd76ya");
}

/* The other headers sharing the grammar: P-Asserted-Identity (RFC 3325 §9.1), Path (RFC 3327 §5),
 * Refer-To with an embedded Replaces (RFC 3891 §6.1), a Contact with +sip.instance (RFC 5626
 * §4.2) whose quoted value holds '<' and '>'. */
static void test_other_headers(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("\"Cullen Jennings\" <sip:fluffy@cisco.com>", &na);
    assert_sv(na.display, "Cullen Jennings");
    assert_na_ok("tel:+14085264000", &na);
    assert_int_equal(na.uri.scheme, SB_URI_TEL);
    assert_false(na.has_angle);
    assert_sv(na.uri_str, "tel:+14085264000");

    assert_na_ok("<sip:P3.EXAMPLEHOME.COM;lr>", &na);
    assert_true(na.uri.lr);
    assert_sv(na.uri.host, "P3.EXAMPLEHOME.COM");

    assert_na_ok("<sip:dave@denver.example.org?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345"
                 "%3Bfrom-tag%3D5FFE-3994>",
                 &na);
    assert_sv(na.uri.host, "denver.example.org");
    assert_sv(na.uri.headers,
              "Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994");
    assert_sv(na.params, NULL);

    assert_na_ok("<sip:line1@192.0.2.2;transport=tcp>;reg-id=1;+sip.instance="
                 "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"",
                 &na);
    assert_sv(na.uri_str, "sip:line1@192.0.2.2;transport=tcp");
    assert_sv(na.uri.transport, "tcp");
    assert_sv(na.params,
              "reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
    assert_sv(na.tag, NULL);
}

/* tag, expires and q: checked, case-insensitive names, the first occurrence wins. */
static void test_params(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("<sip:a@example.com>;TAG=abc;Q=1.000;EXPIRES=0;x=\"a;b>c\";y", &na);
    assert_sv(na.tag, "abc");
    assert_sv(na.q, "1.000");
    assert_sv(na.expires, "0");
    assert_sv(na.params, "TAG=abc;Q=1.000;EXPIRES=0;x=\"a;b>c\";y");

    assert_na_ok("<sip:a@example.com>;tag=first;tag=second", &na);
    assert_sv(na.tag, "first");

    /* RFC4475-3.1.2.4 scalar02: an overlarge expires is syntax-valid; the registrar decides */
    assert_na_ok("<sip:user@host129.example.com> ;expires=280297596632815", &na);
    assert_sv(na.expires, "280297596632815");

    static const char *const qgood[] = {"0", "1", "0.", "1.", "0.5", "0.999", "1.0", "1.000"};
    static const char *const qbad[] = {"1.001", "2",   "0.1234", ".5",     "01",
                                       "1.5",   "0,5", "-0",     "\"0.5\""};
    char buf[96];
    for (size_t i = 0; i < SB_ARRAY_LEN(qgood); i++) {
        snprintf(buf, sizeof(buf), "<sip:a@example.com>;q=%s", qgood[i]);
        assert_na_ok(buf, &na);
        assert_sv(na.q, qgood[i]);
    }
    for (size_t i = 0; i < SB_ARRAY_LEN(qbad); i++) {
        snprintf(buf, sizeof(buf), "<sip:a@example.com>;q=%s", qbad[i]);
        assert_na_bad(buf);
    }

    assert_na_bad("<sip:a@example.com>;tag");
    assert_na_bad("<sip:a@example.com>;tag=");
    assert_na_bad("<sip:a@example.com>;tag=\"quoted\"");
    assert_na_bad("<sip:a@example.com>;tag=a:b");
    assert_na_bad("<sip:a@example.com>;tag=ok;tag");
    assert_na_bad("<sip:a@example.com>;expires");
    assert_na_bad("<sip:a@example.com>;expires=-1");
    assert_na_bad("<sip:a@example.com>;expires=1h");
    assert_na_bad("<sip:a@example.com>;q");
    assert_na_bad("<sip:a@example.com>;=x");
    assert_na_bad("<sip:a@example.com>;x=\"unterminated");
    assert_na_bad("<sip:a@example.com>;tag=a b");
}

/* What may follow the URI: SWS and parameters, nothing else. */
static void test_structure_errors(void **state)
{
    (void)state;
    assert_na_bad("");
    assert_na_bad("   ");
    assert_na_bad("<sip:a@example.com");
    assert_na_bad("<sip:a@example.com>>");
    assert_na_bad("<sip:a@example.com>junk");
    assert_na_bad("<sip:a@example.com> junk");
    assert_na_bad("<sip:a@example.com>, <sip:b@example.com>");
    assert_na_bad("<<sip:a@example.com>>");
    assert_na_bad("<sip:a<b@example.com>");
    assert_na_bad("sip:a@example.com junk");
    assert_na_bad("sip:a@example.com <sip:b@example.com>");
    assert_na_bad("sip:a@example.com>");
    assert_na_bad("sip:a\"b\"@example.com");
    assert_na_bad("\"Bob\" sip:bob@example.com");
    assert_na_bad("\"Bob\"");
    assert_na_bad("Bob");
    assert_na_bad("Bob Smith");
    assert_na_bad("Bob sip:bob@example.com");
    assert_na_bad(";tag=1");
}

/* The value is trimmed defensively, SWS before ';' is allowed, and nothing past <len> is read. */
static void test_trim_and_bounds(void **state)
{
    (void)state;
    struct sb_nameaddr na;
    assert_na_ok("  <sip:a@example.com> ;tag=1\t ", &na);
    assert_sv(na.raw, "<sip:a@example.com> ;tag=1");
    assert_sv(na.tag, "1");

    assert_na_ok("sip:a@example.com\t;tag=2", &na);
    assert_sv(na.uri_str, "sip:a@example.com");
    assert_sv(na.tag, "2");

    const char buf[] = "<sip:a@example.com>;tag=xyz>>>";
    assert_int_equal(sb_nameaddr_parse(sb_str_make(buf, sizeof(buf) - 1 - 3), &na), 0);
    assert_sv(na.tag, "xyz");
    assert_int_equal(sb_nameaddr_parse(sb_str_make(buf, 18), &na), SB_EPARSE);
    assert_int_equal(sb_nameaddr_parse(sb_str_make(buf, 19), &na), 0);
    assert_sv(na.uri_str, "sip:a@example.com");
    assert_sv(na.params, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3261_from),     cmocka_unit_test(test_rfc3261_to),
        cmocka_unit_test(test_rfc3261_contact),  cmocka_unit_test(test_rfc3261_route),
        cmocka_unit_test(test_rfc4475_wsinv),    cmocka_unit_test(test_rfc4475_wsinv_folded),
        cmocka_unit_test(test_rfc4475_intmeth),  cmocka_unit_test(test_rfc4475_display),
        cmocka_unit_test(test_rfc4475_quotbal),  cmocka_unit_test(test_rfc4475_baddn),
        cmocka_unit_test(test_rfc4475_badaspec), cmocka_unit_test(test_rfc4475_regbadct),
        cmocka_unit_test(test_rfc4475_cparam),   cmocka_unit_test(test_rfc4475_uris),
        cmocka_unit_test(test_rfc4475_badinv01), cmocka_unit_test(test_rfc5118),
        cmocka_unit_test(test_other_headers),    cmocka_unit_test(test_params),
        cmocka_unit_test(test_structure_errors), cmocka_unit_test(test_trim_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
