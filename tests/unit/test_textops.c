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

#define LOAD "loadmodule \"textops.so\"\n"

static int32_t rc_of(const char *call)
{
    char text[1024];
    snprintf(text, sizeof(text), LOAD "route {\n  %s\n  $var(rc) = $rc;\n}\n", call);
    run(text);
    struct sb_val v = get("$var(rc)");
    assert_int_equal(v.type, SB_VAL_INT);
    return v.i;
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
    load_fails(LOAD "route { search(\"(\"); }\n", "argument 1 of 'search': bad regular expression");
    load_fails(LOAD "route { subst(\"/a/b\"); }\n", "missing '/' after the replacement");
    load_fails(LOAD "route { subst(\"/a/b/x\"); }\n", "unknown flag 'x'");
    load_fails(LOAD "route { subst(\"/a/\\2/\"); }\n", "refers to a group");
    load_fails(LOAD "route { replace(\"a\"); }\n", "function 'replace' needs 2 arguments, got 1");
    load_fails(LOAD "onreply_route { subst_uri(\"/a/b/\"); }\n", "subst_uri");
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
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subst_uri_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, teardown_all);
    sb_script_worker_exit();
    return rc;
}
