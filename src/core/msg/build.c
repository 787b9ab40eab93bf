/* SPDX-License-Identifier: BSD-2-Clause */
/* Building a request for forwarding (RFC 3261 §16.6): the message's own lumps plus this branch's
 * edits, applied once into a new buffer; and the branch parameters that carry the owner worker. */
#include "msg/lump_int.h"

/* A build copies the message's lumps next to its own; this many fit without touching the arena. */
#define FWD_STACK_LUMPS 48

/* Text that the edits of one build point to; it lives until the build is applied. */
struct fwd_text {
    char maxfwd[20];
    char clen[48];
};

static bool has_line_break(sb_str s)
{
    return s.len && (memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len));
}

/* Is <h> absent from the output: removed by the caller, or of a type that <o> removes? */
static bool hdr_gone(const struct sb_fwd_opts *o, const struct sb_hdr *h)
{
    if (h->flags & SB_HDRF_REMOVED)
        return true;
    for (uint32_t k = 0; k < o->n_remove; k++)
        if (o->remove_types[k] == h->type)
            return true;
    return false;
}

static int fwd_check(const struct sb_msg *m, const struct sb_fwd_opts *o)
{
    if (m->kind != SB_MSG_REQUEST && (o->ruri.p || o->via.p || o->maxfwd_dec))
        return SB_EINVAL;
    if (m->kind != SB_MSG_REQUEST && m->kind != SB_MSG_REPLY)
        return SB_EINVAL;
    if (o->ruri.p) {
        /* the Request-URI is one word of the request line */
        if (o->ruri.len == 0)
            return SB_EINVAL;
        for (size_t i = 0; i < o->ruri.len; i++)
            if ((unsigned char)o->ruri.p[i] <= ' ' || o->ruri.p[i] == 0x7f)
                return SB_EINVAL;
    }
    if (o->via.p && (o->via.len == 0 || has_line_break(o->via)))
        return SB_EINVAL;
    if (o->add_hdrs.len && (!o->add_hdrs.p || o->add_hdrs.p[o->add_hdrs.len - 1] != '\n'))
        return SB_EINVAL;
    if (o->top_hdrs.len && (!o->top_hdrs.p || o->top_hdrs.p[o->top_hdrs.len - 1] != '\n'))
        return SB_EINVAL;
    if (o->n_remove && !o->remove_types)
        return SB_EINVAL;
    for (uint32_t k = 0; k < o->n_remove; k++)
        if (o->remove_types[k] == SB_HDR_OTHER || o->remove_types[k] >= SB_HDR__COUNT)
            return SB_EINVAL;
    if (o->replace_body && o->body.len && !o->body.p)
        return SB_EINVAL;
    return 0;
}

