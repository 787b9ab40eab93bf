/* SPDX-License-Identifier: BSD-2-Clause */
/* The SIP message parser: start line, header index (one pass) and Content-Length framing. Header
 * values are parsed later, on first access (msg_hdr.c). */
#include <stdlib.h>

#include "sb/buf.h"
#include "sb/msg.h"
#include "sb/uri.h"

#include "msg_scan.h"

const struct sb_msg_limits sb_msg_limits_default = {
    .max_size = 65535,
    .max_headers = 512,
    .max_line = 8192,
    .max_uri = 4096,
    .arena_cap = 256 * 1024,
};

/* The inline index, no bigger than the header limit: hdr_add checks the limit only when full. */
static inline uint32_t inline_cap(const struct sb_msg_limits *l)
{
    return l->max_headers < SB_MSG_INLINE_HDRS ? l->max_headers : SB_MSG_INLINE_HDRS;
}

void sb_msg_init(struct sb_msg *m, const struct sb_msg_limits *limits)
{
    memset(m, 0, offsetof(struct sb_msg, hdr_inline));
    m->limits = limits ? limits : &sb_msg_limits_default;
    sb_arena_init(&m->arena, m->arena_inline, sizeof(m->arena_inline), m->limits->arena_cap);
    m->hdrs = m->hdr_inline;
    m->cap_hdrs = inline_cap(m->limits);
}

void sb_msg_reset(struct sb_msg *m)
{
    if (m->owner)
        sb_buf_unref(m->owner);
    sb_arena_reset(&m->arena);
    /* forget the whole parse, not only the index: ruri_parsed and the parsed values point into
     * what was just released. One memset of everything before the arena, first[] and last[]
     * included: for a usual message (ten headers or more) it costs less than clearing only the
     * entries of the types that were present. */
    const struct sb_msg_limits *limits = m->limits;
    memset(m, 0, offsetof(struct sb_msg, arena));
    m->limits = limits;
    m->hdrs = m->hdr_inline;
    m->cap_hdrs = inline_cap(m->limits);
}

void sb_msg_deinit(struct sb_msg *m)
{
    sb_msg_reset(m);
    sb_arena_deinit(&m->arena);
}

/* Record the first fault; later ones keep the first (it is the one a 400 should name). */
static int msg_fail(struct sb_msg *m, int code, uint8_t part, const struct sb_hdr *h, size_t off,
                    const char *what)
{
    if (m->err.code)
        return m->err.code;
    m->err.code = code;
    m->err.part = part;
    m->err.hdr_type = h ? h->type : SB_HDR_OTHER;
    m->err.hdr_name = h ? h->name : (sb_span){0, 0};
    m->err.offset = (uint32_t)off;
    m->err.what = what;
    return code;
}

/* Return the offset of the '\n' ending the line that starts at <i>, or <n> if none. */
static inline size_t line_end(const char *b, size_t i, size_t n)
{
    const char *q = memchr(b + i, '\n', n - i);
    return q ? (size_t)(q - b) : n;
}

/* Length of the line content [i, lf) without a trailing CR. */
static inline size_t trim_cr(const char *b, size_t i, size_t lf)
{
    return (lf > i && b[lf - 1] == '\r') ? lf - 1 : lf;
}

static bool is_sip_version(const char *p, size_t len, bool *is_20)
{
    /* the form of nearly every message, in one compare */
    if (len == 7 && memcmp(p, "SIP/2.0", 7) == 0) {
        *is_20 = true;
        return true;
    }
    /* RFC3261-7.1: SIP-Version is case-insensitive: "SIP" "/" 1*DIGIT "." 1*DIGIT */
    if (len < 4 || sb_lower((unsigned char)p[0]) != 's' || sb_lower((unsigned char)p[1]) != 'i' ||
        sb_lower((unsigned char)p[2]) != 'p' || p[3] != '/')
        return false;
    size_t i = 4, d0 = i;
    while (i < len && sb_is_digit((unsigned char)p[i]))
        i++;
    if (i == d0 || i == len || p[i] != '.')
        return false;
    size_t d1 = ++i;
    while (i < len && sb_is_digit((unsigned char)p[i]))
        i++;
    if (i == d1 || i != len)
        return false;
    *is_20 = len == 7 && p[4] == '2' && p[5] == '.' && p[6] == '0';
    return true;
}

