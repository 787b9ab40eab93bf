/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for everything after the parser: sb_receive on a fake worker running a fixed
 * routing script (rr, maxfwd, sipmsgops, textops, sl, forward() to hostile destinations,
 * error_route), once as a UDP datagram and once as a TCP message. Nothing leaves the process: the
 * transport's send hook captures every message, and each one must be a well-formed SIP message;
 * a reply or relayed request carries the Call-ID and CSeq of the message it came from. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/core/tp/tp_int.h"
#include "sb/buf.h"
#include "sb/core_cfg.h"
#include "sb/diag.h"
#include "sb/fwd.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/mod.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "sb/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OUT 8

struct out {
    uint8_t proto;
    size_t len;
    char *data;
};

/* the output being checked, shown when a check fails */
static const struct out *cur_out;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_receive: check failed, line %d: %s\n", __LINE__, #c);            \
            if (cur_out)                                                                           \
                fprintf(stderr, "output:\n%.*s\n", (int)cur_out->len, cur_out->data);              \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* A script that reads and rewrites as much of the message as the modules allow. The listeners sit
 * on an address nobody else uses; 127.0.0.1:5060 and example.com are aliases so that Route and
 * Via values of ordinary messages are "ours". Destinations taken from the message are literal
 * addresses or names: the resolver has no worker state here, so a name never reaches the
 * network. */
static const char script_text[] =
    "socket=udp:127.0.0.77:5060\n"
    "socket=tcp:127.0.0.77:5060\n"
    "alias=\"127.0.0.1:5060\"\n"
    "alias=\"example.com\"\n"
    "loadmodule \"sl.so\"\n"
    "loadmodule \"signaling.so\"\n"
    "loadmodule \"rr.so\"\n"
    "loadmodule \"maxfwd.so\"\n"
    "loadmodule \"sipmsgops.so\"\n"
    "loadmodule \"textops.so\"\n"
    "modparam(\"rr\", \"append_fromtag\", 1)\n"
    "modparam(\"rr\", \"enable_double_rr\", 1)\n"
    "route {\n"
    "    if (!mf_process_maxfwd_header(10)) {\n"
    "        sl_send_reply(483, \"Too Many Hops\");\n"
    "        exit;\n"
    "    }\n"
    "    xlog(\"L_DBG\", \"$rm $ru $rU@$rd:$rp from $si:$sp ci=$ci ft=$ft tt=$tt cs=$cs "
    "ua=$hdr(User-Agent) ct=$ct fu=$fu tu=$tu\\n\");\n"
    "    if (has_totag()) {\n"
    "        if (loose_route()) {\n"
    "            if (is_method(\"BYE\"))\n"
    "                append_hf(\"X-Fuzz: bye $ft\\r\\n\");\n"
    "            if (check_route_param(\"ftag=\"))\n"
    "                xlog(\"L_DBG\", \"route param matched\\n\");\n"
    "            forward();\n"
    "            exit;\n"
    "        }\n"
    "        if (is_method(\"ACK\"))\n"
    "            exit;\n"
    "        sl_send_reply(404, \"Not here\");\n"
    "        exit;\n"
    "    }\n"
    "    if (is_method(\"CANCEL\")) {\n"
    "        forward();\n"
    "        exit;\n"
    "    }\n"
    "    if (loose_route())\n"
    "        xlog(\"L_DBG\", \"initial request with a Route to us\\n\");\n"
    "    remove_hf(\"X-Drop\");\n"
    "    if (is_present_hf(\"Proxy-Authorization\"))\n"
    "        remove_hf(\"Proxy-Authorization\");\n"
    "    if (search(\"^Subject: .*fuzz\"))\n"
    "        subst(\"/^Subject: (.*)$/Subject: [seen] \\1/\");\n"
    "    if (is_method(\"INVITE|SUBSCRIBE\")) {\n"
    "        record_route();\n"
    "        append_hf(\"X-Seen: $si $rU\\r\\n\");\n"
    "    }\n"
    "    if (is_method(\"OPTIONS\") && $rU == \"\") {\n"
    "        append_to_reply(\"Accept: application/sdp\\r\\n\");\n"
    "        sl_send_reply(200, \"OK $rd\");\n"
    "        exit;\n"
    "    }\n"
    "    if (is_method(\"REGISTER\")) {\n"
    "        sl_send_reply(403, \"No registrar for $tU\");\n"
    "        exit;\n"
    "    }\n"
    "    if (is_present_hf(\"X-Dest\")) {\n"
    "        $du = $hdr(X-Dest);\n"
    "        forward();\n"
    "        exit;\n"
    "    }\n"
    "    if ($rU =~ \"^busy\") {\n"
    "        send_reply(486, \"Busy $rU\");\n"
    "        exit;\n"
    "    }\n"
    "    if ($rU =~ \"^rewrite\") {\n"
    "        $ru = \"sip:\" + $rU + \"@127.0.0.2:5090;transport=tcp\";\n"
    "        subst_uri(\"/^sip:rewrite/sip:done/\");\n"
    "    }\n"
    "    if (is_myself($rd)) {\n"
    "        sl_send_reply(404, \"Unknown $rU\");\n"
    "        exit;\n"
    "    }\n"
    "    forward();\n"
    "}\n"
    "onreply_route {\n"
    "    xlog(\"L_DBG\", \"reply $rs $rr ci=$ci cs=$cs from $si:$sp\\n\");\n"
    "    if ($rs == 183)\n"
    "        drop;\n"
    "    remove_hf(\"X-Drop\");\n"
    "}\n"
    "error_route {\n"
    "    xlog(\"L_DBG\", \"error $err.class $err.level $err.info $err.rcode $err.rreason from $si "
    "rm=$rm\\n\");\n"
    "    if ($err.rcode == 400 && $si == \"10.9.9.9\") {\n"
    "        sl_send_reply(400, \"Bad $err.rreason\");\n"
    "        exit;\n"
    "    }\n"
    "}\n";

