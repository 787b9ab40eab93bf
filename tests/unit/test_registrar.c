/* SPDX-License-Identifier: BSD-2-Clause */
/* registrar over usrloc: scripts calling save()/lookup()/remove()/is_registered() run over parsed
 * REGISTERs and INVITEs on a worker with a real UDP listener; the replies are read back from a
 * loopback socket that plays the UA, and the destination set is read from the routing state.
 * Expiry runs on a virtual clock. */
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

#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/fwd.h"
#include "sb/loop.h"
#include "sb/mod.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/stats.h"
#include "sb/tp.h"
#include "sb/usrloc.h"
#include "sb/worker.h"

static int64_t vnow = 1700000000;

static int64_t vclock(void)
{
    return vnow;
}

#include "fixture_script.h"
#include "fixture_worker.h"

static int group_setup(void **state)
{
    (void)state;
    wfx_udp_start();
    sb_ul_set_clock(vclock);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sb_ul_set_clock(NULL);
    wfx_stop();
    return 0;
}

static int setup(void **state)
{
    sfx_setup(state);
    wfx_rcv_from_client();
    F.rcv.peer.dst_ip = SB_STR("127.0.0.1");
    F.rcv.peer.dst_port = 5060;
    wfx_drain();
    return 0;
}

static const char *std_routes =
    "route {\n"
    "  if ($rm == \"REGISTER\") { save(\"location\"); $var(rc) = $rc; exit; }\n"
    "  lookup(\"location\"); $var(rc) = $rc;\n"
    "}\n";

static void load(const char *modparams, const char *routes)
{
    sfx_loadf("loadmodule \"sl.so\"\nloadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
              "modparam(\"usrloc\", \"use_domain\", 1)\n%s\n%s",
              modparams ? modparams : "", routes ? routes : std_routes);
    sfx_start();
}

static void run_raw(void)
{
    sfx_run_msg(F.req);
}

/* A REGISTER for <user>@example.com with the given header lines (each ending in CRLF). */
static void reg(const char *user, const char *callid, unsigned cseq, const char *hdrs)
{
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%s%u\r\n"
             "Max-Forwards: 70\r\n"
             "To: <sip:%s@Example.COM>\r\n"
             "From: <sip:%s@example.com>;tag=%u\r\n"
             "Call-ID: %s\r\n"
             "CSeq: %u REGISTER\r\n"
             "%s"
             "Content-Length: 0\r\n\r\n",
             W.client_port, callid, cseq, user, user, cseq, callid, cseq, hdrs);
    run_raw();
}

static void request(const char *method, const char *ruri)
{
    snprintf(F.req, sizeof(F.req),
             "%s %s SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKinv1\r\n"
             "Max-Forwards: 70\r\n"
             "To: <%s>\r\n"
             "From: <sip:carol@example.com>;tag=77\r\n"
             "Call-ID: call-1\r\n"
             "CSeq: 1 %s\r\n"
             "Content-Length: 0\r\n\r\n",
             method, ruri, W.client_port, ruri, method);
    run_raw();
}

/* The whole reply the UA got, or "" when none came within <ms>. */
static const char *reply_ms(int ms)
{
    return wfx_recv(ms);
}

static const char *reply(void)
{
    return reply_ms(500);
}