static int fwd_remove(const struct sb_msg *m, const struct sb_fwd_opts *o, struct sb__lumps *s)
{
    for (uint32_t k = 0; k < o->n_remove; k++) {
        uint32_t last = UINT32_MAX;
        for (struct sb_hdr *h = sb_msg_hdr_first(m, o->remove_types[k]); h;
             h = sb_msg_hdr_next(m, h)) {
            if (h->field.off == last) /* the next value of a field already removed */
                continue;
            last = h->field.off;
            int rc = sb__lumps_add(s, h->field.off, h->field.len, SB_STR_NULL, SB__LUMP_ABSORB);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* RFC3261-16.6: step 8: our Via goes on top of the others. Inserted before everything at the top
 * of the header section, lines the caller prepended included. */
static int fwd_via(const struct sb_msg *m, const struct sb_fwd_opts *o, struct sb__lumps *s)
{
    sb_str parts[3] = {SB_STR("Via: "), o->via, SB_STR("\r\n")};
    int rc = 0;
    if (m->n_hdrs) {
        for (int k = 2; k >= 0 && rc == 0; k--)
            rc = sb__lumps_add(s, m->hdrs[0].field.off, 0, parts[k], SB__LUMP_FRONT);
    } else {
        rc = sb__lumps_eol_fix(s, m);
        for (int k = 0; k < 3 && rc == 0; k++)
            rc = sb__lumps_add(s, m->hdrs_end, 0, parts[k], 0);
    }
    return rc;
}

static int fwd_maxfwd(struct sb_msg *m, const struct sb_fwd_opts *o, struct sb__lumps *s,
                      struct fwd_text *t)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_MAX_FORWARDS);
    if (!h || hdr_gone(o, h)) /* RFC3261-16.6: step 3: add one with the value 70 */
        return sb__lumps_add(s, m->hdrs_end, 0, SB_STR("Max-Forwards: 70\r\n"), 0);
    uint32_t v;
    if (sb_msg_num(m, SB_HDR_MAX_FORWARDS, &v) != 0)
        return SB_EPARSE;
    if (v == 0) /* RFC3261-16.3: step 2: not forwarded, answered 483 by the caller */
        return SB_ERANGE;
    size_t n = sb_u64_to_dec(v - 1, t->maxfwd);
    return sb__lumps_add(s, h->value.off, h->value.len, (sb_str){t->maxfwd, n}, SB__LUMP_ABSORB);
}

/* Does any lump touch the bytes [a, b]? */
static bool lumps_touch(const struct sb__lumps *s, uint32_t a, uint32_t b)
{
    uint32_t i = sb__lumps_lower(s, a);
    return i < s->n && s->v[i].off <= b;
}

/* The body edits and a Content-Length that matches the body written. RFC3261-18.3: mandatory on
 * streams, and we always write it, so that the next hop may be a stream. */
static int fwd_body(const struct sb_msg *m, const struct sb_fwd_opts *o, struct sb__lumps *s,
                    struct fwd_text *t)
{
    /* no empty line: the header section ran to the end of the datagram, and there is no body */
    bool no_blank = m->body.off == m->hdrs_end;
    size_t blen;
    int rc = 0;
    if (no_blank) {
        blen = o->replace_body ? o->body.len : 0;
    } else if (o->replace_body) {
        /* a new body replaces every edit of the old one */
        s->n = sb__lumps_lower(s, m->body.off);
        rc = sb__lumps_add(s, m->body.off, m->len - m->body.off, o->body, 0);
        blen = o->body.len;
    } else {
        blen = sb__lumps_range_len(s, m->buf, m->body.off, m->len, SB__RANGE_ALL);
    }
    if (rc)
        return rc;
    if (blen > UINT32_MAX)
        return SB_EINVAL;

    const struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH);
    if (h && !hdr_gone(o, h)) {
        uint32_t ve = h->value.off + h->value.len;
        if (!m->has_clen || m->clen != blen || lumps_touch(s, h->value.off, ve)) {
            size_t n = sb_u64_to_dec(blen, t->clen);
            rc =
                sb__lumps_add(s, h->value.off, h->value.len, (sb_str){t->clen, n}, SB__LUMP_ABSORB);
        }
    } else {
        memcpy(t->clen, "Content-Length: ", 16);
        size_t n = 16 + sb_u64_to_dec(blen, t->clen + 16);
        memcpy(t->clen + n, "\r\n", 2);
        rc = sb__lumps_add(s, m->hdrs_end, 0, (sb_str){t->clen, n + 2}, 0);
    }
    if (rc || !no_blank)
        return rc;
    rc = sb__lumps_add(s, m->hdrs_end, 0, SB_STR("\r\n"), 0);
    if (rc == 0 && o->replace_body)
        rc = sb__lumps_add(s, m->hdrs_end, 0, o->body, 0);
    return rc;
}

/* "METHOD SP Request-URI SP SIP/2.0", nothing more: the form we send. */
static bool start_line_clean(const struct sb_msg *m)
{
    return m->method.off == m->start_line.off && m->ruri.off == m->method.off + m->method.len + 1 &&
           m->version.off == m->ruri.off + m->ruri.len + 1 &&
           m->version.off + m->version.len == m->start_line.off + m->start_line.len &&
           memcmp(m->buf + m->version.off, "SIP/2.0", 7) == 0;
}

/* RFC 4475 §3.1.2.9 / §3.1.2.10: we accept extra SP between and after the request-line elements
 * (and a lower-case version); what we forward is rebuilt in the strict form of RFC 3261 §7.1. */
static int fwd_start_line(struct sb_msg *m, const struct sb_fwd_opts *o, struct sb__lumps *s)
{
    sb_str ruri = o->ruri.p ? o->ruri : sb_msg_span(m, m->ruri);
    sb_str meth = sb_msg_span(m, m->method);
    sb_str line =
        sb_msg_printf(m, SB_STR_FMT " " SB_STR_FMT " SIP/2.0", SB_STR_ARG(meth), SB_STR_ARG(ruri));
    if (!line.p)
        return SB_ENOMEM;
    return sb__lumps_add(s, m->start_line.off, m->start_line.len, line, SB__LUMP_ABSORB);
}

