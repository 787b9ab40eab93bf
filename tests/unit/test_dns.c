/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the resolver: IP literals, the hosts file, resolv.conf reading, SRV ordering, and
 * RFC 3263 lookups against a real dnsmasq on loopback driven through a real worker loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/dns.h"
#include "sb/hdr-t.h"
#include "sb/loop.h"
#include "sb/worker.h"
#include "net/dns_int.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static struct {
    char dir[64];
    char hosts[96], resolv[96], dead_resolv[96], hosts_dns[96], log[96];
    pid_t dnsmasq;
    uint16_t port;
    int blackhole; /* a UDP socket that never answers */
    struct sb_worker w;
    bool worker_up;
} F = {.dnsmasq = -1, .blackhole = -1};

/* ---- helpers -------------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int udp_socket_on(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        return -1;
    socklen_t len = sizeof(sin);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    *port = ntohs(sin.sin_port);
    return fd;
}

/* A port free for UDP and TCP on 127.0.0.1 right now. */
static uint16_t free_port(void)
{
    for (int i = 0; i < 20; i++) {
        uint16_t port;
        int u = udp_socket_on(&port);
        if (u < 0)
            continue;
        int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                  .sin_port = htons(port)};
        int ok = bind(t, (struct sockaddr *)&sin, sizeof(sin)) == 0;
        close(t);
        close(u);
        if (ok)
            return port;
    }
    return 0;
}

/* Whether dnsmasq answers an A query for sip1.example.test yet (a hand-made query). */
static bool dnsmasq_answers(uint16_t port)
{
    static const unsigned char q[] = {
        0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0, 0,   0,   0,   0,   4, 's', 'i', 'p', '1', 7,
        'e',  'x',  'a',  'm',  'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0,   1,   0,   1};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    bool ok = false;
    if (sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&sin, sizeof(sin)) == sizeof(q)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        unsigned char buf[512];
        ok = poll(&p, 1, 200) == 1 && recv(fd, buf, sizeof(buf), 0) > 12 && buf[0] == 0x12;
    }
    close(fd);
    return ok;
}