static unsigned count_of(const char *hay, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static unsigned n_bindings(const char *aor)
{
    struct sb_ul_domain *d = sb_ul_domain_find(SB_STR("location"));
    assert_non_null(d);
    struct sb_ul_txn t;
    sb_ul_begin(d, sb_str_cstr(aor), &t);
    unsigned n = sb_ul_count(&t);
    sb_ul_end(&t);
    return n;
}

static bool has_line(const char *r, const char *line)
{
    return strstr(r, line) != NULL;
}

static sb_str ruri(void)
{
    return F.rs.new_ruri;
}

static void assert_str(sb_str got, const char *want)
{
    if (!sb_str_eq(got, sb_str_cstr(want)))
        fail_msg("got '%.*s', want '%s'", (int)got.len, got.p ? got.p : "", want);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_register_and_reply(void **state)
{
    (void)state;
    load(NULL, NULL);
    int64_t acc0 = sfx_stat("registrar:accepted_regs");
    reg("alice", "c1", 1, "Contact: <sip:alice@192.0.2.10:5062>\r\nUser-Agent: phone/1\r\n");
    const char *r = reply();
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_true(strncmp(r, "SIP/2.0 200 OK\r\n", 16) == 0);
    assert_true(has_line(r, "Contact: <sip:alice@192.0.2.10:5062>;expires=3600\r\n"));
    assert_true(has_line(r, "\r\nDate: "));
    assert_true(has_line(r, " GMT\r\n"));
    assert_int_equal(n_bindings("alice@example.com"), 1);
    assert_int_equal(sfx_stat("registrar:accepted_regs") - acc0, 1);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 1);
    assert_int_equal(sfx_stat("usrloc:location-contacts"), 1);

    /* the stored fields */
    struct sb_ul_contact *list;
    unsigned n;
    assert_int_equal(sb_ul_snapshot(sb_ul_domain_find(SB_STR("location")),
                                    SB_STR("alice@example.com"), &F.scratch, &list, &n),
                     0);
    assert_int_equal(n, 1);
    assert_str(list->callid, "c1");
    assert_int_equal(list->cseq, 1);
    assert_str(list->user_agent, "phone/1");
    assert_str(list->socket, "udp:127.0.0.1:5060");
    assert_int_equal(list->expires, vnow + 3600);
    assert_int_equal(list->q, -1);

    /* a second contact: the 200 lists both with their remaining time */
    vnow += 100;
    reg("alice", "c2", 1, "Contact: <sip:alice@192.0.2.11>;expires=600\r\n");
    r = reply();
    assert_true(has_line(r, "Contact: <sip:alice@192.0.2.10:5062>;expires=3500\r\n"));
    assert_true(has_line(r, "Contact: <sip:alice@192.0.2.11>;expires=600\r\n"));
    assert_int_equal(n_bindings("alice@example.com"), 2);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 1);
    assert_int_equal(sfx_stat("usrloc:location-contacts"), 2);

    /* a query: no Contact lists the bindings and changes nothing */
    reg("alice", "c3", 1, "");
    r = reply();
    assert_int_equal(count_of(r, "\r\nContact: "), 2);
}

static void test_lookup_orders_by_q(void **state)
{
    (void)state;
    load(NULL, NULL);
    reg("bob", "b1", 1,
        "Contact: <sip:bob@192.0.2.1>;q=0.1, <sip:bob@192.0.2.2>;q=0.9\r\n"
        "Contact: <sip:bob@192.0.2.3>;q=0.5\r\n");
    assert_true(strncmp(reply(), "SIP/2.0 200", 11) == 0);
    assert_int_equal(n_bindings("bob@example.com"), 3);
    request("INVITE", "sip:bob@example.com");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_str(ruri(), "sip:bob@192.0.2.2");
    assert_int_equal(F.rs.n_branches, 2);
    assert_str(F.rs.branches[0].uri, "sip:bob@192.0.2.3");
    assert_int_equal(F.rs.branches[0].q, 500);
    assert_str(F.rs.branches[1].uri, "sip:bob@192.0.2.1");
    assert_null(F.rs.dst_uri.p);

    /* unknown user */
    request("INVITE", "sip:nobody@example.com");
    assert_int_equal(sfx_int("$var(rc)"), -1);
    assert_null(F.rs.new_ruri.p);
}

