/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-branch state of the transaction layer driven in-process, as test_tx.c does (sb_receive in,
 * the send seam out, a virtual clock): $bavp values kept per branch, branch_route edits of a
 * branch that waits for an asynchronous DNS answer (a fake name server on loopback), and the
 * tcp_no_new_conn_bflag marking of a branch's destination, and the socket each branch leaves
 * from (force_send_socket in branch_route). UAC at 127.0.0.1:5070, UASes at 127.0.0.1:5080 and
 * :5081; the proxy listens on 127.0.0.1 and 127.0.0.2 (same port). */
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

#include "sb/buf.h"
#include "sb/core_cfg.h"
#include "sb/dns.h"
#include "sb/fwd.h"
#include "sb/loop.h"
#include "sb/mod.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/tp.h"
#include "sb/tx.h"
#include "sb/worker.h"

#define UAC  5070
#define UAS1 5080
#define UAS2 5081
#define UAS3 5082

static struct sb_core_cfg core;
static char dir[64] = "/tmp/test_tm_branch.XXXXXX";
static char hosts_path[96], resolv_path[96];
static struct sb_arena core_arena;
static struct sb_worker worker;
static struct sb_script *script;
static uint64_t vnow;
static int dns_fd = -1; /* the fake name server */
static int n_queries;

struct sent {
    char data[4096];
    size_t len;
    uint16_t port;
    char ip[SB_IP_STRLEN];
    char from_ip[SB_IP_STRLEN]; /* the local socket it left from ("" when none was chosen) */
    bool no_new_conn;
};
static struct sent sent[64];
static int n_sent;

static uint64_t vclock(void *arg)
{
    (void)arg;
    return vnow;
}

static int capture(struct sb_dest *d, const struct iovec *iov, int n_iov)
{
    if (n_sent >= (int)SB_ARRAY_LEN(sent))
        return SB_ENOSPC;
    struct sent *s = &sent[n_sent++];
    s->len = 0;
    for (int i = 0; i < n_iov; i++) {
        memcpy(s->data + s->len, iov[i].iov_base, iov[i].iov_len);
        s->len += iov[i].iov_len;
    }
    s->data[s->len] = '\0';
    s->port = sb_addr_port(&d->to);
    s->ip[sb_addr_ip(&d->to, s->ip)] = '\0';
    s->no_new_conn = d->no_new_conn;
    snprintf(s->from_ip, sizeof(s->from_ip), "%s", d->sock ? d->sock->ip : "");
    return 0;
}