static int fwd_edits(struct sb_msg *m, const struct sb_fwd_opts *o, struct sb__lumps *s,
                     struct fwd_text *t)
{
    int rc = fwd_remove(m, o, s);
    if (rc == 0 && m->kind == SB_MSG_REQUEST && !start_line_clean(m))
        rc = fwd_start_line(m, o, s);
    else if (rc == 0 && o->ruri.p)
        rc = sb__lumps_add(s, m->ruri.off, m->ruri.len, o->ruri, SB__LUMP_ABSORB);
    /* top lines go just below our Via: inserted at the front first, the Via then in front of them
     */
    if (rc == 0 && o->top_hdrs.len && m->n_hdrs)
        rc = sb__lumps_add(s, m->hdrs[0].field.off, 0, o->top_hdrs, SB__LUMP_FRONT);
    if (rc == 0 && o->via.p)
        rc = fwd_via(m, o, s);
    if (rc == 0)
        rc = sb__lumps_eol_fix(s, m);
    if (rc == 0 && o->top_hdrs.len && !m->n_hdrs)
        rc = sb__lumps_add(s, m->hdrs_end, 0, o->top_hdrs, 0);
    if (rc == 0 && o->maxfwd_dec)
        rc = fwd_maxfwd(m, o, s, t);
    if (rc == 0 && o->add_hdrs.len)
        rc = sb__lumps_add(s, m->hdrs_end, 0, o->add_hdrs, 0);
    if (rc == 0)
        rc = fwd_body(m, o, s, t);
    return rc;
}

int sb_msg_build_request(struct sb_msg *m, const struct sb_fwd_opts *o, struct sb_buf **out)
{
    static const struct sb_fwd_opts none = {0};
    struct sb_lump stack[FWD_STACK_LUMPS];
    struct fwd_text text;
    *out = NULL;
    if (!o)
        o = &none;
    if (m->lump_err)
        return m->lump_err;
    int rc = fwd_check(m, o);
    if (rc)
        return rc;

    /* the edits of this build go into a copy of the message's set, never into the message */
    struct sb__lumps s = {stack, m->n_lumps, FWD_STACK_LUMPS, m->len, &m->arena};
    if (m->n_lumps > FWD_STACK_LUMPS) {
        s.cap = m->n_lumps + FWD_STACK_LUMPS;
        s.v = sb_arena_alloc(&m->arena, (size_t)s.cap * sizeof(*s.v));
        if (!s.v)
            return SB_ENOMEM;
    }
    if (m->n_lumps)
        memcpy(s.v, m->lumps, m->n_lumps * sizeof(*s.v));
    rc = fwd_edits(m, o, &s, &text);
    if (rc)
        return rc;

    size_t len = sb__lumps_total(&s);
    struct sb_buf *b = sb_buf_new(len);
    if (!b)
        return SB_ENOMEM;
    struct sb_wbuf w;
    sb_wbuf_init(&w, b->data, len);
    sb__lumps_range_write(&s, m->buf, 0, m->len, SB__RANGE_ALL, &w);
    SB_BUG_ON(w.err || w.len != len);
    b->len = (uint32_t)len;
    *out = b;
    return 0;
}

/* ---- branch --------------------------------------------------------------------------------- */

/* Base 32 in one case only: RFC3261-7.3.1 lets parameter values change case on the way. */
static const char b32_digits[] = "0123456789abcdefghijklmnopqrstuv";

#define BRANCH_PREFIX     "z9hG4bKsb"
#define BRANCH_PREFIX_LEN 9
#define BRANCH_KEY_CHARS  13

/* Digit values + 1 by character (0: not a digit, either case): every reply of a multi-worker
 * server has its branch decoded before the owner is known. */
#define B32_10(c0, v0)                                                                             \
    [c0] = v0, [c0 + 1] = v0 + 1, [c0 + 2] = v0 + 2, [c0 + 3] = v0 + 3, [c0 + 4] = v0 + 4,         \
    [c0 + 5] = v0 + 5, [c0 + 6] = v0 + 6, [c0 + 7] = v0 + 7, [c0 + 8] = v0 + 8, [c0 + 9] = v0 + 9
#define B32_ALPHA(a) B32_10(a, 11), B32_10(a + 10, 21), [a + 20] = 31, [a + 21] = 32
static const unsigned char b32_tab[256] = {B32_10('0', 1), B32_ALPHA('a'), B32_ALPHA('A')};

static int b32_val(unsigned char c)
{
    return (int)b32_tab[c] - 1;
}

#define BRANCH_DIGITS (2 + BRANCH_KEY_CHARS) /* worker, then key */

/* A check digit over the values of the worker and key digits: odd weights make every change of
 * one digit, and most swaps of two neighbours, change it; the offset keeps an all-zero branch from
 * passing. */
static unsigned branch_check(const int v[BRANCH_DIGITS])
{
    unsigned sum = 11;
    for (unsigned i = 0; i < BRANCH_DIGITS; i++)
        sum += (unsigned)v[i] * (2 * i + 1);
    return sum & 31;
}