static void test_lookup_flags(void **state)
{
    (void)state;
    load(NULL, "route {\n"
               "  if ($rm == \"REGISTER\") { save(\"location\"); exit; }\n"
               "  if ($rU == \"one\") { lookup(\"location\", \"no-branches\", "
               "\"sip:dave@example.com\"); }\n"
               "  else if ($rU == \"br\") { lookup(\"location\", \"to-branches-only\", "
               "\"sip:dave@example.com\"); }\n"
               "  else { lookup(\"location\", \"method-filtering\"); }\n"
               "  $var(rc) = $rc;\n"
               "}\n");
    reg("dave", "d1", 1, "Contact: <sip:dave@192.0.2.5>;q=1.0\r\nAllow: INVITE, ACK, BYE\r\n");
    reply();
    vnow += 1;
    reg("dave", "d2", 1, "Contact: <sip:dave@192.0.2.6>;q=0.5\r\n");
    reply();

    request("MESSAGE", "sip:dave@example.com");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    /* only the contact without an Allow list (all methods) takes MESSAGE */
    assert_str(ruri(), "sip:dave@192.0.2.6");
    assert_int_equal(F.rs.n_branches, 0);

    request("INVITE", "sip:dave@example.com");
    assert_str(ruri(), "sip:dave@192.0.2.5");
    assert_int_equal(F.rs.n_branches, 1);

    request("INVITE", "sip:one@example.com");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_str(ruri(), "sip:dave@192.0.2.5");
    assert_int_equal(F.rs.n_branches, 0);

    request("INVITE", "sip:br@example.com");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_null(F.rs.new_ruri.p);
    assert_int_equal(F.rs.n_branches, 2);
    assert_str(F.rs.branches[0].uri, "sip:dave@192.0.2.5");

    /* every contact refuses the method: -2 */
    sb_ul_remove(sb_ul_domain_find(SB_STR("location")), SB_STR("dave@example.com"),
                 SB_STR("sip:dave@192.0.2.6"));
    request("MESSAGE", "sip:dave@example.com");
    assert_int_equal(sfx_int("$var(rc)"), -2);
}

static void test_remove_and_star(void **state)
{
    (void)state;
    load(NULL, NULL);
    reg("eve", "e1", 1, "Contact: <sip:eve@192.0.2.1>, <sip:eve@192.0.2.2>\r\n");
    reply();
    assert_int_equal(n_bindings("eve@example.com"), 2);
    /* expires=0 removes one binding */
    reg("eve", "e1", 2, "Contact: <sip:eve@192.0.2.1>;expires=0\r\n");
    const char *r = reply();
    assert_true(strncmp(r, "SIP/2.0 200", 11) == 0);
    assert_int_equal(count_of(r, "\r\nContact: "), 1);
    assert_int_equal(n_bindings("eve@example.com"), 1);

    /* "*" without Expires: 0 is refused */
    int64_t rej0 = sfx_stat("registrar:rejected_regs");
    reg("eve", "e1", 3, "Contact: *\r\n");
    assert_true(strncmp(reply(), "SIP/2.0 400", 11) == 0);
    reg("eve", "e1", 3, "Contact: *\r\nExpires: 10\r\n");
    assert_true(strncmp(reply(), "SIP/2.0 400", 11) == 0);
    assert_int_equal(sfx_stat("registrar:rejected_regs") - rej0, 2);
    assert_int_equal(n_bindings("eve@example.com"), 1);
    /* "*" with Expires: 0 removes everything */
    reg("eve", "e1", 4, "Contact: *\r\nExpires: 0\r\n");
    r = reply();
    assert_true(strncmp(r, "SIP/2.0 200", 11) == 0);
    assert_int_equal(count_of(r, "\r\nContact: "), 0);
    assert_int_equal(n_bindings("eve@example.com"), 0);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 0);
}

