/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions run from scripts over a parsed INVITE: Request-URI and destination edits,
 * the destination set, message and branch flags, xlog/log, and the checker's hints. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/tp.h"
#include "sb/log.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "mod/core_fns.h"

/* pv_vars.c: heap bytes held by this thread's $var values */
size_t sb__vars_heap_bytes(void);

#define MSG_TEXT                                                                                   \
    "INVITE sip:bob:secret@example.com:5070;transport=udp?X=1 SIP/2.0\r\n"                         \
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"                                   \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@example.com>\r\n"                                                            \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 INVITE\r\n"                                                                      \
    "Content-Length: 0\r\n\r\n"

#include "fixture_script.h"

static int setup(void **state)
{
    sfx_setup(state);
    sfx_use_msg(MSG_TEXT);
    return 0;
}

/* ---- Request-URI ---------------------------------------------------------------------------- */

/* Run <call> (one statement) and check $ru and $rc afterwards. */
static void ruri_case(const char *call, int32_t rc, const char *ru)
{
    char text[512];
    snprintf(text, sizeof(text), "route {\n  %s\n  $var(rc) = $rc;\n}\n", call);
    sfx_run_script(text);
    want_int("$var(rc)", rc);
    want_str("$ru", ru);
}

static void test_ruri_edits(void **state)
{
    (void)state;
    const char *orig = "sip:bob:secret@example.com:5070;transport=udp?X=1";
    ruri_case("seturi(\"sip:carol@example.net\");", 1, "sip:carol@example.net");
    ruri_case("rewriteuri(\"sip:$fU@h.example\");", 1, "sip:alice@h.example");
    ruri_case("seturi(\"not a uri\");", -1, orig);
    ruri_case("sethost(\"h2.example\");", 1, "sip:bob:secret@h2.example:5070;transport=udp?X=1");
    ruri_case("rewritehost(\"10.0.0.9\");", 1, "sip:bob:secret@10.0.0.9:5070;transport=udp?X=1");
    ruri_case("sethostport(\"h3.example:5099\");", 1,
              "sip:bob:secret@h3.example:5099;transport=udp?X=1");
    ruri_case("rewritehostport(\"[2001:db8::1]\");", 1,
              "sip:bob:secret@[2001:db8::1];transport=udp?X=1");
    ruri_case("sethostport(\"h3.example:\");", -1, orig);
    ruri_case("setuser(\"carol\");", 1, "sip:carol:secret@example.com:5070;transport=udp?X=1");
    ruri_case("rewriteuser(\"\");", 1, "sip:example.com:5070;transport=udp?X=1");
    ruri_case("setport(5080);", 1, "sip:bob:secret@example.com:5080;transport=udp?X=1");
    ruri_case("setport(\"\");", 1, "sip:bob:secret@example.com;transport=udp?X=1");
    ruri_case("setport(\"99999\");", -1, orig);
    ruri_case("prefix(\"+49\");", 1, "sip:+49bob:secret@example.com:5070;transport=udp?X=1");
    ruri_case("strip(2);", 1, "sip:b:secret@example.com:5070;transport=udp?X=1");
    ruri_case("strip(4);", -1, orig);
    ruri_case("strip_tail(1);", 1, "sip:bo:secret@example.com:5070;transport=udp?X=1");
    ruri_case("strip(3);", 1, "sip:example.com:5070;transport=udp?X=1");
    ruri_case("sethost(\"a.example\"); revert_uri();", 1, orig);
    /* edits compose: each one starts from the current $ru */
    ruri_case("setuser(\"u\"); sethost(\"x.example\"); prefix(\"00\");", 1,
              "sip:00u:secret@x.example:5070;transport=udp?X=1");
    /* the received request is not touched: the R-URI goes out through the forwarding options */
    want_msg(MSG_TEXT);
}

static void test_ruri_tel(void **state)
{
    (void)state;
    sfx_use_msg("INVITE tel:+1-201-555-0123;phone-context=example.com SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 10.1.2.3;branch=z9hG4bK1\r\nCall-ID: t1\r\nCSeq: 1 INVITE\r\n"
                "From: <sip:a@b>;tag=1\r\nTo: <tel:+12015550123>\r\nContent-Length: 0\r\n\r\n");
    ruri_case("strip(3);", 1, "tel:201-555-0123;phone-context=example.com");
    ruri_case("sethost(\"x.example\");", -1, "tel:+1-201-555-0123;phone-context=example.com");
}

