/* SPDX-License-Identifier: BSD-2-Clause */
/* URI parsing: sip/sips (RFC 3261 §19.1, §25.1; IPv6 references per RFC 5118), tel (RFC 3966),
 * any other absolute URI kept opaque; and %HH unescaping. Comparison lives in uri_cmp.c. */
#include "sb/base.h"
#include "sb/uri.h"

#include "msg_scan.h"

/* Character classes of the URI components; '%' is in none of them (escapes are checked apart). */
enum {
    UC_USER = 1 << 0,   /* RFC3261-25.1: unreserved / user-unreserved */
    UC_PASS = 1 << 1,   /* RFC3261-25.1: unreserved / "&" "=" "+" "$" "," */
    UC_HOST = 1 << 2,   /* alphanum / "-" / "." */
    UC_HNV = 1 << 3,    /* RFC3261-25.1: unreserved / hnv-unreserved (hname, hvalue) */
    UC_SCHEME = 1 << 4, /* RFC3986-3.1: ALPHA / DIGIT / "+" / "-" / "." */
    UC_OPAQUE = 1 << 5, /* RFC3986-2.2/2.3: unreserved / reserved */
    UC_PHONE = 1 << 6,  /* RFC3966-3: phonedigit-hex (HEXDIG "*" "#" and visual separators) */
};

#define AN (UC_USER | UC_PASS | UC_HOST | UC_HNV | UC_SCHEME | UC_OPAQUE) /* alphanum */
#define AX (AN | UC_PHONE)                                                /* hex digit */
#define MK (UC_USER | UC_PASS | UC_HNV | UC_OPAQUE)                       /* mark */

/* clang-format off */
static const uint8_t uri_cc[256] = {
    ['-'] = AX, ['.'] = AX, ['_'] = MK, ['!'] = MK, ['~'] = MK, ['\''] = MK,
    ['*'] = MK | UC_PHONE, ['('] = MK | UC_PHONE, [')'] = MK | UC_PHONE,
    ['&'] = UC_USER | UC_PASS | UC_OPAQUE, ['='] = UC_USER | UC_PASS | UC_OPAQUE,
    ['+'] = UC_USER | UC_PASS | UC_HNV | UC_SCHEME | UC_OPAQUE,
    ['$'] = UC_USER | UC_PASS | UC_HNV | UC_OPAQUE, [','] = UC_USER | UC_PASS | UC_OPAQUE,
    [';'] = UC_USER | UC_OPAQUE, ['?'] = UC_USER | UC_HNV | UC_OPAQUE,
    ['/'] = UC_USER | UC_HNV | UC_OPAQUE, ['['] = UC_HNV | UC_OPAQUE, [']'] = UC_HNV | UC_OPAQUE,
    [':'] = UC_HNV | UC_OPAQUE, ['#'] = UC_OPAQUE | UC_PHONE, ['@'] = UC_OPAQUE,
    ['0'] = AX, ['1'] = AX, ['2'] = AX, ['3'] = AX, ['4'] = AX, ['5'] = AX, ['6'] = AX,
    ['7'] = AX, ['8'] = AX, ['9'] = AX,
    ['A'] = AX, ['B'] = AX, ['C'] = AX, ['D'] = AX, ['E'] = AX, ['F'] = AX, ['G'] = AN,
    ['H'] = AN, ['I'] = AN, ['J'] = AN, ['K'] = AN, ['L'] = AN, ['M'] = AN, ['N'] = AN,
    ['O'] = AN, ['P'] = AN, ['Q'] = AN, ['R'] = AN, ['S'] = AN, ['T'] = AN, ['U'] = AN,
    ['V'] = AN, ['W'] = AN, ['X'] = AN, ['Y'] = AN, ['Z'] = AN,
    ['a'] = AX, ['b'] = AX, ['c'] = AX, ['d'] = AX, ['e'] = AX, ['f'] = AX, ['g'] = AN,
    ['h'] = AN, ['i'] = AN, ['j'] = AN, ['k'] = AN, ['l'] = AN, ['m'] = AN, ['n'] = AN,
    ['o'] = AN, ['p'] = AN, ['q'] = AN, ['r'] = AN, ['s'] = AN, ['t'] = AN, ['u'] = AN,
    ['v'] = AN, ['w'] = AN, ['x'] = AN, ['y'] = AN, ['z'] = AN,
};
/* clang-format on */

#undef AN
#undef AX
#undef MK

#define BAD ((size_t)-1)

