/* SPDX-License-Identifier: BSD-2-Clause */
/* Transaction layer driven in-process: requests and replies enter through sb_receive() as the
 * transport would hand them over, everything the layer sends is captured through the send seam,
 * and a virtual clock fires every RFC 3261 timer without sleeping. UAC at 127.0.0.1:5070, UASes
 * at 127.0.0.1:5080 and :5081. */
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

static struct sb_core_cfg core;
static char hosts_path[64] = "/tmp/test_tx_hosts.XXXXXX";
static struct sb_arena core_arena;
static struct sb_worker worker;
static struct sb_script *script;
static uint64_t vnow;

struct sent {
    char data[4096];
    size_t len;
    uint16_t port;
    char ip[SB_IP_STRLEN];
    uint64_t at;
};
static struct sent sent[128];
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
    s->at = vnow;
    return 0;
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static const char *cfg_text =
    "loadmodule \"tm.so\"\n"
    "loadmodule \"sl.so\"\n"
    "loadmodule \"signaling.so\"\n"
    "loadmodule \"sipmsgops.so\"\n"
    "modparam(\"tm\", \"fr_timeout\", 5)\n"
    "modparam(\"tm\", \"fr_inv_timeout\", 10)\n"
    "route {\n"
    "    if (is_method(\"MESSAGE\")) { $T_fr_timeout = 20; }\n"
    "    $avp(keep) = \"Try Later\";\n"
    "    if ($rU == \"serial\") { t_on_failure(\"next\"); }\n"
    "    if ($rU == \"timeout\") { t_on_failure(\"tmo\"); }\n"
    "    if ($rU == \"fork\") { append_branch(\"sip:fork2@127.0.0.1:5081\"); }\n"
    "    if ($rU == \"brfork\") {\n"
    "        t_on_branch(\"br\");\n"
    "        append_branch(\"sip:two@127.0.0.1:5081\");\n"
    "        append_branch(\"sip:three@127.0.0.1:5081\");\n"
    "        append_branch(\"sip:drop@127.0.0.1:5081\");\n"
    "    }\n"
    "    if ($rU == \"sendreply\") { t_newtran(); send_reply(486, \"Busy\"); exit; }\n"
    "    if ($rU == \"byq\") {\n"
    "        append_branch(\"sip:c@127.0.0.1:5081\", \"0.1\");\n"
    "        append_branch(\"sip:b@127.0.0.1:5081\", \"0.5\");\n"
    "        serialize_branches(1);\n"
    "        t_on_failure(\"nextq\");\n"
    "    }\n"
    "    if ($rU == \"newtran\") { t_newtran(); exit; }\n"
    "    if ($rU == \"local\") { t_reply(403, \"Not Here\"); exit; }\n"
    "    if ($rU == \"nofo\") { t_relay(\"no-dns-failover\"); exit; }\n"
    "    if ($rU == \"repl\") { t_replicate(\"sip:127.0.0.1:5081\"); }\n"
    "    t_relay();\n"
    "}\n"
    "local_route {\n"
    "    append_hf(\"X-Local: yes\\r\\n\");\n"
    "    if ($rU == \"dropme\") { drop; }\n"
    "}\n"
    "failure_route[next] {\n"
    "    if (t_check_status(\"486\")) { $ru = \"sip:second@127.0.0.1:5081\"; t_relay(); }\n"
    "}\n"
    "branch_route[br] {\n"
    "    if ($rU == \"drop\") { drop; }\n"
    "    if ($rU == \"two\") { append_hf(\"X-Branch: two\\r\\n\"); }\n"
    "}\n"
    "failure_route[nextq] {\n"
    "    if (next_branches()) { t_on_failure(\"nextq\"); t_relay(); }\n"
    "}\n"
    "failure_route[tmo] {\n"
    "    if (t_check_status(\"408\") && $T_reply_code == 408) { t_reply(480, \"$avp(keep)\"); }\n"
    "}\n";

static int group_setup(void **state)
{
    (void)state;
    sb_arena_init(&core_arena, NULL, 0, 0);
    /* fo.test: two targets for DNS failover, from a hosts file (answered without the network) */
    int hfd = mkstemp(hosts_path);
    assert_true(hfd >= 0);
    FILE *hf = fdopen(hfd, "w");
    assert_non_null(hf);
    fprintf(hf, "127.0.0.2 fo.test\n127.0.0.3 fo.test\n");
    fclose(hf);
    struct sb_dns_cfg dc = {.hosts = hosts_path, .try_naptr = true};
    assert_int_equal(sb_dns_init(&dc), 0);
    sb_core_cfg_defaults(&core);
    struct sb_listen *l = sb_arena_zalloc(&core_arena, sizeof(*l));
    char spec[64];
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", free_port());
    const char *err = NULL;
    assert_int_equal(sb_listen_parse(sb_str_cstr(spec), l, &core_arena, &err), 0);
    core.listeners = l;
    assert_int_equal(sb_tp_init(&core), 0);
    worker.id = 0;
    sb_rt.cfg = &core;
    worker.loop = sb_loop_new();
    assert_non_null(worker.loop);
    vnow = 1000000;
    sb_loop_set_clock(worker.loop, vclock, NULL);
    sb_worker_self = &worker;

    struct sb_diag d;
    sb_diag_init(&d);
    int rc = sb_script_load_text("tx.cfg", cfg_text, strlen(cfg_text), &d, &script);
    if (rc != 0 || d.n_errors) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        fail_msg("script did not load");
    }
    sb_diag_free(&d);
    assert_int_equal(sb_modset_start(sb_script_modset(script)), 0);
    worker.script = script;
    sb__tx_send_hook = capture;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sb_tx_worker_exit();
    sb_fwd_worker_exit(&worker);
    sb_modset_stop(sb_script_modset(script));
    worker.script = NULL;
    sb_script_free(script);
    sb_worker_self = NULL;
    sb_loop_free(worker.loop);
    sb_tp_destroy();
    sb_arena_deinit(&core_arena);
    sb__tx_send_hook = NULL;
    sb_dns_destroy();
    unlink(hosts_path);
    sb_rt.cfg = NULL;
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
    /* let every transaction of the test end */
    for (int i = 0; i < 200; i++) {
        vnow += 1000;
        sb_loop_run_once(worker.loop, 0);
    }
    assert_int_equal(sb_tx_count(), 0);
    return 0;
}