static struct {
    struct sb_script *s;
    struct sb_worker w;
    const struct sb_socket *udp, *tcp;
    struct out out[MAX_OUT];
    unsigned n_out;
    unsigned n_sends; /* every send, kept or not */
} G;

/* Known defects can be stepped over while fuzzing for new ones (SB_FUZZ_SKIP_KNOWN=1); their
 * reproducers stay in the corpus as crash-* files. */
static bool skip_known;
/* SB_FUZZ_VERBOSE=1: print every captured message (to see what a corpus input does) */
static bool verbose;

static int capture(const struct sb_dest *d, const struct iovec *iov, int n_iov)
{
    CHECK(d && d->sock);
    CHECK(sb_addr_family(&d->to) != 0);
    G.n_sends++;
    if (G.n_out == MAX_OUT)
        return 0;
    size_t total = 0;
    for (int i = 0; i < n_iov; i++)
        total += iov[i].iov_len;
    char *p = malloc(total ? total : 1);
    CHECK(p != NULL);
    size_t at = 0;
    for (int i = 0; i < n_iov; i++) {
        memcpy(p + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    G.out[G.n_out++] =
        (struct out){.proto = d->proto ? d->proto : d->sock->proto, .len = total, .data = p};
    return 0;
}

static void setup(void)
{
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0)
        sb_log_set_fd(devnull);
    struct sb_diag d;
    sb_diag_init(&d);
    if (sb_script_load_text("fuzz.cfg", script_text, sizeof(script_text) - 1, &d, &G.s) != 0 ||
        d.n_errors) {
        sb_diag_print(&d, stderr);
        CHECK(!"the fuzz script does not load");
    }
    sb_diag_free(&d);
    const char *sk = getenv("SB_FUZZ_SKIP_KNOWN");
    skip_known = sk && *sk == '1';
    const char *vb = getenv("SB_FUZZ_VERBOSE");
    verbose = vb && *vb == '1';
    /* the debug lines format hostile text too */
    sb_log_level = SB_LOG_DEBUG;
    CHECK(sb_tp_init(sb_script_core(G.s)) == 0);
    for (unsigned i = 0; i < sb_tp_n_sockets(); i++) {
        const struct sb_socket *so = sb_tp_socket(i);
        if (so->proto == SB_PROTO_UDP)
            G.udp = so;
        else if (so->proto == SB_PROTO_TCP)
            G.tcp = so;
    }
    CHECK(G.udp && G.tcp);
    sb__tp_set_send_hook(capture);
    CHECK(sb_modset_start(sb_script_modset(G.s)) == 0);
    G.w.id = 0;
    G.w.loop = sb_loop_new();
    CHECK(G.w.loop != NULL);
    sb_rt.n_workers = 1;
    sb_rt.workers = &G.w;
    sb_rt.cfg = sb_script_core(G.s);
    atomic_store(&sb_rt.script, G.s);
    sb_worker_self = &G.w;
    CHECK(sb_modset_start_worker(sb_script_modset(G.s), 0) == 0);
}

/* What the input says about itself, read by a separate parse: the Call-ID and CSeq that every
 * message we send because of it must carry. A reply copies them as they were written
 * (RFC3261-8.2.6.2), so the raw header values are compared, and a CSeq that parsed in the input
 * must parse in the output. */
struct ident {
    bool known;
    bool is_request;
    bool cseq_ok;
    bool vias_ok; /* every Via value parses, and no NUL byte anywhere */
    char callid[1024];
    size_t callid_len;
    char cseq[1024];
    size_t cseq_len;
};

static bool raw_value(struct sb_msg *m, uint16_t type, char *out, size_t cap, size_t *len)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, type);
    if (!h)
        return false;
    sb_str v = sb_str_trim(sb_msg_hdr_value(m, h));
    if (v.len > cap)
        return false;
    memcpy(out, v.p, v.len);
    *len = v.len;
    return true;
}

