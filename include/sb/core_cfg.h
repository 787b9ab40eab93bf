/* SPDX-License-Identifier: BSD-2-Clause */
/* Core (global) parameters of a configuration: socket=, log_level=, udp_workers= ... */
#ifndef SB_CORE_CFG_H
#define SB_CORE_CFG_H

#include "sb/arena.h"
#include "sb/diag.h"
#include "sb/script-t.h"

/* A listener from socket= / listen= / -l: proto:host[:port] [as host[:port]]. */
struct sb_listen {
    struct sb_listen *next;
    uint8_t proto;        /* enum sb_proto (SB_PROTO_UDP ...) */
    uint16_t port;        /* 0: the protocol's default (5060, 5061 for TLS/WSS) */
    const char *host;     /* address, interface name or "*"; IPv6 without brackets */
    const char *adv_host; /* "as" address, NULL when none */
    uint16_t adv_port;
    const char *text; /* as written, for logs */
};

struct sb_core_cfg {
    int log_level; /* -3..4, default 2 (notice) */
    int xlog_level;
    int udp_workers; /* "children" is an alias; default: number of cores (0 here) */
    int tcp_workers;
    int timer_workers;
    bool stderror_enabled;
    bool syslog_enabled;
    const char *stderror_log_format; /* plain_text | json */
    const char *syslog_facility;
    const char *syslog_name;
    const char *log_prefix;
    bool debug_mode;
    const char *advertised_address;
    int advertised_port;
    struct sb_listen *listeners;
    const char **aliases;
    unsigned n_aliases;
    bool auto_aliases;
    int max_while_loops;            /* default 10000 */
    int maxbuffer;                  /* UDP receive buffer bytes */
    int tcp_connection_lifetime;    /* seconds, default 120 */
    int tcp_connect_timeout;        /* ms, default 100 */
    int tcp_max_connections;        /* default 2048 */
    int tcp_max_msg_time;           /* seconds to receive one message, default 4 */
    int tcp_max_connections_per_ip; /* accepted, all workers together; default 64, 0 = off */
    int tcp_first_msg_timeout; /* seconds from accept to the first message, default 10, 0 = off */
    int tcp_max_output;        /* bytes queued for output per worker, default 64 MiB, 0 = off */
    int tcp_drain_timeout;     /* seconds an output queue may stall, default 10, 0 = off */
    bool tcp_accept_aliases;
    int tcp_no_new_conn_bflag; /* branch flag bit 0..31; -1: not set */
    int tcp_keepalive;
    bool udp_reply_steering; /* replies to their transaction's worker in the kernel; default on */
    bool check_via;
    const char *server_header; /* default "Server: Switchboard" */
    const char *user_agent_header;
    bool server_signature;
    bool dns_try_ipv6;
    bool dns_try_naptr;
    int dns_retr_time;
    int dns_retr_no;
    bool disable_dns_failover;
    bool disable_dns_blacklist;
    bool enable_asserts;
    bool abort_on_assert;
    const char *db_default_url;
    int exec_msg_threshold; /* microseconds, 0 = off */
    int exec_dns_threshold;
    bool mhomed;
    int tos;
    int open_files_limit;
    const char *wdir;
    const char *chroot;
    const char *mpath;
};

void sb_core_cfg_defaults(struct sb_core_cfg *c);
/* Apply global parameter <name> = <v>. Unknown names and type mismatches are reported at
 * file:line:col. Strings are copied into <a>. */
int sb_core_cfg_set(struct sb_core_cfg *c, struct sb_arena *a, sb_str name, const struct sb_val *v,
                    struct sb_diag *d, const char *file, uint32_t line, uint32_t col);
/* Parse "udp:127.0.0.1:5060 as 192.0.2.1:5060" (also "udp:[::1]:5060", "tcp:eth0", "127.0.0.1"
 * meaning UDP). On error returns < 0 with *err set to a static reason. */
int sb_listen_parse(sb_str spec, struct sb_listen *out, struct sb_arena *a, const char **err);

#endif
