/* SPDX-License-Identifier: BSD-2-Clause */
/* Via parser (placeholder). */
#include "sb/hdr.h"

int sb_via_parse(sb_str in, struct sb_via *out)
{
    (void)in;
    (void)out;
    return SB_EPARSE;
}