static void advance(uint64_t ms)
{
    for (uint64_t t = 0; t < ms; t += 10) {
        vnow += 10;
        sb_loop_run_once(worker.loop, 0);
    }
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

static void invite(const char *user, const char *branch, const char *method)
{
    char t[2048];
    snprintf(t, sizeof(t),
             "%s sip:%s@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
             "To: <sip:%s@127.0.0.1>\r\n"
             "Call-ID: call-%s\r\n"
             "CSeq: 1 %s\r\n"
             "Contact: <sip:alice@127.0.0.1:%u>\r\n"
             "Content-Length: 0\r\n\r\n",
             method, user, UAS1, UAC, branch, user, branch, method, UAC);
    rx(t, UAC);
}

/* A request from the UAC in the same transaction as invite(): CANCEL, or the ACK of a non-2xx. */
static void uac_hop(const char *user, const char *branch, const char *method, const char *to_tag)
{
    char t[2048];
    snprintf(t, sizeof(t),
             "%s sip:%s@127.0.0.1:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
             "To: <sip:%s@127.0.0.1>%s%s\r\n"
             "Call-ID: call-%s\r\n"
             "CSeq: 1 %s\r\n"
             "Content-Length: 0\r\n\r\n",
             method, user, UAS1, UAC, branch, user, to_tag ? ";tag=" : "", to_tag ? to_tag : "",
             branch, method);
    rx(t, UAC);
}

/* The UAS's reply to the request in sent[i]: its Vias, From, To (+tag), Call-ID, CSeq. */
static void reply_to(int i, int code, const char *tag, uint16_t from_port)
{
    assert_true(i < n_sent);
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
            n += snprintf(out + n, sizeof(out) - (size_t)n, "%.*s%s%s\r\n", (int)ll, p,
                          tag && code > 100 ? ";tag=" : "", tag && code > 100 ? tag : "");
        p = e + 2;
    }
    if (code == 401)
        n += snprintf(out + n, sizeof(out) - (size_t)n,
                      "WWW-Authenticate: Digest realm=\"r%u\", nonce=\"n\"\r\n", from_port);
    snprintf(out + n, sizeof(out) - (size_t)n, "Content-Length: 0\r\n\r\n");
    rx(out, from_port);
}

static bool starts(int i, const char *prefix)
{
    return i < n_sent && strncmp(sent[i].data, prefix, strlen(prefix)) == 0;
}

static int count_starting(const char *prefix, uint16_t port)
{
    int n = 0;
    for (int i = 0; i < n_sent; i++)
        if (starts(i, prefix) && (!port || sent[i].port == port))
            n++;
    return n;
}

static int find(const char *prefix, uint16_t port, int from)
{
    for (int i = from; i < n_sent; i++)
        if (starts(i, prefix) && (!port || sent[i].port == port))
            return i;
    return -1;
}

/* the value of the branch parameter of the top Via of sent[i] */
static void top_branch(int i, char *out, size_t cap)
{
    const char *v = strstr(sent[i].data, "\r\nVia: ");
    assert_non_null(v);
    const char *b = strstr(v, "branch=");
    assert_non_null(b);
    b += 7;
    size_t n = strcspn(b, ";,\r\n ");
    assert_true(n < cap);
    memcpy(out, b, n);
    out[n] = '\0';
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_invite_relayed_200(void **state)
{
    (void)state;
    invite("bob", "z9hG4bKc1", "INVITE");
    /* RFC3261-16.2: 100 Trying at once; the INVITE downstream with our Via on top */
    assert_int_equal(n_sent, 2);
    assert_true(starts(0, "SIP/2.0 100 "));
    assert_int_equal(sent[0].port, UAC);
    assert_true(starts(1, "INVITE sip:bob@127.0.0.1:5080 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:"));
    assert_int_equal(sent[1].port, UAS1);
    assert_non_null(strstr(sent[1].data, "branch=z9hG4bKc1\r\n"));
    assert_non_null(strstr(sent[1].data, "Max-Forwards: 69\r\n"));
    reply_to(1, 180, "u1", UAS1);
    assert_int_equal(n_sent, 3);
    assert_true(starts(2, "SIP/2.0 180 "));
    assert_int_equal(sent[2].port, UAC);
    /* our Via is gone from the relayed reply */
    assert_null(strstr(sent[2].data, "sb"));
    reply_to(1, 200, "u1", UAS1);
    assert_int_equal(n_sent, 4);
    assert_true(starts(3, "SIP/2.0 200 "));
    /* a retransmitted 2xx still goes upstream (RFC3261-16.7 step 5) */
    reply_to(1, 200, "u1", UAS1);
    assert_int_equal(count_starting("SIP/2.0 200 ", UAC), 2);
    /* RFC 6026: a retransmitted INVITE after the 2xx is absorbed, the 2xx is not ours to send */
    int before = n_sent;
    invite("bob", "z9hG4bKc1", "INVITE");
    assert_int_equal(n_sent, before);
    /* no retransmission of the INVITE after a reply, whatever the time */
    advance(3000);
    assert_int_equal(count_starting("INVITE ", UAS1), 1);
}

static void test_retransmission_absorbed(void **state)
{
    (void)state;
    invite("bob", "z9hG4bKc2", "INVITE");
    assert_int_equal(n_sent, 2);
    invite("bob", "z9hG4bKc2", "INVITE");
    /* the 100 again, no second INVITE downstream */
    assert_int_equal(n_sent, 3);
    assert_true(starts(2, "SIP/2.0 100 "));
    reply_to(1, 183, "u2", UAS1);
    invite("bob", "z9hG4bKc2", "INVITE");
    assert_int_equal(count_starting("SIP/2.0 183 ", UAC), 2);
    assert_int_equal(count_starting("INVITE ", 0), 1);
    reply_to(1, 486, "u2", UAS1);
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 1);
    /* the final again for a retransmitted INVITE; the ACK ends it */
    invite("bob", "z9hG4bKc2", "INVITE");
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 2);
    uac_hop("bob", "z9hG4bKc2", "ACK", "u2");
    int before = n_sent;
    advance(5000);
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 2);
    assert_int_equal(n_sent, before);
}

