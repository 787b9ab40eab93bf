/* SPDX-License-Identifier: BSD-2-Clause */
/* textops functions run from scripts over a parsed INVITE with a body: search, replace, subst and
 * their body / Request-URI variants, checked byte for byte on the message they produce, and the
 * refusal of an edit that overlaps an earlier one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/avp.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/mod-t.h"
#include "sb/script.h"

extern const struct sb_module sb_module_textops;

#define L1       "INVITE sip:+4930123@example.com;user=phone SIP/2.0\r\n"
#define L2       "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
#define L3       "To: Bob <sip:bob@example.com>\r\n"
#define L4       "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
#define L5       "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
#define L6       "CSeq: 314159 INVITE\r\n"
#define L7       "User-Agent: Phone/1.0\r\n"
#define L8       "Content-Type: application/sdp\r\n"
#define L9       "Content-Length: 38\r\n"
#define BODY     "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000\r\n"
#define MSG_TEXT L1 L2 L3 L4 L5 L6 L7 L8 L9 "\r\n" BODY

#include "fixture_script.h"

static int setup(void **state)
{
    sfx_setup(state);
    sfx_use_msg(MSG_TEXT);
    return 0;
}

#define LOAD "loadmodule \"textops.so\"\n"

static int32_t rc_of(const char *call)
{
    return sfx_rc_of(LOAD, call);
}

static void test_search(void **state)
{
    (void)state;
    assert_int_equal(strlen(BODY), 38);
    assert_int_equal(rc_of("search(\"^user-agent: phone\");"), 1); /* any case, per line */
    assert_int_equal(rc_of("search(\"^Server:\");"), -1);
    assert_int_equal(rc_of("search_body(\"c=IN IP4 10\\.0\");"), 1);
    assert_int_equal(rc_of("search_body(\"User-Agent\");"), -1);
    assert_int_equal(rc_of("$var(re) = \"tag=[0-9]+\"; search($var(re));"), 1);
    want_msg(MSG_TEXT);
}

static void test_search_append(void **state)
{
    (void)state;
    assert_int_equal(rc_of("search_append(\"Phone/1\\.0\", \" (via $ci)\");"), 1);
    want_msg(L1 L2 L3 L4 L5 L6
             "User-Agent: Phone/1.0 (via a84b4c76e66710@pc33.example.com)\r\n" L8 L9 "\r\n" BODY);
    assert_int_equal(rc_of("search_append_body(\"m=audio [0-9]+\", \" RTP/AVP 0\");"), 1);
    want_msg(L1 L2 L3 L4 L5 L6 L7 L8 L9 "\r\nv=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP "
                                        "0\r\n");
    assert_int_equal(rc_of("search_append(\"nomatch\", \"x\");"), -1);
}

static void test_replace(void **state)
{
    (void)state;
    assert_int_equal(rc_of("replace(\"example\\.com\", \"example.org\");"), 1);
    want_msg("INVITE sip:+4930123@example.org;user=phone SIP/2.0\r\n" L2 L3 L4 L5 L6 L7 L8 L9
             "\r\n" BODY);
    assert_int_equal(rc_of("replace_all(\"example\\.com\", \"ex.net\");"), 1);
    want_msg("INVITE sip:+4930123@ex.net;user=phone SIP/2.0\r\n" L2 "To: Bob <sip:bob@ex.net>\r\n"
             "From: Alice <sip:alice@ex.net>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.ex.net\r\n" L6 L7 L8 L9 "\r\n" BODY);
    assert_int_equal(rc_of("replace(\"not-there\", \"x\");"), -1);
    want_msg(MSG_TEXT);
}

static void test_replace_body(void **state)
{
    (void)state;
    assert_int_equal(rc_of("replace_body(\"10\\.0\\.0\\.1\", \"192.0.2.7\");"), 1);
    want_msg(L1 L2 L3 L4 L5 L6 L7 L8 L9 "\r\nv=0\r\nc=IN IP4 192.0.2.7\r\nm=audio 4000\r\n");
    /* the body only: the 0 of the start line is left alone */
    assert_int_equal(rc_of("replace_body_all(\"0\", \"9\");"), 1);
    want_msg(L1 L2 L3 L4 L5 L6 L7 L8 L9 "\r\nv=9\r\nc=IN IP4 19.9.9.1\r\nm=audio 4999\r\n");
    assert_int_equal(rc_of("replace_body(\"Alice\", \"x\");"), -1);
}

