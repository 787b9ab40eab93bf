/* SPDX-License-Identifier: BSD-2-Clause */
/* event_datagram: JSON-RPC event notifications in UDP datagrams (udp:IP:PORT subscribers). The
 * sending itself is in the core's event interface (src/core/evi); loading this module allows that
 * kind of subscriber. */
#include "sb/evi.h"
#include "sb/mod-t.h"

static int ev_init(void)
{
    int rc = sb_evi_enable_socket(SB_EVI_SOCK_UDP);
    return rc ? rc : sb_evi_mi_register();
}

static void ev_destroy(void)
{
    sb_evi_shutdown();
}

const struct sb_module sb_module_event_datagram = {
    .name = "event_datagram",
    .summary = "JSON-RPC event notifications in UDP datagrams (udp:IP:PORT subscribers)",
    .init = ev_init,
    .destroy = ev_destroy,
};