static void test_non2xx_acked_hop_by_hop(void **state)
{
    (void)state;
    invite("bob", "z9hG4bKc3", "INVITE");
    char br[64];
    top_branch(1, br, sizeof(br));
    reply_to(1, 486, "u3", UAS1);
    /* RFC3261-17.1.1.3: ACK to the UAS, same branch, To with the reply's tag */
    int a = find("ACK ", UAS1, 0);
    assert_true(a > 0);
    assert_true(starts(a, "ACK sip:bob@127.0.0.1:5080 SIP/2.0\r\n"));
    char abr[64];
    top_branch(a, abr, sizeof(abr));
    assert_string_equal(abr, br);
    assert_non_null(strstr(sent[a].data, "To: <sip:bob@127.0.0.1>;tag=u3\r\n"));
    assert_non_null(strstr(sent[a].data, "CSeq: 1 ACK\r\n"));
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 1);
    /* a retransmitted 486 is ACKed again and not relayed again */
    reply_to(1, 486, "u3", UAS1);
    assert_int_equal(count_starting("ACK ", UAS1), 2);
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 1);
    /* Timer G: the 486 again over UDP at T1, 2*T1 ... until the ACK */
    advance(510);
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 2);
    advance(1000);
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 3);
    uac_hop("bob", "z9hG4bKc3", "ACK", "u3");
    advance(8000);
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 3);
}

static void test_timer_a_and_fr_timeout(void **state)
{
    (void)state;
    uint64_t t0 = vnow;
    invite("bob", "z9hG4bKc4", "INVITE");
    advance(5200);
    /* RFC3261-17.1.1.2: Timer A from T1, doubling: 0, 500, 1500, 3500 */
    int idx[8], n = 0;
    for (int i = find("INVITE ", UAS1, 0); i >= 0 && n < 8; i = find("INVITE ", UAS1, i + 1))
        idx[n++] = i;
    assert_int_equal(n, 4);
    assert_true(sent[idx[0]].at == t0);
    assert_true(sent[idx[1]].at - t0 >= 500 && sent[idx[1]].at - t0 < 520);
    assert_true(sent[idx[2]].at - t0 >= 1500 && sent[idx[2]].at - t0 < 1540);
    assert_true(sent[idx[3]].at - t0 >= 3500 && sent[idx[3]].at - t0 < 3560);
    /* fr_timeout (5 s) without any reply: 408 upstream, no CANCEL (RFC3261-9.1) */
    int r = find("SIP/2.0 408 ", UAC, 0);
    assert_true(r > 0);
    assert_true(sent[r].at - t0 >= 5000 && sent[r].at - t0 < 5100);
    assert_int_equal(count_starting("CANCEL ", 0), 0);
    uac_hop("bob", "z9hG4bKc4", "ACK", NULL);
}

static void test_timer_e_capped_at_t2(void **state)
{
    (void)state;
    uint64_t t0 = vnow;
    invite("bob", "z9hG4bKc5", "MESSAGE");
    /* no 100 for a non-INVITE */
    assert_false(starts(0, "SIP/2.0 100"));
    advance(20500);
    uint64_t at[16];
    int n = 0;
    for (int i = find("MESSAGE ", UAS1, 0); i >= 0 && n < 16; i = find("MESSAGE ", UAS1, i + 1))
        at[n++] = sent[i].at - t0;
    /* RFC3261-17.1.2.2: 0, .5, 1.5, 3.5, then every T2 (4 s): 7.5, 11.5, 15.5, 19.5 */
    assert_int_equal(n, 8);
    assert_true(at[4] >= 7500 && at[4] < 7600);
    assert_true(at[7] - at[6] >= 3990 && at[7] - at[6] <= 4020);
    /* $T_fr_timeout = 20 in the script: 408 at 20 s, not at the default 5 s */
    int r = find("SIP/2.0 408 ", UAC, 0);
    assert_true(r > 0);
    assert_true(sent[r].at - t0 >= 20000);
}