/* Split the start line into whitespace-separated words. RFC3261-7.1 asks for single SPs; RFC 4475
 * §3.1.2.9 and §3.1.2.10 let an element accept several SPs and trailing SPs, which we do. */
static size_t next_word(const char *b, size_t *i, size_t end)
{
    size_t k = *i;
    while (k < end && sb_is_ws((unsigned char)b[k]))
        k++;
    size_t w = k;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Eight bytes a step up to the first byte below '!' (the lowest flag is exact); only SP and
     * HTAB among those end the word. */
    const uint64_t ones = UINT64_C(0x0101010101010101);
    while (end - k >= 8) {
        uint64_t v;
        memcpy(&v, b + k, 8);
        uint64_t z = (v - ones * '!') & ~v & (ones << 7);
        if (!z) {
            k += 8;
            continue;
        }
        k += (size_t)(__builtin_ctzll(z) >> 3);
        if (sb_is_ws((unsigned char)b[k])) {
            *i = k;
            return w;
        }
        k++;
    }
#endif
    /* one compare for the usual byte: SP and HTAB are both below '!' */
    while (k < end && ((unsigned char)b[k] > ' ' || !sb_is_ws((unsigned char)b[k])))
        k++;
    *i = k;
    return w;
}

static int parse_reply_line(struct sb_msg *m, size_t i, size_t end)
{
    const char *b = m->buf;
    size_t v0 = next_word(b, &i, end);
    bool is_20 = false;
    m->kind = SB_MSG_REPLY;
    m->version = (sb_span){(uint32_t)v0, (uint32_t)(i - v0)};
    if (!is_sip_version(b + v0, i - v0, &is_20))
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_START_LINE, NULL, v0, "bad status line");
    if (!is_20)
        return msg_fail(m, SB_EVERSION, SB_MSG_ERRP_VERSION, NULL, v0, "unsupported SIP version");
    size_t s0 = next_word(b, &i, end);
    /* RFC3261-7.2: Status-Code is exactly 3 digits; we accept 100..699 */
    if (i - s0 != 3 || !sb_is_digit((unsigned char)b[s0]) || b[s0] < '1' || b[s0] > '6' ||
        !sb_is_digit((unsigned char)b[s0 + 1]) || !sb_is_digit((unsigned char)b[s0 + 2]))
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_STATUS, NULL, s0, "bad status code");
    m->status = (uint16_t)((b[s0] - '0') * 100 + (b[s0 + 1] - '0') * 10 + (b[s0 + 2] - '0'));
    /* the reason phrase is everything after one SP, possibly empty, possibly UTF-8 */
    if (i < end)
        i++;
    for (size_t k = i; k < end; k++)
        if ((unsigned char)b[k] < 0x20 && b[k] != '\t')
            return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_STATUS, NULL, k, "bad reason phrase");
    m->reason = (sb_span){(uint32_t)i, (uint32_t)(end - i)};
    return 0;
}

static int parse_request_line(struct sb_msg *m, size_t i, size_t end)
{
    const char *b = m->buf;
    size_t w = next_word(b, &i, end);
    m->kind = SB_MSG_REQUEST;
    m->method = (sb_span){(uint32_t)w, (uint32_t)(i - w)};
    for (size_t k = w; k < i; k++)
        if (!sb_is_token((unsigned char)b[k]))
            return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_METHOD, NULL, k, "bad method");
    m->method_id = sb_method_lookup(sb_msg_span(m, m->method));

    w = next_word(b, &i, end);
    m->ruri = (sb_span){(uint32_t)w, (uint32_t)(i - w)};
    if (m->ruri.len == 0)
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_RURI, NULL, w, "missing Request-URI");
    if (m->ruri.len > m->limits->max_uri)
        return msg_fail(m, SB_ELIMIT, SB_MSG_ERRP_LIMIT, NULL, w, "Request-URI too long");

    w = next_word(b, &i, end);
    m->version = (sb_span){(uint32_t)w, (uint32_t)(i - w)};
    bool is_20 = false;
    size_t extra = i;
    if (!is_sip_version(b + w, i - w, &is_20) || next_word(b, &extra, end) != end) {
        /* "sip:a@b; lr SIP/2.0" (RFC 4475 §3.1.2.8) lands here: LWS inside the URI */
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_START_LINE, NULL, w, "bad request line");
    }
    if (!is_20)
        return msg_fail(m, SB_EVERSION, SB_MSG_ERRP_VERSION, NULL, w, "unsupported SIP version");
    return 0;
}

