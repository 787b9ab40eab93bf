/* SPDX-License-Identifier: BSD-2-Clause */
/* Asynchronous DNS for SIP (RFC 3263: NAPTR -> SRV -> A/AAAA) with c-ares on each worker's loop,
 * a TTL cache shared by the workers, /etc/hosts honoured, and failover through the target list. */
#ifndef SB_DNS_H
#define SB_DNS_H

#include "sb/net.h"

struct sb_worker;

#define SB_DNS_MAX_TARGETS 16

struct sb_dns_target {
    uint8_t proto; /* enum sb_proto */
    struct sb_addr addr;
};

/* Every target in the order RFC 3263 gives (NAPTR order/preference, SRV priority and weight,
 * then the addresses of each host); a caller fails over by moving to the next one. */
struct sb_dns_result {
    /* 0, SB_ENOENT (no such name / no record), SB_EAGAIN (no answer: timed out, server failure,
     * or cancelled at worker exit) */
    int err;
    unsigned n;
    struct sb_dns_target t[SB_DNS_MAX_TARGETS];
};

typedef void (*sb_dns_cb)(void *arg, const struct sb_dns_result *res);

/* Resolve <host> for SIP (RFC 3263 §4). <port> 0 allows SRV; <proto> 0 allows NAPTR (else SRV for
 * that transport); <secure> asks for sips (TLS; implied by SB_PROTO_TLS). A literal IP, a
 * hosts-file entry or a fully cached answer (negative ones included) completes at once: returns 0
 * with *res filled (res->err may be SB_ENOENT) and <cb> is not called. Otherwise the queries start
 * on the calling worker's loop and it returns SB_EAGAIN; <cb>(arg, res) runs later on the same
 * worker, exactly once (also on timeout and when the worker exits, then with res->err =
 * SB_EAGAIN). <cb> may be NULL to only warm the cache. Returns SB_EINVAL for an empty or over-long
 * name, and when the answer needs the network but the caller is not a worker (sb_worker_self
 * NULL). Any thread for the synchronous cases; a worker thread otherwise. */
int sb_dns_resolve(sb_str host, uint16_t port, uint8_t proto, bool secure,
                   struct sb_dns_result *res, sb_dns_cb cb, void *arg);

/* Start-up: resolver configuration. <resolv_conf> (only its nameserver lines: "IP", "IP:port",
 * "[IPv6]:port") and <hosts> may be NULL: then the environment variables SB_DNS_RESOLV_CONF and
 * SB_DNS_HOSTS, else the system files. <cfg> NULL: system files, NAPTR on, IPv6 off. Control
 * thread, before workers start; calling it again (tests) resets the cache and the hosts table.
 * sb_dns_worker_start/exit run on the worker thread, before its loop runs and before the loop is
 * freed; exit answers every pending request (SB_EAGAIN). */
struct sb_dns_cfg {
    const char *resolv_conf;
    const char *hosts;
    bool try_ipv6;  /* dns_try_ipv6 */
    bool try_naptr; /* dns_try_naptr */
    int retr_time;  /* dns_retr_time, seconds per try; <= 0: the resolver default */
    int retr_no;    /* dns_retr_no, tries per server; <= 0: the resolver default */
};
int sb_dns_init(const struct sb_dns_cfg *cfg);
int sb_dns_worker_start(struct sb_worker *w);
void sb_dns_worker_exit(struct sb_worker *w);
void sb_dns_destroy(void);

#endif