static void test_timer_c_cancels(void **state)
{
    (void)state;
    uint64_t t0 = vnow;
    invite("bob", "z9hG4bKc6", "INVITE");
    char br[64];
    top_branch(1, br, sizeof(br));
    reply_to(1, 180, "u6", UAS1);
    advance(10200);
    /* fr_inv_timeout (10 s) after the provisional: CANCEL downstream, 408 upstream */
    int c = find("CANCEL ", UAS1, 0);
    assert_true(c > 0);
    assert_true(sent[c].at - t0 >= 10000);
    char cbr[64];
    top_branch(c, cbr, sizeof(cbr));
    assert_string_equal(cbr, br);
    assert_non_null(strstr(sent[c].data, "CSeq: 1 CANCEL\r\n"));
    assert_true(find("SIP/2.0 408 ", UAC, 0) > 0);
    /* the UAS's 200 to the CANCEL stops its retransmissions; its 487 is ACKed */
    int cancel_idx = c;
    reply_to(cancel_idx, 200, "u6", UAS1);
    reply_to(1, 487, "u6", UAS1);
    assert_true(find("ACK ", UAS1, 0) > 0);
    assert_int_equal(count_starting("SIP/2.0 487 ", UAC), 0);
    int n_cancel = count_starting("CANCEL ", UAS1);
    advance(3000);
    assert_int_equal(count_starting("CANCEL ", UAS1), n_cancel);
    uac_hop("bob", "z9hG4bKc6", "ACK", NULL);
}

static void test_cancel_from_uac(void **state)
{
    (void)state;
    invite("bob", "z9hG4bKc7", "INVITE");
    char br[64];
    top_branch(1, br, sizeof(br));
    /* no provisional yet: the CANCEL is answered but waits for one downstream */
    uac_hop("bob", "z9hG4bKc7", "CANCEL", NULL);
    int ok = find("SIP/2.0 200 ", UAC, 0);
    assert_true(ok > 0);
    assert_non_null(strstr(sent[ok].data, "CSeq: 1 CANCEL\r\n"));
    assert_int_equal(count_starting("CANCEL ", UAS1), 0);
    reply_to(1, 180, "u7", UAS1);
    int c = find("CANCEL ", UAS1, 0);
    assert_true(c > 0);
    char cbr[64];
    top_branch(c, cbr, sizeof(cbr));
    assert_string_equal(cbr, br);
    reply_to(c, 200, "u7", UAS1);
    reply_to(1, 487, "u7", UAS1);
    /* RFC3261-16.10: the 487 goes upstream */
    int r = find("SIP/2.0 487 ", UAC, 0);
    assert_true(r > 0);
    assert_non_null(strstr(sent[r].data, "CSeq: 1 INVITE\r\n"));
    uac_hop("bob", "z9hG4bKc7", "ACK", "u7");
}

static void test_fork_best_response(void **state)
{
    (void)state;
    invite("fork", "z9hG4bKc8", "INVITE");
    int b1 = find("INVITE ", UAS1, 0), b2 = find("INVITE ", UAS2, 0);
    assert_true(b1 > 0 && b2 > 0);
    char x[64], y[64];
    top_branch(b1, x, sizeof(x));
    top_branch(b2, y, sizeof(y));
    assert_string_not_equal(x, y);
    reply_to(b2, 503, "f2", UAS2);
    /* one branch still pending: nothing final upstream */
    assert_int_equal(find("SIP/2.0 5", UAC, 0), -1);
    reply_to(b1, 404, "f1", UAS1);
    /* RFC3261-16.7 step 6: the lowest class wins */
    assert_true(find("SIP/2.0 404 ", UAC, 0) > 0);
    assert_int_equal(find("SIP/2.0 503 ", UAC, 0), -1);
    uac_hop("fork", "z9hG4bKc8", "ACK", "f1");
}

static void test_fork_200_cancels_other(void **state)
{
    (void)state;
    invite("fork", "z9hG4bKc9", "INVITE");
    int b1 = find("INVITE ", UAS1, 0), b2 = find("INVITE ", UAS2, 0);
    reply_to(b2, 180, "g2", UAS2);
    reply_to(b1, 200, "g1", UAS1);
    assert_true(find("SIP/2.0 200 ", UAC, 0) > 0);
    /* the ringing branch is cancelled with the Reason of RFC 3326 */
    int c = find("CANCEL ", UAS2, 0);
    assert_true(c > 0);
    assert_non_null(
        strstr(sent[c].data, "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n"));
    reply_to(b2, 487, "g2", UAS2);
    assert_int_equal(find("SIP/2.0 487 ", UAC, 0), -1);
}

static void test_fork_503_becomes_500(void **state)
{
    (void)state;
    invite("fork", "z9hG4bKd1", "INVITE");
    int b1 = find("INVITE ", UAS1, 0), b2 = find("INVITE ", UAS2, 0);
    reply_to(b1, 503, "h1", UAS1);
    reply_to(b2, 603, "h2", UAS2);
    /* 6xx beats the 5xx */
    assert_true(find("SIP/2.0 603 ", UAC, 0) > 0);
    uac_hop("fork", "z9hG4bKd1", "ACK", "h2");
    n_sent = 0;
    invite("fork", "z9hG4bKd2", "INVITE");
    b1 = find("INVITE ", UAS1, 0);
    b2 = find("INVITE ", UAS2, 0);
    reply_to(b1, 503, "h1", UAS1);
    reply_to(b2, 503, "h2", UAS2);
    assert_true(find("SIP/2.0 500 ", UAC, 0) > 0);
    uac_hop("fork", "z9hG4bKd2", "ACK", NULL);
}

static void test_fork_401_merged(void **state)
{
    (void)state;
    invite("fork", "z9hG4bKd3", "INVITE");
    int b1 = find("INVITE ", UAS1, 0), b2 = find("INVITE ", UAS2, 0);
    reply_to(b1, 401, "k1", UAS1);
    reply_to(b2, 401, "k2", UAS2);
    int r = find("SIP/2.0 401 ", UAC, 0);
    assert_true(r > 0);
    /* RFC3261-16.7 step 7: both challenges */
    assert_non_null(strstr(sent[r].data, "realm=\"r5080\""));
    assert_non_null(strstr(sent[r].data, "realm=\"r5081\""));
    uac_hop("fork", "z9hG4bKd3", "ACK", "k1");
}