/* The index is full (n_hdrs == cap_hdrs): over the limit, or move it to a bigger array. Keeping the
 * limit check here leaves one compare on the path of every entry. */
static __attribute__((noinline)) int hdrs_grow(struct sb_msg *m, const struct sb_hdr *tmpl)
{
    uint32_t max = m->limits->max_headers < UINT16_MAX ? m->limits->max_headers : UINT16_MAX;
    if (m->n_hdrs >= max)
        return msg_fail(m, SB_ELIMIT, SB_MSG_ERRP_LIMIT, tmpl, tmpl->name.off, "too many headers");
    uint32_t cap = m->cap_hdrs * 2;
    if (cap > max)
        cap = max;
    struct sb_hdr *h = sb_arena_alloc(&m->arena, cap * sizeof(*h));
    if (!h)
        return msg_fail(m, SB_ENOMEM, SB_MSG_ERRP_LIMIT, tmpl, tmpl->name.off, "out of memory");
    memcpy(h, m->hdrs, m->n_hdrs * sizeof(*h));
    m->hdrs = h;
    m->cap_hdrs = cap;
    return 0;
}

/* SP, HTAB, CR, LF, with one compare for the usual byte */
static inline bool is_lws_byte(unsigned char c)
{
    return c <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* Make the unfolded copy of a folded value (rare: kept out of the per-entry path). */
static __attribute__((noinline)) int hdr_unfold(struct sb_msg *m, struct sb_hdr *h)
{
    const char *b = m->buf;
    size_t v0 = h->value.off, v1 = v0 + h->value.len;
    /* RFC3261-7.3.1: a fold (CRLF followed by WSP) is equivalent to one SP */
    char *u = sb_arena_alloc(&m->arena, v1 - v0);
    if (!u)
        return msg_fail(m, SB_ENOMEM, SB_MSG_ERRP_LIMIT, h, v0, "out of memory");
    size_t n = 0;
    for (size_t k = v0; k < v1; k++) {
        if (b[k] == '\r' && k + 1 < v1 && b[k + 1] == '\n')
            continue;
        if (b[k] == '\n') {
            u[n++] = ' ';
            while (k + 1 < v1 && sb_is_ws((unsigned char)b[k + 1]))
                k++;
            continue;
        }
        u[n++] = b[k];
    }
    h->unfolded = u;
    h->unfolded_len = (uint32_t)n;
    return 0;
}

/* Append one index entry for a value [v0, v1) of the field described by <tmpl>. */
static inline __attribute__((always_inline)) int
hdr_add(struct sb_msg *m, const struct sb_hdr *tmpl, size_t v0, size_t v1, uint16_t flags)
{
    if (SB_UNLIKELY(m->n_hdrs >= m->cap_hdrs)) {
        int rc = hdrs_grow(m, tmpl);
        if (rc)
            return rc;
    }
    const char *b = m->buf;
    while (v0 < v1 && is_lws_byte((unsigned char)b[v0]))
        v0++;
    while (v1 > v0 && is_lws_byte((unsigned char)b[v1 - 1]))
        v1--;
    uint32_t idx = m->n_hdrs++;
    struct sb_hdr *h = &m->hdrs[idx];
    /* one compound store: the compiler merges the small fields into whole words */
    *h = (struct sb_hdr){
        .type = tmpl->type,
        .flags = flags,
        .idx = (uint16_t)idx,
        .name = tmpl->name,
        .field = tmpl->field,
        .value = {(uint32_t)v0, (uint32_t)(v1 - v0)},
    };
    if (SB_UNLIKELY(flags & SB_HDRF_FOLDED)) {
        /* a fold only in the LWS around this value leaves nothing to unfold */
        if (!memchr(b + v0, '\n', v1 - v0))
            h->flags &= (uint16_t)~SB_HDRF_FOLDED;
        else if (hdr_unfold(m, h) != 0)
            return m->err.code;
    }
    if (SB_UNLIKELY(flags & SB_HDRF_REPEATED))
        return 0;
    uint16_t t = h->type;
    if (m->last[t])
        m->hdrs[m->last[t] - 1].next = (uint16_t)(idx + 1);
    else
        m->first[t] = (uint16_t)(idx + 1);
    m->last[t] = (uint16_t)(idx + 1);
    return 0;
}

/* Bytes that matter when splitting a comma list; everything else is skipped with one lookup. */
enum { LS_COMMA = 1, LS_QUOTE, LS_LT, LS_GT, LS_LP, LS_RP };
static const uint8_t list_class[256] = {
    [','] = LS_COMMA, ['"'] = LS_QUOTE, ['<'] = LS_LT, ['>'] = LS_GT, ['('] = LS_LP, [')'] = LS_RP,
};

/* The first byte from <k> that may matter to the list split: every such byte lies in '"'..'>',
 * while the letters and spaces that fill token lists (Allow, Supported) do not, so they are
 * passed eight at a time. Near the end it returns <k> and the caller looks at each byte. */
static inline size_t list_candidate(const char *b, size_t k, size_t v1)
{
#if SB__SWAR
    while (v1 - k >= 8) {
        uint64_t v;
        memcpy(&v, b + k, 8);
        uint64_t x = v & ~SB__HIGH;
        uint64_t c = (x + SB__ONES * (0x80 - '"')) & ~(x + SB__ONES * (0x7f - '>')) & SB__HIGH & ~v;
        if (c)
            return k + (size_t)(__builtin_ctzll(c) >> 3);
        k += 8;
    }
#else
    (void)b;
    (void)v1;
#endif
    return k;
}

/* Split a comma-list field value [v0, v1) into entries. Commas inside quoted strings, <...> and
 * (comments) do not separate values. */
static int hdr_add_list(struct sb_msg *m, const struct sb_hdr *tmpl, size_t v0, size_t v1,
                        uint16_t fold)
{
    const char *b = m->buf;
    if (!memchr(b + v0, ',', v1 - v0))
        return hdr_add(m, tmpl, v0, v1, fold | SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST);
    size_t start = v0;
    int angle = 0, paren = 0;
    uint16_t first = SB_HDRF_LIST_FIRST;
    for (size_t k = v0; k < v1; k++) {
        k = list_candidate(b, k, v1);
        if (k == v1)
            break;
        unsigned cls = list_class[(unsigned char)b[k]];
        if (cls == 0)
            continue;
        switch (cls) {
        case LS_QUOTE:
            /* RFC3261-25.1: a quoted-string ends at an unescaped DQUOTE; quoted-pair is \ CHAR */
            for (k++; k < v1 && b[k] != '"'; k++)
                if (b[k] == '\\')
                    k++;
            break;
        case LS_LT: angle++; break;
        case LS_GT: angle -= angle > 0; break;
        case LS_LP: paren++; break;
        case LS_RP: paren -= paren > 0; break;
        default:
            if (angle == 0 && paren == 0) {
                int rc = hdr_add(m, tmpl, start, k, fold | first);
                if (rc)
                    return rc;
                first = 0;
                start = k + 1;
            }
            break;
        }
    }
    return hdr_add(m, tmpl, start, v1, fold | first | SB_HDRF_LIST_LAST);
}

/* Offset of the first ':' in the 32 bytes from <i>, or SIZE_MAX (also when fewer than 8 bytes
 * remain): eight bytes per step, since header names are short and every field has one. */
static inline size_t find_colon(const char *b, size_t i, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), colons = ones * ':';
    for (size_t k = i; k < i + 32 && n - k >= 8; k += 8) {
        uint64_t v;
        memcpy(&v, b + k, 8);
        v ^= colons;
        /* the lowest set bit marks the first zero byte exactly (borrows only run upwards) */
        uint64_t z = (v - ones) & ~v & (ones << 7);
        if (z)
            return k + (size_t)(__builtin_ctzll(z) >> 3);
    }
#else
    (void)b;
    (void)i;
    (void)n;
#endif
    return SIZE_MAX;
}