static void test_dsturi(void **state)
{
    (void)state;
    sfx_run_script("route {\n"
                   "  if (isdsturiset()) $var(a) = 1; else $var(a) = -1;\n"
                   "  setdsturi(\"sip:proxy.example:5080;transport=tcp\");\n"
                   "  if (isdsturiset()) $var(b) = 1; else $var(b) = -1;\n"
                   "  $var(du) = $du;\n"
                   "  setdsturi(\"::bad\"); $var(bad) = $rc;\n"
                   "  resetdsturi();\n"
                   "  if (isdsturiset()) $var(c) = 1; else $var(c) = -1;\n"
                   "}\n");
    want_int("$var(a)", -1);
    want_int("$var(b)", 1);
    want_str("$var(du)", "sip:proxy.example:5080;transport=tcp");
    want_int("$var(bad)", -1);
    want_int("$var(c)", -1);
    want_null("$du");
}

static void test_append_branch(void **state)
{
    (void)state;
    sfx_run_script("route {\n"
                   "  setdsturi(\"sip:out.example\");\n"
                   "  setbflag(3);\n"
                   "  append_branch();\n"
                   "  append_branch(\"sip:carol@c.example\", \"0.5\");\n"
                   "  append_msg_branch(\"sip:dave@d.example\", 1);\n"
                   "  append_branch(\"junk\"); $var(junk) = $rc;\n"
                   "  append_branch(\"sip:e@e.example\", \"1.5\"); $var(badq) = $rc;\n"
                   "}\n");
    want_int("$var(junk)", -1);
    want_int("$var(badq)", -1);
    assert_int_equal(F.rs.n_branches, 3);
    const struct sb_branch_ent *b = F.rs.branches;
    assert_true(sb_str_eq(b[0].uri, SB_STR("sip:bob:secret@example.com:5070;transport=udp?X=1")));
    assert_true(sb_str_eq(b[0].dst_uri, SB_STR("sip:out.example")));
    assert_int_equal(b[0].bflags, 1u << 3);
    assert_int_equal(b[0].q, -1);
    assert_true(sb_str_eq(b[1].uri, SB_STR("sip:carol@c.example")));
    assert_null(b[1].dst_uri.p);
    assert_int_equal(b[1].q, 500);
    assert_int_equal(b[1].bflags, 0);
    assert_true(sb_str_eq(b[2].uri, SB_STR("sip:dave@d.example")));
    assert_int_equal(b[2].q, 1000);
}

static void test_append_branch_full(void **state)
{
    (void)state;
    sfx_run_script("route {\n"
                   "  $var(i) = 0;\n"
                   "  while ($var(i) < 20) { append_branch(\"sip:x@y.example\"); $var(i) += 1; }\n"
                   "  append_branch(\"sip:x@y.example\"); $var(last) = $rc;\n"
                   "}\n");
    assert_int_equal(F.rs.n_branches, SB_MAX_BRANCHES - 1);
    want_int("$var(last)", -1);
}

/* ---- flags --------------------------------------------------------------------------------- */

static void test_flags(void **state)
{
    (void)state;
    sfx_run_script("route {\n"
                   "  setflag(5); setflag(NAT); setflag(\"ACC\");\n"
                   "  if (isflagset(5)) $var(a) = 1; else $var(a) = -1;\n"
                   "  if (isflagset(\"NAT\")) $var(b) = 1; else $var(b) = -1;\n"
                   "  if (isflagset(6)) $var(c) = 1; else $var(c) = -1;\n"
                   "  resetflag(NAT);\n"
                   "  if (isflagset(NAT)) $var(d) = 1; else $var(d) = -1;\n"
                   "  $var(f) = \"ACC\";\n"
                   "  if (isflagset($var(f))) $var(e) = 1; else $var(e) = -1;\n"
                   "  $var(g) = \"NEVER_NAMED\";\n"
                   "  if (isflagset($var(g))) $var(h) = 1; else $var(h) = -1;\n"
                   "}\n");
    want_int("$var(a)", 1);
    want_int("$var(b)", 1);
    want_int("$var(c)", -1);
    want_int("$var(d)", -1);
    want_int("$var(e)", 1);
    want_int("$var(h)", -1);
    int nat = sb__flag_bit(SB__FLAG_MSG, SB_STR("NAT"), false);
    int acc = sb__flag_bit(SB__FLAG_MSG, SB_STR("ACC"), false);
    assert_true(nat >= 0 && nat < 32 && acc >= 0 && acc < 32 && nat != acc && nat != 5);
    assert_int_equal(F.rs.flags, (1u << 5) | (1u << acc));
    /* the same name keeps its bit in the next script; branch flags are another namespace */
    sfx_run_script("route { setflag(NAT); }\n");
    assert_int_equal(F.rs.flags, 1u << nat);
    assert_int_equal(sb__flag_bit(SB__FLAG_BRANCH, SB_STR("NAT"), false), SB_ENOENT);
}