static int udp_bound(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *cfg_text =
    "tcp_no_new_conn_bflag = \"NO_NEW\"\n"
    "loadmodule \"tm.so\"\n"
    "loadmodule \"sl.so\"\n"
    "loadmodule \"sipmsgops.so\"\n"
    "modparam(\"tm\", \"fr_timeout\", 5)\n"
    "modparam(\"tm\", \"fr_inv_timeout\", 10)\n"
    "route {\n"
    "    if ($rU == \"nobranch\") {\n"
    "        $bavp(x) = \"lost\";\n"
    "        t_reply(403, \"R=$bavp(x) C=$(bavp(x)[*])\");\n"
    "        exit;\n"
    "    }\n"
    "    if ($rU == \"bavp\") {\n"
    "        t_on_branch(\"br\");\n"
    "        t_on_reply(\"rp\");\n"
    "        t_on_failure(\"fl\");\n"
    "        append_branch(\"sip:two@127.0.0.1:5081\");\n"
    "    }\n"
    "    if ($rU == \"dnsbr\") {\n"
    "        t_on_branch(\"dbr\");\n"
    "        append_branch(\"sip:other@127.0.0.1:5081\");\n"
    "    }\n"
    "    if ($rU == \"reason\") {\n"
    "        t_add_cancel_reason(\"Reason: SIP;cause=480;text=\\\"Gone\\\"\");\n"
    "        append_branch(\"sip:two@127.0.0.1:5081\");\n"
    "    }\n"
    "    if ($rU == \"obp\") {\n"
    "        append_branch(\"sip:two@127.0.0.1:5081\");\n"
    "        t_relay(0, \"udp:127.0.0.1:5082\");\n"
    "        exit;\n"
    "    }\n"
    "    if ($rU == \"newreq\") {\n"
    "        t_new_request(\"MESSAGE\", \"sip:x@127.0.0.1:5082\", \"sip:me@127.0.0.1\", "
    "\"<sip:x@127.0.0.1>\", \"hi there\");\n"
    "        t_reply(202, \"Sent\");\n"
    "        exit;\n"
    "    }\n"
    "    if ($rU == \"sockbr\") {\n"
    "        t_on_branch(\"sbr\");\n"
    "        append_branch(\"sip:two@127.0.0.1:5081\");\n"
    "    }\n"
    "    if ($rU == \"socktx\") {\n"
    "        t_on_branch(\"sbr\");\n"
    "        append_branch(\"sip:three@127.0.0.1:5081\");\n"
    "        append_branch(\"sip:four@127.0.0.1:5082\");\n"
    "        force_send_socket(\"udp:127.0.0.2:@P@\");\n"
    "    }\n"
    "    t_relay();\n"
    "}\n"
    "branch_route[sbr] {\n"
    "    if ($rU == \"sockbr\") { force_send_socket(\"udp:127.0.0.2:@P@\"); }\n"
    "    if ($rU == \"three\") { force_send_socket(\"udp:127.0.0.1:@P@\"); }\n"
    "}\n"
    "branch_route[br] {\n"
    "    $bavp(who) = $rU;\n"
    "    $bavp(n) = $T_branch_idx;\n"
    "    $bavp(n) = 7;\n"
    "    $bavp(tmp) = \"a\";\n"
    "    $bavp(tmp) = \"b\";\n"
    "    $bavp(tmp) := NULL;\n"
    "    if ($rU == \"two\") { setbflag(\"NO_NEW\"); }\n"
    "}\n"
    "onreply_route[rp] {\n"
    "    if ($T_reply_code == 180) { $avp(seen) = $bavp(who); $bavp(r) = $T_branch_idx; }\n"
    "}\n"
    "failure_route[fl] {\n"
    "    t_reply(500, \"F=$bavp(who) K=$bavp(n) N=$(bavp(n)[1]) B=$(bavp(n)[-1]) "
    "T=$bavp(tmp) R=$bavp(r) S=$(avp(seen)[0]),$(avp(seen)[1])\");\n"
    "}\n"
    "branch_route[dbr] {\n"
    "    if ($rU == \"dnsbr\") {\n"
    "        append_hf(\"X-Dns: yes\\r\\n\");\n"
    "        remove_hf(\"Contact\");\n"
    "        $ru = \"sip:edited@127.0.0.1:5080\";\n"
    "        $du = \"sip:slow.test:5080;transport=udp\";\n"
    "        setbflag(\"NO_NEW\");\n"
    "        force_send_socket(\"udp:127.0.0.2:@P@\");\n"
    "    } else {\n"
    "        append_hf(\"X-Other: yes\\r\\n\");\n"
    "    }\n"
    "}\n";

static int group_setup(void **state)
{
    (void)state;
    sb_arena_init(&core_arena, NULL, 0, 0);
    assert_non_null(mkdtemp(dir));
    snprintf(hosts_path, sizeof(hosts_path), "%s/hosts", dir);
    snprintf(resolv_path, sizeof(resolv_path), "%s/resolv.conf", dir);
    write_file(hosts_path, "127.0.0.2 fo.test\n");
    uint16_t dns_port;
    dns_fd = udp_bound(&dns_port);
    char rc_text[64];
    snprintf(rc_text, sizeof(rc_text), "nameserver 127.0.0.1:%u\n", dns_port);
    write_file(resolv_path, rc_text);
    struct sb_dns_cfg dc = {.resolv_conf = resolv_path, .hosts = hosts_path, .try_naptr = true};
    assert_int_equal(sb_dns_init(&dc), 0);

    sb_core_cfg_defaults(&core);
    struct sb_listen *l = sb_arena_zalloc(&core_arena, sizeof(*l));
    uint16_t port;
    close(udp_bound(&port));
    char spec[64];
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
    const char *err = NULL;
    assert_int_equal(sb_listen_parse(sb_str_cstr(spec), l, &core_arena, &err), 0);
    /* a second address, same port: force_send_socket picks between the two */
    struct sb_listen *l2 = sb_arena_zalloc(&core_arena, sizeof(*l2));
    snprintf(spec, sizeof(spec), "udp:127.0.0.2:%u", port);
    assert_int_equal(sb_listen_parse(sb_str_cstr(spec), l2, &core_arena, &err), 0);
    l->next = l2;
    core.listeners = l;
    assert_int_equal(sb_tp_init(&core), 0);
    assert_int_equal(sb_tp_n_sockets(), 2);
    assert_string_equal(sb_tp_socket(0)->ip, "127.0.0.1");
    worker.id = 0;
    worker.loop = sb_loop_new();
    assert_non_null(worker.loop);
    vnow = 1000000;
    sb_loop_set_clock(worker.loop, vclock, NULL);
    sb_worker_self = &worker;
    assert_int_equal(sb_dns_worker_start(&worker), 0);

    struct sb_diag d;
    sb_diag_init(&d);
    /* the script names the sockets: their port goes in for @P@ */
    char text[8192], pnum[8];
    snprintf(pnum, sizeof(pnum), "%u", port);
    size_t tl = 0;
    for (const char *c = cfg_text; *c && tl + 8 < sizeof(text);) {
        if (!strncmp(c, "@P@", 3)) {
            tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s", pnum);
            c += 3;
        } else {
            text[tl++] = *c++;
        }
    }
    text[tl] = '\0';
    int rc = sb_script_load_text("tm_branch.cfg", text, tl, &d, &script);
    if (rc != 0 || d.n_errors) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        fail_msg("script did not load");
    }
    sb_diag_free(&d);
    assert_int_equal(sb_modset_start(sb_script_modset(script)), 0);
    worker.script = script;
    /* the global parameters the layer reads are the script's (tcp_no_new_conn_bflag) */
    sb_rt.cfg = sb_script_core(script);
    sb__tx_send_hook = capture;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sb_tx_worker_exit();
    sb_fwd_worker_exit(&worker);
    sb_dns_worker_exit(&worker);
    sb_modset_stop(sb_script_modset(script));
    worker.script = NULL;
    sb_rt.cfg = NULL;
    sb_script_free(script);
    sb_worker_self = NULL;
    sb_loop_free(worker.loop);
    sb_tp_destroy();
    sb_arena_deinit(&core_arena);
    sb__tx_send_hook = NULL;
    sb_dns_destroy();
    close(dns_fd);
    unlink(hosts_path);
    unlink(resolv_path);
    rmdir(dir);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    n_sent = 0;
    sb_tx_blacklist_clear();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        vnow += 1000;
        sb_loop_run_once(worker.loop, 0);
    }
    assert_int_equal(sb_tx_count(), 0);
    return 0;
}

