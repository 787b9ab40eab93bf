/* SPDX-License-Identifier: BSD-2-Clause */
/* maxfwd module: mf_process_maxfwd_header and is_maxfwd_lt run from a script over parsed requests;
 * the outgoing text is checked with the lumps applied. */
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

#define REQ_HEAD                                                                                   \
    "OPTIONS sip:bob@example.com SIP/2.0\r\n"                                                      \
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"
#define REQ_TAIL                                                                                   \
    "To: Bob <sip:bob@example.com>\r\n"                                                            \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 OPTIONS\r\n"                                                                     \
    "Content-Length: 0\r\n\r\n"

#include "fixture_script.h"

static void load(const char *routes)
{
    sfx_loadf("loadmodule \"maxfwd.so\"\n%s", routes);
}

static void run(const char *msg)
{
    sfx_run_msg(msg);
}

static const char *SCRIPT = "route {\n"
                            "  mf_process_maxfwd_header(10);\n"
                            "  $var(rc) = $rc;\n"
                            "  if (is_maxfwd_lt(5)) $var(lt) = 1; else $var(lt) = $rc;\n"
                            "}\n";

static void test_decrement(void **state)
{
    (void)state;
    load(SCRIPT);
    run(REQ_HEAD "Max-Forwards: 70\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_true(F.rs.maxfwd_done);
    assert_non_null(strstr(sfx_output(), "\r\nMax-Forwards: 69\r\n"));
    assert_null(strstr(F.out, "Max-Forwards: 70"));
    assert_int_equal(sfx_int("$var(lt)"), -1); /* 69 is not below 5 */
}

static void test_absent_adds(void **state)
{
    (void)state;
    load(SCRIPT);
    run(REQ_HEAD REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 2);
    assert_true(F.rs.maxfwd_done);
    const char *o = sfx_output();
    assert_non_null(strstr(o, "Max-Forwards: 10\r\n"));
    /* added at the end of the header section */
    assert_non_null(strstr(o, "Content-Length: 0\r\nMax-Forwards: 10\r\n\r\n"));
}

static void test_zero(void **state)
{
    (void)state;
    load(SCRIPT);
    run(REQ_HEAD "Max-Forwards: 0\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), -1);
    assert_false(F.rs.maxfwd_done);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 0\r\n"));
    assert_int_equal(sfx_int("$var(lt)"), 1); /* 0 < 5 */
}

static void test_one_then_lt(void **state)
{
    (void)state;
    load(SCRIPT);
    run(REQ_HEAD "Max-Forwards: 1\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 0\r\n"));
    assert_int_equal(sfx_int("$var(lt)"), 1); /* sees the decremented value */
}

static void test_garbage(void **state)
{
    (void)state;
    load(SCRIPT);
    run(REQ_HEAD "Max-Forwards: 7x\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), -2);
    assert_false(F.rs.maxfwd_done);
    assert_int_equal(sfx_int("$var(lt)"), -3);
    run(REQ_HEAD "Max-Forwards: \r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), -2);
}

static void test_max_limit(void **state)
{
    (void)state;
    load("modparam(\"maxfwd\", \"max_limit\", 16)\n"
         "route { mf_process_maxfwd_header(70); $var(rc) = $rc; }\n");
    run(REQ_HEAD "Max-Forwards: 70\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 16\r\n"));
    /* at the limit plus one: decremented to the limit */
    run(REQ_HEAD "Max-Forwards: 17\r\n" REQ_TAIL);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 16\r\n"));
    /* below the limit: a plain decrement */
    run(REQ_HEAD "Max-Forwards: 9\r\n" REQ_TAIL);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 8\r\n"));
    /* absent: the value added is capped as well */
    run(REQ_HEAD REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 2);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 16\r\n"));
    /* above the RFC range: read as 255, then capped */
    run(REQ_HEAD "Max-Forwards: 9999\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 16\r\n"));
    /* module parameters outlive a script: back to the default for the other tests */
    sfx_unload();
    load("modparam(\"maxfwd\", \"max_limit\", 256)\nroute { exit; }\n");
}

static void test_default_limit_256(void **state)
{
    (void)state;
    load(SCRIPT);
    run(REQ_HEAD "Max-Forwards: 300\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 254\r\n"));
}

static void test_twice_decrements_once(void **state)
{
    (void)state;
    load("route { mf_process_maxfwd_header(10); mf_process_maxfwd_header(10);"
         " $var(rc) = $rc; }\n");
    run(REQ_HEAD "Max-Forwards: 70\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(sfx_output(), "Max-Forwards: 69\r\n"));
}

static void test_lt_absent(void **state)
{
    (void)state;
    load("route { is_maxfwd_lt(5); $var(rc) = $rc; }\n");
    run(REQ_HEAD REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), -2);
    run(REQ_HEAD "Max-Forwards: 4\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    run(REQ_HEAD "Max-Forwards: 5\r\n" REQ_TAIL);
    assert_int_equal(sfx_int("$var(rc)"), -1);
}

static void test_bad_limit_param(void **state)
{
    (void)state;
    const char *text = "loadmodule \"maxfwd.so\"\nmodparam(\"maxfwd\", \"max_limit\", 300)\n"
                       "route { exit; }\n";
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    assert_true(rc < 0);
    assert_null(s);
    assert_true(d.n_errors >= 1);
    sb_diag_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decrement, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_absent_adds, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_zero, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_one_then_lt, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_garbage, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_max_limit, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_default_limit_256, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_twice_decrements_once, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_lt_absent, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_limit_param, sfx_setup, sfx_teardown),
    };
    return cmocka_run_group_tests_name("maxfwd", tests, NULL, NULL);
}
