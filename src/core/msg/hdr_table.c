/* SPDX-License-Identifier: BSD-2-Clause */
/* Header names, compact forms, list/single rules and value parsers; method and transport names. */
#include "sb/base.h"
#include "sb/hdr.h"

#include "msg_scan.h"

/* clang-format off */
#define P(fn, type) .parse = (sb_hdr_parse_fn)(fn), .parsed_size = sizeof(type)
#define NA P(sb_nameaddr_parse, struct sb_nameaddr)
#define TOK P(sb_token_parse, struct sb_hdr_token)
#define NUM P(sb_num_parse, struct sb_hdr_num)
#define L SB_HDRI_LIST
#define S1 SB_HDRI_SINGLE
#define ALL SB_HDRI_SETS_ALL

/* RFC3261-7.3.3 and the IANA registry for compact forms. */
const struct sb_hdr_info sb_hdr_info[SB_HDR__COUNT] = {
    [SB_HDR_OTHER] = {.name = ""},
    [SB_HDR_VIA] = {.name = "Via", .compact = 'v', .flags = L | ALL,
                    P(sb_via_parse, struct sb_via)},
    [SB_HDR_FROM] = {.name = "From", .compact = 'f', .flags = S1 | ALL, NA},
    [SB_HDR_TO] = {.name = "To", .compact = 't', .flags = S1 | ALL, NA},
    [SB_HDR_CALL_ID] = {.name = "Call-ID", .compact = 'i', .flags = S1 | ALL,
                        P(sb_callid_parse, sb_str)},
    [SB_HDR_CSEQ] = {.name = "CSeq", .flags = S1 | ALL, P(sb_cseq_parse, struct sb_cseq)},
    [SB_HDR_CONTACT] = {.name = "Contact", .compact = 'm', .flags = L | ALL, NA},
    [SB_HDR_MAX_FORWARDS] = {.name = "Max-Forwards", .flags = S1,
                             P(sb_maxfwd_parse, struct sb_hdr_num)},
    [SB_HDR_ROUTE] = {.name = "Route", .flags = L | ALL, NA},
    [SB_HDR_RECORD_ROUTE] = {.name = "Record-Route", .flags = L | ALL, NA},
    [SB_HDR_CONTENT_LENGTH] = {.name = "Content-Length", .compact = 'l', .flags = S1, NUM},
    [SB_HDR_CONTENT_TYPE] = {.name = "Content-Type", .compact = 'c', .flags = S1,
                             P(sb_ctype_parse, struct sb_ctype)},
    [SB_HDR_EXPIRES] = {.name = "Expires", NUM},
    [SB_HDR_MIN_EXPIRES] = {.name = "Min-Expires", NUM},
    [SB_HDR_AUTHORIZATION] = {.name = "Authorization", P(sb_digest_parse, struct sb_digest)},
    [SB_HDR_PROXY_AUTHORIZATION] = {.name = "Proxy-Authorization",
                                    P(sb_digest_parse, struct sb_digest)},
    [SB_HDR_WWW_AUTHENTICATE] = {.name = "WWW-Authenticate", P(sb_digest_parse, struct sb_digest)},
    [SB_HDR_PROXY_AUTHENTICATE] = {.name = "Proxy-Authenticate",
                                   P(sb_digest_parse, struct sb_digest)},
    [SB_HDR_EVENT] = {.name = "Event", .compact = 'o', P(sb_event_parse, struct sb_event)},
    [SB_HDR_SUPPORTED] = {.name = "Supported", .compact = 'k', .flags = L, TOK},
    [SB_HDR_REQUIRE] = {.name = "Require", .flags = L, TOK},
    [SB_HDR_PROXY_REQUIRE] = {.name = "Proxy-Require", .flags = L, TOK},
    [SB_HDR_UNSUPPORTED] = {.name = "Unsupported", .flags = L, TOK},
    [SB_HDR_ALLOW] = {.name = "Allow", .flags = L, TOK},
    [SB_HDR_SESSION_EXPIRES] = {.name = "Session-Expires", .compact = 'x',
                                P(sb_session_expires_parse, struct sb_session_expires)},
    [SB_HDR_MIN_SE] = {.name = "Min-SE"},
    [SB_HDR_REPLY_TO] = {.name = "Reply-To", NA},
    [SB_HDR_PATH] = {.name = "Path", .flags = L, NA},
    [SB_HDR_P_ASSERTED_IDENTITY] = {.name = "P-Asserted-Identity", .flags = L, NA},
    [SB_HDR_P_PREFERRED_IDENTITY] = {.name = "P-Preferred-Identity", .flags = L, NA},
    [SB_HDR_REFER_TO] = {.name = "Refer-To", .compact = 'r', NA},
    [SB_HDR_REFERRED_BY] = {.name = "Referred-By", .compact = 'b', NA},
    [SB_HDR_CONTENT_ENCODING] = {.name = "Content-Encoding", .compact = 'e', .flags = L, TOK},
    [SB_HDR_CONTENT_LANGUAGE] = {.name = "Content-Language", .flags = L, TOK},
    [SB_HDR_CONTENT_DISPOSITION] = {.name = "Content-Disposition"},
    [SB_HDR_ACCEPT] = {.name = "Accept", .flags = L},
    [SB_HDR_ACCEPT_ENCODING] = {.name = "Accept-Encoding", .flags = L},
    [SB_HDR_ACCEPT_LANGUAGE] = {.name = "Accept-Language", .flags = L},
    [SB_HDR_ALLOW_EVENTS] = {.name = "Allow-Events", .compact = 'u', .flags = L, TOK},
    [SB_HDR_SUBSCRIPTION_STATE] = {.name = "Subscription-State"},
    [SB_HDR_SUBJECT] = {.name = "Subject", .compact = 's'},
    [SB_HDR_USER_AGENT] = {.name = "User-Agent"},
    [SB_HDR_SERVER] = {.name = "Server"},
    [SB_HDR_DATE] = {.name = "Date"},
    [SB_HDR_ORGANIZATION] = {.name = "Organization"},
    [SB_HDR_PRIORITY] = {.name = "Priority"},
    [SB_HDR_RACK] = {.name = "RAck"},
    [SB_HDR_RSEQ] = {.name = "RSeq", NUM},
    [SB_HDR_REASON] = {.name = "Reason", .flags = L},
    [SB_HDR_SIP_ETAG] = {.name = "SIP-ETag"},
    [SB_HDR_SIP_IF_MATCH] = {.name = "SIP-If-Match"},
    [SB_HDR_IDENTITY] = {.name = "Identity", .compact = 'y'},
    [SB_HDR_DIVERSION] = {.name = "Diversion", .flags = L},
    [SB_HDR_WARNING] = {.name = "Warning", .flags = L},
    [SB_HDR_RETRY_AFTER] = {.name = "Retry-After"},
    [SB_HDR_AUTHENTICATION_INFO] = {.name = "Authentication-Info"},
    [SB_HDR_CALL_INFO] = {.name = "Call-Info", .flags = L},
    [SB_HDR_ALERT_INFO] = {.name = "Alert-Info", .flags = L},
    [SB_HDR_ERROR_INFO] = {.name = "Error-Info", .flags = L},
    [SB_HDR_IN_REPLY_TO] = {.name = "In-Reply-To", .flags = L},
    [SB_HDR_MIME_VERSION] = {.name = "MIME-Version"},
    [SB_HDR_TIMESTAMP] = {.name = "Timestamp"},
    [SB_HDR_ACCEPT_CONTACT] = {.name = "Accept-Contact", .compact = 'a', .flags = L},
    [SB_HDR_REJECT_CONTACT] = {.name = "Reject-Contact", .compact = 'j', .flags = L},
    [SB_HDR_REQUEST_DISPOSITION] = {.name = "Request-Disposition", .compact = 'd', .flags = L},
    [SB_HDR_PRIVACY] = {.name = "Privacy"},
};
/* clang-format on */

