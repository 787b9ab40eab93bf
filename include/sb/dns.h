/* SPDX-License-Identifier: BSD-2-Clause */
/* Asynchronous DNS for SIP (RFC 3263: NAPTR -> SRV -> A/AAAA) with c-ares on each worker's loop,
 * a TTL cache shared by the workers, /etc/hosts honoured, and failover through the target list. */
#ifndef SB_DNS_H
#define SB_DNS_H

#include "sb/net.h"

struct sb_worker;

#define SB_DNS_MAX_TARGETS 16

struct sb_dns_target {
    uint8_t proto;      /* enum sb_proto */
    struct sb_addr addr;
};

/* Every target in the order RFC 3263 gives (NAPTR order/preference, SRV priority and weight,
 * then the addresses of each host); a caller fails over by moving to the next one. */
struct sb_dns_result {
    int err;            /* 0, SB_ENOENT (no such name / no record), SB_EAGAIN (timed out) */
    unsigned n;
    struct sb_dns_target t[SB_DNS_MAX_TARGETS];
};

typedef void (*sb_dns_cb)(void *arg, const struct sb_dns_result *res);

/* Resolve <host> for SIP. <port> 0 allows SRV; <proto> 0 allows NAPTR (else SRV for that
 * transport); <secure> asks for sips (TLS). A literal IP, a hosts-file entry or a cached answer
 * completes at once: returns 0 with *res filled and <cb> is not called. Otherwise the query
 * starts on the calling worker's loop and returns SB_EAGAIN; <cb>(arg, res) runs later on the
 * same worker, exactly once (also on timeout and at shutdown, with res->err set). < 0 on other
 * errors. Worker thread (or any thread for the synchronous cases). */
int sb_dns_resolve(sb_str host, uint16_t port, uint8_t proto, bool secure,
                   struct sb_dns_result *res, sb_dns_cb cb, void *arg);

/* Start-up: resolver configuration. <resolv_conf> and <hosts> may be NULL for the system files
 * (tests pass their own). Control thread, before workers start. */
struct sb_dns_cfg {
    const char *resolv_conf;
    const char *hosts;
    bool try_ipv6;      /* dns_try_ipv6 */
    bool try_naptr;     /* dns_try_naptr */
    int retr_time;      /* dns_retr_time, seconds */
    int retr_no;        /* dns_retr_no */
};
int sb_dns_init(const struct sb_dns_cfg *cfg);
int sb_dns_worker_start(struct sb_worker *w);
void sb_dns_worker_exit(struct sb_worker *w);
void sb_dns_destroy(void);

#endif