static void test_branch_route(void **state)
{
    (void)state;
    invite("brfork", "z9hG4bKd7", "INVITE");
    /* three destinations, one dropped by the branch route */
    int b1 = find("INVITE sip:brfork@", UAS1, 0), b2 = find("INVITE sip:two@", UAS2, 0);
    assert_true(b1 > 0 && b2 > 0);
    assert_int_equal(find("INVITE sip:drop@", 0, 0), -1);
    int b3 = find("INVITE sip:three@", UAS2, 0);
    assert_true(b3 > b2);
    assert_int_equal(count_starting("INVITE ", 0), 3);
    /* what the branch route added went to its branch only, not to the next one */
    assert_non_null(strstr(sent[b2].data, "X-Branch: two\r\n"));
    assert_null(strstr(sent[b1].data, "X-Branch"));
    assert_null(strstr(sent[b3].data, "X-Branch"));
    reply_to(b1, 486, "q1", UAS1);
    reply_to(b2, 480, "q2", UAS2);
    reply_to(b3, 480, "q3", UAS2);
    assert_true(find("SIP/2.0 480 ", UAC, 0) > 0 || find("SIP/2.0 486 ", UAC, 0) > 0);
    uac_hop("brfork", "z9hG4bKd7", "ACK", "q1");
}

static void test_failure_route_serial(void **state)
{
    (void)state;
    invite("serial", "z9hG4bKd4", "INVITE");
    int b1 = find("INVITE ", UAS1, 0);
    reply_to(b1, 486, "s1", UAS1);
    /* the 486 is ACKed downstream, not relayed: the failure route sent a new branch */
    assert_true(find("ACK ", UAS1, 0) > 0);
    assert_int_equal(find("SIP/2.0 486 ", UAC, 0), -1);
    int b2 = find("INVITE sip:second@127.0.0.1:5081 ", UAS2, 0);
    assert_true(b2 > 0);
    char x[64], y[64];
    top_branch(b1, x, sizeof(x));
    top_branch(b2, y, sizeof(y));
    assert_string_not_equal(x, y);
    reply_to(b2, 200, "s2", UAS2);
    assert_true(find("SIP/2.0 200 ", UAC, 0) > 0);
}

static void test_serial_forking_by_q(void **state)
{
    (void)state;
    invite("byq", "z9hG4bKe1", "INVITE");
    /* q 1.0 ($ru) first, alone */
    int a = find("INVITE sip:byq@", UAS1, 0);
    assert_true(a > 0);
    assert_int_equal(count_starting("INVITE ", 0), 1);
    reply_to(a, 486, "y1", UAS1);
    int b = find("INVITE sip:b@", UAS2, 0);
    assert_true(b > a);
    assert_int_equal(count_starting("INVITE ", 0), 2);
    reply_to(b, 480, "y2", UAS2);
    int c = find("INVITE sip:c@", UAS2, 0);
    assert_true(c > b);
    reply_to(c, 603, "y3", UAS2);
    /* nothing left: the best of the three goes up (6xx first) */
    assert_true(find("SIP/2.0 603 ", UAC, 0) > 0);
    assert_int_equal(count_starting("SIP/2.0 4", UAC), 0);
    uac_hop("byq", "z9hG4bKe1", "ACK", "y3");
}

static void test_failure_route_on_timeout(void **state)
{
    (void)state;
    invite("timeout", "z9hG4bKd5", "INVITE");
    advance(5100);
    /* the failure route saw $T_reply_code 408 and replied 480 itself */
    int r = find("SIP/2.0 480 Try Later", UAC, 0);
    assert_true(r > 0);
    assert_int_equal(find("SIP/2.0 408 ", UAC, 0), -1);
    uac_hop("timeout", "z9hG4bKd5", "ACK", NULL);
}

static void test_failure_route_after_reload(void **state)
{
    (void)state;
    invite("timeout", "z9hG4bKe2", "INVITE");
    /* reload_routes while the branch waits: another route comes first in the new script, so the
     * armed route is found again by its name */
    char text[4096];
    snprintf(text, sizeof(text), "%s",
             "loadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"signaling.so\"\n"
             "loadmodule \"sipmsgops.so\"\n"
             "route { t_relay(); }\n"
             "failure_route[aaa] { t_reply(500, \"Wrong Route\"); }\n"
             "failure_route[tmo] { t_reply(480, \"Reloaded\"); }\n");
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s2 = NULL;
    int rc = sb_script_load_routes_text("reload.cfg", text, strlen(text), script, &d, &s2);
    if (rc != 0 || d.n_errors)
        sb_diag_print(&d, stderr);
    sb_diag_free(&d);
    assert_int_equal(rc, 0);
    worker.script = s2;
    advance(5100);
    worker.script = script;
    sb_script_free(s2);
    assert_true(find("SIP/2.0 480 Reloaded", UAC, 0) > 0);
    uac_hop("timeout", "z9hG4bKe2", "ACK", NULL);
}

static void test_local_reply_and_stats(void **state)
{
    (void)state;
    struct sb_tx_stats a, b;
    sb_tx_stats(&a);
    invite("local", "z9hG4bKd6", "INVITE");
    /* t_reply before t_relay: the 100 then the 403; nothing downstream */
    assert_true(find("SIP/2.0 403 Not Here", UAC, 0) >= 0);
    assert_int_equal(count_starting("INVITE ", 0), 0);
    uac_hop("local", "z9hG4bKd6", "ACK", NULL);
    sb_tx_stats(&b);
    assert_int_equal(b.uas_transactions - a.uas_transactions, 1);
    assert_int_equal(b.replies_4xx - a.replies_4xx, 1);
    assert_true(b.local_replies - a.local_replies >= 1);
}

