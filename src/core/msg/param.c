/* SPDX-License-Identifier: BSD-2-Clause */
/* ';'-separated parameter lists, shared by URIs (no LWS) and header values (LWS allowed). */
#include "sb/base.h"
#include "sb/uri.h"

/* RFC3261-25.1: paramchar = param-unreserved / unreserved / escaped, with param-unreserved =
 * "[" / "]" / "/" / ":" / "&" / "+" / "$". */
static inline bool is_uri_paramchar(unsigned char c)
{
    return (sb_ctype[c] & SB_CC_UNRESERVED) || c == '%' || c == '[' || c == ']' || c == '/' ||
           c == ':' || c == '&' || c == '+' || c == '$';
}

/* Header parameter values: gen-value = token / host / quoted-string. A host is token characters
 * plus ':' for an IPv6 reference in brackets (taken whole below). */
static inline bool is_hdr_valchar(unsigned char c)
{
    return sb_is_token(c) || c == ':';
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

    if (lws)
        i = skip_lws(p, i, n);
    if (i < n && p[i] == ';') {
        i++;
        if (lws)
            i = skip_lws(p, i, n);
    } else if (i < n && i > 0 && !lws) {
        return SB_EPARSE;
    }
    if (i == n) {
        if (i > 0 && p[i - 1] == ';')
            return SB_EPARSE; /* a trailing ';' with no parameter */
        s->p += n;
        s->len = 0;
        return 0;
    }

    size_t name0 = i;
    while (i < n && (lws ? sb_is_token((unsigned char)p[i]) : is_uri_paramchar((unsigned char)p[i])))
        i++;
    if (i == name0)
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
        } else if (i < n && p[i] == '[') {
            while (i < n && p[i] != ']')
                i++;
            if (i == n)
                return SB_EPARSE;
            i++;
        } else {
            while (i < n && (lws ? is_hdr_valchar((unsigned char)p[i])
                                 : is_uri_paramchar((unsigned char)p[i])))
                i++;
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
