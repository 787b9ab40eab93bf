/* SPDX-License-Identifier: BSD-2-Clause */
/* Via header value parser: one via-parm with its sent-protocol, sent-by, parameters and an optional
 * trailing comment (RFC 3261 §20.42, §25.1; RFC 3581 rport; RFC 5118 IPv6). */
#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/uri.h"

#include "msg_scan.h"

/* RFC3261-25.1: LWS = [*WSP CRLF] 1*WSP, SWS = [LWS]. Values normally arrive unfolded, but a fold
 * left in place is still linear white space. */
static inline size_t skip_sws(const char *p, size_t i, size_t n)
{
    if (i < n && (unsigned char)p[i] > ' ')
        return i; /* the usual case: no white space at all */
    for (;;) {
        if (i < n && sb_is_ws((unsigned char)p[i]))
            i++;
        else if (i + 2 < n && p[i] == '\r' && p[i + 1] == '\n' && sb_is_ws((unsigned char)p[i + 2]))
            i += 3;
        else
            return i;
    }
}

static inline size_t scan_token(const char *p, size_t i, size_t n)
{
    return sb__class_run(p, i, n, SB_CC_TOKEN, -1);
}

/* RFC3261-25.1: IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each at most 255. */
static bool is_ipv4(const char *p, size_t n)
{
    unsigned dots = 0, v = 0, nd = 0;
    if (n < 7 || n > 15)
        return false;
    /* a group is checked when it ends: <v> may wrap inside an over-long one, which the digit
     * count refuses anyway */
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d < 10) {
            v = v * 10 + d;
            nd++;
            continue;
        }
        if (p[i] != '.' || nd - 1 > 2 || v > 255 || dots == 3)
            return false;
        dots++;
        v = nd = 0;
    }
    return dots == 3 && nd - 1 <= 2 && v <= 255;
}

/* IPv6 text without brackets (RFC 4291 §2.2): hex groups of 1..4 digits, "::" at most once
 * standing for one group or more, an optional final dotted quad counting as two groups.
 * RFC5118-4.10: RFC 3261's IPv6address = hexpart [ ":" IPv4address ] also derives a third colon
 * after "::" before the dotted quad ("2001:db8:::192.0.2.1"), which receivers must tolerate; any
 * other run of three colons is invalid. The URI parser draws the same line. */
static bool is_ipv6(const char *p, size_t n)
{
    size_t i = 0;
    unsigned groups = 0;
    bool dbl = false;

    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        dbl = true;
        i = 2;
        if (i == n)
            return true;
        if (p[i] == ':')
            return is_ipv4(p + 3, n - 3);
    }
    for (;;) {
        size_t g = i;
        while (i < n && sb_is_hex((unsigned char)p[i]))
            i++;
        if (i < n && p[i] == '.') {
            if (!is_ipv4(p + g, n - g))
                return false;
            groups += 2;
            break;
        }
        if (i == g || i - g > 4)
            return false;
        groups++;
        if (i == n)
            break;
        if (p[i] != ':')
            return false;
        if (++i < n && p[i] == ':') {
            if (dbl)
                return false;
            dbl = true;
            if (++i == n)
                break;
            if (p[i] == ':')
                return groups <= 5 && is_ipv4(p + i + 1, n - i - 1);
        } else if (i == n) {
            return false; /* a single trailing ':' */
        }
    }
    return dbl ? groups <= 7 : groups == 8;
}

#define BAD ((size_t)-1)

/* RFC3261-25.1: hostname = *( domainlabel "." ) toplabel [ "." ], labels of alphanumerics with
 * inner hyphens, the toplabel starting with a letter; an all-numeric host can only be an
 * IPv4address. One pass, label by label, from p[i] up to the first character that cannot be part
 * of a host; sets *kind and returns the index after the host, or BAD. */