static void test_expires_limits(void **state)
{
    (void)state;
    load("modparam(\"registrar\", \"max_expires\", 1800)\n"
         "modparam(\"registrar\", \"default_expires\", 900)\n",
         "route {\n"
         "  if ($rU == \"short\") { save(\"location\", \"min-expires=10\"); exit; }\n"
         "  if ($rU == \"cap\") { save(\"location\", \"max-expires=100\"); exit; }\n"
         "  save(\"location\");\n"
         "}\n");
    reg("f", "f1", 1, "Contact: <sip:f@192.0.2.1>;expires=30\r\n");
    const char *r = reply();
    assert_true(strncmp(r, "SIP/2.0 423 Interval Too Brief", 30) == 0);
    assert_true(has_line(r, "\r\nMin-Expires: 60\r\n"));
    assert_int_equal(n_bindings("f@example.com"), 0);

    reg("f", "f1", 2, "Contact: <sip:f@192.0.2.1>\r\n");
    assert_true(has_line(reply(), "Contact: <sip:f@192.0.2.1>;expires=900\r\n"));
    reg("f", "f1", 3, "Contact: <sip:f@192.0.2.1>\r\nExpires: 7200\r\n");
    assert_true(has_line(reply(), "Contact: <sip:f@192.0.2.1>;expires=1800\r\n"));

    /* per-call limits; the R-URI user selects the route, the AOR is in To */
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:short@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKs1\r\n"
             "To: <sip:g@example.com>\r\nFrom: <sip:g@example.com>;tag=1\r\n"
             "Call-ID: g1\r\nCSeq: 1 REGISTER\r\n"
             "Contact: <sip:g@192.0.2.1>;expires=30\r\nContent-Length: 0\r\n\r\n",
             W.client_port);
    run_raw();
    assert_true(has_line(reply(), "Contact: <sip:g@192.0.2.1>;expires=30\r\n"));
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:cap@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKs2\r\n"
             "To: <sip:g@example.com>\r\nFrom: <sip:g@example.com>;tag=1\r\n"
             "Call-ID: g1\r\nCSeq: 2 REGISTER\r\n"
             "Contact: <sip:g@192.0.2.1>;expires=3000\r\nContent-Length: 0\r\n\r\n",
             W.client_port);
    run_raw();
    assert_true(has_line(reply(), "Contact: <sip:g@192.0.2.1>;expires=100\r\n"));
}

static void test_max_contacts(void **state)
{
    (void)state;
    load(NULL, "route {\n"
               "  if ($rU == \"force\") { save(\"location\", "
               "\"max-contacts=2,force-registration\", \"$tu\"); exit; }\n"
               "  save(\"location\", \"max-contacts=2\");\n"
               "}\n");
    reg("h", "h1", 1, "Contact: <sip:h@192.0.2.1>\r\n");
    reply();
    vnow += 1;
    reg("h", "h2", 1, "Contact: <sip:h@192.0.2.2>\r\n");
    reply();
    vnow += 1;
    reg("h", "h3", 1, "Contact: <sip:h@192.0.2.3>\r\n");
    assert_true(strncmp(reply(), "SIP/2.0 503", 11) == 0);
    assert_int_equal(n_bindings("h@example.com"), 2);
    /* a refresh of an existing binding is still fine at the limit */
    reg("h", "h1", 2, "Contact: <sip:h@192.0.2.1>\r\n");
    assert_true(strncmp(reply(), "SIP/2.0 200", 11) == 0);

    /* force-registration drops the oldest binding (h2: h1 was just refreshed) */
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:force@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKf1\r\n"
             "To: <sip:h@example.com>\r\nFrom: <sip:h@example.com>;tag=1\r\n"
             "Call-ID: h3\r\nCSeq: 5 REGISTER\r\n"
             "Contact: <sip:h@192.0.2.3>\r\nContent-Length: 0\r\n\r\n",
             W.client_port);
    run_raw();
    const char *r = reply();
    assert_true(strncmp(r, "SIP/2.0 200", 11) == 0);
    assert_int_equal(n_bindings("h@example.com"), 2);
    assert_true(has_line(r, "<sip:h@192.0.2.1>"));
    assert_true(has_line(r, "<sip:h@192.0.2.3>"));
    assert_false(has_line(r, "<sip:h@192.0.2.2>"));
}

static void test_no_reply_flag(void **state)
{
    (void)state;
    load(NULL, "route { save(\"location\", \"no-reply\"); $var(rc) = $rc; }\n");
    reg("i", "i1", 1, "Contact: <sip:i@192.0.2.1>\r\n");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_string_equal(reply_ms(200), "");
    assert_int_equal(n_bindings("i@example.com"), 1);
    assert_false(F.rs.replied);
}

