/* SPDX-License-Identifier: BSD-2-Clause */
/* Small header parsers (placeholder). */
#include "sb/hdr.h"

#define STUB(fn, type)                                                                             \
    int fn(sb_str in, type *out)                                                                   \
    {                                                                                              \
        (void)in;                                                                                  \
        (void)out;                                                                                 \
        return SB_EPARSE;                                                                          \
    }
STUB(sb_cseq_parse, struct sb_cseq)
STUB(sb_callid_parse, sb_str)
STUB(sb_num_parse, struct sb_hdr_num)
STUB(sb_maxfwd_parse, struct sb_hdr_num)
STUB(sb_token_parse, struct sb_hdr_token)
STUB(sb_ctype_parse, struct sb_ctype)
STUB(sb_event_parse, struct sb_event)
STUB(sb_session_expires_parse, struct sb_session_expires)