static size_t scan_hostname(const char *p, size_t i, size_t n, uint8_t *kind)
{
    size_t q = sb__ipv4_quick(p, i, n);
    if (q) {
        *kind = SB_HOST_IPV4;
        return q;
    }
    size_t h0 = i, top = i;
    unsigned seen = 0; /* SB_CC_ALPHA once a letter or '-' shows the host is not IPv4 */
    for (;;) {
        size_t l0 = i;
        /* letters and digits eight at a time; a '-' shows the host is not IPv4 */
        for (;;) {
            i = sb__alnum_run(p, i, n, &seen);
            if (i == n || p[i] != '-')
                break;
            seen |= SB_CC_ALPHA;
            i++;
        }
        if (i == l0) {
            /* only a trailing dot may leave an empty label, and not as the whole host */
            if (i == h0 || p[i - 1] != '.' || i - 1 == h0)
                return BAD;
            break;
        }
        if (p[l0] == '-' || p[i - 1] == '-')
            return BAD;
        top = l0;
        if (i == n || p[i] != '.')
            break;
        i++;
    }
    if (!(seen & SB_CC_ALPHA)) {
        *kind = SB_HOST_IPV4;
        return is_ipv4(p + h0, i - h0) ? i : BAD;
    }
    *kind = SB_HOST_NAME;
    return sb_is_alpha((unsigned char)p[top]) ? i : BAD;
}

/* RFC3261-25.1: host = hostname / IPv4address / IPv6reference, from p[i]. */
static size_t scan_host(const char *p, size_t i, size_t n, uint8_t *kind)
{
    if (i == n || p[i] != '[')
        return scan_hostname(p, i, n, kind);
    const char *rb = memchr(p + i, ']', n - i);
    if (!rb || !is_ipv6(p + i + 1, (size_t)(rb - p) - i - 1))
        return BAD;
    *kind = SB_HOST_IPV6;
    return (size_t)(rb - p) + 1;
}

/* Kind of <s> when all of it is a host; SB_HOST_NONE otherwise. */
static uint8_t host_kind(sb_str s)
{
    uint8_t kind = SB_HOST_NONE;
    return scan_host(s.p, 0, s.len, &kind) == s.len ? kind : SB_HOST_NONE;
}

/* Case-insensitive match of a parameter name (token characters) with a lower-case name of at most
 * eight letters. Among token characters, OR-ing 0x20 changes only upper-case letters (to their
 * lower case) and '_' (to DEL), so equal words mean equal names. */
static inline bool name_is(sb_str nm, const char *lc, size_t len)
{
    uint64_t a = 0, b = 0;
    if (nm.len != len)
        return false;
    memcpy(&a, nm.p, len);
    memcpy(&b, lc, len);
    return (a | 0x2020202020202020u) == (b | 0x2020202020202020u);
}

static bool is_digits(sb_str s, size_t max_len)
{
    if (s.len == 0 || s.len > max_len)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!sb_is_digit((unsigned char)s.p[i]))
            return false;
    return true;
}

/* sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS.
 * Leaves *pos just past the transport token. */
static int parse_protocol(const char *p, size_t n, size_t *pos, struct sb_via *out)
{
    sb_str *part[3] = {&out->proto_name, &out->proto_ver, &out->transport};
    size_t i = *pos;
    /* "SIP/2.0/" in one compare (the letters in any case), then the transport; anything else,
     * white space around the slashes included, takes the general path */
    static const char fold[8] = {0x20, 0x20, 0x20}; /* under the letters only, any byte order */
    if (n - i > 8 && (sb__load8(p + i) | sb__load8(fold)) == sb__load8("sip/2.0/")) {
        size_t t = scan_token(p, i + 8, n);
        if (t > i + 8) {
            out->proto_name = (sb_str){p + i, 3};
            out->proto_ver = (sb_str){p + i + 4, 3};
            out->transport = (sb_str){p + i + 8, t - i - 8};
            /* "UDP" as written by nearly every peer, without the call */
            out->proto = t - i == 11 && p[i + 8] == 'U' && p[i + 9] == 'D' && p[i + 10] == 'P'
                             ? SB_PROTO_UDP
                             : sb_proto_lookup(out->transport);
            *pos = t;
            return 0;
        }
    }
    for (int k = 0; k < 3; k++) {
        if (k > 0) {
            i = skip_sws(p, i, n);
            if (i == n || p[i] != '/')
                return SB_EPARSE;
            i = skip_sws(p, i + 1, n);
        }
        size_t t = scan_token(p, i, n);
        if (t == i)
            return SB_EPARSE;
        *part[k] = (sb_str){p + i, t - i};
        i = t;
    }
    /* RFC3261-20.42: unknown transports are legal (RFC 4475 §3.1.1.10); the token stays as
     * written and maps to SB_PROTO_OTHER */
    out->proto = sb_proto_lookup(out->transport);
    *pos = i;
    return 0;
}