static void test_path(void **state)
{
    (void)state;
    load(NULL, "route {\n"
               "  if ($rm == \"REGISTER\") {\n"
               "    if ($rU == \"strict\") { save(\"location\", \"path-strict\"); exit; }\n"
               "    if ($rU == \"off\") { save(\"location\", \"path-off\"); exit; }\n"
               "    if ($rU == \"rcv\") { save(\"location\", \"path-received\"); exit; }\n"
               "    save(\"location\", \"path-lazy\"); exit;\n"
               "  }\n"
               "  lookup(\"location\"); $var(rc) = $rc;\n"
               "}\n");
    reg("j", "j1", 1,
        "Contact: <sip:j@10.0.0.5:5070>\r\nSupported: path\r\n"
        "Path: <sip:edge1.example.net;lr>\r\nPath: <sip:edge2.example.net;lr>\r\n");
    const char *r = reply();
    assert_true(strncmp(r, "SIP/2.0 200", 11) == 0);
    assert_true(
        has_line(r, "\r\nPath: <sip:edge1.example.net;lr>, <sip:edge2.example.net;lr>\r\n"));

    request("INVITE", "sip:j@example.com");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    assert_str(ruri(), "sip:j@10.0.0.5:5070");
    assert_str(F.rs.dst_uri, "sip:edge1.example.net;lr");
    /* the Path became a Route header in the request that leaves */
    char out[4096];
    size_t n;
    assert_int_equal(sb_msg_lumps_apply(&F.msg, out, sizeof(out), &n), 0);
    out[n] = '\0';
    assert_non_null(
        strstr(out, "\r\nRoute: <sip:edge1.example.net;lr>, <sip:edge2.example.net;lr>\r\n"));

    /* without Supported: path, lazy mode stores it but does not echo it */
    reg("k", "k1", 1, "Contact: <sip:k@10.0.0.6>\r\nPath: <sip:edge1.example.net;lr>\r\n");
    r = reply();
    assert_true(strncmp(r, "SIP/2.0 200", 11) == 0);
    assert_false(has_line(r, "\r\nPath:"));
    request("INVITE", "sip:k@example.com");
    assert_str(F.rs.dst_uri, "sip:edge1.example.net;lr");

    /* path-strict refuses a Path the UA did not ask for */
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:strict@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKp1\r\n"
             "To: <sip:l@example.com>\r\nFrom: <sip:l@example.com>;tag=1\r\n"
             "Call-ID: l1\r\nCSeq: 1 REGISTER\r\nPath: <sip:edge1.example.net;lr>\r\n"
             "Contact: <sip:l@10.0.0.7>\r\nContent-Length: 0\r\n\r\n",
             W.client_port);
    run_raw();
    r = reply();
    assert_true(strncmp(r, "SIP/2.0 420", 11) == 0);
    assert_true(has_line(r, "\r\nUnsupported: path\r\n"));
    assert_int_equal(n_bindings("l@example.com"), 0);

    /* path-off ignores it */
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:off@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKp2\r\n"
             "To: <sip:m@example.com>\r\nFrom: <sip:m@example.com>;tag=1\r\n"
             "Call-ID: m1\r\nCSeq: 1 REGISTER\r\nPath: <sip:edge1.example.net;lr>\r\n"
             "Supported: path\r\nContact: <sip:m@10.0.0.8>\r\nContent-Length: 0\r\n\r\n",
             W.client_port);
    run_raw();
    assert_false(has_line(reply(), "\r\nPath:"));
    request("INVITE", "sip:m@example.com");
    assert_null(F.rs.dst_uri.p);

    /* path-received: the edge's received parameter becomes the contact's received */
    snprintf(F.req, sizeof(F.req),
             "REGISTER sip:rcv@example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKp3\r\n"
             "To: <sip:n@example.com>\r\nFrom: <sip:n@example.com>;tag=1\r\n"
             "Call-ID: n1\r\nCSeq: 1 REGISTER\r\nSupported: path\r\n"
             "Path: <sip:edge1.example.net;lr;received=\"sip:198.51.100.7:40000\">\r\n"
             "Contact: <sip:n@10.0.0.9>\r\nContent-Length: 0\r\n\r\n",
             W.client_port);
    run_raw();
    reply();
    struct sb_ul_contact *list;
    unsigned k;
    assert_int_equal(sb_ul_snapshot(sb_ul_domain_find(SB_STR("location")), SB_STR("n@example.com"),
                                    &F.scratch, &list, &k),
                     0);
    assert_int_equal(k, 1);
    assert_str(list->received, "sip:198.51.100.7:40000");
}