static void test_unfinished_transaction_dropped(void **state)
{
    (void)state;
    unsigned before = sb_tx_count();
    invite("newtran", "z9hG4bKd8", "INVITE");
    assert_true(starts(0, "SIP/2.0 100 "));
    assert_int_equal(sb_tx_count(), before + 1);
    /* a retransmission is absorbed by it meanwhile */
    invite("newtran", "z9hG4bKd8", "INVITE");
    assert_int_equal(count_starting("SIP/2.0 100 ", UAC), 2);
    advance(21000);
    assert_int_equal(sb_tx_count(), before);
}

static void test_send_reply_is_stateful(void **state)
{
    (void)state;
    invite("sendreply", "z9hG4bKd9", "INVITE");
    int r = find("SIP/2.0 486 Busy", UAC, 0);
    assert_true(r > 0);
    /* the transaction's to-tag, not the stateless one */
    assert_non_null(strstr(sent[r].data, ";tag=sbtm"));
    /* kept by the transaction: a retransmitted INVITE gets it again without the script */
    invite("sendreply", "z9hG4bKd9", "INVITE");
    assert_int_equal(count_starting("SIP/2.0 486 ", UAC), 2);
    assert_string_equal(sent[n_sent - 1].data, sent[r].data);
    uac_hop("sendreply", "z9hG4bKd9", "ACK", NULL);
}

static int uac_code;
static void uac_done(void *arg, int code, struct sb_msg *reply)
{
    (void)arg;
    (void)reply;
    uac_code = code;
}

static void test_local_uac(void **state)
{
    (void)state;
    uac_code = 0;
    assert_int_equal(sb_tx_uac_request(SB_STR("OPTIONS"), SB_STR("sip:ping@127.0.0.1:5080"),
                                       SB_STR("<sip:sb@127.0.0.1>"), SB_STR("<sip:ping@127.0.0.1>"),
                                       SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, uac_done, NULL),
                     0);
    int i = find("OPTIONS sip:ping@127.0.0.1:5080 SIP/2.0\r\n", UAS1, 0);
    assert_true(i >= 0);
    assert_non_null(strstr(sent[i].data, "Max-Forwards: 70\r\n"));
    assert_non_null(strstr(sent[i].data, "CSeq: 1 OPTIONS\r\n"));
    reply_to(i, 200, "p1", UAS1);
    assert_int_equal(uac_code, 200);
    /* a timeout reports 408 */
    uac_code = 0;
    assert_int_equal(sb_tx_uac_request(SB_STR("OPTIONS"), SB_STR("sip:ping@127.0.0.1:5080"),
                                       SB_STR("<sip:sb@127.0.0.1>"), SB_STR("<sip:ping@127.0.0.1>"),
                                       SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, uac_done, NULL),
                     0);
    advance(5100);
    assert_int_equal(uac_code, 408);
}

/* ---- DNS failover and blacklisting ----------------------------------------------------------- */

static int find_to(const char *prefix, const char *ip, int from)
{
    for (int i = from; i < n_sent; i++)
        if (starts(i, prefix) && !strcmp(sent[i].ip, ip))
            return i;
    return -1;
}

static bool blacklisted(const char *ip, uint16_t port)
{
    struct sb_addr a;
    assert_int_equal(sb_addr_set(&a, sb_str_cstr(ip), port), 0);
    return sb_tx_blacklist_has(SB_PROTO_UDP, &a);
}

static void invite_host(const char *user, const char *host, const char *branch)
{
    char t[2048];
    snprintf(t, sizeof(t),
             "INVITE sip:%s@%s:%u SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
             "To: <sip:%s@%s>\r\n"
             "Call-ID: call-%s\r\n"
             "CSeq: 1 INVITE\r\n"
             "Contact: <sip:alice@127.0.0.1:%u>\r\n"
             "Content-Length: 0\r\n\r\n",
             user, host, UAS1, UAC, branch, user, host, branch, UAC);
    rx(t, UAC);
}

static void test_failover_on_timeout(void **state)
{
    (void)state;
    invite_host("bob", "fo.test", "z9hG4bKfo1");
    int i = find_to("INVITE ", "127.0.0.2", 0);
    assert_true(i >= 0);
    assert_int_equal(find_to("INVITE ", "127.0.0.3", 0), -1);
    /* fr_timeout (5 s) without any reply: the next target on a new branch */
    advance(5100);
    int j = find_to("INVITE ", "127.0.0.3", 0);
    assert_true(j > i);
    assert_int_equal(sent[j].port, UAS1);
    char b1[64], b2[64];
    top_branch(i, b1, sizeof(b1));
    top_branch(j, b2, sizeof(b2));
    assert_string_not_equal(b1, b2);
    assert_true(blacklisted("127.0.0.2", UAS1));
    assert_false(blacklisted("127.0.0.3", UAS1));
    /* nothing went upstream yet but the 100 */
    assert_int_equal(count_starting("SIP/2.0 408", UAC), 0);
    reply_to(j, 200, "fo", UAS1);
    int k = find("SIP/2.0 200 ", UAC, 0);
    assert_true(k > j);
    assert_non_null(strstr(sent[k].data, "branch=z9hG4bKfo1"));
}

