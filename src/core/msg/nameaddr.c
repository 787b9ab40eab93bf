/* SPDX-License-Identifier: BSD-2-Clause */
/* name-addr / addr-spec parser with header parameters, shared by From, To, Contact, Route,
 * Record-Route, Reply-To, Path, P-Asserted-Identity, Refer-To and Referred-By (RFC 3261 §25.1). */
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

/* RFC3261-25.1: quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
static inline bool is_qpair_char(unsigned char c)
{
    return c <= 0x7f && c != '\r' && c != '\n';
}

/* RFC3261-25.1: quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE, qdtext = LWS / %x21 /
 * %x23-5B / %x5D-7E / UTF8-NONASCII. Bytes above 0x7f are taken as they come: display names are
 * forwarded untouched, and rejecting a From over its charset helps nobody. p[i] is the opening
 * quote; returns the index just past the closing one, or 0. */
static size_t scan_quoted(const char *p, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 == n || !is_qpair_char((unsigned char)p[i + 1]))
                return 0;
            i++;
        } else if (c == '\r') {
            if (skip_sws(p, i, n) == i)
                return 0;
            i += 2;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 0;
        }
    }
    return 0; /* RFC4475-3.1.2.6: an unterminated quoted string is malformed */
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

static bool is_digits(sb_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!sb_is_digit((unsigned char)s.p[i]))
            return false;
    return true;
}

/* RFC3261-25.1: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static bool is_qvalue(sb_str s)
{
    if (s.len == 0 || s.len > 5 || (s.p[0] != '0' && s.p[0] != '1'))
        return false;
    if (s.len == 1)
        return true;
    if (s.p[1] != '.')
        return false;
    for (size_t i = 2; i < s.len; i++)
        if (s.p[0] == '1' ? s.p[i] != '0' : !sb_is_digit((unsigned char)s.p[i]))
            return false;
    return true;
}

/* Record one well-known header parameter after checking its value (<token>: it is a non-empty
 * token); the first occurrence wins, as with sb_param_find. Everything else is a generic-param and
 * passes through. */
static int hdr_param(const struct sb_param *prm, bool token, struct sb_nameaddr *out)
{
    sb_str nm = prm->name, v = prm->value;
    sb_str *slot;
    bool ok;

    if (name_is(nm, "tag", 3)) {
        slot = &out->tag; /* RFC3261-25.1: tag-param = "tag" EQUAL token */
        ok = token;
    } else if (name_is(nm, "expires", 7)) {
        /* RFC3261-25.1: c-p-expires = "expires" EQUAL delta-seconds. Only the syntax is checked:
         * RFC4475-3.1.2.4 lets a registrar read an overlarge value as the default */
        slot = &out->expires;
        ok = is_digits(v);
    } else if (name_is(nm, "q", 1)) {
        slot = &out->q; /* RFC3261-25.1: c-p-q = "q" EQUAL qvalue */
        ok = is_qvalue(v);
    } else {
        return 0;
    }
    if (!prm->has_value || !ok)
        return SB_EPARSE;
    if (!slot->p)
        *slot = v;
    return 0;
}

/* Header parameters from the ';' at p[i] to the end of the value. */
static int parse_params(const char *p, size_t i, size_t n, struct sb_nameaddr *out)
{
    size_t first = skip_sws(p, i + 1, n);
    out->params = (sb_str){p + first, n - first};

    struct sb_param prm;
    bool token;
    int rc;
    while ((rc = sb__hparam_next(p, &i, n, &prm, &token)) == 1)
        if (hdr_param(&prm, token, out) != 0)
            return SB_EPARSE;
    return rc == 0 ? 0 : SB_EPARSE;
}

/* The URI between '<' at p[i] and the first '>', which no URI holds unescaped. RFC3261-25.1:
 * LAQUOT = SWS "<" and RAQUOT = ">" SWS leave no room for white space inside the brackets
 * (RFC4475-3.1.2.14 badaspec); sb_uri_parse refuses it along with every other character a URI
 * cannot hold, so the scan does not check again. Leaves *pos past the '>'. */
static int parse_angle(const char *p, size_t n, size_t *pos, struct sb_nameaddr *out)
{
    size_t u0 = *pos + 1;
    const char *ra = memchr(p + u0, '>', n - u0);
    if (!ra)
        return SB_EPARSE;
    out->has_angle = true;
    out->uri_str = (sb_str){p + u0, (size_t)(ra - p) - u0};
    *pos = (size_t)(ra - p) + 1;
    return 0;
}

/* Where an addr-spec stops (AS_END) or goes wrong (AS_BAD), see parse_addr_spec. */
enum { AS_END = 1, AS_BAD = 2 };
static const uint8_t addr_spec_cc[256] = {
    [';'] = AS_END,  [' '] = AS_END, ['\t'] = AS_END,
    ['\r'] = AS_END, ['?'] = AS_BAD, [','] = AS_BAD,
};