static void rx(const char *text, uint16_t src_port)
{
    struct sb_rcv r;
    memset(&r, 0, sizeof(r));
    r.sock = sb_tp_socket(0);
    assert_int_equal(sb_addr_set(&r.src, SB_STR("127.0.0.1"), src_port), 0);
    sb_rcv_fill_peer(&r);
    size_t len = strlen(text);
    struct sb_buf *b = sb_buf_new(len);
    memcpy(b->data, text, len);
    b->len = (uint32_t)len;
    sb_receive(&r, b, (uint32_t)len);
    sb_buf_unref(b);
}

static void invite(const char *user, const char *branch)
{
    char t[2048];
    snprintf(t, sizeof(t),
             "INVITE sip:%s@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
             "To: <sip:%s@127.0.0.1>\r\n"
             "Call-ID: call-%s\r\n"
             "CSeq: 1 INVITE\r\n"
             "Contact: <sip:alice@127.0.0.1:%u>\r\n"
             "Content-Length: 0\r\n\r\n",
             user, UAS1, UAC, branch, user, branch, UAC);
    rx(t, UAC);
}

static void ack(const char *user, const char *branch, const char *to_tag)
{
    char t[2048];
    snprintf(t, sizeof(t),
             "ACK sip:%s@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
             "To: <sip:%s@127.0.0.1>%s%s\r\n"
             "Call-ID: call-%s\r\n"
             "CSeq: 1 ACK\r\n"
             "Content-Length: 0\r\n\r\n",
             user, UAS1, UAC, branch, user, to_tag ? ";tag=" : "", to_tag ? to_tag : "", branch);
    rx(t, UAC);
}