/* Value of a character already known to be a hex digit. */
static inline unsigned hexdig(unsigned char c)
{
    return (c & 0x0fu) + (c >> 6) * 9u;
}

static inline bool is_escape(const char *p, size_t i, size_t n)
{
    return n - i >= 3 && sb_is_hex((unsigned char)p[i + 1]) && sb_is_hex((unsigned char)p[i + 2]);
}

/* Advance from <i> over characters of <cls> and well-formed %HH escapes. Returns the index of the
 * first other character (or <n>), BAD on a malformed escape. */
static inline size_t scan(const char *p, size_t i, size_t n, uint8_t cls)
{
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (uri_cc[c] & cls)
            continue;
        if (c != '%')
            break;
        if (!is_escape(p, i, n))
            return BAD;
        i += 2;
    }
    return i;
}

static inline bool is_visual_sep(unsigned char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC3261-25.1: IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT. Each part must
 * also fit an octet (RFC 3986 dec-octet): "256.1.1.1" is neither an address nor a hostname. The
 * whole of p[0..n) must be the address. */
static bool check_ipv4(const char *p, size_t n)
{
    unsigned v = 0, nd = 0, dots = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d < 10) {
            v = v * 10 + d;
            if (++nd > 3)
                return false;
        } else if (p[i] != '.' || nd == 0 || v > 255 || ++dots > 3) {
            return false;
        } else {
            v = nd = 0;
        }
    }
    return dots == 3 && nd && v <= 255;
}

/* After a "::" at p[i], a third ':' is tolerated only before a final dotted quad. RFC5118-4.10:
 * RFC 3261's IPv6address = hexpart [ ":" IPv4address ] derives "2001:db8:::192.0.2.1" (fixed by
 * RFC 5954), and receivers must tolerate it; any other run of three colons is invalid. */
static bool extra_colon_v4(const char *p, size_t i, size_t n, unsigned groups)
{
    return groups <= 5 && check_ipv4(p + i + 1, n - i - 1);
}

/* RFC 3261 IPv6address with the RFC 4291 group counts: hex4 groups, at most one "::" standing for
 * one or more zero groups, an optional final dotted quad counting as two groups (RFC5118-4.9
 * IPv4-mapped forms). p[0..n) is the text between the brackets. */
static bool check_ipv6(const char *p, size_t n)
{
    unsigned groups = 0;
    bool compressed = false;
    size_t i = 0;

    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        compressed = true;
        i = 2;
        if (i < n && p[i] == ':')
            return extra_colon_v4(p, i, n, groups);
    }
    while (i < n) {
        size_t g0 = i;
        while (i < n && i - g0 < 5 && sb_is_hex((unsigned char)p[i]))
            i++;
        if (i < n && p[i] == '.') {
            /* the dotted quad ends the address and needs room for two groups */
            if (groups > 6 || !check_ipv4(p + g0, n - g0))
                return false;
            groups += 2;
            break;
        }
        if (i == g0 || i - g0 > 4 || groups == 8)
            return false;
        groups++;
        if (i == n)
            break;
        if (p[i] != ':' || ++i == n)
            return false; /* a stray character, or a single trailing ':' */
        if (p[i] == ':') {
            if (compressed)
                return false; /* a second "::" */
            compressed = true;
            if (++i < n && p[i] == ':')
                return extra_colon_v4(p, i, n, groups);
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* Hostname or IPv4 address from <i>, up to the first character that cannot be part of one. Sets
 * host and host_kind; returns the index after the host or BAD. */
static size_t parse_hostname(const char *p, size_t i, size_t n, struct sb_uri *out)
{
    size_t q = sb__ipv4_quick(p, i, n);
    if (q) {
        out->host = (sb_str){p + i, q - i};
        out->host_kind = SB_HOST_IPV4;
        return q;
    }
    size_t h0 = i, label0 = i, prev0 = i;
    unsigned seen = 0, dots = 0;

    for (; i < n; i++) {
        i = sb__alnum_run(p, i, n, &seen);
        if (i == n)
            break;
        unsigned char c = (unsigned char)p[i];
        if (c == '.') {
            /* RFC3261-25.1: domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum */
            if (i == label0 || p[i - 1] == '-')
                return BAD;
            prev0 = label0;
            label0 = i + 1;
            dots++;
        } else if (c == '-') {
            if (i == label0)
                return BAD;
            seen |= SB_CC_ALPHA; /* not a number either */
        } else {
            break;
        }
    }
    if (i == h0)
        return BAD;
    size_t top0 = label0, top1 = i;
    if (label0 == i) { /* one trailing dot: the top label is the one before it */
        top0 = prev0;
        top1 = i - 1;
    }
    if (p[top1 - 1] == '-')
        return BAD;
    out->host = (sb_str){p + h0, i - h0};
    if (!(seen & SB_CC_ALPHA)) {
        /* RFC3261-25.1: an all-numeric host can only be an IPv4address (toplabel starts with
         * ALPHA), so a 4-part dotted number is one and anything else numeric is an error */
        if (dots != 3 || label0 == i || !check_ipv4(p + h0, i - h0))
            return BAD;
        out->host_kind = SB_HOST_IPV4;
        return i;
    }
    /* RFC3261-25.1: toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum */
    if (!sb_is_alpha((unsigned char)p[top0]))
        return BAD;
    out->host_kind = SB_HOST_NAME;
    return i;
}

/* RFC3261-25.1: host = hostname / IPv4address / IPv6reference. */
static size_t parse_host(const char *p, size_t i, size_t n, struct sb_uri *out)
{
    if (i == n || p[i] != '[')
        return parse_hostname(p, i, n, out);
    size_t a0 = i + 1, j = a0;
    while (j < n && (sb_is_hex((unsigned char)p[j]) || p[j] == ':' || p[j] == '.'))
        j++;
    if (j == n || p[j] != ']' || !check_ipv6(p + a0, j - a0))
        return BAD;
    out->host = (sb_str){p + i, j + 1 - i};
    out->host_kind = SB_HOST_IPV6;
    return j + 1;
}

/* Case-insensitive equality of <n> bytes with a literal of lower-case letters: OR-ing 0x20 maps
 * only 'A'-'Z' onto such letters, so no other byte can match. */
static inline bool letters_caseeq(const char *p, const char *lc, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] | 0x20) != (unsigned char)lc[i])
            return false;
    return true;
}