/* clang-format off */
#define M(lit, id) {lit, sizeof(lit) - 1, id}
/* clang-format on */
static const struct {
    const char *name;
    size_t len;
    uint32_t id;
} methods[] = {
    M("INVITE", SB_METHOD_INVITE),     M("ACK", SB_METHOD_ACK),
    M("BYE", SB_METHOD_BYE),           M("CANCEL", SB_METHOD_CANCEL),
    M("REGISTER", SB_METHOD_REGISTER), M("OPTIONS", SB_METHOD_OPTIONS),
    M("INFO", SB_METHOD_INFO),         M("UPDATE", SB_METHOD_UPDATE),
    M("PRACK", SB_METHOD_PRACK),       M("SUBSCRIBE", SB_METHOD_SUBSCRIBE),
    M("NOTIFY", SB_METHOD_NOTIFY),     M("PUBLISH", SB_METHOD_PUBLISH),
    M("MESSAGE", SB_METHOD_MESSAGE),   M("REFER", SB_METHOD_REFER),
};
#undef M

/* Name lookup: a perfect hash keyed by the length and three case-folded characters, built at
 * start-up from sb_hdr_info[]. It runs for every header of every message, so a lookup is one hash,
 * one table read and one compare, never a probe sequence. Names are compared a word at a time:
 * each known name is kept in lower case with a mask that has 0x20 under its letters (and 0 under
 * its '-'), so that (input | mask) == name is an exact case-insensitive compare. */
uint8_t sb__hdr_ht[SB__HDR_HT_SIZE]; /* header type, 0 = empty slot */
uint32_t sb__hdr_ht_seed;
uint8_t sb__hdr_compact[128];
uint8_t sb__hdr_name_len[SB_HDR__COUNT];
char sb__hdr_name_lc[SB_HDR__COUNT][SB__HDR_NAME_MAX];
char sb__hdr_name_mask[SB_HDR__COUNT][SB__HDR_NAME_MAX];

/* A multiplier under which no two known names share a slot: tried in a fixed order, so every
 * process picks the same one. */
