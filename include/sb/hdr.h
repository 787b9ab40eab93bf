/* SPDX-License-Identifier: BSD-2-Clause */
/* Header names and the per-header value parsers. Every parser is pure: it reads one header value
 * (already LWS-trimmed and unfolded, one element of a comma list) and fills a caller struct whose
 * views borrow from the input. No allocation; any thread. Returns 0 or SB_EPARSE. */
#ifndef SB_HDR_H
#define SB_HDR_H

#include "sb/hdr-t.h"

enum {
    SB_HDRI_LIST = 1 << 0,     /* a comma-separated list: the index splits it into values */
    SB_HDRI_SINGLE = 1 << 1,   /* at most one per message (a repeat is a parse error) */
    SB_HDRI_SETS_ALL = 1 << 2, /* the parser writes every field of its output when it succeeds,
                                  so the output needs no zeroing first */
};

typedef int (*sb_hdr_parse_fn)(sb_str in, void *out);

struct sb_hdr_info {
    const char *name;      /* canonical name */
    char compact;          /* compact form letter, 0 when none */
    uint8_t flags;         /* SB_HDRI_* */
    uint16_t parsed_size;  /* sizeof the parsed struct, 0 when no parser */
    sb_hdr_parse_fn parse; /* NULL when the value is kept raw */
};

extern const struct sb_hdr_info sb_hdr_info[SB_HDR__COUNT];

/* Map a header name (any case, compact forms included) to its type; SB_HDR_OTHER when unknown. */
enum sb_hdr_type sb_hdr_lookup(sb_str name);

/* Map a method name to enum sb_method (case-sensitive, RFC 3261 §7.1); SB_METHOD_OTHER for an
 * extension method. */
uint32_t sb_method_lookup(sb_str name);
/* Canonical name of a single method flag, NULL for SB_METHOD_OTHER. */
const char *sb_method_name(uint32_t method_id);

/* Map a transport token to enum sb_proto (case-insensitive). */
uint8_t sb_proto_lookup(sb_str name);

/* Via: one via-parm. RFC 3261 §20.42, §18.2.2; RFC 3581 rport; IPv6 per RFC 5118. */
int sb_via_parse(sb_str in, struct sb_via *out);

/* name-addr or addr-spec followed by header params; "*" gives is_star (for Contact). RFC 3261
 * §20.10, §20.20, §25.1: in the addr-spec form, ';' starts header params, not URI params. */
int sb_nameaddr_parse(sb_str in, struct sb_nameaddr *out);

/* CSeq: 32-bit number LWS method. */
int sb_cseq_parse(sb_str in, struct sb_cseq *out);

/* Call-ID: word ["@" word]. <out> is the validated value. */
int sb_callid_parse(sb_str in, sb_str *out);

/* A header made of one non-negative 32-bit decimal number (Content-Length, Expires ...). */
int sb_num_parse(sb_str in, struct sb_hdr_num *out);
/* Max-Forwards: 0..255 per RFC 3261 §20.22 (1*DIGIT; values above 255 are refused). */
int sb_maxfwd_parse(sb_str in, struct sb_hdr_num *out);

/* One token of a comma list (Supported, Require, Allow ...). */
int sb_token_parse(sb_str in, struct sb_hdr_token *out);

/* Content-Type: type "/" subtype *(";" param). */
int sb_ctype_parse(sb_str in, struct sb_ctype *out);

/* Event (RFC 6665): event-type *(";" param), id= extracted. */
int sb_event_parse(sb_str in, struct sb_event *out);

/* Session-Expires (RFC 4028): delta-seconds *(";" param), refresher= extracted. */
int sb_session_expires_parse(sb_str in, struct sb_session_expires *out);

/* Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate: auth-scheme
 * followed by comma-separated auth-params (RFC 3261 §25.1, RFC 7616, RFC 8760). */
int sb_digest_parse(sb_str in, struct sb_digest *out);

#endif
