/* SPDX-License-Identifier: BSD-2-Clause */
/* Value parsers for the small headers: CSeq, Call-ID, numeric headers, Max-Forwards, list tokens,
 * Content-Type, Event and Session-Expires (RFC 3261 §20 and §25.1, RFC 6665, RFC 4028). */
#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/uri.h"

#include "msg_scan.h"

/* LWS inside a value. CR and LF are tolerated for a fold the caller left in place, exactly as the
 * parameter iterator tolerates them. */
static inline bool is_lws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline size_t skip_lws(const char *p, size_t i, size_t n)
{
    while (i < n && is_lws((unsigned char)p[i]))
        i++;
    return i;
}

static inline size_t skip_token(const char *p, size_t i, size_t n)
{
    while (i < n && sb_is_token((unsigned char)p[i]))
        i++;
    return i;
}

/* The message parser trims LWS around a value; a direct caller may not have, so surrounding LWS is
 * dropped here too and never ends up inside a view. */
static inline sb_str trim_lws(sb_str s)
{
    while (s.len && is_lws((unsigned char)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len && is_lws((unsigned char)s.p[s.len - 1]))
        s.len--;
    return s;
}

/* What may follow the leading element of a value: nothing, or LWS ";" and a parameter list.
 * <*params> gets the text after the ';' (leading LWS skipped), SB_STR_NULL when there is none. */
static int split_params(const char *p, size_t i, size_t n, sb_str *params)
{
    i = skip_lws(p, i, n);
    if (i == n) {
        *params = SB_STR_NULL;
        return 0;
    }
    if (p[i] != ';')
        return SB_EPARSE;
    i = skip_lws(p, i + 1, n);
    if (i == n || p[i] == ';')
        return SB_EPARSE; /* a trailing ';' or an empty parameter */
    *params = (sb_str){p + i, n - i};
    return 0;
}

/* Walk <params> and return the value of the single parameter named <lc_name> in <*val> (SB_STR_NULL
 * when absent). The parameter must carry a value; a repeat is refused because two readers could
 * otherwise pick different ones. Validates the whole list on the way. */
static int find_unique_param(sb_str params, const char *lc_name, sb_str *val)
{
    struct sb_param prm;
    int rc;

    *val = SB_STR_NULL;
    while ((rc = sb_param_next(&params, &prm, true)) == 1) {
        if (!sb_str_caseeq_lit(prm.name, lc_name))
            continue;
        if (!prm.has_value || val->p != NULL)
            return SB_EPARSE;
        *val = prm.value;
    }
    return rc;
}

int sb_cseq_parse(sb_str in, struct sb_cseq *out)
{
    in = trim_lws(in);
    const char *p = in.p;
    size_t n = in.len, i = 0;
    uint64_t v = 0;

    /* RFC3261-20.16: CSeq = 1*DIGIT LWS Method. The number must fit 32 bits (RFC3261-8.1.1.5);
     * stop at the first digit past that so that an arbitrarily long run cannot wrap <v>. */
    for (; i < n && sb_is_digit((unsigned char)p[i]); i++) {
        v = v * 10 + (unsigned)(p[i] - '0');
        if (v > UINT32_MAX)
            return SB_EPARSE;
    }
    if (i == 0 || i == n || !is_lws((unsigned char)p[i]))
        return SB_EPARSE;
    i = skip_lws(p, i, n);
    size_t m0 = i;
    i = skip_token(p, i, n);
    if (i == m0 || i != n)
        return SB_EPARSE;

    out->num = (uint32_t)v;
    out->method = (sb_str){p + m0, n - m0};
    out->method_id = sb_method_lookup(out->method);
    return 0;
}

/* End of the run of word characters from p[i]. */
static inline size_t word_end(const char *p, size_t i, size_t n)
{
    return sb__class_run(p, i, n, SB_CC_WORD, -1);
}

int sb_callid_parse(sb_str in, sb_str *out)
{
    in = trim_lws(in);
    const char *p = in.p;
    size_t n = in.len, i = 0;

    /* RFC3261-25.1: callid = word [ "@" word ]; '@' is not a word character */
    i = word_end(p, i, n);
    if (i == 0)
        return SB_EPARSE;
    if (i < n && p[i] == '@') {
        size_t w = ++i;
        i = word_end(p, i, n);
        if (i == w)
            return SB_EPARSE;
    }
    if (i != n)
        return SB_EPARSE;
    *out = in;
    return 0;
}

int sb_num_parse(sb_str in, struct sb_hdr_num *out)
{
    uint32_t v;

    /* RFC3261-20.14, 20.19, 20.23: 1*DIGIT. RFC4475-3.1.2.4 (scalar02): a value beyond 32 bits is
     * malformed, not clamped. The RFC 2543 date form of Expires is not a number and fails too. */
    if (sb_str_to_u32(trim_lws(in), &v) != 0)
        return SB_EPARSE;
    out->v = v;
    return 0;
}

int sb_maxfwd_parse(sb_str in, struct sb_hdr_num *out)
{
    uint64_t v;

    /* RFC3261-20.22: 1*DIGIT, 0..255 in practice; RFC4475-3.1.2.4 "Max-Forwards: 300" is refused,
     * RFC4475-3.1.1.3 (wsinv) "0068" is 68. */
    if (sb_str_to_u64(trim_lws(in), 255, &v) != 0)
        return SB_EPARSE;
    out->v = (uint32_t)v;
    return 0;
}

int sb_token_parse(sb_str in, struct sb_hdr_token *out)
{
    in = trim_lws(in);
    if (in.len == 0 || skip_token(in.p, 0, in.len) != in.len)
        return SB_EPARSE;
    out->v = in;
    return 0;
}

int sb_ctype_parse(sb_str in, struct sb_ctype *out)
{
    in = trim_lws(in);
    const char *p = in.p;
    size_t n = in.len, i = 0;

    /* RFC3261-20.15: m-type SLASH m-subtype *(SEMI m-parameter), SLASH = SWS "/" SWS */
    i = skip_token(p, 0, n);
    if (i == 0)
        return SB_EPARSE;
    sb_str type = {p, i};
    i = skip_lws(p, i, n);
    if (i == n || p[i] != '/')
        return SB_EPARSE;
    i = skip_lws(p, i + 1, n);
    size_t s0 = i;
    i = skip_token(p, i, n);
    if (i == s0)
        return SB_EPARSE;
    sb_str subtype = {p + s0, i - s0};

    sb_str params;
    if (split_params(p, i, n, &params) != 0)
        return SB_EPARSE;
    if (params.p) {
        /* only validated here: values may be quoted-strings (boundary="...") */
        struct sb_param prm;
        sb_str it = params;
        int rc;
        while ((rc = sb_param_next(&it, &prm, true)) == 1)
            ;
        if (rc != 0)
            return SB_EPARSE;
    }
    out->type = type;
    out->subtype = subtype;
    out->params = params;
    return 0;
}

int sb_event_parse(sb_str in, struct sb_event *out)
{
    in = trim_lws(in);
    const char *p = in.p;
    size_t n = in.len, i = 0;

    /* RFC6665-8.4: event-type = event-package *( "." event-template ), each a token-nodot: a token
     * whose dots only separate non-empty parts */
    for (;;) {
        size_t seg = i;
        while (i < n && p[i] != '.' && sb_is_token((unsigned char)p[i]))
            i++;
        if (i == seg)
            return SB_EPARSE;
        if (i == n || p[i] != '.')
            break;
        i++;
    }
    sb_str package = {p, i};

    sb_str params, id = SB_STR_NULL;
    if (split_params(p, i, n, &params) != 0)
        return SB_EPARSE;
    /* RFC6665-8.2.1: the id parameter distinguishes subscriptions within one dialog */
    if (params.p && find_unique_param(params, "id", &id) != 0)
        return SB_EPARSE;
    out->package = package;
    out->id = id;
    out->params = params;
    return 0;
}

int sb_session_expires_parse(sb_str in, struct sb_session_expires *out)
{
    in = trim_lws(in);
    const char *p = in.p;
    size_t n = in.len, i = 0;
    uint32_t delta;

    /* RFC4028-4: Session-Expires = delta-seconds *(SEMI se-params) */
    while (i < n && sb_is_digit((unsigned char)p[i]))
        i++;
    if (sb_str_to_u32((sb_str){p, i}, &delta) != 0)
        return SB_EPARSE;

    sb_str params, refresher = SB_STR_NULL;
    if (split_params(p, i, n, &params) != 0)
        return SB_EPARSE;
    /* RFC4028-4: refresher-param = "refresher" EQUAL ("uas" / "uac"); kept as written */
    if (params.p && find_unique_param(params, "refresher", &refresher) != 0)
        return SB_EPARSE;
    out->delta = delta;
    out->refresher = refresher;
    out->params = params;
    return 0;
}
