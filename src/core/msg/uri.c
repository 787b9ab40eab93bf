/* SPDX-License-Identifier: BSD-2-Clause */
/* URI parsing (placeholder until the parser lands). */
#include "sb/uri.h"

int sb_uri_parse(sb_str in, struct sb_uri *out)
{
    (void)in;
    (void)out;
    return SB_EPARSE;
}
int sb_uri_cmp(const struct sb_uri *a, const struct sb_uri *b)
{
    (void)a;
    (void)b;
    return 1;
}
long sb_uri_unescape(sb_str in, char *out)
{
    (void)in;
    (void)out;
    return SB_EPARSE;
}
