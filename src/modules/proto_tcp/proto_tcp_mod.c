/* SPDX-License-Identifier: BSD-2-Clause */
/* proto_tcp: TCP is built into the core transport layer (framing, connection table, timeouts as
 * core parameters); this module exists so that OpenSIPS configurations load unchanged. */
#include "sb/log.h"
#include "sb/mod-t.h"

static struct {
    int tcp_port;
    int tcp_send_timeout;
    int tcp_max_msg_chunks;
    int tcp_crlf_pingpong;
    int tcp_crlf_drop;
    int tcp_async;
    int tcp_async_max_postponed_chunks;
    int tcp_async_local_connect_timeout;
    int tcp_async_local_write_timeout;
    int trace_on;
    char *trace_destination;
    char *trace_filter_route;
} conf = {
    .tcp_port = 5060,
    .tcp_send_timeout = 100,
    .tcp_max_msg_chunks = 32,
    .tcp_crlf_pingpong = 1,
    .tcp_crlf_drop = 0,
    .tcp_async = 1,
    .tcp_async_max_postponed_chunks = 32,
    .tcp_async_local_connect_timeout = 100,
    .tcp_async_local_write_timeout = 10,
};

/* The defaults above, to tell which parameters a configuration changed. */
static const typeof(conf) defaults = {
    .tcp_port = 5060,
    .tcp_send_timeout = 100,
    .tcp_max_msg_chunks = 32,
    .tcp_crlf_pingpong = 1,
    .tcp_crlf_drop = 0,
    .tcp_async = 1,
    .tcp_async_max_postponed_chunks = 32,
    .tcp_async_local_connect_timeout = 100,
    .tcp_async_local_write_timeout = 10,
};

#define P_INT(n)                                                                                   \
    {                                                                                              \
        .name = #n, .type = SB_MP_INT, .offset = offsetof(typeof(conf), n)                         \
    }
#define P_STR(n)                                                                                   \
    {                                                                                              \
        .name = #n, .type = SB_MP_STR, .offset = offsetof(typeof(conf), n)                         \
    }

static const struct sb_mod_param params[] = {
    P_INT(tcp_port),
    P_INT(tcp_send_timeout),
    P_INT(tcp_max_msg_chunks),
    P_INT(tcp_crlf_pingpong),
    P_INT(tcp_crlf_drop),
    P_INT(tcp_async),
    P_INT(tcp_async_max_postponed_chunks),
    P_INT(tcp_async_local_connect_timeout),
    P_INT(tcp_async_local_write_timeout),
    P_INT(trace_on),
    P_STR(trace_destination),
    P_STR(trace_filter_route),
    {.name = NULL},
};

static void ignored(const char *name, bool changed)
{
    if (changed)
        SB_LOG(SB_LOG_NOTICE, "proto_tcp: modparam %s accepted and ignored", name);
}

static int mod_init(void)
{
#define CHK(n) ignored(#n, conf.n != defaults.n)
    CHK(tcp_port);
    CHK(tcp_send_timeout);
    CHK(tcp_max_msg_chunks);
    CHK(tcp_crlf_pingpong);
    CHK(tcp_crlf_drop);
    CHK(tcp_async);
    CHK(tcp_async_max_postponed_chunks);
    CHK(tcp_async_local_connect_timeout);
    CHK(tcp_async_local_write_timeout);
    CHK(trace_on);
#undef CHK
    ignored("trace_destination", conf.trace_destination != NULL);
    ignored("trace_filter_route", conf.trace_filter_route != NULL);
    return 0;
}

const struct sb_module sb_module_proto_tcp = {
    .name = "proto_tcp",
    .summary = "TCP transport (built in; OpenSIPS configuration compatibility)",
    .conf = &conf,
    .params = params,
    .init = mod_init,
};