/* sent-by = host [ COLON port ], COLON = SWS ":" SWS. Leaves *pos just past the host or port. */
static int parse_sent_by(const char *p, size_t n, size_t *pos, struct sb_via *out)
{
    size_t h0 = *pos, i = scan_host(p, h0, n, &out->host_kind);
    if (i == BAD)
        return SB_EPARSE;
    out->host = (sb_str){p + h0, i - h0};
    *pos = i;

    size_t j = skip_sws(p, i, n);
    if (j < n && p[j] == ':') {
        j = skip_sws(p, j + 1, n);
        size_t d0 = j;
        uint32_t port = 0;
        /* RFC3261-25.1: port = 1*DIGIT, and it must fit in 16 bits; leading zeros are allowed */
        for (; j < n && sb_is_digit((unsigned char)p[j]); j++)
            if (port <= 65535)
                port = port * 10 + (uint32_t)(p[j] - '0');
        out->port = (sb_str){p + d0, j - d0};
        if (j == d0 || port > 65535)
            return SB_EPARSE;
        out->port_no = (uint16_t)port;
        *pos = j;
    }
    return 0;
}

/* RFC3261-25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
static inline bool is_qpair_char(unsigned char c)
{
    return c <= 0x7f && c != '\r' && c != '\n';
}

/* RFC3261-25.1: comment = LPAREN *(ctext / quoted-pair / comment) RPAREN, with ctext any printable
 * byte but "(", ")" and "\" (non-ASCII bytes are taken as they come). True when the comment that
 * opens at p[i] ends exactly at n. */
static bool is_comment(const char *p, size_t i, size_t n)
{
    unsigned depth = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth == 0)
                return i + 1 == n;
        } else if (c == '\\') {
            if (i + 1 == n || !is_qpair_char((unsigned char)p[i + 1]))
                return false;
            i++;
        } else if (c == '\r') {
            if (skip_sws(p, i, n) == i)
                return false;
            i += 2;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return false;
        }
    }
    return false;
}

/* Start of the comment in the parameter text p[i..n), skipping '(' inside quoted values; n when
 * there is none. Only called when the value ends in ')', which no parameter value can. */
static size_t find_comment(const char *p, size_t i, size_t n)
{
    bool quoted = false;
    for (; i < n; i++) {
        if (quoted && p[i] == '\\')
            i++;
        else if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && p[i] == '(')
            return i;
    }
    return n;
}

static bool is_received(sb_str v)
{
    if (v.len && v.p[0] == '[')
        return host_kind(v) == SB_HOST_IPV6;
    return is_ipv4(v.p, v.len) || is_ipv6(v.p, v.len);
}

static bool is_ttl(sb_str v)
{
    uint64_t ttl;
    return is_digits(v, 3) && sb_str_to_u64(v, 255, &ttl) == 0;
}

/* 1*DIGIT within 16 bits, leading zeros allowed */
static bool is_port(sb_str v)
{
    uint32_t port = 0;
    if (v.len == 0)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        unsigned d = (unsigned)(unsigned char)v.p[i] - '0';
        if (d > 9)
            return false;
        if (port <= 65535)
            port = port * 10 + d;
    }
    return port <= 65535;
}

/* Record one well-known via-param after checking its value (<token>: it is a non-empty token);
 * the first occurrence wins, as with sb_param_find. Others pass through (RFC3261-25.1:
 * via-extension = generic-param). */