static void identify(const char *p, size_t len, unsigned flags, struct ident *id)
{
    memset(id, 0, sizeof(*id));
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    if (sb_msg_parse(&m, p, len, flags) == 0 &&
        raw_value(&m, SB_HDR_CALL_ID, id->callid, sizeof(id->callid), &id->callid_len) &&
        raw_value(&m, SB_HDR_CSEQ, id->cseq, sizeof(id->cseq), &id->cseq_len)) {
        id->known = true;
        id->is_request = m.kind == SB_MSG_REQUEST;
        id->cseq_ok = sb_msg_cseq(&m) != NULL;
        id->vias_ok = memchr(p, '\0', len) == NULL;
        for (struct sb_hdr *h = sb_msg_hdr_first(&m, SB_HDR_VIA); h; h = sb_msg_hdr_next(&m, h))
            if (!sb_msg_hdr_parsed(&m, h))
                id->vias_ok = false;
    }
    sb_msg_deinit(&m);
}

static void check_output(const struct out *o, const struct ident *id)
{
    cur_out = o;
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    unsigned flags = o->proto == SB_PROTO_UDP ? 0 : SB_MSG_STREAM;
    int rc = sb_msg_parse(&m, o->data, o->len, flags);
    /* known: a reply copies Via lines verbatim, also ones that do not parse or hold a NUL, and
     * the result can be refused by our own parser (SB_ELIMIT) */
    if (rc != 0 && skip_known && (!id->known || !id->vias_ok))
        goto out;
    if (rc != 0)
        fprintf(stderr, "fuzz_receive: unparsable output (%d)\n", rc);
    CHECK(rc == 0);
    /* it was all one message */
    CHECK(m.len == o->len);
    char ci[1024], cs[1024];
    size_t ci_len = 0, cs_len = 0;
    bool has_ci = raw_value(&m, SB_HDR_CALL_ID, ci, sizeof(ci), &ci_len);
    bool has_cs = raw_value(&m, SB_HDR_CSEQ, cs, sizeof(cs), &cs_len);
    bool whole =
        sb_msg_hdr_first(&m, SB_HDR_FROM) && sb_msg_hdr_first(&m, SB_HDR_TO) && has_ci && has_cs;
    /* known: sl_send_reply in error_route answers a request that lacks From, To, Call-ID or
     * CSeq */
    if (!whole && skip_known)
        goto out;
    CHECK(sb_msg_via1(&m) != NULL);
    CHECK(sb_msg_hdr_first(&m, SB_HDR_FROM) && sb_msg_hdr_first(&m, SB_HDR_TO));
    CHECK(has_ci && has_cs);
    if (m.kind == SB_MSG_REPLY)
        CHECK(m.status >= 100 && m.status <= 699);
    else
        CHECK(sb_msg_ruri(&m) != NULL);
    if (id->known) {
        if (ci_len != id->callid_len || memcmp(ci, id->callid, ci_len) != 0 ||
            cs_len != id->cseq_len || memcmp(cs, id->cseq, cs_len) != 0) {
            fprintf(stderr, "fuzz_receive: input had Call-ID %.*s, CSeq %.*s\n",
                    (int)id->callid_len, id->callid, (int)id->cseq_len, id->cseq);
            CHECK(!"Call-ID / CSeq changed");
        }
        if (id->cseq_ok)
            CHECK(sb_msg_cseq(&m) != NULL);
        /* a reply we relay stays a reply */
        if (!id->is_request)
            CHECK(m.kind == SB_MSG_REPLY);
    }
out:
    sb_msg_deinit(&m);
    cur_out = NULL;
}