static uint32_t find_seed(void)
{
    for (uint32_t seed = 0x9e3779b1u;; seed += 0x6a09e668u) {
        memset(sb__hdr_ht, 0, sizeof(sb__hdr_ht));
        bool ok = true;
        for (int t = 1; t < SB_HDR__COUNT && ok; t++) {
            uint32_t i =
                sb__hdr_slot(sb__hdr_key(sb__hdr_name_lc[t], sb__hdr_name_len[t]), seed | 1);
            ok = sb__hdr_ht[i] == 0;
            sb__hdr_ht[i] = (uint8_t)t;
        }
        if (ok)
            return seed | 1;
    }
}

__attribute__((constructor)) static void hdr_table_build(void)
{
    for (int t = 1; t < SB_HDR__COUNT; t++) {
        const char *n = sb_hdr_info[t].name;
        size_t len = strlen(n);
        SB_BUG_ON(len < 2 || len >= SB__HDR_NAME_MAX);
        sb__hdr_name_len[t] = (uint8_t)len;
        for (size_t k = 0; k < len; k++) {
            bool alpha = sb_is_alpha((unsigned char)n[k]);
            SB_BUG_ON(!alpha && n[k] != '-'); /* the mask compare relies on it */
            sb__hdr_name_lc[t][k] = (char)sb_lower((unsigned char)n[k]);
            sb__hdr_name_mask[t][k] = alpha ? 0x20 : 0;
        }
        if (sb_hdr_info[t].compact) {
            sb__hdr_compact[(unsigned char)sb_hdr_info[t].compact] = (uint8_t)t;
            sb__hdr_compact[(unsigned char)sb_hdr_info[t].compact - 32] = (uint8_t)t;
        }
    }
    sb__hdr_ht_seed = find_seed();
    /* sb_method_lookup() picks table rows by position */
    for (size_t i = 0; i < SB_ARRAY_LEN(methods); i++)
        SB_BUG_ON(sb_method_lookup(sb_str_cstr(methods[i].name)) != methods[i].id);
}

enum sb_hdr_type sb_hdr_lookup(sb_str name)
{
    return sb__hdr_lookup(name.p, name.len);
}

uint32_t sb_method_lookup(sb_str name)
{
    /* RFC3261-7.1: method names are case-sensitive. Length and first letter pick the only
     * candidate, so one compare settles it: this runs for every request and every CSeq. */
    if (name.len < 3 || name.len > 9)
        return SB_METHOD_OTHER;
    size_t k;
    switch (name.p[0]) {
    case 'I': k = name.len == 6 ? 0 : 6; break;
    case 'A': k = 1; break;
    case 'B': k = 2; break;
    case 'C': k = 3; break;
    case 'R': k = name.len == 8 ? 4 : 13; break;
    case 'O': k = 5; break;
    case 'U': k = 7; break;
    case 'P': k = name.len == 5 ? 8 : 11; break;
    case 'S': k = 9; break;
    case 'N': k = 10; break;
    case 'M': k = 12; break;
    default: return SB_METHOD_OTHER;
    }
    /* whole words, overlapping at the tail, never outside either string (3 <= len <= 9) */
    const char *lit = methods[k].name, *p = name.p;
    size_t len = name.len;
    if (methods[k].len != len)
        return SB_METHOD_OTHER;
    bool eq;
    if (len >= 8)
        eq = sb__load8(p) == sb__load8(lit) && sb__load8(p + len - 8) == sb__load8(lit + len - 8);
    else if (len >= 4)
        eq = sb__load4(p) == sb__load4(lit) && sb__load4(p + len - 4) == sb__load4(lit + len - 4);
    else
        eq = p[0] == lit[0] && p[1] == lit[1] && p[2] == lit[2];
    return eq ? methods[k].id : SB_METHOD_OTHER;
}

const char *sb_method_name(uint32_t id)
{
    for (size_t i = 0; i < SB_ARRAY_LEN(methods); i++)
        if (methods[i].id == id)
            return methods[i].name;
    return NULL;
}

uint8_t sb_proto_lookup(sb_str name)
{
    /* Every name is two to four letters: OR-ing 0x20 into each byte maps only the two cases of a
     * letter onto its lower case, so one word compare per name is a case-insensitive compare. */
#define W(a, b, c, d)                                                                              \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
    if (name.len < 2 || name.len > 4)
        return SB_PROTO_OTHER;
    uint32_t key = 0;
    for (size_t k = 0; k < name.len; k++)
        key |= ((uint32_t)(unsigned char)name.p[k] | 0x20u) << (8 * k);
    switch (key) {
    case W('u', 'd', 'p', 0): return SB_PROTO_UDP;
    case W('t', 'c', 'p', 0): return SB_PROTO_TCP;
    case W('t', 'l', 's', 0): return SB_PROTO_TLS;
    case W('s', 'c', 't', 'p'): return SB_PROTO_SCTP;
    case W('w', 's', 0, 0): return SB_PROTO_WS;
    case W('w', 's', 's', 0): return SB_PROTO_WSS;
    default: return SB_PROTO_OTHER;
    }
#undef W
}
