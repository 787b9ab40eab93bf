/* SPDX-License-Identifier: BSD-2-Clause */
/* sipmsgops functions run from scripts over a parsed INVITE: the tests (is_method, has_totag,
 * has_body, is_present_hf, ruri_has_param, is_uri_user_e164) and the edits, checked byte for byte
 * on the message they produce. */
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
#include "sb/script.h"

#define HEAD                                                                                       \
    "INVITE sip:bob@example.com;lr;nat=yes SIP/2.0\r\n"                                            \
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"                                   \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@example.com>\r\n"                                                            \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 INVITE\r\n"                                                                      \
    "X-Foo: one\r\n"                                                                               \
    "Supported: timer, 100rel\r\n"                                                                 \
    "x-foo: two\r\n"                                                                               \
    "X-Bar: three\r\n"                                                                             \
    "Content-Type: application/sdp\r\n"                                                            \
    "Content-Length: 4\r\n"
#define MSG_TEXT HEAD "\r\nv=0\n"

#include "fixture_script.h"

static int setup(void **state)
{
    sfx_setup(state);
    sfx_use_msg(MSG_TEXT);
    return 0;
}

#define LOAD "loadmodule \"sipmsgops.so\"\n"

static int32_t rc_of(const char *call)
{
    return sfx_rc_of(LOAD, call);
}

static void test_is_method(void **state)
{
    (void)state;
    assert_int_equal(rc_of("is_method(\"INVITE\");"), 1);
    assert_int_equal(rc_of("is_method(\"REGISTER|invite\");"), 1);
    assert_int_equal(rc_of("is_method(\"ACK|BYE\");"), -1);
    assert_int_equal(rc_of("is_method(\"INV\");"), -1);
    /* a reply's method is CSeq's */
    sfx_use_msg("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\n"
                "CSeq: 2 BYE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
                "Content-Length: 0\r\n\r\n");
    assert_int_equal(rc_of("is_method(\"BYE\");"), 1);
    assert_int_equal(rc_of("has_totag();"), 1);
    want_msg("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\n"
             "CSeq: 2 BYE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
             "Content-Length: 0\r\n\r\n");
}

static void test_tests(void **state)
{
    (void)state;
    assert_int_equal(rc_of("has_totag();"), -1);
    assert_int_equal(rc_of("has_body();"), 1);
    assert_int_equal(rc_of("has_body(\"application/sdp\");"), 1);
    assert_int_equal(rc_of("has_body(\"text/plain\");"), -1);
    assert_int_equal(rc_of("has_body_part(\"application/*\");"), 1);
    assert_int_equal(rc_of("is_present_hf(\"x-FOO\");"), 1);
    assert_int_equal(rc_of("is_present_hf(\"k\");"), 1); /* compact Supported */
    assert_int_equal(rc_of("is_present_hf(\"X-Baz\");"), -1);
    assert_int_equal(rc_of("ruri_has_param(\"lr\");"), 1);
    assert_int_equal(rc_of("ruri_has_param(\"nat\");"), -1); /* has a value */
    assert_int_equal(rc_of("ruri_has_param(\"nat\", \"yes\");"), 1);
    assert_int_equal(rc_of("ruri_has_param(\"nat\", \"no\");"), -1);
    assert_int_equal(rc_of("ruri_has_param(\"transport\");"), -1);
    assert_int_equal(rc_of("is_uri_user_e164(\"sip:+4930123456@h\");"), 1);
    assert_int_equal(rc_of("is_uri_user_e164(\"sip:4930123456@h\");"), -1);
    assert_int_equal(rc_of("is_uri_user_e164(\"sip:+49abc@h\");"), -1);
    assert_int_equal(rc_of("is_uri_user_e164(\"$fu\");"), -1);
    want_msg(MSG_TEXT); /* tests edit nothing */
    sfx_use_msg("OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\n"
                "CSeq: 2 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
                "Content-Type: multipart/mixed;boundary=b1\r\nContent-Length: 58\r\n\r\n"
                "--b1\r\nContent-Type: application/pidf+xml\r\n\r\n<x/>\r\n--b1--\r\n");
    assert_int_equal(rc_of("has_body(\"application/pidf+xml\");"), 1);
    assert_int_equal(rc_of("has_body(\"application/sdp\");"), -1);
}

static void test_append_insert(void **state)
{
    (void)state;
    assert_int_equal(rc_of("append_hf(\"P-Hint: $rU\\r\\n\"); insert_hf(\"P-Top: 1\");"
                           "append_hf(\"P-After-Foo: 2\\r\\n\", \"X-Foo\");"
                           "insert_hf(\"P-Before-Bar: 3\\r\\n\", \"x-bar\");"),
                     1);
    want_msg("INVITE sip:bob@example.com;lr;nat=yes SIP/2.0\r\n"
             "P-Top: 1\r\n"
             "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
             "Max-Forwards: 70\r\n"
             "To: Bob <sip:bob@example.com>\r\n"
             "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
             "CSeq: 314159 INVITE\r\n"
             "X-Foo: one\r\n"
             "P-After-Foo: 2\r\n"
             "Supported: timer, 100rel\r\n"
             "x-foo: two\r\n"
             "P-Before-Bar: 3\r\n"
             "X-Bar: three\r\n"
             "Content-Type: application/sdp\r\n"
             "Content-Length: 4\r\n"
             "P-Hint: bob\r\n"
             "\r\nv=0\n");
}

