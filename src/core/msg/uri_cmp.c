/* SPDX-License-Identifier: BSD-2-Clause */
/* URI equivalence: RFC 3261 §19.1.4 for sip/sips, RFC 3966 §4 for tel, bytes for other schemes.
 * Escapes are decoded on the fly while comparing, so no buffer and no length limit. */
#include <arpa/inet.h>

#include "sb/base.h"
#include "sb/uri.h"

/* RFC2396-2.2 reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / "," */
static const uint8_t is_reserved[256] = {
    [';'] = 1, ['/'] = 1, ['?'] = 1, [':'] = 1, ['@'] = 1,
    ['&'] = 1, ['='] = 1, ['+'] = 1, ['$'] = 1, [','] = 1,
};

/* The escaped form of a reserved character is a distinct unit: outside the 8-bit range. */
#define ESC_RESERVED 0x100u

static inline unsigned hexdig(unsigned char c)
{
    return (c & 0x0fu) + (c >> 6) * 9u;
}

/* Next comparable unit of s[*i..]: a byte with any %HH decoded, lower-cased when <fold>.
 * RFC3261-19.1.4: only characters outside the reserved set equal their %HH encoding, so an escaped
 * reserved character stays different from the literal one. */
static inline unsigned next_unit(sb_str s, size_t *i, bool fold)
{
    unsigned char c = (unsigned char)s.p[*i];
    if (c == '%' && s.len - *i >= 3 && sb_is_hex((unsigned char)s.p[*i + 1]) &&
        sb_is_hex((unsigned char)s.p[*i + 2])) {
        c = (unsigned char)(hexdig((unsigned char)s.p[*i + 1]) << 4 |
                            hexdig((unsigned char)s.p[*i + 2]));
        *i += 3;
        if (is_reserved[c])
            return ESC_RESERVED | c;
    } else {
        (*i)++;
    }
    return fold ? sb_lower(c) : c;
}

static bool esc_eq(sb_str a, sb_str b, bool fold)
{
    size_t i = 0, j = 0;
    if (a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0))
        return true;
    while (i < a.len && j < b.len)
        if (next_unit(a, &i, fold) != next_unit(b, &j, fold))
            return false;
    return i == a.len && j == b.len;
}

/* Equal presence, then equal content: "sip:u:@h" keeps an empty password that "sip:u@h" lacks. */
static bool opt_eq(sb_str a, sb_str b, bool fold)
{
    if (!a.p != !b.p)
        return false;
    return esc_eq(a, b, fold);
}

/* Case-insensitive compare of a (possibly escaped) name with a lower-case literal. */
static bool esc_eq_lit(sb_str a, const char *lc)
{
    size_t i = 0;
    for (; i < a.len && *lc; lc++)
        if (next_unit(a, &i, true) != (unsigned char)*lc)
            return false;
    return i == a.len && *lc == '\0';
}

/* Dotted-quad value of an already validated IPv4 host. */
static uint32_t ipv4_value(sb_str h)
{
    uint32_t v = 0, part = 0;
    for (size_t i = 0; i < h.len; i++) {
        if (h.p[i] == '.') {
            v = v << 8 | part;
            part = 0;
        } else {
            part = part * 10 + (uint32_t)(h.p[i] - '0');
        }
    }
    return v << 8 | part;
}

/* Binary form of a bracketed IPv6 reference, or false when inet_pton cannot read it. RFC5118-4.10:
 * the tolerated ":::" before a dotted quad means "::" and is read as such. */