size_t sb_branch_make(char *out, size_t cap, unsigned worker, uint64_t key)
{
    if (cap < SB_BRANCH_LEN || worker > SB_BRANCH_MAX_WORKER)
        return 0;
    int v[BRANCH_DIGITS];
    v[0] = (int)(worker >> 5);
    v[1] = (int)(worker & 31);
    for (int i = BRANCH_KEY_CHARS - 1; i >= 0; i--) {
        v[2 + i] = (int)(key & 31);
        key >>= 5;
    }
    /* RFC3261-8.1.1.7: the magic cookie says the branch is unique across space and time */
    memcpy(out, BRANCH_PREFIX, BRANCH_PREFIX_LEN);
    char *p = out + BRANCH_PREFIX_LEN;
    for (unsigned i = 0; i < BRANCH_DIGITS; i++)
        p[i] = b32_digits[v[i]];
    p[BRANCH_DIGITS] = b32_digits[branch_check(v)];
    if (cap > SB_BRANCH_LEN)
        out[SB_BRANCH_LEN] = '\0';
    return SB_BRANCH_LEN;
}

int sb_branch_worker(sb_str branch)
{
    if (branch.len != SB_BRANCH_LEN ||
        !sb_str_caseeq((sb_str){branch.p, BRANCH_PREFIX_LEN}, SB_STR(BRANCH_PREFIX)))
        return -1;
    const unsigned char *p = (const unsigned char *)branch.p + BRANCH_PREFIX_LEN;
    int v[BRANCH_DIGITS];
    unsigned bad = 0;
    for (unsigned i = 0; i < BRANCH_DIGITS; i++) {
        v[i] = b32_val(p[i]);
        bad |= (unsigned)v[i] >> 31; /* -1: not a digit */
    }
    /* 13 key digits carry 65 bits; the top one only 4 */
    if (bad || v[2] > 15 || b32_val(p[BRANCH_DIGITS]) != (int)branch_check(v))
        return -1;
    return v[0] << 5 | v[1];
}

static bool rw_lws(char c)
{
    return c == ' ' || c == '\t';
}

/* The first ';', ',' or '"' in [q, ve), or ve: eight bytes a step (a zero byte of v ^ c marks c;
 * the lowest flag found is exact, as borrows only run upwards). */
static const char *via_special(const char *q, const char *ve)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
    for (; ve - q >= 8; q += 8) {
        uint64_t v, a, b, c;
        memcpy(&v, q, 8);
        a = v ^ (ones * ';');
        b = v ^ (ones * ',');
        c = v ^ (ones * '"');
        uint64_t z = ((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c);
        z &= high;
        if (z)
            return q + (__builtin_ctzll(z) >> 3);
    }
#endif
    while (q < ve && *q != ';' && *q != ',' && *q != '"')
        q++;
    return q;
}

int sb_branch_reply_worker(const char *p, size_t len)
{
    const char *end = p + len;
    if (len < 12 || memcmp(p, "SIP/2.0 ", 8) != 0)
        return -1;
    const char *l = memchr(p, '\n', len);
    while (l && ++l < end) {
        const char *eol = memchr(l, '\n', (size_t)(end - l));
        if (!eol || l[0] == '\r' || l[0] == '\n')
            return -1; /* the end of the headers, or of the datagram: no Via */
        const char *c = l;
        if ((c[0] | 0x20) == 'v') {
            if (eol - c > 3 && (c[1] | 0x20) == 'i' && (c[2] | 0x20) == 'a')
                c += 3;
            else
                c += 1;
            while (c < eol && rw_lws(*c))
                c++;
        }
        if (c == l || *c != ':') {
            l = eol;
            continue;
        }
        /* the first via-parm: its parameters up to a comma or the end of the line */
        const char *ve = eol;
        if (ve > c && ve[-1] == '\r')
            ve--;
        if (eol + 1 < end && rw_lws(eol[1]))
            return -1; /* folded */
        for (const char *q = c + 1; (q = via_special(q, ve)) < ve; q++) {
            if (*q != ';')
                return -1; /* ',' or '"' */
            q++;
            while (q < ve && rw_lws(*q))
                q++;
            if (ve - q < 7 || !sb_str_caseeq((sb_str){q, 6}, SB_STR("branch")))
                continue;
            q += 6;
            while (q < ve && rw_lws(*q))
                q++;
            if (q == ve || *q != '=')
                continue;
            q++;
            while (q < ve && rw_lws(*q))
                q++;
            /* only a value of exactly SB_BRANCH_LEN bytes can be ours: look at that many and at
             * what follows them, which must end the value */
            if (ve - q < SB_BRANCH_LEN)
                return -1;
            const char *t = q + SB_BRANCH_LEN;
            if (t < ve && *t != ';' && *t != ',' && !rw_lws(*t))
                return -1;
            return sb_branch_worker((sb_str){q, SB_BRANCH_LEN});
        }
        return -1;
    }
    return -1;
}