/* One header field starting at <i>: name, HCOLON, value up to the end of the field (folded
 * continuation lines included). Returns the offset after the field, or 0 on error. */
static size_t parse_field(struct sb_msg *m, size_t i, size_t n)
{
    const char *b = m->buf;
    struct sb_hdr tmpl; /* hdr_add and msg_fail read type, name and field only */
    size_t n0 = i;
    size_t colon = find_colon(b, i, n);
    tmpl.type = SB_HDR_OTHER;
    if (SB_LIKELY(colon != SIZE_MAX)) {
        /* A known name is made of token characters only, so when the text before the colon (less
         * trailing SP/HTAB) is one, it is what the scan below would find: skip the scan. */
        size_t e = colon;
        while (e > n0 && sb_is_ws((unsigned char)b[e - 1]))
            e--;
        tmpl.name = (sb_span){(uint32_t)n0, (uint32_t)(e - n0)};
        if (e > n0)
            tmpl.type = (uint16_t)sb__hdr_lookup(b + n0, e - n0);
        i = colon;
    }
    if (tmpl.type == SB_HDR_OTHER) {
        i = n0;
        while (i < n && sb_is_token((unsigned char)b[i]))
            i++;
        tmpl.name = (sb_span){(uint32_t)n0, (uint32_t)(i - n0)};
        while (i < n && sb_is_ws((unsigned char)b[i]))
            i++;
        if (tmpl.name.len == 0 || i >= n || b[i] != ':') {
            msg_fail(m, SB_EPARSE, SB_MSG_ERRP_HEADER, tmpl.name.len ? &tmpl : NULL, n0,
                     "bad header line");
            return 0;
        }
        /* near the end of the buffer the colon was not searched for */
        if (colon == SIZE_MAX)
            tmpl.type = (uint16_t)sb_hdr_lookup(sb_msg_span(m, tmpl.name));
    }
    size_t v0 = i + 1;
    uint16_t fold = 0;
    size_t lf = line_end(b, v0, n);
    /* RFC3261-7.3.1: a line starting with SP or HTAB continues the field */
    while (lf + 1 < n && sb_is_ws((unsigned char)b[lf + 1])) {
        fold = SB_HDRF_FOLDED;
        lf = line_end(b, lf + 1, n);
    }
    size_t end = lf < n ? lf + 1 : n;
    size_t v1 = trim_cr(b, v0, lf);
    tmpl.field = (sb_span){(uint32_t)n0, (uint32_t)(end - n0)};
    if (tmpl.name.len == 1 && tmpl.type != SB_HDR_OTHER)
        fold |= SB_HDRF_COMPACT;
    if (end - n0 > m->limits->max_line) {
        msg_fail(m, SB_ELIMIT, SB_MSG_ERRP_LIMIT, &tmpl, n0, "header too long");
        return 0;
    }
    const struct sb_hdr_info *info = &sb_hdr_info[tmpl.type];
    if (SB_UNLIKELY((info->flags & SB_HDRI_SINGLE) && m->first[tmpl.type])) {
        /* RFC 4475 §3.3.8: several values for a single-value field. The rest of the section is
         * still readable and still indexed, so that a 400 can copy From, To, Call-ID and CSeq
         * even when they come after the duplicate; the repeated value stays out of its type's
         * chain, so that the reply copies the first one. */
        msg_fail(m, SB_EPARSE, SB_MSG_ERRP_HEADER, &tmpl, n0, "duplicate");
        fold |= SB_HDRF_REPEATED;
    }
    int rc = (info->flags & SB_HDRI_LIST) ? hdr_add_list(m, &tmpl, v0, v1, fold)
                                          : hdr_add(m, &tmpl, v0, v1, fold);
    return rc ? 0 : end;
}

