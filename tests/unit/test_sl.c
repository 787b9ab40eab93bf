/* SPDX-License-Identifier: BSD-2-Clause */
/* sl and signaling modules: sl_send_reply / send_reply / sl_reply_error run from a script on a
 * worker with a real UDP listener; the reply is read back from a loopback socket that plays the
 * client, and the sl: counters are checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/modules/signaling/signaling.h"
#include "../../src/modules/sl/sl.h"
#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/fwd.h"
#include "sb/loop.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/tp.h"
#include "sb/worker.h"

#include "fixture_script.h"
#include "fixture_worker.h"

static int group_setup(void **state)
{
    (void)state;
    wfx_udp_start();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    wfx_stop();
    return 0;
}

static int setup(void **state)
{
    sfx_setup(state);
    wfx_rcv_from_client();
    sb__sl_stats_reset();
    wfx_drain();
    return 0;
}

static int teardown(void **state)
{
    sfx_teardown(state);
    sb__signaling_tx_reply = NULL;
    return 0;
}

static void load(const char *routes)
{
    sfx_loadf("loadmodule \"sl.so\"\nloadmodule \"signaling.so\"\n%s", routes);
}

static void run(const char *method)
{
    snprintf(F.req, sizeof(F.req),
             "%s sip:bob@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK776asdhds\r\n"
             "Max-Forwards: 70\r\n"
             "To: Bob <sip:bob@example.com>\r\n"
             "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
             "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
             "CSeq: 1 %s\r\n"
             "Content-Length: 0\r\n\r\n",
             method, W.client_port, method);
    sfx_run_msg(F.req);
}

/* The status line of the reply the client got, or "" when none came within 500 ms. */
static const char *status_line(void)
{
    char *e = strstr(wfx_recv(500), "\r\n");
    if (e)
        *e = '\0';
    return W.reply;
}

static void test_send_reply_int_and_string_code(void **state)
{
    (void)state;
    load(
        "route { $var(r) = \"Not Here\"; sl_send_reply(404, \"$var(r) Now\"); $var(rc) = $rc; }\n");
    run("OPTIONS");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_string_equal(status_line(), "SIP/2.0 404 Not Here Now");
    assert_true(F.rs.replied);
    sfx_unload();
    load("route { $var(c) = \"486\"; sl_send_reply($var(c), \"Busy Here\"); $var(rc) = $rc; }\n");
    run("INVITE");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_string_equal(status_line(), "SIP/2.0 486 Busy Here");
    struct sb_sl_stats st;
    sb__sl_stats(&st);
    assert_int_equal(st.replies_4xx, 2);
    assert_int_equal(st.sent_replies, 2);
    assert_int_equal(st.replies_2xx, 0);
    assert_int_equal(st.sent_err_replies, 0);
}

static void test_bad_codes(void **state)
{
    (void)state;
    load("route {\n"
         "  sl_send_reply(99, \"Low\"); $var(a) = $rc;\n"
         "  sl_send_reply(700, \"High\"); $var(b) = $rc;\n"
         "  sl_send_reply(\"abc\", \"Text\"); $var(c) = $rc;\n"
         "  send_reply(\"20x\", \"Text\"); $var(d) = $rc;\n"
         "}\n");
    run("OPTIONS");
    assert_int_equal(sfx_int("$var(a)"), -1);
    assert_int_equal(sfx_int("$var(b)"), -1);
    assert_int_equal(sfx_int("$var(c)"), -1);
    assert_int_equal(sfx_int("$var(d)"), -1);
    assert_string_equal(status_line(), "");
    assert_false(F.rs.replied);
    struct sb_sl_stats st;
    sb__sl_stats(&st);
    assert_int_equal(st.sent_replies, 0);
}

static void test_no_reply_to_ack(void **state)
{
    (void)state;
    load("route { sl_send_reply(200, \"OK\"); $var(rc) = $rc; }\n");
    run("ACK");
    assert_int_equal(sfx_int("$var(rc)"), -1);
    assert_string_equal(status_line(), "");
}

static void test_default_reason(void **state)
{
    (void)state;
    load("route { sl_send_reply(\"200\", \"\"); }\n");
    run("OPTIONS");
    assert_string_equal(status_line(), "SIP/2.0 200 OK");
    struct sb_sl_stats st;
    sb__sl_stats(&st);
    assert_int_equal(st.replies_2xx, 1);
}

static void test_reply_error(void **state)
{
    (void)state;
    load("route { sl_reply_error(); $var(rc) = $rc; }\n");
    run("OPTIONS");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_string_equal(status_line(), "SIP/2.0 500 Server Internal Error");
    struct sb_sl_stats st;
    sb__sl_stats(&st);
    assert_int_equal(st.replies_5xx, 1);
    assert_int_equal(st.sent_err_replies, 1);
    assert_int_equal(st.sent_replies, 1);
}

static void test_reply_error_parse(void **state)
{
    (void)state;
    load("route { $var(f) = $fu; sl_reply_error(); $var(rc) = $rc; }\n");
    snprintf(F.req, sizeof(F.req),
             "OPTIONS sip:bob@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK776asdhds\r\n"
             "To: Bob <sip:bob@example.com>\r\n"
             "From: <sip:alice@example.com;tag=1\r\n"
             "Call-ID: x1@pc33.example.com\r\n"
             "CSeq: 1 OPTIONS\r\n"
             "Content-Length: 0\r\n\r\n",
             W.client_port);
    sfx_run_msg(F.req);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    const char *sl = status_line();
    if (strncmp(sl, "SIP/2.0 400 ", 12) != 0)
        fail_msg("expected a 400, got \"%s\"", sl);
}

static int fake_tm_calls;
static int fake_tm(struct sb_sctx *ctx, int code, sb_str reason)
{
    (void)ctx, (void)reason;
    fake_tm_calls++;
    return code == 180 ? 1 : 0; /* "a transaction exists" only for 180 */
}

static void test_signaling_seam(void **state)
{
    (void)state;
    load("route { send_reply(180, \"Ringing\"); $var(a) = $rc;"
         " send_reply(603, \"Decline\"); $var(b) = $rc; }\n");
    fake_tm_calls = 0;
    sb__signaling_tx_reply = fake_tm;
    run("INVITE");
    assert_int_equal(fake_tm_calls, 2);
    assert_int_equal(sfx_int("$var(a)"), 1);
    assert_int_equal(sfx_int("$var(b)"), 1);
    /* only the 603 went out statelessly */
    assert_string_equal(status_line(), "SIP/2.0 603 Decline");
    assert_string_equal(status_line(), "");
    struct sb_sl_stats st;
    sb__sl_stats(&st);
    assert_int_equal(st.replies_1xx, 0);
    assert_int_equal(st.replies_6xx, 1);
}

static void test_signaling_stateless(void **state)
{
    (void)state;
    load("route { send_reply(\"302\", \"Moved\"); $var(rc) = $rc; }\n");
    run("INVITE");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_string_equal(status_line(), "SIP/2.0 302 Moved");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_send_reply_int_and_string_code),
        T(test_bad_codes),
        T(test_no_reply_to_ack),
        T(test_default_reason),
        T(test_reply_error),
        T(test_reply_error_parse),
        T(test_signaling_seam),
        T(test_signaling_stateless),
    };
    return cmocka_run_group_tests_name("sl", tests, group_setup, group_teardown);
}