static void test_bflags(void **state)
{
    (void)state;
    sfx_run_script("route {\n"
                   "  setbflag(NATED);\n"
                   "  append_branch(\"sip:a@a.example\");\n"
                   "  setbflag(1, 7);\n"
                   "  setbflag(1, NATED);\n"
                   "  if (isbflagset(1, 7)) $var(a) = 1; else $var(a) = -1;\n"
                   "  if (isbflagset(7)) $var(b) = 1; else $var(b) = -1;\n"
                   "  resetbflag(1, 7);\n"
                   "  if (isbflagset(1, 7)) $var(c) = 1; else $var(c) = -1;\n"
                   "  if (isbflagset(5, 7)) $var(d) = 1; else $var(d) = -1;\n"
                   "  setbflag(5, 7); $var(e) = $rc;\n"
                   "}\n");
    int nated = sb__flag_bit(SB__FLAG_BRANCH, SB_STR("NATED"), false);
    assert_true(nated >= 0);
    want_int("$var(a)", 1);
    want_int("$var(b)", -1);
    want_int("$var(c)", -1);
    want_int("$var(d)", -1);
    want_int("$var(e)", -1);
    assert_int_equal(F.rs.bflags, 1u << nated);
    assert_int_equal(F.rs.n_branches, 1);
    assert_int_equal(F.rs.branches[0].bflags, 1u << nated);
}

static void test_flag_errors(void **state)
{
    (void)state;
    sfx_load_fails("route { setflag(32); }\n",
                   "argument 1 of 'setflag': a flag number must be 0..31");
    sfx_load_fails("route { isflagset(\"\"); }\n", "argument 1 of 'isflagset': empty flag name");
    sfx_load_fails("route { setflag(); }\n", "function 'setflag' needs 1 argument, got 0");
    sfx_load_fails("route { setbflag(1, 2, 3); }\n",
                   "function 'setbflag' takes at most 2 arguments");
    sfx_load_fails("startup_route { setflag(1); }\n", "setflag");
}

static void test_force_rport(void **state)
{
    (void)state;
    sfx_run_script("route { force_rport(); }\n");
    assert_true(F.rs.force_rport);
    sfx_load_fails("onreply_route { force_rport(); }\n", "force_rport");
}

/* ---- sockets and "myself" ----------------------------------------------------------------- */

static void test_myself_and_socket(void **state)
{
    (void)state;
    struct sb_core_cfg cfg;
    sb_core_cfg_defaults(&cfg);
    struct sb_arena a;
    sb_arena_init(&a, NULL, 0, 0);
    struct sb_listen *l = sb_arena_zalloc(&a, sizeof(*l));
    const char *err = NULL;
    assert_non_null(l);
    assert_int_equal(sb_listen_parse(SB_STR("udp:127.0.0.1:5099"), l, &a, &err), 0);
    cfg.listeners = l;
    if (sb_tp_init(&cfg) != 0) {
        sb_arena_deinit(&a);
        skip();
    }
    sfx_run_script("route {\n"
                   "  if (is_myself(\"sip:bob@127.0.0.1:5099\")) $var(a) = 1; else $var(a) = -1;\n"
                   "  if (is_myself(\"127.0.0.1:5099\")) $var(b) = 1; else $var(b) = -1;\n"
                   "  if (is_myself(\"sip:bob@192.0.2.55\")) $var(c) = 1; else $var(c) = -1;\n"
                   "  if (is_myself(\"$rd\")) $var(d) = 1; else $var(d) = -1;\n"
                   "  force_send_socket(\"udp:127.0.0.1:5098\"); $var(e) = $rc;\n"
                   "  force_send_socket(\"udp:127.0.0.1:5099\"); $var(f) = $rc;\n"
                   "}\n");
    want_int("$var(a)", 1);
    want_int("$var(b)", 1);
    want_int("$var(c)", -1);
    want_int("$var(d)", -1);
    want_int("$var(e)", -1);
    want_int("$var(f)", 1);
    assert_ptr_equal(F.rs.send_sock, sb_tp_socket(0));
    sb_tp_destroy();
    sb_arena_deinit(&a);
    sfx_load_fails("route { force_send_socket(\"udp:\"); }\n",
                   "argument 1 of 'force_send_socket': expected [proto:]address[:port]");
    sfx_load_fails("onreply_route { forward(); }\n", "forward");
    sfx_load_fails("route { send(); }\n", "function 'send' needs 1 argument, got 0");
}

/* ---- logging ------------------------------------------------------------------------------- */