static void set_wk(sb_str *field, const struct sb_param *prm)
{
    if (field->p)
        return; /* the first occurrence wins */
    /* a valueless ";maddr" is still present: an empty view just past the name */
    *field = prm->has_value ? prm->value : (sb_str){prm->name.p + prm->name.len, 0};
}

/* Fill the well-known uri-parameter field (RFC3261-19.1.1) named <nm>; false when it is none. */
static bool note_wk(struct sb_uri *out, sb_str nm, const struct sb_param *prm)
{
    switch (nm.len) {
    case 2:
        if (!letters_caseeq(nm.p, "lr", 2))
            return false;
        out->lr = true;
        return true;
    case 3:
        if (!letters_caseeq(nm.p, "ttl", 3))
            return false;
        set_wk(&out->ttl, prm);
        return true;
    case 4:
        if (!letters_caseeq(nm.p, "user", 4))
            return false;
        set_wk(&out->user_param, prm);
        return true;
    case 5:
        if (!letters_caseeq(nm.p, "maddr", 5))
            return false;
        set_wk(&out->maddr, prm);
        return true;
    case 6:
        if (!letters_caseeq(nm.p, "method", 6))
            return false;
        set_wk(&out->method, prm);
        return true;
    case 9:
        if (!letters_caseeq(nm.p, "transport", 9))
            return false;
        set_wk(&out->transport, prm);
        return true;
    default: return false;
    }
}

/* A parameter whose name is escaped ("%6C%72" for "lr") is the same parameter once decoded
 * (RFC3261-19.1.4); this is rare, so it is tried only when the plain name matched nothing. */
static void note_param(struct sb_uri *out, const struct sb_param *prm)
{
    sb_str nm = prm->name;
    if (note_wk(out, nm, prm) || nm.len < 3 || nm.len > 27 || !memchr(nm.p, '%', nm.len))
        return;
    char buf[9];
    size_t o = 0;
    for (size_t i = 0; i < nm.len; i++) {
        if (o == sizeof(buf))
            return; /* too long for any well-known name */
        unsigned char c = (unsigned char)nm.p[i];
        if (c == '%') { /* escapes were checked by the parameter iterator */
            c = (unsigned char)(hexdig((unsigned char)nm.p[i + 1]) << 4 |
                                hexdig((unsigned char)nm.p[i + 2]));
            i += 2;
        }
        buf[o++] = (char)c;
    }
    note_wk(out, (sb_str){buf, o}, prm);
}

/* RFC3261-25.1: headers = "?" header *( "&" header ), header = hname "=" hvalue, hname non-empty.
 * p[0..n) is the text after '?'. */