/* addr-spec without brackets, from p[0]. RFC3261-20.10: here a ';' starts the header parameters,
 * and a URI holding a comma, question mark or semicolon must be in brackets (RFC4475-3.1.2.13
 * regbadct). The URI also ends at white space; any other stray character is sb_uri_parse's to
 * refuse. Leaves *pos just past the URI. */
static int parse_addr_spec(const char *p, size_t n, size_t *pos, struct sb_nameaddr *out)
{
    size_t i = *pos;
    uint8_t cc = 0;
    while (i < n && !(cc = addr_spec_cc[(unsigned char)p[i]]))
        i++;
    if (cc == AS_BAD)
        return SB_EPARSE;
    out->uri_str = (sb_str){p, i};
    *pos = i;
    return 0;
}

/* display-name = *(token LWS) / quoted-string, up to the '<' of the name-addr; or, when the value
 * opens with a URI scheme, the addr-spec form. Leaves *pos at the '<' or past the addr-spec. */
static int parse_display(const char *p, size_t n, size_t *pos, struct sb_nameaddr *out)
{
    size_t i = 0;
    if (p[0] == '"') {
        i = scan_quoted(p, 0, n);
        if (i == 0)
            return SB_EPARSE;
        out->display = (sb_str){p + 1, i - 2};
        out->display_quoted = true;
        i = skip_sws(p, i, n);
    } else if (p[0] != '<') {
        size_t t = scan_token(p, 0, n);
        if (t == 0)
            return SB_EPARSE; /* RFC4475-3.1.2.15 baddn: non-token characters */
        if (t < n && p[t] == ':') {
            *pos = 0;
            return parse_addr_spec(p, n, pos, out);
        }
        /* tokens separated by LWS; RFC4475-3.1.1.6 lwsdisp: none is needed before the '<' */
        for (;;) {
            out->display = (sb_str){p, t};
            i = skip_sws(p, t, n);
            if (i == n || p[i] == '<' || i == t)
                break;
            t = scan_token(p, i, n);
            if (t == i)
                return SB_EPARSE;
        }
    }
    if (i == n || p[i] != '<')
        return SB_EPARSE;
    *pos = i;
    return parse_angle(p, n, pos, out);
}

/* <out>, the parse of <same>'s text, for the copy of that text at <p>: the URI parser's result is
 * a function of the bytes alone, with every view at the same place relative to the start. */
static void uri_rebase(struct sb_uri *out, const struct sb_uri *same, const char *p)
{
    /* every sb_str of struct sb_uri is listed below; maddr is the last member */
    _Static_assert(sizeof(struct sb_uri) == offsetof(struct sb_uri, maddr) + sizeof(sb_str),
                   "a new member of struct sb_uri needs rebasing here");
    *out = *same;
    sb_str *v[] = {&out->raw,        &out->scheme_str, &out->user,    &out->passwd, &out->host,
                   &out->port,       &out->params,     &out->headers, &out->opaque, &out->transport,
                   &out->user_param, &out->method,     &out->ttl,     &out->maddr};
    for (size_t k = 0; k < SB_ARRAY_LEN(v); k++)
        if (v[k]->p)
            v[k]->p = p + (v[k]->p - same->raw.p);
}

int sb_nameaddr_parse(sb_str in, struct sb_nameaddr *out)
{
    return sb__nameaddr_parse_same(in, out, NULL);
}

/* RFC3261-25.1: ( name-addr / addr-spec ) *( SEMI generic-param ), or STAR for Contact. */
int sb__nameaddr_parse_same(sb_str in, struct sb_nameaddr *out, const struct sb_uri *same)
{
    /* field by field: sb_uri_parse sets <uri>, and a memset of the whole struct costs more than
     * the parse of a short From */
    in = sb__trim(in);
    out->raw = in;
    out->is_star = out->has_angle = out->display_quoted = false;
    out->display = out->uri_str = out->params = SB_STR_NULL;
    out->tag = out->expires = out->q = SB_STR_NULL;

    const char *p = in.p;
    size_t n = in.len, i = 0;
    if (n == 0) {
        out->uri = (struct sb_uri){0};
        return SB_EPARSE;
    }
    if (n == 1 && p[0] == '*') {
        out->is_star = true; /* RFC3261-20.10: Contact: * (the caller checks where it is legal) */
        out->uri = (struct sb_uri){0};
        return 0;
    }
    if (parse_display(p, n, &i, out) != 0) {
        out->uri = (struct sb_uri){0};
        return SB_EPARSE;
    }
    if (same && same->raw.p && same->raw.len == out->uri_str.len &&
        memcmp(same->raw.p, out->uri_str.p, out->uri_str.len) == 0)
        uri_rebase(&out->uri, same, out->uri_str.p);
    else if (sb_uri_parse(out->uri_str, &out->uri) != 0)
        return SB_EPARSE;

    i = skip_sws(p, i, n);
    if (i == n)
        return 0;
    if (p[i] != ';')
        return SB_EPARSE;
    return parse_params(p, i, n, out);
}