static void test_failover_on_503(void **state)
{
    (void)state;
    invite_host("bob", "fo.test", "z9hG4bKfo2");
    int i = find_to("INVITE ", "127.0.0.2", 0);
    assert_true(i >= 0);
    reply_to(i, 503, "x", UAS1);
    /* the 503 is ACKed hop by hop, then the next target gets the request */
    assert_true(find_to("ACK ", "127.0.0.2", i) > i);
    int j = find_to("INVITE ", "127.0.0.3", i);
    assert_true(j > i);
    assert_true(blacklisted("127.0.0.2", UAS1));
    assert_int_equal(count_starting("SIP/2.0 5", UAC), 0);
    reply_to(j, 486, "y", UAS1);
    /* the best of the two: 486 (a 503 would have become 500) */
    assert_int_equal(count_starting("SIP/2.0 486", UAC), 1);
    assert_int_equal(count_starting("SIP/2.0 500", UAC), 0);
}

static void test_blacklist_skip_and_expiry(void **state)
{
    (void)state;
    struct sb_addr a;
    assert_int_equal(sb_addr_set(&a, SB_STR("127.0.0.2"), UAS1), 0);
    sb_tx_blacklist_add(SB_PROTO_UDP, &a, SB_TX_BLACKLIST_MS);
    assert_int_equal(sb_tx_blacklist_count(), 1);
    invite_host("bob", "fo.test", "z9hG4bKbl1");
    assert_int_equal(find_to("INVITE ", "127.0.0.2", 0), -1);
    int j = find_to("INVITE ", "127.0.0.3", 0);
    assert_true(j >= 0);
    reply_to(j, 200, "b", UAS1);
    /* every target blacklisted: the first one is still tried */
    struct sb_addr a3;
    assert_int_equal(sb_addr_set(&a3, SB_STR("127.0.0.3"), UAS1), 0);
    sb_tx_blacklist_add(SB_PROTO_UDP, &a3, SB_TX_BLACKLIST_MS);
    int before = n_sent;
    invite_host("bob", "fo.test", "z9hG4bKbl2");
    int k = find_to("INVITE ", "127.0.0.2", before);
    assert_true(k >= 0);
    reply_to(k, 200, "c", UAS1);
    /* after SB_TX_BLACKLIST_MS the entries expire */
    vnow += SB_TX_BLACKLIST_MS + 1000;
    sb_loop_run_once(worker.loop, 0);
    assert_int_equal(sb_tx_blacklist_count(), 0);
    before = n_sent;
    invite_host("bob", "fo.test", "z9hG4bKbl3");
    k = find_to("INVITE ", "127.0.0.2", before);
    assert_true(k >= 0);
    reply_to(k, 200, "d", UAS1);
}

static void test_no_dns_failover_flag(void **state)
{
    (void)state;
    invite_host("nofo", "fo.test", "z9hG4bKnf1");
    assert_true(find_to("INVITE ", "127.0.0.2", 0) >= 0);
    advance(5100);
    assert_int_equal(find_to("INVITE ", "127.0.0.3", 0), -1);
    assert_int_equal(count_starting("SIP/2.0 408", UAC), 1);
    /* the target that timed out is blacklisted all the same */
    assert_true(blacklisted("127.0.0.2", UAS1));
    int before = n_sent;
    /* disable_dns_failover does the same for every t_relay */
    core.disable_dns_failover = true;
    invite_host("bob", "fo.test", "z9hG4bKnf2");
    /* .2 is blacklisted: .3 first; with failover off nothing after it */
    int j = find_to("INVITE ", "127.0.0.3", before);
    assert_true(j >= 0);
    reply_to(j, 503, "z", UAS1);
    core.disable_dns_failover = false;
    assert_int_equal(find_to("INVITE ", "127.0.0.2", before), -1);
    assert_int_equal(count_starting("SIP/2.0 500", UAC), 1);
}

static void test_disable_dns_blacklist(void **state)
{
    (void)state;
    core.disable_dns_blacklist = true;
    invite_host("bob", "fo.test", "z9hG4bKdb1");
    int i = find_to("INVITE ", "127.0.0.2", 0);
    assert_true(i >= 0);
    reply_to(i, 503, "x", UAS1);
    int j = find_to("INVITE ", "127.0.0.3", i);
    assert_true(j > i);
    core.disable_dns_blacklist = false;
    assert_int_equal(sb_tx_blacklist_count(), 0);
    reply_to(j, 200, "y", UAS1);
}

/* ---- local_route and the local UAC ----------------------------------------------------------- */

static void test_local_route(void **state)
{
    (void)state;
    uac_code = 0;
    assert_int_equal(sb_tx_uac_request(SB_STR("OPTIONS"), SB_STR("sip:ping@127.0.0.1:5080"),
                                       SB_STR("<sip:sb@127.0.0.1>"), SB_STR("<sip:ping@127.0.0.1>"),
                                       SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, uac_done, NULL),
                     0);
    int i = find("OPTIONS sip:ping@127.0.0.1:5080 SIP/2.0\r\n", UAS1, 0);
    assert_true(i >= 0);
    assert_non_null(strstr(sent[i].data, "\r\nX-Local: yes\r\n"));
    reply_to(i, 200, "p1", UAS1);
    assert_int_equal(uac_code, 200);
    /* drop in local_route: nothing sent, no callback */
    int before = n_sent;
    uac_code = 0;
    assert_true(sb_tx_uac_request(SB_STR("OPTIONS"), SB_STR("sip:dropme@127.0.0.1:5080"),
                                  SB_STR("<sip:sb@127.0.0.1>"), SB_STR("<sip:ping@127.0.0.1>"),
                                  SB_STR_NULL, SB_STR_NULL, SB_STR_NULL, uac_done, NULL) < 0);
    assert_int_equal(n_sent, before);
    advance(100);
    assert_int_equal(uac_code, 0);
}