static bool check_headers(const char *p, size_t n)
{
    size_t i = 0;
    for (;;) {
        size_t j = scan(p, i, n, UC_HNV);
        if (j == BAD || j == i || j == n || p[j] != '=')
            return false;
        i = scan(p, j + 1, n, UC_HNV);
        if (i == n)
            return true;
        if (i == BAD || p[i] != '&')
            return false;
        i++;
    }
}

/* RFC3261-25.1: userinfo = ( user / telephone-subscriber ) [ ":" password ] "@". '@' is in no
 * other part of a SIP URI, so the first one ends the userinfo; ';' '?' '/' before it belong to the
 * user (RFC4475-3.1.1.10 semiuri). Returns the index after '@' (0 without userinfo) or BAD. */
static size_t parse_userinfo(const char *p, size_t n, struct sb_uri *out)
{
    const char *at = memchr(p, '@', n);
    if (!at)
        return 0;
    size_t end = (size_t)(at - p);
    size_t i = scan(p, 0, end, UC_USER);
    if (i == BAD)
        return BAD;
    out->user = (sb_str){p, i};
    if (i < end) {
        if (p[i] != ':' || scan(p, i + 1, end, UC_PASS) != end)
            return BAD;
        out->passwd = (sb_str){p + i + 1, end - i - 1};
    }
    return end + 1;
}

/* RFC3261-19.1.1: [ userinfo ] hostport uri-parameters [ headers ], after "sip:" / "sips:". */
static int parse_sip(const char *p, size_t n, struct sb_uri *out)
{
    size_t i = parse_userinfo(p, n, out);
    if (i == BAD)
        return SB_EPARSE;
    i = parse_host(p, i, n, out);
    if (i == BAD)
        return SB_EPARSE;

    if (i < n && p[i] == ':') {
        size_t d0 = ++i;
        uint32_t v = 0;
        for (; i < n && sb_is_digit((unsigned char)p[i]); i++) {
            v = v * 10 + (uint32_t)(p[i] - '0');
            if (v > 65535)
                return SB_EPARSE;
        }
        if (i == d0)
            return SB_EPARSE;
        out->port = (sb_str){p + d0, i - d0};
        out->port_no = (uint16_t)v;
    }

    if (i < n && p[i] == ';') {
        const char *q = memchr(p + i, '?', n - i);
        size_t end = q ? (size_t)(q - p) : n;
        out->params = (sb_str){p + i + 1, end - i - 1};
        /* starting at the ';' itself makes the iterator reject an empty first parameter */
        sb_str s = {p + i, end - i};
        struct sb_param prm;
        int rc;
        while ((rc = sb_param_next(&s, &prm, false)) == 1)
            note_param(out, &prm);
        if (rc < 0)
            return SB_EPARSE;
        i = end;
    }

    if (i < n && p[i] == '?') {
        if (!check_headers(p + i + 1, n - i - 1))
            return SB_EPARSE;
        out->headers = (sb_str){p + i + 1, n - i - 1};
        i = n;
    }
    return i == n ? 0 : SB_EPARSE;
}

/* RFC3966-3: global-number-digits = "+" *phonedigit DIGIT *phonedigit. */
static bool check_global_digits(sb_str s)
{
    bool digit = false;
    if (s.len == 0 || s.p[0] != '+')
        return false;
    for (size_t i = 1; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (sb_is_digit(c))
            digit = true;
        else if (!is_visual_sep(c))
            return false;
    }
    return digit;
}

/* RFC3966-3: descriptor = domainname / global-number-digits. */
static bool check_descriptor(sb_str v)
{
    if (v.len && v.p[0] == '+')
        return check_global_digits(v);
    struct sb_uri tmp = {0};
    return v.len && parse_hostname(v.p, 0, v.len, &tmp) == v.len && tmp.host_kind == SB_HOST_NAME;
}

/* One tel parameter: RFC3966-3 pname = 1*( alphanum / "-" ), plus the rules of ext and
 * phone-context. Returns false on bad syntax; sets *ctx for a phone-context. */
