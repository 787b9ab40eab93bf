/* SPDX-License-Identifier: BSD-2-Clause */
/* ';'-separated parameter lists, shared by URIs (no LWS) and header values (LWS allowed). */
#include "sb/base.h"
#include "sb/uri.h"

/* RFC3261-25.1: paramchar = param-unreserved / unreserved / escaped, with param-unreserved =
 * "[" / "]" / "/" / ":" / "&" / "+" / "$" and unreserved = alphanum / mark. '%' is apart: it must
 * start an escape. Table driven: URI parameters are parsed for every Request-URI. */
/* clang-format off */
#define PC(c) [c] = 1
static const uint8_t uri_paramchar[256] = {
    PC('['), PC(']'), PC('/'), PC(':'), PC('&'), PC('+'), PC('$'), PC('-'), PC('_'), PC('.'),
    PC('!'), PC('~'), PC('*'), PC('\''), PC('('), PC(')'), PC('0'), PC('1'), PC('2'), PC('3'),
    PC('4'), PC('5'), PC('6'), PC('7'), PC('8'), PC('9'), PC('A'), PC('B'), PC('C'), PC('D'),
    PC('E'), PC('F'), PC('G'), PC('H'), PC('I'), PC('J'), PC('K'), PC('L'), PC('M'), PC('N'),
    PC('O'), PC('P'), PC('Q'), PC('R'), PC('S'), PC('T'), PC('U'), PC('V'), PC('W'), PC('X'),
    PC('Y'), PC('Z'), PC('a'), PC('b'), PC('c'), PC('d'), PC('e'), PC('f'), PC('g'), PC('h'),
    PC('i'), PC('j'), PC('k'), PC('l'), PC('m'), PC('n'), PC('o'), PC('p'), PC('q'), PC('r'),
    PC('s'), PC('t'), PC('u'), PC('v'), PC('w'), PC('x'), PC('y'), PC('z'),
};
#undef PC
/* clang-format on */

/* Header parameter values: gen-value = token / host / quoted-string. A host is token characters
 * plus ':' for an IPv6 reference in brackets (taken whole below). */
static inline bool is_hdr_valchar(unsigned char c)
{
    return sb_is_token(c) || c == ':';
}

/* Advance over URI paramchars from <i>. RFC3261-25.1: "%" only as part of escaped = "%" HEXDIG
 * HEXDIG. Returns the first index past them, or SIZE_MAX on a malformed escape. */
static size_t skip_uri_paramchars(const char *p, size_t i, size_t n)
{
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (SB_LIKELY(uri_paramchar[c])) {
            i++;
        } else if (c == '%') {
            if (n - i < 3 || !sb_is_hex((unsigned char)p[i + 1]) ||
                !sb_is_hex((unsigned char)p[i + 2]))
                return SIZE_MAX;
            i += 3;
        } else {
            break;
        }
    }
    return i;
}

/* Header values only: characters of an IPv6 reference between its brackets. */
static inline bool is_ipv6_char(unsigned char c)
{
    return sb_is_hex(c) || c == ':' || c == '.';
}

static inline size_t skip_lws(const char *p, size_t i, size_t n)
{
    while (i < n && (sb_is_ws((unsigned char)p[i]) || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

int sb_param_next(sb_str *s, struct sb_param *out, bool lws)
{
    const char *p = s->p;
    size_t n = s->len, i = 0;
    bool semi = false;

    if (lws)
        i = skip_lws(p, i, n);
    if (i < n && p[i] == ';') {
        semi = true;
        i++;
        if (lws)
            i = skip_lws(p, i, n);
    }
    if (i == n) {
        if (semi)
            return SB_EPARSE; /* a trailing ';' (LWS after it or not) with no parameter */
        /* an absent list may be {NULL, 0}: no arithmetic on a null pointer */
        if (n)
            s->p += n;
        s->len = 0;
        return 0;
    }

    size_t name0 = i;
    if (lws) {
        while (i < n && sb_is_token((unsigned char)p[i]))
            i++;
    } else {
        i = skip_uri_paramchars(p, i, n);
    }
    if (i == name0 || i == SIZE_MAX)
        return SB_EPARSE;
    out->name = (sb_str){p + name0, i - name0};
    out->value = SB_STR_NULL;
    out->has_value = false;

    size_t after = lws ? skip_lws(p, i, n) : i;
    if (after < n && p[after] == '=') {
        i = after + 1;
        if (lws)
            i = skip_lws(p, i, n);
        size_t v0 = i;
        if (i < n && p[i] == '"' && lws) {
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\' && i + 1 < n)
                    i++;
            if (i == n)
                return SB_EPARSE; /* unterminated quoted string */
            i++;
        } else if (i < n && p[i] == '[' && lws) {
            /* URI paramchars include the brackets; header values need the reference whole */
            for (i++; i < n && is_ipv6_char((unsigned char)p[i]); i++)
                ;
            if (i == n || p[i] != ']')
                return SB_EPARSE;
            i++;
        } else if (lws) {
            while (i < n && is_hdr_valchar((unsigned char)p[i]))
                i++;
        } else {
            i = skip_uri_paramchars(p, i, n);
            if (i == SIZE_MAX)
                return SB_EPARSE;
        }
        if (i == v0)
            return SB_EPARSE; /* "name=" with no value */
        out->value = (sb_str){p + v0, i - v0};
        out->has_value = true;
    }
    if (lws)
        i = skip_lws(p, i, n);
    if (i < n && p[i] != ';')
        return SB_EPARSE;
    s->p += i;
    s->len -= i;
    return 1;
}

int sb_param_find(sb_str params, const char *lc_name, struct sb_param *out, bool lws)
{
    struct sb_param prm;
    int rc;
    while ((rc = sb_param_next(&params, &prm, lws)) == 1) {
        if (sb_str_caseeq_lit(prm.name, lc_name)) {
            if (out)
                *out = prm;
            return 1;
        }
    }
    return rc;
}