/* Run <script> with stderr captured; returns what was logged (static buffer). */
static const char *logged(const char *script)
{
    static char out[4096];
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    sfx_run_script(script);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static void test_xlog(void **state)
{
    (void)state;
    const char *o = logged("xlog_level = 3\n"
                           "route {\n"
                           "  xlog(\"call $ci from $fU\\n\");\n"
                           "  xlog(\"L_INFO\", \"info line $rm\");\n"
                           "  xlog(\"L_DBG\", \"debug line\");\n"
                           "}\n");
    if (!strstr(o, "call a84b4c76e66710@pc33.example.com from alice"))
        fail_msg("logged: [%s]", o);
    assert_non_null(strstr(o, "info line INVITE"));
    assert_null(strstr(o, "debug line"));
    /* the script's trailing newline does not end up inside the log line */
    assert_null(strstr(o, "alice\n\""));
    o = logged("xlog_level = -1\nroute { xlog(\"L_WARN\", \"quiet\"); xlog(\"loud\"); }\n");
    assert_null(strstr(o, "quiet"));
    assert_non_null(strstr(o, "loud"));
}

static void test_log(void **state)
{
    (void)state;
    int saved = sb_log_level;
    sb_log_level = SB_LOG_NOTICE;
    const char *o =
        logged("route { log(\"plain text $ci\"); log(4, \"dbg\"); log(1, \"warned\"); }\n");
    sb_log_level = saved;
    /* the text is a format string like every string argument */
    assert_non_null(strstr(o, "plain text a84b4c76e66710@pc33.example.com"));
    assert_null(strstr(o, "dbg"));
    assert_non_null(strstr(o, "warned"));
}

/* ---- the checker ----------------------------------------------------------------------------- */

static void test_unknown_function_hint(void **state)
{
    (void)state;
    sfx_load_fails(
        "route { if (is_method(\"INVITE\")) exit; }\n",
        "unknown function 'is_method' \xe2\x80\x94 is loadmodule \"sipmsgops.so\" missing?");
    sfx_load_fails(
        "route { subst_uri(\"/a/b/\"); }\n",
        "unknown function 'subst_uri' \xe2\x80\x94 is loadmodule \"textops.so\" missing?");
    sfx_load_fails("route { no_such_fn(); }\n", "unknown function 'no_such_fn'");
}

/* Diagnostics keep their file names after the script that named them is gone. */
static void test_diag_file_copy(void **state)
{
    (void)state;
    struct sb_diag d;
    sb_diag_init(&d);
    char name[32];
    strcpy(name, "first.cfg");
    sb_diag_error(&d, name, 3, 4, "boom %d", 1);
    sb_diag_warn(&d, NULL, 0, 0, "no file");
    memset(name, 'x', sizeof(name) - 1);
    assert_string_equal(d.head->file, "first.cfg");
    assert_string_equal(d.head->msg, "boom 1");
    assert_null(d.head->next->file);
    /* a failed load frees its file table before the caller reads the diagnostics */
    struct sb_script *s = NULL;
    const char *bad = "route { $var(x) = ; }\n";
    assert_true(sb_script_load_text("gone.cfg", bad, strlen(bad), &d, &s) < 0);
    const struct sb_diag_entry *e = d.head->next->next;
    assert_non_null(e);
    assert_string_equal(e->file, "gone.cfg");
    sb_diag_free(&d);
}

/* $var keeps its heap buffer between assignments that fit. */
static void test_var_reuse(void **state)
{
    (void)state;
    sfx_run_script("route {\n"
                   "  $var(s) = \"a fairly long value number one\";\n"
                   "  $var(s) = \"short\";\n"
                   "  $var(s) = 42;\n"
                   "  $var(s) = \"another string of similar size\";\n"
                   "  $var(t) = \"abcdef\";\n"
                   "  $var(t) = $(var(t){s.substr,2,3});\n"
                   "}\n");
    want_str("$var(s)", "another string of similar size");
    want_str("$var(t)", "cde");
    size_t before = sb__vars_heap_bytes();
    sfx_run_script(
        "route { $var(s) = \"x\"; $var(s) = \"a fairly long value number two\"; $var(t) = 1; }\n");
    want_str("$var(s)", "a fairly long value number two");
    want_int("$var(t)", 1);
    assert_int_equal(sb__vars_heap_bytes(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ruri_edits, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_ruri_tel, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_dsturi, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_branch, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_append_branch_full, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_bflags, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_flag_errors, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_force_rport, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_myself_and_socket, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_xlog, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_log, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_function_hint, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_diag_file_copy, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_var_reuse, setup, sfx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sb_script_worker_exit();
    return rc;
}