static int parse_clen(struct sb_msg *m)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH);
    if (!h)
        return 0;
    sb_str v = sb_msg_hdr_value(m, h);
    /* RFC3261-20.14: 1*DIGIT, within 32 bits (leading zeros allowed). RFC 4475 §3.1.2.3: a
     * negative value is an error. */
    uint64_t clen = 0;
    for (size_t k = 0; k < v.len; k++) {
        unsigned d = (unsigned char)v.p[k] - '0';
        if (d > 9)
            return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_HEADER, h, h->value.off, "bad");
        if (clen <= UINT32_MAX)
            clen = clen * 10 + d;
    }
    if (v.len == 0 || clen > UINT32_MAX)
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_HEADER, h, h->value.off, "bad");
    m->clen = (uint32_t)clen;
    m->has_clen = true;
    return 0;
}

static int parse_body(struct sb_msg *m, size_t body_off, unsigned flags)
{
    int rc = parse_clen(m);
    if (rc)
        return rc;
    size_t avail = m->rcv_len - body_off;
    if (!m->has_clen) {
        /* RFC3261-18.3: a stream message must carry Content-Length; a datagram's body is the
         * rest of the datagram */
        if (flags & SB_MSG_STREAM)
            return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_BODY, NULL, body_off,
                            "missing Content-Length");
        m->body = (sb_span){(uint32_t)body_off, (uint32_t)avail};
        m->len = m->rcv_len;
        return 0;
    }
    if (m->clen > avail) {
        /* RFC 4475 §3.1.2.2: Content-Length larger than the message */
        struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH);
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_BODY, h, body_off,
                        "Content-Length larger than body");
    }
    /* RFC3261-18.3: datagram octets beyond Content-Length are discarded */
    m->body = (sb_span){(uint32_t)body_off, m->clen};
    m->len = (uint32_t)(body_off + m->clen);
    return 0;
}

