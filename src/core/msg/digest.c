/* SPDX-License-Identifier: BSD-2-Clause */
/* Digest credentials and challenges (placeholder). */
#include "sb/hdr.h"

int sb_digest_parse(sb_str in, struct sb_digest *out)
{
    (void)in;
    (void)out;
    return SB_EPARSE;
}