/* The UAS's reply to the request in sent[i]. */
static void reply_to(int i, int code, const char *tag, uint16_t from_port)
{
    assert_true(i >= 0 && i < n_sent);
    char out[4096];
    int n = snprintf(out, sizeof(out), "SIP/2.0 %d Whatever\r\n", code);
    const char *p = sent[i].data;
    while (*p && !(p[0] == '\r' && p[1] == '\n')) {
        const char *e = strstr(p, "\r\n");
        size_t ll = (size_t)(e - p);
        if (!strncmp(p, "Via:", 4) || !strncmp(p, "From:", 5) || !strncmp(p, "Call-ID:", 8) ||
            !strncmp(p, "CSeq:", 5))
            n += snprintf(out + n, sizeof(out) - (size_t)n, "%.*s\r\n", (int)ll, p);
        else if (!strncmp(p, "To:", 3))
            n += snprintf(out + n, sizeof(out) - (size_t)n, "%.*s;tag=%s\r\n", (int)ll, p, tag);
        p = e + 2;
    }
    snprintf(out + n, sizeof(out) - (size_t)n, "Content-Length: 0\r\n\r\n");
    rx(out, from_port);
}

static int find(const char *prefix, uint16_t port, int from)
{
    for (int i = from; i < n_sent; i++)
        if (!strncmp(sent[i].data, prefix, strlen(prefix)) && (!port || sent[i].port == port))
            return i;
    return -1;
}

/* ---- the fake name server ------------------------------------------------------------------ */

/* Answer every pending query: an A question gets 127.0.0.1, any other type an empty answer. */
static int dns_answer_pending(void)
{
    int n = 0;
    unsigned char q[512], r[600];
    ssize_t len;
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    while ((len = recvfrom(dns_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl)) > 12) {
        size_t off = 12;
        while (off < (size_t)len && q[off])
            off += q[off] + 1u;
        off += 1;
        if (off + 4 > (size_t)len)
            continue;
        unsigned qtype = (unsigned)(q[off] << 8 | q[off + 1]);
        size_t qend = off + 4;
        memcpy(r, q, qend);
        r[2] = 0x81;
        r[3] = 0x80;
        r[4] = 0, r[5] = 1;                  /* one question */
        r[6] = 0, r[7] = qtype == 1 ? 1 : 0; /* the answer */
        r[8] = r[9] = r[10] = r[11] = 0;
        size_t rl = qend;
        if (qtype == 1) {
            static const unsigned char a[] = {0xc0, 0x0c, 0, 1, 0,   1, 0, 0,
                                              0,    60,   0, 4, 127, 0, 0, 1};
            memcpy(r + rl, a, sizeof(a));
            rl += sizeof(a);
        }
        sendto(dns_fd, r, rl, 0, (struct sockaddr *)&from, fl);
        n++;
        n_queries++;
        fl = sizeof(from);
    }
    return n;
}