static bool ipv6_value(sb_str h, unsigned char out[16])
{
    char buf[64];
    size_t o = 0;
    if (h.len < 3 || h.len - 2 >= sizeof(buf))
        return false;
    for (size_t i = 1; i + 1 < h.len; i++) {
        if (h.p[i] == ':' && o >= 2 && buf[o - 1] == ':' && buf[o - 2] == ':')
            continue;
        buf[o++] = h.p[i];
    }
    buf[o] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

/* RFC3261-19.1.4: host comparison is case-insensitive; addresses compare by value. A hostname
 * never equals an address, even the one it resolves to. */
static bool host_eq(const struct sb_uri *a, const struct sb_uri *b)
{
    if (a->host_kind != b->host_kind)
        return false;
    if (sb_str_caseeq(a->host, b->host))
        return true;
    if (a->host_kind == SB_HOST_IPV4)
        return ipv4_value(a->host) == ipv4_value(b->host);
    if (a->host_kind == SB_HOST_IPV6) {
        unsigned char x[16], y[16];
        return ipv6_value(a->host, x) && ipv6_value(b->host, y) && memcmp(x, y, sizeof(x)) == 0;
    }
    return false;
}

static bool must_match_param(sb_str name)
{
    return esc_eq_lit(name, "user") || esc_eq_lit(name, "ttl") || esc_eq_lit(name, "method") ||
           esc_eq_lit(name, "maddr") || esc_eq_lit(name, "transport");
}

/* Value equality of two parameters of the same name, per URI scheme. */
typedef bool (*param_val_eq)(const struct sb_param *x, const struct sb_param *y);

/* Look <x> up in <list> by name. *named: some parameter has its name; returns true when one of
 * those also has an equal value (duplicates are unusual; this keeps the relation reflexive). */
static bool param_lookup(const struct sb_param *x, sb_str list, param_val_eq val_eq, bool *named)
{
    struct sb_param y;
    *named = false;
    while (list.len && sb_param_next(&list, &y, false) == 1) {
        if (!esc_eq(x->name, y.name, true))
            continue;
        *named = true;
        if (x->has_value == y.has_value && val_eq(x, &y))
            return true;
    }
    return false;
}

static bool sip_val_eq(const struct sb_param *x, const struct sb_param *y)
{
    return esc_eq(x->value, y->value, true);
}

/* RFC3261-19.1.4: a parameter in both must match; user, ttl, method, maddr and transport must be
 * in both; any other parameter in one only is ignored. One direction; the caller does both. */
static bool sip_params_covered(sb_str a, sb_str b)
{
    struct sb_param x;
    bool named;
    while (a.len && sb_param_next(&a, &x, false) == 1) {
        if (param_lookup(&x, b, sip_val_eq, &named))
            continue;
        if (named || must_match_param(x.name))
            return false;
    }
    return true;
}

/* Split the next "hname=hvalue" off a headers list. */
static bool next_header(sb_str *list, sb_str *name, sb_str *value)
{
    if (list->len == 0)
        return false;
    const char *amp = memchr(list->p, '&', list->len);
    size_t len = amp ? (size_t)(amp - list->p) : list->len;
    const char *eq = memchr(list->p, '=', len);
    size_t nlen = eq ? (size_t)(eq - list->p) : len;
    *name = (sb_str){list->p, nlen};
    *value = eq ? (sb_str){eq + 1, len - nlen - 1} : (sb_str){list->p + len, 0};
    list->p += amp ? len + 1 : len;
    list->len -= amp ? len + 1 : len;
    return true;
}

/* RFC3261-19.1.4: every header component of <a> is in <b> with the same value. Header names are
 * case-insensitive; values are compared exactly once unescaped. */
static bool headers_covered(sb_str a, sb_str b)
{
    sb_str an, av, bn, bv;
    while (next_header(&a, &an, &av)) {
        sb_str it = b;
        bool found = false;
        while (!found && next_header(&it, &bn, &bv))
            found = esc_eq(an, bn, true) && esc_eq(av, bv, false);
        if (!found)
            return false;
    }
    return true;
}

static int cmp_sip(const struct sb_uri *a, const struct sb_uri *b)
{
    /* RFC3261-19.1.4: userinfo is case-sensitive, escapes decoded */
    if (!opt_eq(a->user, b->user, false) || !opt_eq(a->passwd, b->passwd, false))
        return 1;
    if (!host_eq(a, b))
        return 1;
    /* RFC3261-19.1.4: an omitted port does not match an explicit 5060 */
    if (!a->port.p != !b->port.p || a->port_no != b->port_no)
        return 1;
    /* identical lists are equal (the relation is reflexive): skip the pairwise walk */
    if (!sb_str_eq(a->params, b->params) &&
        (!sip_params_covered(a->params, b->params) || !sip_params_covered(b->params, a->params)))
        return 1;
    if (!a->headers.p != !b->headers.p)
        return 1;
    if (!sb_str_eq(a->headers, b->headers) &&
        (!headers_covered(a->headers, b->headers) || !headers_covered(b->headers, a->headers)))
        return 1;
    return 0;
}

static inline bool is_visual_sep(unsigned char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')';
}

/* RFC3966-4: phone numbers are equal digit by digit once visual separators are removed. */
static bool digits_eq(sb_str a, sb_str b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a.len && is_visual_sep((unsigned char)a.p[i]))
            i++;
        while (j < b.len && is_visual_sep((unsigned char)b.p[j]))
            j++;
        if (i == a.len || j == b.len)
            return i == a.len && j == b.len;
        if (sb_lower((unsigned char)a.p[i++]) != sb_lower((unsigned char)b.p[j++]))
            return false;
    }
}

/* RFC3966-4: phone-context compares as a host name or, for global-number-digits, digit by digit;
 * ext digit by digit; every other value case-insensitively. */
static bool tel_val_eq(const struct sb_param *x, const struct sb_param *y)
{
    if (esc_eq_lit(x->name, "ext"))
        return digits_eq(x->value, y->value);
    if (esc_eq_lit(x->name, "phone-context") && x->value.len && x->value.p[0] == '+')
        return y->value.len && y->value.p[0] == '+' && digits_eq(x->value, y->value);
    return esc_eq(x->value, y->value, true);
}

/* RFC3966-4: a parameter in one tel URI but not in the other makes them differ. */
static bool tel_params_covered(sb_str a, sb_str b)
{
    struct sb_param x;
    bool named;
    while (a.len && sb_param_next(&a, &x, false) == 1)
        if (!param_lookup(&x, b, tel_val_eq, &named))
            return false;
    return true;
}

static int cmp_tel(const struct sb_uri *a, const struct sb_uri *b)
{
    /* RFC3966-4: both global (leading '+') or both local */
    bool ga = a->user.len && a->user.p[0] == '+', gb = b->user.len && b->user.p[0] == '+';
    if (ga != gb || !digits_eq(a->user, b->user))
        return 1;
    if (!tel_params_covered(a->params, b->params) || !tel_params_covered(b->params, a->params))
        return 1;
    return 0;
}

int sb_uri_cmp(const struct sb_uri *a, const struct sb_uri *b)
{
    if (!a || !b)
        return a != b;
    /* RFC3261-19.1.4: a SIP and a SIPS URI are never equivalent */
    if (a->scheme != b->scheme)
        return 1;
    switch (a->scheme) {
    case SB_URI_SIP:
    case SB_URI_SIPS: return cmp_sip(a, b);
    case SB_URI_TEL: return cmp_tel(a, b);
    default:
        return sb_str_caseeq(a->scheme_str, b->scheme_str) && sb_str_eq(a->opaque, b->opaque) ? 0
                                                                                              : 1;
    }
}
