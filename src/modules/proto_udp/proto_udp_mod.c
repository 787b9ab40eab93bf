/* SPDX-License-Identifier: BSD-2-Clause */
/* proto_udp: UDP is built into the core transport layer; this module exists so that OpenSIPS
 * configurations (loadmodule "proto_udp.so", its modparams) load unchanged. */
#include "sb/log.h"
#include "sb/mod-t.h"

static struct {
    int udp_port;
    int trace_on;
    char *trace_destination;
    char *trace_filter_route;
} conf = {
    .udp_port = 5060,
};

static int set_port(const struct sb_val *v, const char **err)
{
    if (v->i < 1 || v->i > 65535) {
        *err = "udp_port must be 1..65535";
        return -1;
    }
    conf.udp_port = v->i;
    return 0;
}

static const struct sb_mod_param params[] = {
    {.name = "udp_port", .type = SB_MP_FUNC, .accepts = 1 << SB_VAL_INT, .set = set_port},
    {.name = "trace_destination",
     .type = SB_MP_STR,
     .offset = offsetof(typeof(conf), trace_destination)},
    {.name = "trace_on", .type = SB_MP_INT, .offset = offsetof(typeof(conf), trace_on)},
    {.name = "trace_filter_route",
     .type = SB_MP_STR,
     .offset = offsetof(typeof(conf), trace_filter_route)},
    {.name = NULL},
};

static int mod_init(void)
{
    /* Listeners without a port take the core's default; the modparam is kept for configs that set
     * it to the same value and logged when it asks for something else. */
    if (conf.udp_port != 5060)
        SB_LOG(SB_LOG_NOTICE,
               "proto_udp: udp_port=%d ignored: give the port in socket= (default 5060)",
               conf.udp_port);
    if (conf.trace_destination || conf.trace_on || conf.trace_filter_route)
        SB_LOG(SB_LOG_NOTICE,
               "proto_udp: trace_destination/trace_on/trace_filter_route ignored: tracing is not "
               "available for this transport");
    return 0;
}

const struct sb_module sb_module_proto_udp = {
    .name = "proto_udp",
    .summary = "UDP transport (built in; OpenSIPS configuration compatibility)",
    .conf = &conf,
    .params = params,
    .init = mod_init,
};
