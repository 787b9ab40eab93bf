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

static struct sb_core_cfg core;
static struct sb_arena core_arena;
static struct sb_worker worker;
static int client_fd;
static uint16_t client_port;

static struct {
    struct sb_script *s;
    struct sb_msg msg;
    struct sb_route_state rs;
    struct sb_rcv rcv;
    struct sb_arena scratch;
    struct sb_avps *avps;
    struct sb_sctx ctx;
    char req[1024];
    char reply[2048];
} F;

static uint16_t bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static int group_setup(void **state)
{
    (void)state;
    client_fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(client_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(client_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    client_port = bound_port(client_fd);

    /* a free port for the listener */
    int tmp = socket(AF_INET, SOCK_DGRAM, 0);
    assert_int_equal(bind(tmp, (struct sockaddr *)&a, sizeof(a)), 0);
    uint16_t port = bound_port(tmp);
    close(tmp);

    sb_arena_init(&core_arena, NULL, 0, 0);
    sb_core_cfg_defaults(&core);
    struct sb_listen *l = sb_arena_zalloc(&core_arena, sizeof(*l));
    char spec[64];
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
    const char *err = NULL;
    assert_int_equal(sb_listen_parse(sb_str_cstr(spec), l, &core_arena, &err), 0);
    core.listeners = l;
    assert_int_equal(sb_tp_init(&core), 0);
    worker.id = 0;
    worker.loop = sb_loop_new();
    assert_non_null(worker.loop);
    sb_worker_self = &worker;
    assert_int_equal(sb_tp_worker_start(&worker), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sb_tp_worker_exit(&worker);
    sb_worker_self = NULL;
    sb_loop_free(worker.loop);
    sb_tp_destroy();
    sb_arena_deinit(&core_arena);
    close(client_fd);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    sb_msg_init(&F.msg, NULL);
    sb_arena_init(&F.scratch, NULL, 0, 1 << 20);
    F.avps = sb_avps_new();
    F.rcv.sock = sb_tp_socket(0);
    assert_non_null(F.rcv.sock);
    F.rcv.peer = (struct sb_peer){
        .src_ip = SB_STR("127.0.0.1"), .src_port = client_port, .proto = SB_PROTO_UDP};
    sb_addr_set(&F.rcv.src, SB_STR("127.0.0.1"), client_port);
    sb__sl_stats_reset();
    /* drain anything a failed test left behind */
    char junk[2048];
    while (recv(client_fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
        ;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_script_free(F.s);
    sb_msg_deinit(&F.msg);
    sb_arena_deinit(&F.scratch);
    sb_avps_free(F.avps);
    sb_pv_worker_exit();
    sb__signaling_tx_reply = NULL;
    return 0;
}

static void load(const char *routes)
{
    char text[4096];
    snprintf(text, sizeof(text), "loadmodule \"sl.so\"\nloadmodule \"signaling.so\"\n%s", routes);
    struct sb_diag d;
    sb_diag_init(&d);
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &F.s);
    if (rc != 0 || d.n_errors) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        fail_msg("script did not load");
    }
    sb_diag_free(&d);
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
             method, client_port, method);
    sb_msg_reset(&F.msg);
    assert_int_equal(sb_msg_parse(&F.msg, F.req, strlen(F.req), 0), 0);
    memset(&F.rs, 0, sizeof(F.rs));
    sb_arena_reset(&F.scratch);
    F.ctx = (struct sb_sctx){.msg = &F.msg,
                             .peer = &F.rcv.peer,
                             .script = F.s,
                             .rs = &F.rs,
                             .avps = F.avps,
                             .scratch = &F.scratch};
    sb_script_run(&F.ctx, SB_ROUTE_REQUEST, sb_script_route(F.s, SB_ROUTE_REQUEST, SB_STR("")));
}

static int32_t var_int(const char *name)
{
    struct sb_arena a;
    sb_arena_init(&a, NULL, 0, 0);
    struct sb_pv pv;
    struct sb_fixup fx = {0};
    assert_true(sb_pv_parse(sb_str_cstr(name), &pv, &a, &fx) > 0);
    struct sb_val v;
    assert_int_equal(sb_pv_get(&F.ctx, &pv, &v), 0);
    sb_arena_deinit(&a);
    if (v.type != SB_VAL_INT)
        fail_msg("%s is not an integer", name);
    return v.i;
}

/* The status line of the reply the client got, or "" when none came within 500 ms. */
static const char *status_line(void)
{
    struct pollfd p = {.fd = client_fd, .events = POLLIN};
    F.reply[0] = '\0';
    if (poll(&p, 1, 500) != 1)
        return F.reply;
    ssize_t n = recv(client_fd, F.reply, sizeof(F.reply) - 1, 0);
    assert_true(n > 0);
    F.reply[n] = '\0';
    char *e = strstr(F.reply, "\r\n");
    if (e)
        *e = '\0';
    return F.reply;
}

static void test_send_reply_int_and_string_code(void **state)
{
    (void)state;
    load(
        "route { $var(r) = \"Not Here\"; sl_send_reply(404, \"$var(r) Now\"); $var(rc) = $rc; }\n");
    run("OPTIONS");
    assert_int_equal(var_int("$var(rc)"), 1);
    assert_string_equal(status_line(), "SIP/2.0 404 Not Here Now");
    assert_true(F.rs.replied);
    sb_script_free(F.s);
    load("route { $var(c) = \"486\"; sl_send_reply($var(c), \"Busy Here\"); $var(rc) = $rc; }\n");
    run("INVITE");
    assert_int_equal(var_int("$var(rc)"), 1);
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
    assert_int_equal(var_int("$var(a)"), -1);
    assert_int_equal(var_int("$var(b)"), -1);
    assert_int_equal(var_int("$var(c)"), -1);
    assert_int_equal(var_int("$var(d)"), -1);
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
    assert_int_equal(var_int("$var(rc)"), -1);
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
    assert_int_equal(var_int("$var(rc)"), 1);
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
             client_port);
    sb_msg_reset(&F.msg);
    assert_int_equal(sb_msg_parse(&F.msg, F.req, strlen(F.req), 0), 0);
    memset(&F.rs, 0, sizeof(F.rs));
    F.ctx = (struct sb_sctx){.msg = &F.msg,
                             .peer = &F.rcv.peer,
                             .script = F.s,
                             .rs = &F.rs,
                             .avps = F.avps,
                             .scratch = &F.scratch};
    sb_script_run(&F.ctx, SB_ROUTE_REQUEST, sb_script_route(F.s, SB_ROUTE_REQUEST, SB_STR("")));
    assert_int_equal(var_int("$var(rc)"), 1);
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
    assert_int_equal(var_int("$var(a)"), 1);
    assert_int_equal(var_int("$var(b)"), 1);
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
    assert_int_equal(var_int("$var(rc)"), 1);
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
