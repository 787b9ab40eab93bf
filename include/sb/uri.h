/* SPDX-License-Identifier: BSD-2-Clause */
/* URI parsing (RFC 3261 §19.1, RFC 3966), comparison (RFC 3261 §19.1.4) and parameter lists. */
#ifndef SB_URI_H
#define SB_URI_H

#include "sb/uri-t.h"

/* Parse <in> (the URI alone, no LWS around it). sip/sips/tel are fully parsed; any other
 * RFC 3986 absolute URI (scheme ":" something) is accepted opaque. Returns 0 or SB_EPARSE.
 * <out> borrows from <in>. Pure: no allocation, any thread. */
int sb_uri_parse(sb_str in, struct sb_uri *out);

/* RFC3261-19.1.4 equivalence of two parsed URIs: 0 when equal, non-zero otherwise. Handles
 * %-escapes, case rules per component, the user/ttl/method/maddr/transport parameter rules and
 * header comparison. tel URIs compare per RFC 3966 §4; SB_URI_OTHER compares opaque bytes. */
int sb_uri_cmp(const struct sb_uri *a, const struct sb_uri *b);

/* Decode %HH escapes of <in> into <out> (which needs in.len bytes). Returns the decoded length,
 * or SB_EPARSE for a bad escape. */
long sb_uri_unescape(sb_str in, char *out);

/* Iterate a ';'-separated parameter list. <s> points at the text after a ';' (or at a ';') and is
 * advanced past the parameter produced. With <lws>, linear white space is allowed around ';' and
 * '=' (header parameters); without, it is not (URI parameters). A value may be a token, a quoted
 * string (header params) or an IPv6 reference. Returns 1 when <p> was filled, 0 at the end of the
 * list, SB_EPARSE on bad syntax. */
int sb_param_next(sb_str *s, struct sb_param *p, bool lws);

/* Find the parameter named <lc_name> (lower case, compared case-insensitively) in <params>.
 * Returns 1 when found (and fills <out> if non-NULL), 0 when absent, SB_EPARSE on bad syntax. */
int sb_param_find(sb_str params, const char *lc_name, struct sb_param *out, bool lws);

#endif