static void test_subst(void **state)
{
    (void)state;
    assert_int_equal(rc_of("subst(\"/^(From:.*<sip:)alice@([^>]*)>/\\1carol@\\2>/\");"), 1);
    want_msg(L1 L2 L3 "From: Alice <sip:carol@example.com>;tag=1928301774\r\n" L5 L6 L7 L8 L9
                      "\r\n" BODY);
    /* without i the pattern is case-sensitive; g replaces every match */
    assert_int_equal(rc_of("subst(\"/EXAMPLE/x/g\");"), -1);
    assert_int_equal(rc_of("subst('/EXAMPLE\\.(com)/[\\1]/gi');"), 1);
    want_msg("INVITE sip:+4930123@[com];user=phone SIP/2.0\r\n" L2 "To: Bob <sip:bob@[com]>\r\n"
             "From: Alice <sip:alice@[com]>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.[com]\r\n" L6 L7 L8 L9 "\r\n" BODY);
    assert_int_equal(rc_of("subst_body(\"/m=audio ([0-9]+)/m=audio 1\\1/\");"), 1);
    want_msg(L1 L2 L3 L4 L5 L6 L7 L8 L9 "\r\nv=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 14000\r\n");
    /* another delimiter, and an escaped one */
    assert_int_equal(rc_of("subst(\"#Phone/1\\.0#Phone\\#2#\");"), 1);
    want_msg(L1 L2 L3 L4 L5 L6 "User-Agent: Phone#2\r\n" L8 L9 "\r\n" BODY);
}

static void test_subst_uri_user(void **state)
{
    (void)state;
    assert_int_equal(rc_of("subst_uri(\"/^sip:\\+49([0-9]+)@.*$/sip:0\\1@gw.example/\");"), 1);
    want_str("$ru", "sip:030123@gw.example");
    assert_int_equal(rc_of("subst_uri(\"/^tel:/sip:/\");"), -1);
    want_str("$ru", "sip:+4930123@example.com;user=phone");
    assert_int_equal(rc_of("subst_user(\"/^\\+49/0/\");"), 1);
    want_str("$ru", "sip:030123@example.com;user=phone");
    assert_int_equal(rc_of("subst_user(\"/^.*$//\");"), 1);
    want_str("$ru", "sip:example.com;user=phone");
    assert_int_equal(rc_of("subst_user(\"/^1/2/\");"), -1);
    /* the request's bytes are never touched by a Request-URI edit */
    want_msg(MSG_TEXT);
}

static void test_overlap_refused(void **state)
{
    (void)state;
    /* the second edit overlaps the first: refused, the first stays and the message is sound */
    assert_int_equal(rc_of("replace(\"Phone/1\\.0\", \"Softphone\");"
                           "replace(\"1\\.0\", \"2.0\");"),
                     -1);
    want_msg(L1 L2 L3 L4 L5 L6 "User-Agent: Softphone\r\n" L8 L9 "\r\n" BODY);
    assert_int_equal(F.msg.lump_err, 0);
    want_msg(L1 L2 L3 L4 L5 L6 "User-Agent: Softphone\r\n" L8 L9 "\r\n" BODY);
    /* an insert strictly inside a replaced span is refused too */
    assert_int_equal(rc_of("replace(\"Phone/1\\.0\", \"X\"); search_append(\"Phone/\", \"Y\");"),
                     -1);
    want_msg(L1 L2 L3 L4 L5 L6 "User-Agent: X\r\n" L8 L9 "\r\n" BODY);
}

static void test_errors(void **state)
{
    (void)state;
    sfx_load_fails(LOAD "route { search(\"(\"); }\n",
                   "argument 1 of 'search': bad regular expression");
    sfx_load_fails(LOAD "route { subst(\"/a/b\"); }\n", "missing '/' after the replacement");
    sfx_load_fails(LOAD "route { subst(\"/a/b/x\"); }\n", "unknown flag 'x'");
    sfx_load_fails(LOAD "route { subst(\"/a/\\2/\"); }\n", "refers to a group");
    sfx_load_fails(LOAD "route { replace(\"a\"); }\n",
                   "function 'replace' needs 2 arguments, got 1");
    sfx_load_fails(LOAD "onreply_route { subst_uri(\"/a/b/\"); }\n", "subst_uri");
}

static int teardown_all(void **state)
{
    (void)state;
    sb_module_textops.exit_worker(0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_search_append, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_replace_body, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_subst, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_subst_uri_user, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_refused, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, sfx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, teardown_all);
    sb_script_worker_exit();
    return rc;
}