static pid_t start_dnsmasq(uint16_t port)
{
    if (access(DNSMASQ, X_OK) != 0)
        return -1;
    char port_arg[32], log_arg[128];
    snprintf(port_arg, sizeof(port_arg), "--port=%u", port);
    snprintf(log_arg, sizeof(log_arg), "--log-facility=%s", F.log);
    char *argv[] = {DNSMASQ,
                    "--no-daemon",
                    "--no-resolv",
                    "--no-hosts",
                    port_arg,
                    "--listen-address=127.0.0.1",
                    "--bind-interfaces",
                    "--local-ttl=60",
                    "--local=/example.test/",
                    "--pid-file=",
                    "--log-queries",
                    log_arg,
                    "--srv-host=_sip._udp.example.test,sip1.example.test,5070,10,60",
                    "--srv-host=_sip._udp.example.test,sip2.example.test,5080,20,10",
                    "--srv-host=_sip._tcp.example.test,sip1.example.test,5072,10,0",
                    "--srv-host=_sips._tcp.example.test,sip2.example.test,5061,10,0",
                    "--host-record=sip1.example.test,127.0.0.2",
                    "--host-record=sip2.example.test,127.0.0.3,::3",
                    "--host-record=sip3.example.test,127.0.0.4",
                    "--host-record=short.example.test,127.0.0.7,1",
                    "--naptr-record=nap.example.test,20,10,s,SIP+D2U,,_sip._udp.nap.example.test",
                    "--naptr-record=nap.example.test,10,10,s,SIP+D2T,,_sip._tcp.nap.example.test",
                    "--naptr-record=nap.example.test,5,10,u,E2U+sip,!^.*$!sip:x@y!,",
                    "--srv-host=_sip._tcp.nap.example.test,sip3.example.test,5090,10,0",
                    "--srv-host=_sip._udp.nap.example.test,sip1.example.test,5071,10,0",
                    "--address=/a.example.test/127.0.0.9",
                    NULL};
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(DNSMASQ, argv);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    for (int i = 0; i < 25; i++) {
        if (dnsmasq_answers(port))
            return pid;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static void worker_up(const struct sb_dns_cfg *cfg)
{
    assert_int_equal(sb_dns_init(cfg), 0);
    memset(&F.w, 0, sizeof(F.w));
    F.w.loop = sb_loop_new();
    assert_non_null(F.w.loop);
    assert_int_equal(sb_dns_worker_start(&F.w), 0);
    sb_worker_self = &F.w;
    F.worker_up = true;
}

static void worker_down(void)
{
    if (!F.worker_up)
        return;
    sb_dns_worker_exit(&F.w);
    assert_null(F.w.dns);
    sb_loop_free(F.w.loop);
    sb_worker_self = NULL;
    sb_dns_destroy();
    F.worker_up = false;
}

static struct sb_dns_cfg dns_cfg(void)
{
    return (struct sb_dns_cfg){
        .resolv_conf = F.resolv, .hosts = F.hosts, .try_naptr = true, .retr_time = 2, .retr_no = 2};
}

/* The callback's record: global so that a late callback after a failed test still lands safely. */
static struct {
    int calls;
    struct sb_dns_result res;
} D;

static void on_done(void *arg, const struct sb_dns_result *res)
{
    assert_ptr_equal(arg, &D);
    D.calls++;
    D.res = *res;
}

/* Resolve and, when it goes asynchronous, run the loop until the callback (bounded). Returns
 * whether the answer came synchronously. */
static bool resolve(const char *host, uint16_t port, uint8_t proto, bool secure,
                    struct sb_dns_result *out, uint64_t *elapsed_ms)
{
    memset(&D, 0, sizeof(D));
    memset(out, 0xa5, sizeof(*out));
    uint64_t t0 = sb_now_ms();
    int rc = sb_dns_resolve(sb_str_cstr(host), port, proto, secure, out, on_done, &D);
    if (rc == 0) {
        assert_int_equal(D.calls, 0);
        return true;
    }
    assert_int_equal(rc, SB_EAGAIN);
    while (D.calls == 0 && sb_now_ms() - t0 < 10000)
        sb_loop_run_once(F.w.loop, 50);
    if (elapsed_ms)
        *elapsed_ms = sb_now_ms() - t0;
    assert_int_equal(D.calls, 1);
    /* exactly once: nothing more arrives */
    for (int i = 0; i < 3; i++)
        sb_loop_run_once(F.w.loop, 10);
    assert_int_equal(D.calls, 1);
    *out = D.res;
    return false;
}

static void check_target(const struct sb_dns_result *r, unsigned i, uint8_t proto, const char *ip,
                         uint16_t port)
{
    char got[SB_IP_STRLEN];
    assert_true(i < r->n);
    sb_addr_ip(&r->t[i].addr, got);
    if (strcmp(got, ip) != 0 || sb_addr_port(&r->t[i].addr) != port || r->t[i].proto != proto)
        fail_msg("target %u: want %u %s:%u, got %u %s:%u", i, proto, ip, port, r->t[i].proto, got,
                 sb_addr_port(&r->t[i].addr));
}

#define NEED_DNSMASQ()                                                                             \
    do {                                                                                           \
        if (F.dnsmasq < 0) {                                                                       \
            print_message("dnsmasq could not be started (" DNSMASQ "): skipped\n");                \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- fixtures ------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    strcpy(F.dir, "/tmp/sb-dns-XXXXXX");
    if (!mkdtemp(F.dir))
        return -1;
    snprintf(F.hosts, sizeof(F.hosts), "%s/hosts", F.dir);
    snprintf(F.hosts_dns, sizeof(F.hosts_dns), "%s/hosts2", F.dir);
    snprintf(F.resolv, sizeof(F.resolv), "%s/resolv.conf", F.dir);
    snprintf(F.dead_resolv, sizeof(F.dead_resolv), "%s/dead.conf", F.dir);
    snprintf(F.log, sizeof(F.log), "%s/dnsmasq.log", F.dir);
    write_file(F.hosts, "# test hosts\n"
                        "127.0.0.5\tmyhost.test alias.test  # two names\n"
                        "::5 myhost.test\n"
                        "fe80::1%nosuchif0 broken.test\n"
                        "127.0.0.6 other.test.\n");
    write_file(F.hosts_dns, "127.0.0.50 sip1.example.test\n");

    uint16_t dead_port;
    F.blackhole = udp_socket_on(&dead_port);
    if (F.blackhole < 0)
        return -1;
    char buf[128];
    snprintf(buf, sizeof(buf), "nameserver 127.0.0.1:%u\n", dead_port);
    write_file(F.dead_resolv, buf);

    F.port = free_port();
    F.dnsmasq = F.port ? start_dnsmasq(F.port) : -1;
    snprintf(buf, sizeof(buf),
             "# local test server\nsearch example.test\nnameserver 127.0.0.1:%u\n", F.port);
    write_file(F.resolv, buf);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (F.dnsmasq > 0) {
        kill(F.dnsmasq, SIGTERM);
        waitpid(F.dnsmasq, NULL, 0);
    }
    if (F.blackhole >= 0)
        close(F.blackhole);
    unlink(F.hosts);
    unlink(F.hosts_dns);
    unlink(F.resolv);
    unlink(F.dead_resolv);
    unlink(F.log);
    rmdir(F.dir);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    struct sb_dns_cfg cfg = dns_cfg();
    worker_up(&cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    worker_down();
    return 0;
}

/* ---- synchronous answers -------------------------------------------------------------------- */

static void test_literals(void **state)
{
    (void)state;
    struct sb_dns_result r;
    sb_worker_self = NULL; /* literals need no worker */

    assert_true(resolve("192.0.2.1", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_UDP, "192.0.2.1", 5060);

    assert_true(resolve("192.0.2.1", 0, 0, true, &r, NULL));
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_TLS, "192.0.2.1", 5061);

    assert_true(resolve("192.0.2.1", 5080, SB_PROTO_TCP, false, &r, NULL));
    check_target(&r, 0, SB_PROTO_TCP, "192.0.2.1", 5080);

    assert_true(resolve("[2001:db8::1]", 5070, SB_PROTO_TCP, false, &r, NULL));
    assert_int_equal(r.n, 1);
    assert_int_equal(sb_addr_family(&r.t[0].addr), AF_INET6);
    check_target(&r, 0, SB_PROTO_TCP, "2001:db8::1", 5070);

    assert_true(resolve("2001:db8::1", 0, 0, false, &r, NULL));
    check_target(&r, 0, SB_PROTO_UDP, "2001:db8::1", 5060);

    assert_true(resolve("[::1]", 0, SB_PROTO_TLS, false, &r, NULL));
    check_target(&r, 0, SB_PROTO_TLS, "::1", 5061);

    /* sips over TCP means TLS (RFC 3261 §26.2) */
    assert_true(resolve("::1", 0, SB_PROTO_TCP, true, &r, NULL));
    check_target(&r, 0, SB_PROTO_TLS, "::1", 5061);

    assert_int_equal(sb_dns_resolve(SB_STR_NULL, 0, 0, false, &r, on_done, &D), SB_EINVAL);
    assert_int_equal(sb_dns_resolve(SB_STR("."), 0, 0, false, &r, on_done, &D), SB_EINVAL);
}

static void test_hosts_file(void **state)
{
    (void)state;
    struct sb_dns_result r;
    sb_worker_self = NULL; /* hosts entries are answered on any thread */

    /* case and a trailing dot do not matter; the IPv6 line is left out without try_ipv6 */
    assert_true(resolve("MyHost.Test.", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.5", 5060);

    assert_true(resolve("alias.test", 5099, SB_PROTO_TCP, false, &r, NULL));
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_TCP, "127.0.0.5", 5099);

    assert_true(resolve("other.test", 0, 0, true, &r, NULL));
    check_target(&r, 0, SB_PROTO_TLS, "127.0.0.6", 5061);

    const struct sb__dns_host *h;
    assert_int_equal(sb__dns_hosts_find("broken.test", &h), 0);
    assert_int_equal(sb__dns_hosts_find("myhost.test", &h), 2);

    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.try_ipv6 = true;
    worker_up(&cfg);
    assert_true(resolve("myhost.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.n, 2);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.5", 5060);
    check_target(&r, 1, SB_PROTO_UDP, "::5", 5060);
}

static void test_env_and_missing_files(void **state)
{
    (void)state;
    worker_down();
    struct sb_dns_cfg cfg = {.try_naptr = true};
    setenv("SB_DNS_HOSTS", F.hosts, 1);
    setenv("SB_DNS_RESOLV_CONF", F.resolv, 1);
    assert_int_equal(sb_dns_init(&cfg), 0);
    struct sb_dns_result r;
    assert_true(resolve("alias.test", 0, 0, false, &r, NULL));
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.5", 5060);
    sb_dns_destroy();

    setenv("SB_DNS_RESOLV_CONF", "/nonexistent/resolv.conf", 1);
    assert_int_not_equal(sb_dns_init(&cfg), 0);
    unsetenv("SB_DNS_RESOLV_CONF");
    cfg.hosts = "/nonexistent/hosts";
    assert_int_not_equal(sb_dns_init(&cfg), 0);
    unsetenv("SB_DNS_HOSTS");
}

static void test_no_worker(void **state)
{
    (void)state;
    struct sb_dns_result r;
    sb_worker_self = NULL;
    /* a name that needs the network cannot be resolved off a worker */
    assert_int_equal(sb_dns_resolve(SB_STR("nope.example.test"), 0, 0, false, &r, on_done, &D),
                     SB_EINVAL);
    assert_int_equal(D.calls, 0);
}

static void test_read_servers(void **state)
{
    (void)state;
    char path[128], csv[256];
    snprintf(path, sizeof(path), "%s/servers.conf", F.dir);
    write_file(path, "# comment\n"
                     "domain example.test\n"
                     "nameserver 127.0.0.1\n"
                     "nameserver\t127.0.0.2:5353\n"
                     "nameserver ::1\n"
                     "nameserver [::1]:5354\n"
                     "nameserver [2001:db8::2]\n"
                     "nameserver bogus.example\n"
                     "nameserver 127.0.0.3:99999\n"
                     "options ndots:2\n");
    assert_int_equal(sb__dns_read_servers(path, csv, sizeof(csv)), 0);
    assert_string_equal(csv, "127.0.0.1:53,127.0.0.2:5353,[::1]:53,[::1]:5354,[2001:db8::2]:53");

    assert_int_equal(sb__dns_read_servers(path, csv, 20), SB_ENOSPC);

    write_file(path, "search example.test\n");
    assert_int_equal(sb__dns_read_servers(path, csv, sizeof(csv)), SB_ENOENT);
    unlink(path);
    assert_int_equal(sb__dns_read_servers(path, csv, sizeof(csv)), SB_ENOENT);
}

/* ---- SRV order and TTLs --------------------------------------------------------------------- */

static uint32_t rnd_value;
static uint32_t fixed_rnd(void)
{
    return rnd_value;
}

static void test_srv_order(void **state)
{
    (void)state;
    struct sb__dns_rr rr[5] = {
        {.prio = 20, .weight = 5, .port = 1},  {.prio = 10, .weight = 10, .port = 2},
        {.prio = 10, .weight = 0, .port = 3},  {.prio = 30, .weight = 0, .port = 4},
        {.prio = 10, .weight = 30, .port = 5},
    };
    const struct sb__dns_rr *v[5];
    for (int i = 0; i < 5; i++)
        v[i] = &rr[i];

    /* r = 0 always takes the first candidate: the zero-weight one leads its priority */
    rnd_value = 0;
    sb__dns_srv_order(v, 5, fixed_rnd);
    uint16_t want0[] = {3, 2, 5, 1, 4};
    for (int i = 0; i < 5; i++)
        assert_int_equal(v[i]->port, want0[i]);

    /* the largest draw goes past the small weights to the last one of the group */
    rnd_value = UINT32_MAX;
    sb__dns_srv_order(v, 5, fixed_rnd);
    assert_int_equal(v[0]->port, 5);
    assert_int_equal(v[3]->port, 1);
    assert_int_equal(v[4]->port, 4);

    /* weights 60 and 10: the heavier one comes first about 61 times in 71 */
    struct sb__dns_rr two[2] = {{.prio = 1, .weight = 10, .port = 10},
                                {.prio = 1, .weight = 60, .port = 60}};
    int heavy_first = 0, runs = 20000;
    for (int i = 0; i < runs; i++) {
        const struct sb__dns_rr *p[2] = {&two[0], &two[1]};
        sb__dns_srv_order(p, 2, NULL);
        heavy_first += p[0]->port == 60;
    }
    double share = (double)heavy_first / runs;
    if (share < 0.82 || share > 0.90)
        fail_msg("heavy target first in %.3f of runs, want ~0.859", share);
}

static void test_min_ttl(void **state)
{
    (void)state;
    /* header (1 question, 2 answers), question example.test A, then two A records whose names
     * are compressed pointers, TTLs 300 and 120 */
    static const unsigned char pkt[] = {
        0,   1,   0x81, 0x80, 0, 1,   0,    2,    0,   0, 0,   0, 7, 'e', 'x',  'a',
        'm', 'p', 'l',  'e',  4, 't', 'e',  's',  't', 0, 0,   1, 0, 1,   0xc0, 12,
        0,   1,   0,    1,    0, 0,   0x01, 0x2c, 0,   4, 127, 0, 0, 1,   0xc0, 12,
        0,   1,   0,    1,    0, 0,   0x00, 0x78, 0,   4, 127, 0, 0, 2,
    };
    assert_int_equal(sb__dns_min_ttl(pkt, sizeof(pkt)), 120);
    /* truncated inside the second record: the first one still counts */
    assert_int_equal(sb__dns_min_ttl(pkt, sizeof(pkt) - 12), 300);
    assert_int_equal(sb__dns_min_ttl(pkt, 8), 0);
}

/* ---- against dnsmasq ------------------------------------------------------------------------ */

static void test_srv_udp_and_cache(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    assert_false(resolve("example.test", 0, SB_PROTO_UDP, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 2);
    /* priority 10 before 20, ports from SRV */
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.2", 5070);
    check_target(&r, 1, SB_PROTO_UDP, "127.0.0.3", 5080);
    assert_true(sb__dns_cache_count() >= 3);

    /* the second time everything is cached: at once, same answer */
    assert_true(resolve("EXAMPLE.test.", 0, SB_PROTO_UDP, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 2);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.2", 5070);
    check_target(&r, 1, SB_PROTO_UDP, "127.0.0.3", 5080);

    /* the cache is shared: another thread without a loop gets the answer too */
    sb_worker_self = NULL;
    assert_true(resolve("example.test", 0, SB_PROTO_UDP, false, &r, NULL));
    assert_int_equal(r.n, 2);
}

/* How many times dnsmasq has logged a query line containing <what>. */
static int queries_logged(const char *what)
{
    FILE *f = fopen(F.log, "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

static void test_srv_glue(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    int srv0 = queries_logged("query[SRV] _sip._udp.example.test ");
    int a0 = queries_logged("query[A] sip2.example.test ");
    assert_true(srv0 >= 0 && a0 >= 0);
    struct sb_dns_result r;
    assert_false(resolve("example.test", 0, SB_PROTO_UDP, false, &r, NULL));
    assert_int_equal(r.n, 2);
    check_target(&r, 1, SB_PROTO_UDP, "127.0.0.3", 5080);
    /* the targets' addresses came with the SRV answer: no A query followed */
    assert_int_equal(queries_logged("query[SRV] _sip._udp.example.test "), srv0 + 1);
    assert_int_equal(queries_logged("query[A] sip2.example.test "), a0);
}

static void test_no_proto_srv_udp_tcp(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    /* no NAPTR for example.test: SRV for UDP, then TCP */
    assert_false(resolve("example.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 3);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.2", 5070);
    check_target(&r, 1, SB_PROTO_UDP, "127.0.0.3", 5080);
    check_target(&r, 2, SB_PROTO_TCP, "127.0.0.2", 5072);
}

static void test_naptr(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    /* NAPTR order: TCP (10) before UDP (20); the "u" E2U record is not for SIP */
    assert_false(resolve("nap.example.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 2);
    check_target(&r, 0, SB_PROTO_TCP, "127.0.0.4", 5090);
    check_target(&r, 1, SB_PROTO_UDP, "127.0.0.2", 5071);

    /* without NAPTR the same domain falls to SRV in our own order: UDP first */
    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.try_naptr = false;
    worker_up(&cfg);
    assert_false(resolve("nap.example.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.n, 2);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.2", 5071);
    check_target(&r, 1, SB_PROTO_TCP, "127.0.0.4", 5090);

    /* sips: only the TLS service would do, and nap.example.test has none */
    assert_false(resolve("nap.example.test", 0, 0, true, &r, NULL));
    assert_int_equal(r.err, SB_ENOENT);
    assert_int_equal(r.n, 0);
}

static void test_secure_srv(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    assert_false(resolve("example.test", 0, 0, true, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_TLS, "127.0.0.3", 5061);
}

static void test_port_and_a_fallback(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    /* a port: straight to A, no SRV */
    assert_false(resolve("sip1.example.test", 5099, 0, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.2", 5099);

    /* no NAPTR, no SRV: A on the default port */
    assert_false(resolve("a.example.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, 0);
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.9", 5060);

    /* transport given, no SRV: A on that transport's default port */
    assert_false(resolve("sip3.example.test", 0, SB_PROTO_TLS, false, &r, NULL));
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_TLS, "127.0.0.4", 5061);
}

static void test_ipv6(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    /* without try_ipv6 no AAAA is asked */
    assert_false(resolve("sip2.example.test", 5000, SB_PROTO_TCP, false, &r, NULL));
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_TCP, "127.0.0.3", 5000);

    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.try_ipv6 = true;
    worker_up(&cfg);
    assert_false(resolve("sip2.example.test", 5000, SB_PROTO_TCP, false, &r, NULL));
    assert_int_equal(r.n, 2);
    check_target(&r, 0, SB_PROTO_TCP, "127.0.0.3", 5000);
    check_target(&r, 1, SB_PROTO_TCP, "::3", 5000);
}

static void test_nxdomain(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    assert_false(resolve("nope.example.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, SB_ENOENT);
    assert_int_equal(r.n, 0);
    /* negative answers are cached too */
    assert_true(resolve("nope.example.test", 0, 0, false, &r, NULL));
    assert_int_equal(r.err, SB_ENOENT);
    assert_int_equal(r.n, 0);

    /* an empty label never makes it into a query: no such name, whether at once or not */
    resolve("bad..example.test", 5060, 0, false, &r, NULL);
    assert_int_equal(r.err, SB_ENOENT);
    assert_int_equal(r.n, 0);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct sb_dns_result r;
    assert_false(resolve("short.example.test", 5060, 0, false, &r, NULL));
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.7", 5060);
    assert_true(resolve("short.example.test", 5060, 0, false, &r, NULL));
    usleep(1100 * 1000); /* the record's TTL is 1 s */
    assert_false(resolve("short.example.test", 5060, 0, false, &r, NULL));
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.7", 5060);
}

static void test_hosts_win_over_dns(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.hosts = F.hosts_dns;
    worker_up(&cfg);
    struct sb_dns_result r;
    assert_true(resolve("sip1.example.test", 5000, 0, false, &r, NULL));
    assert_int_equal(r.n, 1);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.50", 5000);
    /* SRV targets go through the hosts file as well */
    assert_false(resolve("example.test", 0, SB_PROTO_UDP, false, &r, NULL));
    assert_int_equal(r.n, 2);
    check_target(&r, 0, SB_PROTO_UDP, "127.0.0.50", 5070);
    check_target(&r, 1, SB_PROTO_UDP, "127.0.0.3", 5080);
}

static void test_timeout(void **state)
{
    (void)state;
    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.resolv_conf = F.dead_resolv;
    cfg.retr_time = 1;
    cfg.retr_no = 1;
    worker_up(&cfg);
    struct sb_dns_result r;
    uint64_t ms = 0;
    assert_false(resolve("example.test", 0, 0, false, &r, &ms));
    assert_int_equal(r.err, SB_EAGAIN);
    assert_int_equal(r.n, 0);
    /* all lookups of a round run in parallel: one timeout, not one per step */
    if (ms < 900 || ms > 2500)
        fail_msg("timed out after %llu ms, want about 1000", (unsigned long long)ms);
    /* timeouts are not cached */
    memset(&D, 0, sizeof(D));
    assert_int_equal(sb_dns_resolve(SB_STR("example.test"), 0, 0, false, &r, on_done, &D),
                     SB_EAGAIN);
    worker_down();
    assert_int_equal(D.calls, 1);
    assert_int_equal(D.res.err, SB_EAGAIN);
}

static int reentrant_calls;
static void on_done_resolve_again(void *arg, const struct sb_dns_result *res)
{
    (void)arg;
    reentrant_calls++;
    assert_int_equal(res->err, SB_EAGAIN);
    /* resolving from a callback during shutdown is answered at once */
    struct sb_dns_result r2;
    assert_int_equal(sb_dns_resolve(SB_STR("other.example.test"), 0, 0, false, &r2, on_done, &D),
                     0);
    assert_int_equal(r2.err, SB_EAGAIN);
}

static void test_exit_cancels(void **state)
{
    (void)state;
    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.resolv_conf = F.dead_resolv;
    worker_up(&cfg);
    struct sb_dns_result r;
    memset(&D, 0, sizeof(D));
    reentrant_calls = 0;
    assert_int_equal(sb_dns_resolve(SB_STR("a.example.test"), 0, 0, false, &r, on_done, &D),
                     SB_EAGAIN);
    assert_int_equal(
        sb_dns_resolve(SB_STR("b.example.test"), 5060, 0, false, &r, on_done_resolve_again, NULL),
        SB_EAGAIN);
    sb_loop_run_once(F.w.loop, 0);
    sb_dns_worker_exit(&F.w);
    assert_int_equal(D.calls, 1);
    assert_int_equal(D.res.err, SB_EAGAIN);
    assert_int_equal(reentrant_calls, 1);
}

/* ---- two workers and a cache being emptied under them ---------------------------------------- */

struct tw {
    pthread_t th;
    int bad, done, calls;
    struct sb_dns_result res;
};

static void tw_done(void *arg, const struct sb_dns_result *res)
{
    struct tw *t = arg;
    t->calls++;
    t->res = *res;
}

/* Not cmocka asserts: they must not jump across threads. */
static bool tw_check(struct tw *t, struct sb_loop *loop, const char *host, uint16_t port,
                     uint8_t proto, unsigned want_n, const char *want_ip0, uint16_t want_port0)
{
    t->calls = 0;
    int rc = sb_dns_resolve(sb_str_cstr(host), port, proto, false, &t->res, tw_done, t);
    if (rc == SB_EAGAIN) {
        uint64_t t0 = sb_now_ms();
        while (t->calls == 0 && sb_now_ms() - t0 < 5000)
            sb_loop_run_once(loop, 50);
        if (t->calls != 1)
            return false;
    } else if (rc != 0) {
        return false;
    }
    if (t->res.n != want_n)
        return false;
    if (want_n == 0)
        return t->res.err == SB_ENOENT;
    char ip[SB_IP_STRLEN];
    sb_addr_ip(&t->res.t[0].addr, ip);
    return t->res.err == 0 && strcmp(ip, want_ip0) == 0 &&
           sb_addr_port(&t->res.t[0].addr) == want_port0;
}

static void *tw_main(void *arg)
{
    struct tw *t = arg;
    struct sb_worker w = {.id = 1};
    w.loop = sb_loop_new();
    if (!w.loop || sb_dns_worker_start(&w) != 0) {
        t->bad++;
        return NULL;
    }
    sb_worker_self = &w;
    for (int i = 0; i < 40; i++) {
        t->bad += !tw_check(t, w.loop, "example.test", 0, SB_PROTO_UDP, 2, "127.0.0.2", 5070);
        t->bad += !tw_check(t, w.loop, "nap.example.test", 0, 0, 2, "127.0.0.4", 5090);
        t->bad += !tw_check(t, w.loop, "sip2.example.test", 5000, 0, 1, "127.0.0.3", 5000);
        t->bad += !tw_check(t, w.loop, "nope.example.test", 0, 0, 0, NULL, 0);
    }
    sb_dns_worker_exit(&w);
    sb_loop_free(w.loop);
    sb_worker_self = NULL;
    t->done = 1;
    return NULL;
}

static void test_two_workers(void **state)
{
    (void)state;
    NEED_DNSMASQ();
    struct tw t[2] = {0};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i].th, NULL, tw_main, &t[i]), 0);
    for (int i = 0; i < 30; i++) {
        usleep(2000);
        sb__dns_cache_clear();
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i].th, NULL);
        assert_int_equal(t[i].done, 1);
        assert_int_equal(t[i].bad, 0);
    }
}

static int dup_calls[2];
static void on_dup(void *arg, const struct sb_dns_result *res)
{
    int *c = arg;
    (*c)++;
    assert_int_equal(res->err, SB_EAGAIN);
}

/* Queries that arrived at the silent server since the last call. */
static int blackhole_count(void)
{
    unsigned char buf[600];
    int n = 0;
    struct pollfd p = {.fd = F.blackhole, .events = POLLIN};
    while (poll(&p, 1, 100) == 1 && recv(F.blackhole, buf, sizeof(buf), 0) > 0)
        n++;
    return n;
}

static void test_same_query_shared(void **state)
{
    (void)state;
    worker_down();
    struct sb_dns_cfg cfg = dns_cfg();
    cfg.resolv_conf = F.dead_resolv;
    cfg.retr_time = 5;
    cfg.retr_no = 1;
    worker_up(&cfg);
    blackhole_count();
    struct sb_dns_result r;
    dup_calls[0] = dup_calls[1] = 0;
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            sb_dns_resolve(SB_STR("dup.example.test"), 5060, 0, false, &r, on_dup, &dup_calls[i]),
            SB_EAGAIN);
    sb_loop_run_once(F.w.loop, 0);
    /* one A query on the wire for both requests */
    assert_int_equal(blackhole_count(), 1);
    sb_dns_worker_exit(&F.w);
    assert_int_equal(dup_calls[0], 1);
    assert_int_equal(dup_calls[1], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_and_missing_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_worker, setup, teardown),
        cmocka_unit_test(test_read_servers),
        cmocka_unit_test(test_srv_order),
        cmocka_unit_test(test_min_ttl),
        cmocka_unit_test_setup_teardown(test_srv_udp_and_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_srv_glue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_proto_srv_udp_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_naptr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secure_srv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_and_a_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nxdomain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_win_over_dns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_query_shared, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
