/* SPDX-License-Identifier: BSD-2-Clause */
/* ';'-separated parameter lists, shared by URIs (no LWS) and header values (LWS allowed). */
#include "sb/base.h"
#include "sb/uri.h"

#include "msg_scan.h"

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

int sb_param_next(sb_str *s, struct sb_param *out, bool lws)
{
    const char *p = s->p;
    size_t n = s->len, i = 0;

    if (lws) {
        int rc = sb__hparam_next(p, &i, n, out, NULL);
        if (rc >= 0 && n) { /* an absent list may be {NULL, 0}: no arithmetic on a null pointer */
            s->p += i;
            s->len -= i;
        }
        return rc;
    }

    bool semi = false;
    if (i < n && p[i] == ';') {
        semi = true;
        i++;
    }
    if (i == n) {
        if (semi)
            return SB_EPARSE; /* a trailing ';' with no parameter */
        if (n)
            s->p += n;
        s->len = 0;
        return 0;
    }

    size_t name0 = i;
    i = skip_uri_paramchars(p, i, n);
    if (i == name0 || i == SIZE_MAX)
        return SB_EPARSE;
    out->name = (sb_str){p + name0, i - name0};
    out->value = SB_STR_NULL;
    out->has_value = false;

    if (i < n && p[i] == '=') {
        size_t v0 = ++i;
        i = skip_uri_paramchars(p, i, n);
        if (i == SIZE_MAX || i == v0)
            return SB_EPARSE; /* a malformed escape, or "name=" with no value */
        out->value = (sb_str){p + v0, i - v0};
        out->has_value = true;
    }
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