static void test_local_invite_ack_and_cancel(void **state)
{
    (void)state;
    uac_code = 0;
    assert_int_equal(sb_tx_uac_request(SB_STR("INVITE"), SB_STR("sip:bob@127.0.0.1:5080"),
                                       SB_STR("<sip:sb@127.0.0.1>"), SB_STR("<sip:bob@127.0.0.1>"),
                                       SB_STR("Call-ID: luac-1\r\nCSeq: 7 INVITE\r\n"), SB_STR_NULL,
                                       SB_STR_NULL, uac_done, NULL),
                     0);
    int i = find("INVITE sip:bob@127.0.0.1:5080 ", UAS1, 0);
    assert_true(i >= 0);
    /* a 2xx: the callback and an ACK (a new transaction) to the Contact of the 2xx */
    char r[2048];
    char br[64];
    top_branch(i, br, sizeof(br));
    snprintf(r, sizeof(r),
             "SIP/2.0 200 OK\r\n"
             "Via: SIP/2.0/UDP 127.0.0.1;branch=%s\r\n"
             "From: <sip:sb@127.0.0.1>;tag=x\r\n"
             "To: <sip:bob@127.0.0.1>;tag=bobtag\r\n"
             "Call-ID: luac-1\r\nCSeq: 7 INVITE\r\n"
             "Contact: <sip:bob@127.0.0.1:5081>\r\n"
             "Content-Length: 0\r\n\r\n",
             br);
    rx(r, UAS1);
    assert_int_equal(uac_code, 200);
    int a = find("ACK sip:bob@127.0.0.1:5081 SIP/2.0\r\n", UAS2, i);
    assert_true(a > i);
    assert_non_null(strstr(sent[a].data, "CSeq: 7 ACK\r\n"));
    assert_non_null(strstr(sent[a].data, ";tag=bobtag\r\n"));
    char abr[64];
    top_branch(a, abr, sizeof(abr));
    assert_string_not_equal(abr, br);
    /* a retransmitted 2xx is ACKed again */
    rx(r, UAS1);
    assert_int_equal(count_starting("ACK sip:bob@127.0.0.1:5081", UAS2), 2);

    /* cancel: waits for a provisional, then CANCEL; the 487 reaches the callback */
    uac_code = 0;
    assert_int_equal(sb_tx_uac_request(SB_STR("INVITE"), SB_STR("sip:carol@127.0.0.1:5080"),
                                       SB_STR("<sip:sb@127.0.0.1>"), SB_STR("<sip:c@127.0.0.1>"),
                                       SB_STR("Call-ID: luac-2\r\nCSeq: 3 INVITE\r\n"), SB_STR_NULL,
                                       SB_STR_NULL, uac_done, NULL),
                     0);
    int j = find("INVITE sip:carol@", UAS1, 0);
    assert_true(j >= 0);
    assert_int_equal(sb_tx_uac_cancel(SB_STR("luac-2"), 4), 0);
    assert_int_equal(sb_tx_uac_cancel(SB_STR("luac-2"), 3), 1);
    assert_int_equal(count_starting("CANCEL ", UAS1), 0);
    reply_to(j, 180, "ct", UAS1);
    int c = find("CANCEL sip:carol@127.0.0.1:5080 ", UAS1, j);
    assert_true(c > j);
    assert_non_null(strstr(sent[c].data, "CSeq: 3 CANCEL\r\n"));
    reply_to(c, 200, "ct", UAS1);
    reply_to(j, 487, "ct", UAS1);
    assert_int_equal(uac_code, 487);
    assert_true(find("ACK sip:carol@", UAS1, j) > j);
}

/* t_replicate: a transaction of its own, whose replies never go upstream */
static void test_replicate_separate_transaction(void **state)
{
    (void)state;
    invite("repl", "z9hG4bKrp1", "INVITE");
    int r = find("INVITE sip:repl@127.0.0.1:5080 ", UAS2, 0);
    int m = find("INVITE sip:repl@127.0.0.1:5080 ", UAS1, 0);
    assert_true(r >= 0);
    assert_true(m >= 0);
    char b1[64], b2[64];
    top_branch(r, b1, sizeof(b1));
    top_branch(m, b2, sizeof(b2));
    assert_string_not_equal(b1, b2);
    /* the copy carries the caller's Via below ours, like a relayed request */
    assert_non_null(strstr(sent[r].data, "branch=z9hG4bKrp1\r\n"));
    reply_to(r, 180, "rp", UAS2);
    reply_to(r, 486, "rp", UAS2);
    assert_true(find("ACK ", UAS2, r) > r);
    assert_int_equal(count_starting("SIP/2.0 180", UAC), 0);
    assert_int_equal(count_starting("SIP/2.0 486", UAC), 0);
    reply_to(m, 200, "main", UAS1);
    assert_int_equal(count_starting("SIP/2.0 200", UAC), 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_invite_relayed_200),
        T(test_retransmission_absorbed),
        T(test_non2xx_acked_hop_by_hop),
        T(test_timer_a_and_fr_timeout),
        T(test_timer_e_capped_at_t2),
        T(test_timer_c_cancels),
        T(test_cancel_from_uac),
        T(test_fork_best_response),
        T(test_fork_200_cancels_other),
        T(test_fork_503_becomes_500),
        T(test_fork_401_merged),
        T(test_branch_route),
        T(test_failure_route_serial),
        T(test_serial_forking_by_q),
        T(test_failure_route_on_timeout),
        T(test_failure_route_after_reload),
        T(test_local_reply_and_stats),
        T(test_unfinished_transaction_dropped),
        T(test_send_reply_is_stateful),
        T(test_local_uac),
        T(test_failover_on_timeout),
        T(test_failover_on_503),
        T(test_blacklist_skip_and_expiry),
        T(test_no_dns_failover_flag),
        T(test_disable_dns_blacklist),
        T(test_local_route),
        T(test_local_invite_ack_and_cancel),
        T(test_replicate_separate_transaction),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