static int via_param(const struct sb_param *prm, bool token, struct sb_via *out)
{
    sb_str nm = prm->name, v = prm->value;
    sb_str *slot;
    bool ok;

    switch (nm.len) {
    case 3:
        if (!name_is(nm, "ttl", 3))
            return 0;
        slot = &out->ttl; /* RFC3261-25.1: ttl = 1*3DIGIT ; 0 to 255 */
        ok = prm->has_value && is_ttl(v);
        break;
    case 5:
        if (name_is(nm, "rport", 5)) {
            /* RFC3581-3: response-port = "rport" [EQUAL 1*DIGIT] */
            if (prm->has_value && !is_port(v))
                return SB_EPARSE;
            if (!out->has_rport) {
                out->has_rport = true;
                out->rport = prm->has_value ? v : (sb_str){nm.p + nm.len, 0};
            }
            return 0;
        }
        if (!name_is(nm, "maddr", 5))
            return 0;
        slot = &out->maddr; /* RFC3261-25.1: via-maddr = "maddr" EQUAL host */
        ok = prm->has_value && host_kind(v) != SB_HOST_NONE;
        break;
    case 6:
        if (!name_is(nm, "branch", 6))
            return 0;
        slot = &out->branch; /* RFC3261-25.1: via-branch = "branch" EQUAL token */
        ok = prm->has_value && token;
        break;
    case 8:
        if (!name_is(nm, "received", 8))
            return 0;
        /* RFC3261-25.1 writes IPv6address bare; RFC5118-4.5 sees it with and without brackets */
        slot = &out->received;
        ok = prm->has_value && is_received(v);
        break;
    default: return 0;
    }
    if (!ok)
        return SB_EPARSE;
    if (!slot->p)
        *slot = v;
    return 0;
}

/* The parameters from the ';' at p[i] to the end, then an optional comment. */
static int parse_params(const char *p, size_t i, size_t n, struct sb_via *out)
{
    size_t end = n;
    if (p[n - 1] == ')') {
        end = find_comment(p, i, n);
        if (end == n || !is_comment(p, end, n))
            return SB_EPARSE;
        out->comment = (sb_str){p + end, n - end};
        while (end > i &&
               (sb_is_ws((unsigned char)p[end - 1]) || p[end - 1] == '\n' || p[end - 1] == '\r'))
            end--;
    }
    size_t first = skip_sws(p, i + 1, end);
    out->params = (sb_str){p + first, end - first};

    struct sb_param prm;
    bool token;
    int rc;
    while ((rc = sb__hparam_next(p, &i, end, &prm, &token)) == 1)
        if (via_param(&prm, token, out) != 0)
            return SB_EPARSE;
    return rc == 0 ? 0 : SB_EPARSE;
}

/* Field by field: a memset of the whole struct costs more than the parse of a short Via. */
static inline void via_reset(struct sb_via *out, sb_str raw)
{
    out->raw = raw;
    out->proto_name = out->proto_ver = out->transport = SB_STR_NULL;
    out->proto = SB_PROTO_OTHER;
    out->host_kind = SB_HOST_NONE;
    out->has_rport = false;
    out->port_no = 0;
    out->host = out->port = out->params = SB_STR_NULL;
    out->branch = out->received = out->rport = out->maddr = out->ttl = out->comment = SB_STR_NULL;
}

/* RFC3261-25.1: via-parm = sent-protocol LWS sent-by *( SEMI via-params ). */
int sb_via_parse(sb_str in, struct sb_via *out)
{
    in = sb__trim(in);
    via_reset(out, in);

    const char *p = in.p;
    size_t n = in.len, i = 0;
    if (n == 0)
        return SB_EPARSE;
    if (parse_protocol(p, n, &i, out) != 0)
        return SB_EPARSE;
    size_t j = skip_sws(p, i, n);
    if (j == i || j == n)
        return SB_EPARSE; /* the LWS before sent-by is mandatory, and so is sent-by */
    i = j;
    if (parse_sent_by(p, n, &i, out) != 0)
        return SB_EPARSE;

    i = skip_sws(p, i, n);
    if (i == n)
        return 0;
    if (p[i] == ';')
        return parse_params(p, i, n, out);
    if (p[i] == '(' && is_comment(p, i, n)) {
        out->comment = (sb_str){p + i, n - i};
        return 0;
    }
    return SB_EPARSE;
}
