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

/* ---- fixture: a parsed request, a script run over it, its output bytes --------------------- */

struct fx {
    struct sb_script *s;
    struct sb_msg msg;
    struct sb_route_state rs;
    struct sb_peer peer;
    struct sb_arena scratch;
    struct sb_avps *avps;
    struct sb_sctx ctx;
    struct sb_arena pv_arena;
};

static struct fx F;
static const char *msg_text; /* what every run parses afresh */

static void parse_msg(const char *text)
{
    msg_text = text;
    sb_msg_deinit(&F.msg);
    sb_msg_init(&F.msg, NULL);
    assert_int_equal(sb_msg_parse(&F.msg, text, strlen(text), 0), 0);
}

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    msg_text = MSG_TEXT;
    sb_msg_init(&F.msg, NULL);
    assert_int_equal(sb_msg_parse(&F.msg, MSG_TEXT, strlen(MSG_TEXT), 0), 0);
    F.peer = (struct sb_peer){.src_ip = SB_STR("10.1.2.3"), .src_port = 5060};
    sb_arena_init(&F.scratch, NULL, 0, 1 << 20);
    sb_arena_init(&F.pv_arena, NULL, 0, 0);
    F.avps = sb_avps_new();
    assert_non_null(F.avps);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_script_free(F.s);
    sb_msg_deinit(&F.msg);
    sb_arena_deinit(&F.scratch);
    sb_arena_deinit(&F.pv_arena);
    sb_avps_free(F.avps);
    sb_pv_worker_exit();
    return 0;
}

static void load(const char *text)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    if (rc != 0 || d.n_errors) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        fail_msg("script did not load (%d)", rc);
    }
    sb_diag_free(&d);
    sb_script_free(F.s);
    F.s = s;
}

/* Loading <text> must fail with a first diagnostic containing <want>. */
static void load_fails(const char *text, const char *want)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    const char *got = d.head ? d.head->msg : "";
    if (rc >= 0 || s || !strstr(got, want)) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        sb_script_free(s);
        fail_msg("expected a diagnostic with \"%s\", got \"%s\" (rc %d)", want, got, rc);
    }
    sb_diag_free(&d);
}

static sb_res run_type(uint32_t type, const char *name)
{
    int idx = sb_script_route(F.s, type, sb_str_cstr(name));
    assert_true(idx >= 0);
    sb_arena_reset(&F.scratch);
    F.ctx = (struct sb_sctx){.msg = &F.msg,
                             .peer = &F.peer,
                             .script = F.s,
                             .rs = &F.rs,
                             .avps = F.avps,
                             .scratch = &F.scratch,
                             .route_type = type};
    return sb_script_run(&F.ctx, type, idx);
}

/* Load <text> and run its request route over the message parsed afresh (no earlier edits) and a
 * fresh routing state. */
static sb_res run(const char *text)
{
    load(text);
    parse_msg(msg_text);
    memset(&F.rs, 0, sizeof(F.rs));
    return run_type(SB_ROUTE_REQUEST, "");
}

static struct sb_val get(const char *pv_text)
{
    struct sb_pv pv;
    struct sb_fixup fx = {0};
    int n = sb_pv_parse(sb_str_cstr(pv_text), &pv, &F.pv_arena, &fx);
    assert_int_equal(n, (int)strlen(pv_text));
    struct sb_val v;
    assert_int_equal(sb_pv_get(&F.ctx, &pv, &v), 0);
    return v;
}

static __attribute__((unused)) void want_int(const char *pv, int32_t want)
{
    struct sb_val v = get(pv);
    if (v.type != SB_VAL_INT || v.i != want)
        fail_msg("%s: expected int %d, got type %d int %d str \"%.*s\"", pv, (int)want, v.type,
                 (int)v.i, SB_STR_ARG(v.s));
}

static void want_str(const char *pv, const char *want)
{
    struct sb_val v = get(pv);
    if (v.type != SB_VAL_STR || !sb_str_eq(v.s, sb_str_cstr(want)))
        fail_msg("%s: expected \"%s\", got type %d int %d str \"%.*s\"", pv, want, v.type, (int)v.i,
                 SB_STR_ARG(v.s));
}

static __attribute__((unused)) void want_null(const char *pv)
{
    struct sb_val v = get(pv);
    if (v.type != SB_VAL_NULL)
        fail_msg("%s: expected NULL, got type %d str \"%.*s\"", pv, v.type, SB_STR_ARG(v.s));
}

/* The message with every recorded edit applied must be exactly <want>. */
static void want_msg(const char *want)
{
    size_t cap = sb_msg_lumps_len(&F.msg) + 1, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    int rc = sb_msg_lumps_apply(&F.msg, out, cap, &len);
    if (rc != 0) {
        free(out);
        fail_msg("applying the edits failed: %d", rc);
    }
    if (len != strlen(want) || memcmp(out, want, len) != 0) {
        fprintf(stderr, "---- got:\n%.*s\n---- expected:\n%s\n----\n", (int)len, out, want);
        free(out);
        fail_msg("message differs");
    }
    free(out);
}

static __attribute__((unused)) void want_res(sb_res r, int32_t code)
{
    if (r.code != code || r.ctl > SB_CTL_EXIT)
        fail_msg("result {%d, ctl %d}, expected {%d}", (int)r.code, r.ctl, (int)code);
}

#define LOAD "loadmodule \"sipmsgops.so\"\n"

/* Run <body> inside route{} and return $rc after it as $var(rc). */
static int32_t rc_of(const char *call)
{
    char text[512];
    snprintf(text, sizeof(text), LOAD "route {\n  %s\n  $var(rc) = $rc;\n}\n", call);
    run(text);
    struct sb_val v = get("$var(rc)");
    assert_int_equal(v.type, SB_VAL_INT);
    return v.i;
}

static void test_is_method(void **state)
{
    (void)state;
    assert_int_equal(rc_of("is_method(\"INVITE\");"), 1);
    assert_int_equal(rc_of("is_method(\"REGISTER|invite\");"), 1);
    assert_int_equal(rc_of("is_method(\"ACK|BYE\");"), -1);
    assert_int_equal(rc_of("is_method(\"INV\");"), -1);
    /* a reply's method is CSeq's */
    parse_msg("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\n"
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
    parse_msg("OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\n"
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
    load_fails(LOAD "onreply_route { append_to_reply(\"X: 1\\r\\n\"); }\n", "append_to_reply");
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
    load_fails(LOAD "route { is_method(); }\n", "function 'is_method' needs 1 argument, got 0");
    load_fails(LOAD "route { has_totag(1); }\n", "function 'has_totag' takes no arguments");
    load_fails(LOAD "route { remove_hf_re(\"(\"); }\n", "bad regular expression");
    load_fails(LOAD "startup_route { append_hf(\"A: b\"); }\n", "append_hf");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_is_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anchor_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_urihf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_hf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_hf_list_and_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_hf_re_glob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_to_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ruri_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sb_script_worker_exit();
    return rc;
}