static bool check_tel_param(const struct sb_param *prm, bool *ctx)
{
    for (size_t i = 0; i < prm->name.len; i++) {
        unsigned char c = (unsigned char)prm->name.p[i];
        if (!(sb_is_alpha(c) || sb_is_digit(c) || c == '-'))
            return false;
    }
    if (sb_str_caseeq_lit(prm->name, "phone-context")) {
        *ctx = true;
        return prm->has_value && check_descriptor(prm->value);
    }
    if (sb_str_caseeq_lit(prm->name, "ext")) {
        /* RFC3966-3: extension = ";ext=" 1*phonedigit */
        for (size_t i = 0; i < prm->value.len; i++)
            if (!sb_is_digit((unsigned char)prm->value.p[i]) &&
                !is_visual_sep((unsigned char)prm->value.p[i]))
                return false;
        return prm->has_value;
    }
    if (sb_str_caseeq_lit(prm->name, "isub"))
        return prm->has_value;
    return true;
}

/* RFC3966-3: telephone-subscriber = global-number / local-number, after "tel:". */
static int parse_tel(const char *p, size_t n, struct sb_uri *out)
{
    bool global = n && p[0] == '+', digit = false, ctx = false;
    size_t i = global;

    for (; i < n && (uri_cc[(unsigned char)p[i]] & UC_PHONE); i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_visual_sep(c))
            continue;
        /* RFC3966-3: a global number has decimal digits only; a local one HEXDIG "*" "#" */
        if (global && !sb_is_digit(c))
            return SB_EPARSE;
        digit = true;
    }
    if (!digit)
        return SB_EPARSE;
    out->user = (sb_str){p, i};
    if (i < n) {
        if (p[i] != ';')
            return SB_EPARSE;
        out->params = (sb_str){p + i + 1, n - i - 1};
        sb_str s = {p + i, n - i};
        struct sb_param prm;
        int rc;
        while ((rc = sb_param_next(&s, &prm, false)) == 1)
            if (!check_tel_param(&prm, &ctx))
                return SB_EPARSE;
        if (rc < 0)
            return SB_EPARSE;
    }
    /* RFC3966-5.1.5: a local number is only meaningful with its phone-context */
    return global || ctx ? 0 : SB_EPARSE;
}

/* Scheme of RFC3986-3.1 (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), case-insensitively. */
static uint8_t scheme_kind(const char *s, size_t n)
{
    if (n == 3 || n == 4) {
        unsigned char a = sb_lower((unsigned char)s[0]), b = sb_lower((unsigned char)s[1]),
                      c = sb_lower((unsigned char)s[2]);
        if (a == 's' && b == 'i' && c == 'p') {
            if (n == 3)
                return SB_URI_SIP;
            if (sb_lower((unsigned char)s[3]) == 's')
                return SB_URI_SIPS;
        } else if (n == 3 && a == 't' && b == 'e' && c == 'l') {
            return SB_URI_TEL;
        }
    }
    return SB_URI_OTHER;
}

int sb_uri_parse(sb_str in, struct sb_uri *out)
{
    if (!out || (!in.p && in.len))
        return SB_EINVAL;
    *out = (struct sb_uri){0};
    const char *p = in.p;
    size_t n = in.len, i = 1;

    if (n == 0 || !sb_is_alpha((unsigned char)p[0]))
        return SB_EPARSE;
    while (i < n && (uri_cc[(unsigned char)p[i]] & UC_SCHEME))
        i++;
    if (i == n || p[i] != ':')
        return SB_EPARSE;

    out->raw = in;
    out->scheme_str = (sb_str){p, i};
    out->scheme = scheme_kind(p, i);
    const char *r = p + i + 1;
    size_t rn = n - i - 1;
    int rc;

    switch (out->scheme) {
    case SB_URI_SIP:
    case SB_URI_SIPS: rc = parse_sip(r, rn, out); break;
    case SB_URI_TEL: rc = parse_tel(r, rn, out); break;
    default:
        /* RFC3261-25.1 absoluteURI: kept whole; only its character set is checked */
        rc = rn && scan(r, 0, rn, UC_OPAQUE) == rn ? 0 : SB_EPARSE;
        out->opaque = (sb_str){r, rn};
        break;
    }
    if (rc)
        *out = (struct sb_uri){0};
    return rc;
}

long sb_uri_unescape(sb_str in, char *out)
{
    size_t i = 0, o = 0;
    while (i < in.len) {
        const char *pc = memchr(in.p + i, '%', in.len - i);
        size_t run = pc ? (size_t)(pc - in.p) - i : in.len - i;
        memcpy(out + o, in.p + i, run);
        o += run;
        i += run;
        if (!pc)
            break;
        if (!is_escape(in.p, i, in.len))
            return SB_EPARSE;
        out[o++] =
            (char)(hexdig((unsigned char)in.p[i + 1]) << 4 | hexdig((unsigned char)in.p[i + 2]));
        i += 3;
    }
    return (long)o;
}
