/* SPDX-License-Identifier: BSD-2-Clause */
/* rr module: Record-Route text, RFC 5658 double record-routing through the forwarding hook,
 * loose_route over RFC 3261 §16.4 / §16.12 cases, is_direction and check_route_param. Two
 * listeners on loopback with advertised addresses make "myself" and the Record-Route text
 * predictable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/fwd.h"
#include "sb/mod.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/tp.h"

#define UDP_ADV "192.0.2.10:5060"
#define TCP_ADV "192.0.2.10:5070"

static const struct sb_socket *udp_sock, *tcp_sock;

#include "fixture_script.h"
#include "fixture_worker.h"

static int group_setup(void **state)
{
    (void)state;
    wfx_core_init();
    char spec[128];
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u as " UDP_ADV, wfx_free_port(SOCK_DGRAM));
    wfx_listen(spec);
    snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u as " TCP_ADV, wfx_free_port(SOCK_STREAM));
    wfx_listen(spec);
    wfx_tp_init();
    for (unsigned i = 0; i < sb_tp_n_sockets(); i++) {
        const struct sb_socket *s = sb_tp_socket(i);
        if (s->proto == SB_PROTO_UDP)
            udp_sock = s;
        else if (s->proto == SB_PROTO_TCP)
            tcp_sock = s;
    }
    assert_non_null(udp_sock);
    assert_non_null(tcp_sock);
    assert_string_equal(udp_sock->adv_host, "192.0.2.10");
    assert_int_equal(udp_sock->adv_port, 5060);
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
    F.rcv.sock = udp_sock;
    F.rcv.peer =
        (struct sb_peer){.src_ip = SB_STR("10.1.2.3"), .src_port = 5060, .proto = SB_PROTO_UDP};
    return 0;
}

static void load(int fromtag, int double_rr, const char *routes)
{
    sfx_loadf("loadmodule \"rr.so\"\n"
              "modparam(\"rr\", \"append_fromtag\", %d)\n"
              "modparam(\"rr\", \"enable_double_rr\", %d)\n%s",
              fromtag, double_rr, routes);
    sfx_start();
}

static void run(const char *msg)
{
    sfx_parse(msg);
    memset(&F.rs, 0, sizeof(F.rs));
    assert_ptr_equal(sb_sctx_rcv(sfx_ctx()), &F.rcv);
    sb_script_run(&F.ctx, SB_ROUTE_REQUEST, sb_script_route(F.s, SB_ROUTE_REQUEST, SB_STR("")));
}

static void want_view(sb_str got, const char *want)
{
    if (!want) {
        if (got.p)
            fail_msg("expected nothing, got \"%.*s\"", SB_STR_ARG(got));
        return;
    }
    if (!got.p || !sb_str_eq(got, sb_str_cstr(want)))
        fail_msg("expected \"%s\", got \"%.*s\"", want, SB_STR_ARG(got));
}

#define INVITE_START "INVITE sip:bob@198.51.100.7 SIP/2.0\r\n"
#define COMMON                                                                                     \
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"                                   \
    "Max-Forwards: 70\r\n"                                                                         \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
#define TO_NOTAG "To: Bob <sip:bob@example.com>\r\n"
#define TO_TAG   "To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"
#define END      "Content-Length: 0\r\n\r\n"

static const char INITIAL[] = INVITE_START COMMON TO_NOTAG "CSeq: 1 INVITE\r\n" END;

/* ---- record_route --------------------------------------------------------------------------- */