static void test_anchor_missing(void **state)
{
    (void)state;
    assert_int_equal(rc_of("append_hf(\"A: 1\", \"X-None\");"), -1);
    assert_int_equal(rc_of("insert_hf(\"A: 1\", \"X-None\");"), -1);
    want_msg(MSG_TEXT);
}

static void test_append_urihf(void **state)
{
    (void)state;
    assert_int_equal(rc_of("$ru = \"sip:carol@c.example\";"
                           "append_urihf(\"CC-Diversion: <\", \">\\r\\n\");"),
                     1);
    want_msg(HEAD "CC-Diversion: <sip:carol@c.example>\r\n\r\nv=0\n");
}

static void test_remove_hf(void **state)
{
    (void)state;
    assert_int_equal(rc_of("remove_hf(\"X-FOO\");"), 2);
    want_msg("INVITE sip:bob@example.com;lr;nat=yes SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
             "Max-Forwards: 70\r\n"
             "To: Bob <sip:bob@example.com>\r\n"
             "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
             "CSeq: 314159 INVITE\r\n"
             "Supported: timer, 100rel\r\n"
             "X-Bar: three\r\n"
             "Content-Type: application/sdp\r\n"
             "Content-Length: 4\r\n"
             "\r\nv=0\n");
}

static void test_remove_hf_list_and_none(void **state)
{
    (void)state;
    /* a comma list is one field; the compact name finds it */
    assert_int_equal(rc_of("remove_hf(\"k\");"), 1);
    want_msg("INVITE sip:bob@example.com;lr;nat=yes SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
             "Max-Forwards: 70\r\n"
             "To: Bob <sip:bob@example.com>\r\n"
             "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
             "CSeq: 314159 INVITE\r\n"
             "X-Foo: one\r\n"
             "x-foo: two\r\n"
             "X-Bar: three\r\n"
             "Content-Type: application/sdp\r\n"
             "Content-Length: 4\r\n"
             "\r\nv=0\n");
    assert_int_equal(rc_of("remove_hf(\"X-Nothing\");"), -1);
    want_msg(MSG_TEXT);
}

static void test_remove_hf_re_glob(void **state)
{
    (void)state;
    assert_int_equal(rc_of("remove_hf_re(\"^[Xx]-([Ff]oo|Bar)$\");"), 3);
    want_msg("INVITE sip:bob@example.com;lr;nat=yes SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
             "Max-Forwards: 70\r\n"
             "To: Bob <sip:bob@example.com>\r\n"
             "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
             "CSeq: 314159 INVITE\r\n"
             "Supported: timer, 100rel\r\n"
             "Content-Type: application/sdp\r\n"
             "Content-Length: 4\r\n"
             "\r\nv=0\n");
    assert_int_equal(rc_of("remove_hf_glob(\"x-b*\");"), 1);
    assert_int_equal(rc_of("remove_hf_glob(\"Y-*\");"), -1);
    assert_int_equal(rc_of("remove_hf_re(\"^Nope\");"), -1);
    /* the pattern is case-sensitive unless it says otherwise */
    assert_int_equal(rc_of("remove_hf_re(\"^x-Foo$\");"), -1);
    assert_int_equal(rc_of("remove_hf_re(\"(?i)^x-Foo$\");"), 2);
}

static void test_append_to_reply(void **state)
{
    (void)state;
    assert_int_equal(rc_of("append_to_reply(\"Contact: <sip:$rU@alt.example>\\r\\n\");"
                           "append_to_reply(\"X-Reason: busy\");"),
                     1);
    assert_true(
        sb_str_eq(F.rs.reply_hdrs, SB_STR("Contact: <sip:bob@alt.example>\r\nX-Reason: busy\r\n")));
    want_msg(MSG_TEXT);
    sfx_load_fails(LOAD "onreply_route { append_to_reply(\"X: 1\\r\\n\"); }\n", "append_to_reply");
}

static void test_ruri_params(void **state)
{
    (void)state;
    assert_int_equal(rc_of("ruri_add_param(\"user=phone\");"), 1);
    want_str("$ru", "sip:bob@example.com;lr;nat=yes;user=phone");
    assert_int_equal(rc_of("ruri_del_param(\"NAT\");"), 1);
    want_str("$ru", "sip:bob@example.com;lr");
    assert_int_equal(rc_of("ruri_del_param(\"lr\"); ruri_del_param(\"nat\");"), 1);
    want_str("$ru", "sip:bob@example.com");
    assert_int_equal(rc_of("ruri_del_param(\"maddr\");"), -1);
    want_str("$ru", "sip:bob@example.com;lr;nat=yes");
    assert_int_equal(rc_of("$ru = \"sip:x@h?Subject=hi\"; ruri_add_param(\";a=b\");"), 1);
    want_str("$ru", "sip:x@h;a=b?Subject=hi");
    want_msg(MSG_TEXT);
}

static void test_errors(void **state)
{
    (void)state;
    sfx_load_fails(LOAD "route { is_method(); }\n", "function 'is_method' needs 1 argument, got 0");
    sfx_load_fails(LOAD "route { has_totag(1); }\n", "function 'has_totag' takes no arguments");
    sfx_load_fails(LOAD "route { remove_hf_re(\"(\"); }\n", "bad regular expression");
    sfx_load_fails(LOAD "startup_route { append_hf(\"A: b\"); }\n", "append_hf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_is_method, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_tests, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_insert, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_anchor_missing, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_urihf, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_remove_hf, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_remove_hf_list_and_none, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_remove_hf_re_glob, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_to_reply, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_ruri_params, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, sfx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sb_script_worker_exit();
    return rc;
}