static void parse_begin(struct sb_msg *m, const char *buf, size_t len)
{
    sb_msg_reset(m);
    m->buf = buf;
    m->len = m->rcv_len = (uint32_t)len;
}

/* RFC3261-7.1: "SIP/" starts a Status-Line; the version string is case-insensitive */
static inline bool is_sip_slash(const char *p)
{
    return sb_lower((unsigned char)p[0]) == 's' && sb_lower((unsigned char)p[1]) == 'i' &&
           sb_lower((unsigned char)p[2]) == 'p' && p[3] == '/';
}

int sb_msg_parse(struct sb_msg *m, const char *buf, size_t len, unsigned flags)
{
    parse_begin(m, buf, len > UINT32_MAX ? 0 : len);
    m->is_stream = (flags & SB_MSG_STREAM) != 0;
    if (len > m->limits->max_size)
        return msg_fail(m, SB_ELIMIT, SB_MSG_ERRP_LIMIT, NULL, m->limits->max_size,
                        "message too large");
    size_t n = len, i = 0;
    /* RFC3261-7.5: CRLFs before the start line are ignored */
    while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == n)
        return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_START_LINE, NULL, i, "empty message");
    size_t lf = line_end(buf, i, n);
    size_t end = trim_cr(buf, i, lf);
    if (end - i > m->limits->max_line)
        return msg_fail(m, SB_ELIMIT, SB_MSG_ERRP_LIMIT, NULL, i, "start line too long");
    m->start_line = (sb_span){(uint32_t)i, (uint32_t)(end - i)};
    int rc = (end - i > 4 && is_sip_slash(buf + i)) ? parse_reply_line(m, i, end)
                                                    : parse_request_line(m, i, end);
    if (rc)
        return rc;

    i = lf < n ? lf + 1 : n;
    for (;;) {
        if (i >= n) {
            /* a datagram whose last header line is not followed by the empty line: take the end
             * of the datagram as the end of the header section */
            if (flags & SB_MSG_STREAM)
                return msg_fail(m, SB_EPARSE, SB_MSG_ERRP_BODY, NULL, i, "no end of headers");
            m->hdrs_end = (uint32_t)n;
            return m->err.code ? m->err.code : parse_body(m, n, flags);
        }
        if (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < n && buf[i + 1] == '\n')) {
            m->hdrs_end = (uint32_t)i;
            /* a fault recorded while indexing (a duplicate) is the answer; the body is not read */
            return m->err.code ? m->err.code : parse_body(m, i + (buf[i] == '\r' ? 2 : 1), flags);
        }
        i = parse_field(m, i, n);
        if (i == 0)
            return m->err.code;
    }
}

