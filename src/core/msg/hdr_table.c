/* SPDX-License-Identifier: BSD-2-Clause */
/* Header names, compact forms, list/single rules and value parsers; method and transport names. */
#include "sb/base.h"
#include "sb/hdr.h"

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

static const struct {
    const char *name;
    uint32_t id;
} methods[] = {
    {"INVITE", SB_METHOD_INVITE},     {"ACK", SB_METHOD_ACK},
    {"BYE", SB_METHOD_BYE},           {"CANCEL", SB_METHOD_CANCEL},
    {"REGISTER", SB_METHOD_REGISTER}, {"OPTIONS", SB_METHOD_OPTIONS},
    {"INFO", SB_METHOD_INFO},         {"UPDATE", SB_METHOD_UPDATE},
    {"PRACK", SB_METHOD_PRACK},       {"SUBSCRIBE", SB_METHOD_SUBSCRIBE},
    {"NOTIFY", SB_METHOD_NOTIFY},     {"PUBLISH", SB_METHOD_PUBLISH},
    {"MESSAGE", SB_METHOD_MESSAGE},   {"REFER", SB_METHOD_REFER},
};

/* Name lookup: a perfect hash keyed by the length and three case-folded characters, built at
 * start-up from sb_hdr_info[]. It runs for every header of every message, so a lookup is one hash,
 * one table read and one compare, never a probe sequence. Names are compared a word at a time:
 * each known name is kept in lower case with a mask that has 0x20 under its letters (and 0 under
 * its '-'), so that (input | mask) == name is an exact case-insensitive compare. */
#define HT_BITS      10
#define HT_SIZE      (1u << HT_BITS)
#define NAME_MAX_LEN 24
static uint8_t ht[HT_SIZE]; /* header type, 0 = empty slot */
static uint32_t ht_seed;
static uint8_t compact_map[128];
static uint8_t name_len[SB_HDR__COUNT];
static char name_lc[SB_HDR__COUNT][NAME_MAX_LEN];
static char name_mask[SB_HDR__COUNT][NAME_MAX_LEN];

static inline uint32_t name_key(const char *p, size_t len)
{
    /* | 0x20 folds letters; other bytes fold consistently, which is all a hash needs. The middle
     * character tells apart the names that share length, first and last (Refer-To, Reply-To). */
    return ((uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[len - 1] << 8 |
            (uint32_t)(unsigned char)p[len / 2] << 16 | 0x00202020u) ^
           (uint32_t)len << 24;
}

static inline uint32_t name_slot(uint32_t key, uint32_t seed)
{
    return (key * seed) >> (32 - HT_BITS);
}

/* A multiplier under which no two known names share a slot: tried in a fixed order, so every
 * process picks the same one. */
static uint32_t find_seed(void)
{
    for (uint32_t seed = 0x9e3779b1u;; seed += 0x6a09e668u) {
        memset(ht, 0, sizeof(ht));
        bool ok = true;
        for (int t = 1; t < SB_HDR__COUNT && ok; t++) {
            uint32_t i = name_slot(name_key(name_lc[t], name_len[t]), seed | 1);
            ok = ht[i] == 0;
            ht[i] = (uint8_t)t;
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
        SB_BUG_ON(len < 2 || len >= NAME_MAX_LEN);
        name_len[t] = (uint8_t)len;
        for (size_t k = 0; k < len; k++) {
            bool alpha = sb_is_alpha((unsigned char)n[k]);
            SB_BUG_ON(!alpha && n[k] != '-'); /* the mask compare relies on it */
            name_lc[t][k] = (char)sb_lower((unsigned char)n[k]);
            name_mask[t][k] = alpha ? 0x20 : 0;
        }
        if (sb_hdr_info[t].compact) {
            compact_map[(unsigned char)sb_hdr_info[t].compact] = (uint8_t)t;
            compact_map[(unsigned char)sb_hdr_info[t].compact - 32] = (uint8_t)t;
        }
    }
    ht_seed = find_seed();
    /* sb_method_lookup() picks table rows by position */
    for (size_t i = 0; i < SB_ARRAY_LEN(methods); i++)
        SB_BUG_ON(sb_method_lookup(sb_str_cstr(methods[i].name)) != methods[i].id);
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Is <p> (<len> bytes, 2 <= len < NAME_MAX_LEN) the known name <t>, in any case? Whole words,
 * overlapping at the tail, never outside either string. */
static inline bool name_eq(const char *p, unsigned t, size_t len)
{
    const char *lc = name_lc[t], *mk = name_mask[t];
    uint64_t d;
    if (len >= 8) {
        size_t e = len - 8;
        d = (load8(p + e) | load8(mk + e)) ^ load8(lc + e);
        for (size_t k = 0; k < e; k += 8)
            d |= (load8(p + k) | load8(mk + k)) ^ load8(lc + k);
    } else if (len >= 4) {
        size_t e = len - 4;
        d = ((load4(p) | load4(mk)) ^ load4(lc)) | ((load4(p + e) | load4(mk + e)) ^ load4(lc + e));
    } else {
        d = (((unsigned char)p[0] | (unsigned char)mk[0]) ^ (unsigned char)lc[0]) |
            (((unsigned char)p[1] | (unsigned char)mk[1]) ^ (unsigned char)lc[1]) |
            (((unsigned char)p[len - 1] | (unsigned char)mk[len - 1]) ^ (unsigned char)lc[len - 1]);
    }
    return d == 0;
}

enum sb_hdr_type sb_hdr_lookup(sb_str name)
{
    if (name.len == 1)
        return (unsigned char)name.p[0] < 128 ? compact_map[(unsigned char)name.p[0]] : 0;
    if (name.len == 0 || name.len >= NAME_MAX_LEN)
        return SB_HDR_OTHER;
    unsigned t = ht[name_slot(name_key(name.p, name.len), ht_seed)];
    if (t && name_len[t] == name.len && name_eq(name.p, t, name.len))
        return (enum sb_hdr_type)t;
    return SB_HDR_OTHER;
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
    const char *lit = methods[k].name;
    if (strlen(lit) == name.len && memcmp(lit, name.p, name.len) == 0)
        return methods[k].id;
    return SB_METHOD_OTHER;
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