/* more than one To line */
static bool known_defect(const char *p, size_t len)
{
    unsigned n_to = 0;
    for (size_t i = 0; i < len; i++) {
        if (i && p[i - 1] != '\n')
            continue;
        size_t k = i;
        if (k < len && (p[k] == 't' || p[k] == 'T')) {
            k++;
            if (k < len && (p[k] == 'o' || p[k] == 'O'))
                k++;
            while (k < len && (p[k] == ' ' || p[k] == '\t'))
                k++;
            if (k < len && p[k] == ':')
                n_to++;
        }
    }
    return n_to > 1;
}

static void deliver(const char *p, size_t len, const struct sb_socket *sock, uint32_t conn_id,
                    const char *src_ip, uint16_t src_port)
{
    struct sb_rcv r;
    memset(&r, 0, sizeof(r));
    r.sock = sock;
    r.conn_id = conn_id;
    CHECK(sb_addr_set(&r.src, sb_str_cstr(src_ip), src_port) == 0);
    snprintf(r.src_ip, sizeof(r.src_ip), "%s", src_ip);
    sb_rcv_fill_peer(&r);
    struct sb_buf *b = sb_buf_new(len ? len : 1);
    CHECK(b != NULL);
    memcpy(b->data, p, len);
    b->len = (uint32_t)len;

    struct ident id;
    identify(p, len, sock->proto == SB_PROTO_TCP ? SB_MSG_STREAM : 0, &id);
    G.n_out = 0;
    G.n_sends = 0;
    sb_receive(&r, b, (uint32_t)len);
    sb_buf_unref(b);
    /* jobs the message left on the loop (deferred frees) */
    sb_loop_run_once(G.w.loop, 0);
    /* one message never turns into a burst: an answer and a relay at most */
    CHECK(G.n_sends <= 2);
    for (unsigned i = 0; i < G.n_out; i++) {
        check_output(&G.out[i], &id);
        free(G.out[i].data);
    }
    G.n_out = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        setup();
        init = true;
    }
    if (size > 65535 || (skip_known && known_defect((const char *)data, size)))
        return 0;
    const char *p = (const char *)data;
    /* the source address changes what error_route does; take it from the input's length so that
     * the input stays the message itself */
    const char *src = size % 3 == 0 ? "10.9.9.9" : "192.0.2.7";
    deliver(p, size, G.udp, 0, src, 5062);
    /* a stream transport hands over what its framer cut; an input the framer refuses still goes
     * through whole, as a message of a connection that is about to close */
    long n = sb_msg_frame(p, size, NULL);
    size_t len = n > 0 ? (size_t)n : size;
    deliver(p, len, G.tcp, 1u << 24 | 7, src, 40123);
    return 0;
}