static void test_callid_cseq_ordering(void **state)
{
    (void)state;
    load(NULL, NULL);
    reg("o", "o1", 5, "Contact: <sip:o@192.0.2.1>\r\n");
    reply();
    /* same Call-ID, lower CSeq: stale, the binding stays */
    reg("o", "o1", 3, "Contact: <sip:o@192.0.2.1>;expires=0\r\n");
    assert_true(strncmp(reply(), "SIP/2.0 200", 11) == 0);
    assert_int_equal(n_bindings("o@example.com"), 1);
    /* equal CSeq (a retransmission) refreshes */
    vnow += 10;
    reg("o", "o1", 5, "Contact: <sip:o@192.0.2.1>\r\n");
    assert_true(has_line(reply(), "expires=3600\r\n"));
    /* another Call-ID with any CSeq removes it */
    reg("o", "o2", 1, "Contact: <sip:o@192.0.2.1>;expires=0\r\n");
    reply();
    assert_int_equal(n_bindings("o@example.com"), 0);
}

static void test_instance_and_reg_id(void **state)
{
    (void)state;
    load(NULL, NULL);
    reg("p", "p1", 1,
        "Contact: "
        "<sip:p@192.0.2.1;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";"
        "reg-id=1\r\n");
    const char *r = reply();
    assert_true(has_line(r, "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""));
    assert_true(has_line(r, ";reg-id=1\r\n"));
    /* the same instance and reg-id from a new address replaces the binding */
    reg("p", "p2", 1,
        "Contact: "
        "<sip:p@192.0.2.99;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";"
        "reg-id=1\r\n");
    r = reply();
    assert_int_equal(count_of(r, "\r\nContact: "), 1);
    assert_true(has_line(r, "<sip:p@192.0.2.99;ob>"));
    assert_int_equal(n_bindings("p@example.com"), 1);
    /* another reg-id (a second flow) is a second binding */
    reg("p", "p3", 1,
        "Contact: "
        "<sip:p@192.0.2.98;ob>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";"
        "reg-id=2\r\n");
    reply();
    assert_int_equal(n_bindings("p@example.com"), 2);
}

static void test_expiry(void **state)
{
    (void)state;
    load(NULL, NULL);
    reg("q", "q1", 1, "Contact: <sip:q@192.0.2.1>;expires=120\r\n");
    reply();
    reg("r", "r1", 1, "Contact: <sip:r@192.0.2.1>;expires=3600\r\n");
    reply();
    assert_int_equal(sfx_stat("usrloc:registered_users"), 2);
    int64_t exp0 = sfx_stat("usrloc:location-expires");
    vnow += 119;
    request("INVITE", "sip:q@example.com");
    assert_int_equal(sfx_int("$var(rc)"), 1);
    vnow += 1;
    /* lazy expiry: a read after the deadline finds nothing */
    request("INVITE", "sip:q@example.com");
    assert_int_equal(sfx_int("$var(rc)"), -1);
    assert_int_equal(sfx_stat("usrloc:location-expires") - exp0, 1);
    /* the sweep removes the rest */
    vnow += 3600;
    assert_int_equal(sb_ul_expire_all(), 1);
    assert_int_equal(sfx_stat("usrloc:registered_users"), 0);
    assert_int_equal(sfx_stat("usrloc:location-contacts"), 0);
    assert_int_equal(sfx_stat("usrloc:location-expires") - exp0, 2);
}

static void test_remove_and_queries(void **state)
{
    (void)state;
    load(NULL, "route {\n"
               "  if ($rm == \"REGISTER\") { save(\"location\"); exit; }\n"
               "  $var(a) = 0; $var(b) = 0; $var(c) = 0; $var(d) = 0;\n"
               "  if (is_registered(\"location\")) $var(a) = 1;\n"
               "  if (is_contact_registered(\"location\", \"sip:s@example.com\", "
               "\"sip:s@192.0.2.2\")) $var(b) = 1;\n"
               "  if (is_contact_registered(\"location\", \"sip:s@example.com\", "
               "\"sip:s@192.0.2.1\", \"s1\")) $var(c) = 1;\n"
               "  if ($rU == \"s\") { remove(\"location\", \"sip:s@example.com\", "
               "\"sip:s@192.0.2.1\"); $var(d) = $rc; }\n"
               "}\n");
    reg("s", "s1", 1, "Contact: <sip:s@192.0.2.1>\r\n");
    reply();
    request("OPTIONS", "sip:t@example.com");
    assert_int_equal(sfx_int("$var(a)"), 0);
    assert_int_equal(sfx_int("$var(b)"), 0);
    assert_int_equal(sfx_int("$var(c)"), 1);
    assert_int_equal(sfx_int("$var(d)"), 0);
    request("OPTIONS", "sip:s@example.com");
    assert_int_equal(sfx_int("$var(a)"), 1);
    assert_int_equal(sfx_int("$var(d)"), 1);
    assert_int_equal(n_bindings("s@example.com"), 0);
}

static void test_event_routes(void **state)
{
    (void)state;
    load(
        NULL,
        "route {\n"
        "  if ($rm == \"REGISTER\") { save(\"location\"); exit; }\n"
        "}\n"
        "event_route[E_UL_CONTACT_INSERT] { $var(ins) = $var(ins) + 1; $var(uri) = $param(uri); }\n"
        "event_route[E_UL_CONTACT_UPDATE] { $var(upd) = $var(upd) + 1; }\n"
        "event_route[E_UL_CONTACT_DELETE] { $var(del) = $var(del) + 1; $var(daor) = $param(aor); "
        "}\n");
    W.worker.script = F.s;
    reg("ev", "v1", 1, "Contact: <sip:ev@192.0.2.1>\r\n");
    reply();
    reg("ev", "v1", 2, "Contact: <sip:ev@192.0.2.1>\r\n");
    reply();
    reg("ev", "v1", 3, "Contact: <sip:ev@192.0.2.1>;expires=0\r\n");
    reply();
    W.worker.script = NULL;
    assert_int_equal(sfx_int("$var(ins)"), 1);
    assert_int_equal(sfx_int("$var(upd)"), 1);
    assert_int_equal(sfx_int("$var(del)"), 1);
    struct sb_arena a;
    sb_arena_init(&a, NULL, 0, 0);
    struct sb_pv pv;
    struct sb_fixup fx = {0};
    struct sb_val v;
    assert_true(sb_pv_parse(SB_STR("$var(uri)"), &pv, &a, &fx) > 0);
    assert_int_equal(sb_pv_get(&F.ctx, &pv, &v), 0);
    assert_int_equal(v.type, SB_VAL_STR);
    assert_str(v.s, "sip:ev@192.0.2.1");
    assert_true(sb_pv_parse(SB_STR("$var(daor)"), &pv, &a, &fx) > 0);
    assert_int_equal(sb_pv_get(&F.ctx, &pv, &v), 0);
    assert_str(v.s, "ev@example.com");
    sb_arena_deinit(&a);
}

static void test_bad_flags_rejected_at_check(void **state)
{
    (void)state;
    const char *text =
        "loadmodule \"sl.so\"\nloadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
        "route { save(\"location\", \"no-reply,bogus\"); }\n";
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    assert_true(rc != 0 || d.n_errors > 0);
    sb_diag_free(&d);
    sb_script_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_and_reply, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_lookup_orders_by_q, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_lookup_flags, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_remove_and_star, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_expires_limits, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_max_contacts, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_no_reply_flag, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_path, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_callid_cseq_ordering, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_instance_and_reg_id, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_remove_and_queries, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_event_routes, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_flags_rejected_at_check, setup, sfx_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