/* Run the worker loop, answering queries, until an INVITE goes to <port> (bounded). */
static int wait_invite_to(const char *prefix, uint16_t port)
{
    for (int i = 0; i < 400; i++) {
        int k = find(prefix, port, 0);
        if (k >= 0)
            return k;
        struct pollfd p = {.fd = dns_fd, .events = POLLIN};
        if (poll(&p, 1, 5) == 1)
            dns_answer_pending();
        sb_loop_run_once(worker.loop, 5);
    }
    return -1;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_bavp_per_branch(void **state)
{
    (void)state;
    invite("bavp", "z9hG4bKbv1");
    int b0 = find("INVITE sip:bavp@", UAS1, 0), b1 = find("INVITE sip:two@", UAS2, 0);
    assert_true(b0 >= 0 && b1 >= 0);
    /* provisionals, the second branch first: the onreply route reads each branch's value */
    reply_to(b1, 180, "t2", UAS2);
    reply_to(b0, 180, "t1", UAS1);
    /* a 486 beats a 500: the failure route runs for branch 1 */
    reply_to(b0, 500, "t1", UAS1);
    reply_to(b1, 486, "t2", UAS2);
    int r = find("SIP/2.0 500 ", UAC, 0);
    assert_true(r >= 0);
    assert_non_null(strstr(sent[r].data, "SIP/2.0 500 F=two K=7 N=1 B=1 T=<null> R=1 "
                                         "S=bavp,two\r\n"));
    ack("bavp", "z9hG4bKbv1", NULL);
}

static void test_bavp_other_branch_wins(void **state)
{
    (void)state;
    invite("bavp", "z9hG4bKbv2");
    int b0 = find("INVITE sip:bavp@", UAS1, 0), b1 = find("INVITE sip:two@", UAS2, 0);
    assert_true(b0 >= 0 && b1 >= 0);
    reply_to(b0, 180, "u1", UAS1);
    reply_to(b1, 503, "u2", UAS2);
    reply_to(b0, 404, "u1", UAS1);
    int r = find("SIP/2.0 500 ", UAC, 0);
    assert_true(r >= 0);
    /* branch 0 set nothing in onreply for the 503 branch; only its own 180 was seen */
    assert_non_null(strstr(sent[r].data, "SIP/2.0 500 F=bavp K=7 N=0 B=0 T=<null> R=0 "
                                         "S=bavp,<null>\r\n"));
    ack("bavp", "z9hG4bKbv2", NULL);
}

static void test_bavp_without_branch(void **state)
{
    (void)state;
    invite("nobranch", "z9hG4bKbv3");
    /* the write failed (no branch in the request route): the value reads NULL */
    int r = find("SIP/2.0 403 ", UAC, 0);
    assert_true(r >= 0);
    assert_non_null(strstr(sent[r].data, "SIP/2.0 403 R=<null> C=<null>\r\n"));
    ack("nobranch", "z9hG4bKbv3", NULL);
}

static void test_no_new_conn_marks_branch(void **state)
{
    (void)state;
    invite("bavp", "z9hG4bKnn1");
    int b0 = find("INVITE sip:bavp@", UAS1, 0), b1 = find("INVITE sip:two@", UAS2, 0);
    assert_true(b0 >= 0 && b1 >= 0);
    /* the branch route set the flag on "two" only */
    assert_false(sent[b0].no_new_conn);
    assert_true(sent[b1].no_new_conn);
    reply_to(b0, 486, "n1", UAS1);
    reply_to(b1, 486, "n2", UAS2);
    assert_true(find("SIP/2.0 500 ", UAC, 0) >= 0);
    ack("bavp", "z9hG4bKnn1", NULL);
}

static void test_branch_route_edits_survive_dns(void **state)
{
    (void)state;
    int q0 = n_queries;
    invite("dnsbr", "z9hG4bKdn1");
    /* branch 1 went at once; branch 0 waits for slow.test */
    int o = find("INVITE sip:other@", UAS2, 0);
    assert_true(o >= 0);
    assert_int_equal(find("INVITE ", UAS1, 0), -1);
    assert_non_null(strstr(sent[o].data, "X-Other: yes\r\n"));
    assert_null(strstr(sent[o].data, "X-Dns"));
    assert_non_null(strstr(sent[o].data, "Contact: "));
    assert_false(sent[o].no_new_conn);
    assert_string_equal(sent[o].from_ip, "127.0.0.1");

    int d = wait_invite_to("INVITE ", UAS1);
    assert_true(d > o);
    assert_true(n_queries > q0);
    assert_string_equal(sent[d].ip, "127.0.0.1");
    /* what the branch route did to branch 0 went out with it, and only that */
    assert_true(!strncmp(sent[d].data, "INVITE sip:edited@127.0.0.1:5080 SIP/2.0\r\n", 42));
    assert_non_null(strstr(sent[d].data, "X-Dns: yes\r\n"));
    assert_null(strstr(sent[d].data, "X-Other"));
    assert_null(strstr(sent[d].data, "Contact: "));
    assert_true(sent[d].no_new_conn);
    /* the socket its branch route forced, kept while the name resolved */
    assert_string_equal(sent[d].from_ip, "127.0.0.2");
    assert_non_null(strstr(sent[d].data, "Via: SIP/2.0/UDP 127.0.0.2:"));
    /* and branch 1's request is unchanged in retransmissions and later branches */
    reply_to(o, 486, "d2", UAS2);
    reply_to(d, 486, "d1", UAS1);
    assert_true(find("SIP/2.0 486 ", UAC, 0) >= 0);
    ack("dnsbr", "z9hG4bKdn1", "d2");
}

/* The Via we put on sent[i] names <ip>. */
static bool via_from(int i, const char *ip)
{
    char want[64];
    snprintf(want, sizeof(want), "\r\nVia: SIP/2.0/UDP %s:", ip);
    return strstr(sent[i].data, want) != NULL;
}

static void test_branch_socket_per_branch(void **state)
{
    (void)state;
    invite("sockbr", "z9hG4bKsk1");
    int b0 = find("INVITE sip:sockbr@", UAS1, 0), b1 = find("INVITE sip:two@", UAS2, 0);
    assert_true(b0 >= 0 && b1 >= 0);
    /* branch 0 from the socket its route forced; branch 1, built after it, has none of its own:
     * the receiving one */
    assert_string_equal(sent[b0].from_ip, "127.0.0.2");
    assert_true(via_from(b0, "127.0.0.2"));
    assert_string_equal(sent[b1].from_ip, "127.0.0.1");
    assert_true(via_from(b1, "127.0.0.1"));
    /* Timer A: each retransmission leaves from its branch's socket */
    int before = n_sent;
    vnow += 600;
    sb_loop_run_once(worker.loop, 0);
    int r0 = find("INVITE sip:sockbr@", UAS1, before), r1 = find("INVITE sip:two@", UAS2, before);
    assert_true(r0 >= 0 && r1 >= 0);
    assert_string_equal(sent[r0].from_ip, "127.0.0.2");
    assert_string_equal(sent[r1].from_ip, "127.0.0.1");
    /* a CANCEL goes where its INVITE went, from the same socket */
    reply_to(b0, 180, "s1", UAS1);
    reply_to(b1, 200, "s2", UAS2);
    int c0 = find("CANCEL sip:sockbr@", UAS1, 0);
    assert_true(c0 >= 0);
    assert_string_equal(sent[c0].from_ip, "127.0.0.2");
    assert_true(via_from(c0, "127.0.0.2"));
    reply_to(b0, 487, "s1", UAS1);
    assert_true(find("SIP/2.0 200 ", UAC, 0) >= 0);
}

static void test_branch_socket_over_tx_choice(void **state)
{
    (void)state;
    invite("socktx", "z9hG4bKsk2");
    int b0 = find("INVITE sip:socktx@", UAS1, 0), b1 = find("INVITE sip:three@", UAS2, 0),
        b2 = find("INVITE sip:four@", UAS3, 0);
    assert_true(b0 >= 0 && b1 >= 0 && b2 >= 0);
    /* the request route's socket for branch 0; branch 1's route chose the other one; branch 2
     * (appended before the request route chose) falls back to the transaction's */
    assert_string_equal(sent[b0].from_ip, "127.0.0.2");
    assert_true(via_from(b0, "127.0.0.2"));
    assert_string_equal(sent[b1].from_ip, "127.0.0.1");
    assert_true(via_from(b1, "127.0.0.1"));
    assert_string_equal(sent[b2].from_ip, "127.0.0.2");
    assert_true(via_from(b2, "127.0.0.2"));
    reply_to(b0, 486, "x1", UAS1);
    reply_to(b1, 486, "x2", UAS2);
    reply_to(b2, 486, "x3", UAS3);
    assert_true(find("SIP/2.0 486 ", UAC, 0) >= 0);
    ack("socktx", "z9hG4bKsk2", "x1");
}

static void test_cancel_reason_from_script(void **state)
{
    (void)state;
    invite("reason", "z9hG4bKcr1");
    int b0 = find("INVITE sip:reason@", UAS1, 0), b1 = find("INVITE sip:two@", UAS2, 0);
    assert_true(b0 >= 0 && b1 >= 0);
    reply_to(b0, 180, "r1", UAS1);
    reply_to(b1, 200, "r2", UAS2);
    /* the 2xx cancels branch 0 with the script's Reason instead of "completed elsewhere" */
    int c = find("CANCEL sip:reason@", UAS1, 0);
    assert_true(c >= 0);
    assert_non_null(strstr(sent[c].data, "\r\nReason: SIP;cause=480;text=\"Gone\"\r\n"));
    assert_null(strstr(sent[c].data, "elsewhere"));
    reply_to(b0, 487, "r1", UAS1);
}

/* A CANCEL whose INVITE is not here reaches the script; t_add_cancel_reason() there must not make
 * it a transaction of its own: t_relay() relays it hop by hop, once, as it would without. */
static void test_cancel_reason_stray_cancel(void **state)
{
    (void)state;
    rx("CANCEL sip:reason@127.0.0.1:5080 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKsc1\r\n"
       "Max-Forwards: 70\r\n"
       "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
       "To: <sip:reason@127.0.0.1>\r\n"
       "Call-ID: call-stray-cancel\r\n"
       "CSeq: 1 CANCEL\r\n"
       "Content-Length: 0\r\n\r\n",
       UAC);
    /* relayed statelessly (that send is not captured here): no transaction sent it, to any
     * branch, and nothing was answered upstream */
    assert_int_equal(sb_tx_count(), 0);
    assert_int_equal(find("CANCEL ", 0, 0), -1);
    assert_int_equal(find("SIP/2.0 ", UAC, 0), -1);
}

static void test_relay_outbound_proxy(void **state)
{
    (void)state;
    invite("obp", "z9hG4bKob1");
    /* both branches go to the proxy, each with its own Request-URI */
    int b0 = find("INVITE sip:obp@127.0.0.1:5080 ", UAS3, 0);
    int b1 = find("INVITE sip:two@127.0.0.1:5081 ", UAS3, 0);
    assert_true(b0 >= 0 && b1 >= 0);
    assert_int_equal(find("INVITE ", UAS1, 0), -1);
    assert_int_equal(find("INVITE ", UAS2, 0), -1);
    reply_to(b0, 486, "o1", UAS3);
    reply_to(b1, 486, "o2", UAS3);
    assert_true(find("SIP/2.0 486 ", UAC, 0) >= 0);
    ack("obp", "z9hG4bKob1", "o1");
}

static void test_new_request(void **state)
{
    (void)state;
    invite("newreq", "z9hG4bKnr1");
    assert_true(find("SIP/2.0 202 Sent", UAC, 0) >= 0);
    int m = find("MESSAGE sip:x@127.0.0.1:5082 SIP/2.0\r\n", UAS3, 0);
    assert_true(m >= 0);
    assert_non_null(strstr(sent[m].data, "\r\nFrom: <sip:me@127.0.0.1>;tag="));
    assert_non_null(strstr(sent[m].data, "\r\nTo: <sip:x@127.0.0.1>\r\n"));
    assert_non_null(strstr(sent[m].data, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(sent[m].data, "\r\nCSeq: 1 MESSAGE\r\n"));
    const char *body = strstr(sent[m].data, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(body + 4, "hi there");
    /* its reply ends it here: nothing goes upstream */
    int before = n_sent;
    reply_to(m, 200, "m1", UAS3);
    assert_int_equal(n_sent, before);
    ack("newreq", "z9hG4bKnr1", NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_bavp_per_branch),
        T(test_bavp_other_branch_wins),
        T(test_bavp_without_branch),
        T(test_no_new_conn_marks_branch),
        T(test_branch_route_edits_survive_dns),
        T(test_branch_socket_per_branch),
        T(test_branch_socket_over_tx_choice),
        T(test_cancel_reason_from_script),
        T(test_cancel_reason_stray_cancel),
        T(test_relay_outbound_proxy),
        T(test_new_request),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