int sb_msg_parse_buf(struct sb_msg *m, struct sb_buf *b, unsigned flags)
{
    int rc = sb_msg_parse(m, b->data, b->len, flags);
    m->owner = sb_buf_ref(b);
    return rc;
}

/* Is the line [i, e) a Content-Length field? Returns the value offset or 0. */
static size_t clen_field(const char *b, size_t i, size_t e)
{
    static const char name[] = "content-length";
    size_t k = 0;
    if (e - i >= 1 && sb_lower((unsigned char)b[i]) == 'l' &&
        (i + 1 < e && (b[i + 1] == ':' || sb_is_ws((unsigned char)b[i + 1])))) {
        k = i + 1;
    } else {
        if (e - i < sizeof(name) - 1)
            return 0;
        for (size_t j = 0; j < sizeof(name) - 1; j++)
            if (sb_lower((unsigned char)b[i + j]) != (unsigned char)name[j])
                return 0;
        k = i + sizeof(name) - 1;
    }
    while (k < e && sb_is_ws((unsigned char)b[k]))
        k++;
    return (k < e && b[k] == ':') ? k + 1 : 0;
}

long sb_msg_frame(const char *buf, size_t len, const struct sb_msg_limits *limits)
{
    if (!limits)
        limits = &sb_msg_limits_default;
    size_t i = 0, cl_at = 0, cl_end = 0;
    uint32_t clen = 0;
    bool have = false;
    /* Each answer depends only on the bytes up to the point where it is given, so that a reader fed
     * in pieces gets the answer it would get with the whole stream (or SB_EAGAIN before it). */
    for (;;) {
        if (cl_at && i < len && !sb_is_ws((unsigned char)buf[i])) {
            /* the line after Content-Length does not continue it: the value is complete, read the
             * way the parser reads it (LWS-trimmed; a fold inside is not a digit) */
            sb_str v = sb_str_trim((sb_str){buf + cl_at, cl_end - cl_at});
            if (sb_str_to_u32(v, &clen) != 0)
                return SB_EPARSE;
            cl_at = 0;
        }
        const char *q = len > i ? memchr(buf + i, '\n', len - i) : NULL;
        if (!q)
            return len >= limits->max_size ? SB_ELIMIT : SB_EAGAIN;
        size_t lf = (size_t)(q - buf);
        if (lf >= limits->max_size)
            return SB_ELIMIT; /* this line alone takes the message over the limit */
        size_t e = trim_cr(buf, i, lf);
        if (i > 0 && sb_is_ws((unsigned char)buf[i])) {
            /* RFC3261-7.3.1: a continuation line; a folded Content-Length value goes on here */
            if (cl_at)
                cl_end = e;
        } else {
            if (e == i && i > 0) { /* the empty line */
                if (!have)
                    return SB_EPARSE;
                uint64_t total = (uint64_t)lf + 1 + clen;
                if (total > limits->max_size)
                    return SB_ELIMIT;
                return total <= len ? (long)total : SB_EAGAIN;
            }
            if (i > 0 && (cl_at = clen_field(buf, i, e)) != 0) {
                if (have)
                    return SB_EPARSE; /* repeated Content-Length */
                have = true;
                cl_end = e;
            }
        }
        i = lf + 1;
        if (i >= limits->max_size)
            return SB_ELIMIT;
    }
}
