/* SPDX-License-Identifier: BSD-2-Clause */
/* name-addr parser (placeholder). */
#include "sb/hdr.h"

int sb_nameaddr_parse(sb_str in, struct sb_nameaddr *out)
{
    (void)in;
    (void)out;
    return SB_EPARSE;
}