static void test_record_route_plain(void **state)
{
    (void)state;
    load(0, 1, "route { record_route(); $var(rc) = $rc; }\n");
    run(INITIAL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    /* at the top of the header section */
    assert_non_null(
        strstr(sfx_output(), "SIP/2.0\r\nRecord-Route: <sip:" UDP_ADV ";lr>\r\nVia: SIP/2.0/UDP"));
}

static void test_record_route_ftag_params(void **state)
{
    (void)state;
    load(1, 1,
         "route { add_rr_param(\";before=1\"); record_route(\"foo=bar\"); $var(rc) = $rc;"
         " add_rr_param(\"after\"); }\n");
    run(INITIAL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(sfx_output(), "\r\nRecord-Route: <sip:" UDP_ADV
                                         ";lr;ftag=1928301774;before=1;foo=bar;after>\r\n"));
}

static void test_record_route_tcp_and_twice(void **state)
{
    (void)state;
    load(0, 1, "route { record_route(); record_route(); $var(rc) = $rc; }\n");
    F.rcv.sock = tcp_sock;
    run(INITIAL);
    assert_int_equal(sfx_int("$var(rc)"), -1); /* the second one is refused */
    const char *o = sfx_output();
    assert_non_null(strstr(o, "Record-Route: <sip:" TCP_ADV ";transport=tcp;lr>\r\n"));
    assert_null(strstr(strstr(o, "Record-Route:") + 1, "Record-Route:"));
}

static void test_record_route_preset(void **state)
{
    (void)state;
    load(1, 1, "route { record_route_preset(\"sip.example.net:5080;x=y\"); $var(rc) = $rc; }\n");
    run(INITIAL);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_non_null(strstr(
        sfx_output(), "\r\nRecord-Route: <sip:sip.example.net:5080;x=y;lr;ftag=1928301774>\r\n"));
    /* one address: the hook still adds the outbound one when the socket changes */
    struct sb_dest d = {.proto = SB_PROTO_TCP, .sock = tcp_sock};
    char buf[512];
    struct sb_wbuf top;
    sb_wbuf_init(&top, buf, sizeof(buf));
    assert_int_equal(sb_fwd_get_hook()(&F.ctx, &d, &top), 0);
    assert_true(top.len > 0);
}

static void test_record_route_preset_two(void **state)
{
    (void)state;
    load(0, 1, "route { record_route_preset(\"in.example.net\", \"out.example.net:5070\"); }\n");
    run(INITIAL);
    assert_non_null(strstr(sfx_output(),
                           "SIP/2.0\r\nRecord-Route: <sip:out.example.net:5070;lr>\r\n"
                           "Record-Route: <sip:in.example.net;lr>\r\nVia:"));
    struct sb_dest d = {.proto = SB_PROTO_TCP, .sock = tcp_sock};
    char buf[512];
    struct sb_wbuf top;
    sb_wbuf_init(&top, buf, sizeof(buf));
    assert_int_equal(sb_fwd_get_hook()(&F.ctx, &d, &top), 0);
    assert_int_equal(top.len, 0); /* both written already */
}

/* ---- RFC 5658 through the hook ----------------------------------------------------------------
 */

static void test_double_rr_hook(void **state)
{
    (void)state;
    load(1, 1, "route { record_route(\";p=1\"); add_rr_param(\";q=2\"); }\n");
    run(INITIAL);
    sb_fwd_hook hook = sb_fwd_get_hook();
    assert_non_null(hook);
    char buf[512];
    struct sb_wbuf top;

    /* leaving on another socket and protocol: the outbound Record-Route */
    struct sb_dest d = {.proto = SB_PROTO_TCP, .sock = tcp_sock};
    sb_wbuf_init(&top, buf, sizeof(buf));
    assert_int_equal(hook(&F.ctx, &d, &top), 0);
    assert_int_equal(top.err, 0);
    const char want[] =
        "Record-Route: <sip:" TCP_ADV ";transport=tcp;lr;ftag=1928301774;p=1;q=2>\r\n";
    assert_int_equal(top.len, strlen(want));
    assert_memory_equal(buf, want, top.len);

    /* leaving where it came in: nothing */
    d = (struct sb_dest){.proto = SB_PROTO_UDP, .sock = udp_sock};
    sb_wbuf_init(&top, buf, sizeof(buf));
    assert_int_equal(hook(&F.ctx, &d, &top), 0);
    assert_int_equal(top.len, 0);
}

static void test_double_rr_off_or_no_rr(void **state)
{
    (void)state;
    struct sb_dest d = {.proto = SB_PROTO_TCP, .sock = tcp_sock};
    char buf[512];
    struct sb_wbuf top;

    load(0, 0, "route { record_route(); }\n");
    run(INITIAL);
    sb_wbuf_init(&top, buf, sizeof(buf));
    assert_int_equal(sb_fwd_get_hook()(&F.ctx, &d, &top), 0);
    assert_int_equal(top.len, 0);
    sfx_unload();

    load(0, 1, "route { exit; }\n");
    run(INITIAL); /* not record-routed */
    sb_wbuf_init(&top, buf, sizeof(buf));
    assert_int_equal(sb_fwd_get_hook()(&F.ctx, &d, &top), 0);
    assert_int_equal(top.len, 0);
}

/* ---- loose_route ------------------------------------------------------------------------------
 */

static const char *LR_SCRIPT = "route {\n"
                               "  loose_route(); $var(rc) = $rc;\n"
                               "  $var(down) = 0; $var(up) = 0; $var(p) = 0;\n"
                               "  if (is_direction(\"downstream\")) $var(down) = 1;\n"
                               "  if (is_direction(\"upstream\")) $var(up) = 1;\n"
                               "  if (check_route_param(\"foo=bar\")) $var(p) = 1;\n"
                               "}\n";

static void test_loose_initial_no_route(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    run(INITIAL);
    assert_int_equal(sfx_int("$var(rc)"), -1);
    want_view(sb_duri_get(&F.ctx), NULL);
    assert_int_equal(sfx_int("$var(down)"), 0);
    assert_int_equal(sfx_int("$var(up)"), 0);
}

static void test_loose_in_dialog_lr(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    run("BYE sip:bob@198.51.100.7 SIP/2.0\r\n" COMMON TO_TAG "CSeq: 2 BYE\r\n"
        "Route: <sip:" UDP_ADV ";lr;ftag=1928301774;foo=bar>, <sip:next.example.com;lr>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    want_view(sb_duri_get(&F.ctx), "sip:next.example.com;lr");
    want_view(sb_ruri_get(&F.ctx), "sip:bob@198.51.100.7");
    const char *o = sfx_output();
    assert_non_null(strstr(o, "\r\nRoute: <sip:next.example.com;lr>\r\n"));
    assert_null(strstr(o, UDP_ADV));
    assert_int_equal(sfx_int("$var(down)"), 1);
    assert_int_equal(sfx_int("$var(up)"), 0);
    assert_int_equal(sfx_int("$var(p)"), 1);
}

static void test_loose_upstream(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    /* Bob hangs up: From carries his tag, the ftag is Alice's */
    run("BYE sip:alice@10.1.2.3 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKb1\r\n"
        "Max-Forwards: 70\r\n"
        "From: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"
        "To: Alice <sip:alice@example.com>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
        "CSeq: 1 BYE\r\n"
        "Route: <sip:" UDP_ADV ";lr;ftag=1928301774>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1); /* only our Route, in a dialog */
    want_view(sb_duri_get(&F.ctx), NULL);
    assert_null(strstr(sfx_output(), "Route:"));
    assert_int_equal(sfx_int("$var(down)"), 0);
    assert_int_equal(sfx_int("$var(up)"), 1);
    assert_int_equal(sfx_int("$var(p)"), 0);
}

static void test_loose_preloaded_ours_only(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    /* an initial request preloaded with only our Route: consumed, but not routed by it */
    run(INVITE_START COMMON TO_NOTAG "CSeq: 1 INVITE\r\nRoute: <sip:" UDP_ADV ";lr>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), -1);
    assert_null(strstr(sfx_output(), "Route:"));
}

static void test_loose_preloaded_other(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    run(INVITE_START COMMON TO_NOTAG "CSeq: 1 INVITE\r\nRoute: <sip:other.example.com;lr>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    want_view(sb_duri_get(&F.ctx), "sip:other.example.com;lr");
    /* not ours: left in place */
    assert_non_null(strstr(sfx_output(), "Route: <sip:other.example.com;lr>\r\n"));
}

static void test_loose_double_rr_route_set(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    run("ACK sip:bob@198.51.100.7 SIP/2.0\r\n" COMMON TO_TAG "CSeq: 1 ACK\r\n"
        "Route: <sip:" TCP_ADV ";transport=tcp;lr;ftag=1928301774;foo=bar>\r\n"
        "Route: <sip:" UDP_ADV ";lr;ftag=1928301774;foo=bar>, <sip:b.example.com;lr>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    want_view(sb_duri_get(&F.ctx), "sip:b.example.com;lr");
    const char *o = sfx_output();
    assert_null(strstr(o, "192.0.2.10"));
    assert_non_null(strstr(o, "\r\nRoute: <sip:b.example.com;lr>\r\n"));
    assert_int_equal(sfx_int("$var(down)"), 1);
    assert_int_equal(sfx_int("$var(p)"), 1);
}

static void test_loose_strict_next_hop(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    /* RFC3261-16.12.1.2: the next hop is a strict router: it becomes the Request-URI and the
     * Request-URI goes to the end of the Route set */
    run("BYE sip:bob@198.51.100.7 SIP/2.0\r\n" COMMON TO_TAG "CSeq: 2 BYE\r\n"
        "Route: <sip:" UDP_ADV ";lr>, <sip:strict.example.com>, <sip:p4.example.com;lr>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    want_view(sb_ruri_get(&F.ctx), "sip:strict.example.com");
    want_view(sb_duri_get(&F.ctx), NULL);
    const char *o = sfx_output();
    assert_non_null(strstr(o, "\r\nRoute: <sip:p4.example.com;lr>\r\n"));
    assert_null(strstr(o, "<sip:strict.example.com>"));
    assert_non_null(strstr(o, "\r\nRoute: <sip:bob@198.51.100.7>\r\n\r\n"));
}

static void test_loose_strict_router_before_us(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    /* RFC3261-16.4: the previous hop was a strict router: our Record-Route URI is the
     * Request-URI and the target is the last Route */
    run("BYE sip:" UDP_ADV ";lr;ftag=1928301774;foo=bar SIP/2.0\r\n" COMMON TO_TAG "CSeq: 2 BYE\r\n"
        "Route: <sip:callee@u2.example.com>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    want_view(sb_ruri_get(&F.ctx), "sip:callee@u2.example.com");
    want_view(sb_duri_get(&F.ctx), NULL);
    assert_null(strstr(sfx_output(), "Route:"));
    assert_int_equal(sfx_int("$var(down)"), 1);
    assert_int_equal(sfx_int("$var(p)"), 1);
}

static void test_loose_strict_before_us_more_routes(void **state)
{
    (void)state;
    load(1, 1, LR_SCRIPT);
    /* RFC3261-16.12.1.2 example seen by the proxy after the strict router: the last Route is
     * the target, the remaining one is the loose next hop */
    run("BYE sip:" UDP_ADV ";lr SIP/2.0\r\n" COMMON TO_TAG "CSeq: 2 BYE\r\n"
        "Route: <sip:p5.example.com;lr>\r\n"
        "Route: <sip:callee@u2.example.com>\r\n" END);
    assert_int_equal(sfx_int("$var(rc)"), 1);
    want_view(sb_ruri_get(&F.ctx), "sip:callee@u2.example.com");
    want_view(sb_duri_get(&F.ctx), "sip:p5.example.com;lr");
    const char *o = sfx_output();
    assert_non_null(strstr(o, "Route: <sip:p5.example.com;lr>\r\n"));
    assert_null(strstr(o, "callee@u2"));
}

static void test_is_direction_fixup(void **state)
{
    (void)state;
    const char *text = "loadmodule \"rr.so\"\nroute { is_direction(\"sideways\"); }\n";
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    assert_true(sb_script_load_text("t.cfg", text, strlen(text), &d, &s) < 0);
    assert_null(s);
    assert_true(d.n_errors >= 1);
    sb_diag_free(&d);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, sfx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_record_route_plain),
        T(test_record_route_ftag_params),
        T(test_record_route_tcp_and_twice),
        T(test_record_route_preset),
        T(test_record_route_preset_two),
        T(test_double_rr_hook),
        T(test_double_rr_off_or_no_rr),
        T(test_loose_initial_no_route),
        T(test_loose_in_dialog_lr),
        T(test_loose_upstream),
        T(test_loose_preloaded_ours_only),
        T(test_loose_preloaded_other),
        T(test_loose_double_rr_route_set),
        T(test_loose_strict_next_hop),
        T(test_loose_strict_router_before_us),
        T(test_loose_strict_before_us_more_routes),
        T(test_is_direction_fixup),
    };
    return cmocka_run_group_tests_name("rr", tests, group_setup, group_teardown);
}
