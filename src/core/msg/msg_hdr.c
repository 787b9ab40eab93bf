/* SPDX-License-Identifier: BSD-2-Clause */
/* Lazy access to header values: each value is parsed on first use and cached in the message
 * arena; plus whole-message validation and the status/reason a server answers a fault with. */
#include <stdio.h>

#include "sb/msg.h"
#include "sb/uri.h"

#include "msg_scan.h"

struct sb_hdr *sb_msg_hdr_find(const struct sb_msg *m, sb_str name)
{
    enum sb_hdr_type t = sb_hdr_lookup(name);
    if (t != SB_HDR_OTHER)
        return sb_msg_hdr_first(m, t);
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_OTHER); h; h = sb_msg_hdr_next(m, h))
        if (sb_str_caseeq(sb_msg_span(m, h->name), name))
            return h;
    return NULL;
}

unsigned sb_msg_hdr_count(const struct sb_msg *m, enum sb_hdr_type t)
{
    unsigned n = 0;
    for (struct sb_hdr *h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h))
        n++;
    return n;
}

sb_str sb_msg_hdr_value(const struct sb_msg *m, const struct sb_hdr *h)
{
    if (h->unfolded)
        return (sb_str){h->unfolded, h->unfolded_len};
    return sb_msg_span(m, h->value);
}

/* Record a fault at header <h> (the first fault is kept). */
static int hdr_error(struct sb_msg *m, const struct sb_hdr *h, int code, const char *what)
{
    if (m->err.code == 0) {
        m->err.code = code;
        m->err.part = code == SB_ELIMIT ? SB_MSG_ERRP_LIMIT : SB_MSG_ERRP_HEADER;
        m->err.hdr_type = h->type;
        m->err.hdr_name = h->name;
        m->err.offset = h->value.off;
        m->err.what = what;
    }
    return code;
}

/* A value that did not parse: flagged bad, so that sb_msg_hdr_parsed() keeps returning NULL. */
static int hdr_fault(struct sb_msg *m, struct sb_hdr *h, int code, const char *what)
{
    h->flags |= SB_HDRF_BAD;
    return hdr_error(m, h, code, what);
}

const void *sb_msg_hdr_parsed(struct sb_msg *m, struct sb_hdr *h)
{
    if (h->flags & SB_HDRF_PARSED)
        return (h->flags & SB_HDRF_BAD) ? NULL : h->parsed;
    const struct sb_hdr_info *info = &sb_hdr_info[h->type];
    if (!info->parse)
        return NULL;
    h->flags |= SB_HDRF_PARSED;
    void *out = (info->flags & SB_HDRI_SETS_ALL) ? sb_arena_alloc(&m->arena, info->parsed_size)
                                                 : sb_arena_zalloc(&m->arena, info->parsed_size);
    if (!out) {
        hdr_fault(m, h, SB_ENOMEM, "out of memory");
        return NULL;
    }
    sb_str v = sb_msg_hdr_value(m, h);
    /* RFC3261-20.37 (Supported) and friends allow an empty list: an empty token is fine */
    if (v.len == 0 && info->parse == (sb_hdr_parse_fn)sb_token_parse) {
        ((struct sb_hdr_token *)out)->v = v;
        h->parsed = out;
        return out;
    }
    /* the Request-URI, when parsed already, spares a To that repeats it a second parse */
    int rc = h->type == SB_HDR_TO && m->ruri_parsed
                 ? sb__nameaddr_parse_same(v, out, m->ruri_parsed)
                 : info->parse(v, out);
    if (rc != 0) {
        hdr_fault(m, h, SB_EPARSE, "bad");
        return NULL;
    }
    if (info->parse == (sb_hdr_parse_fn)sb_nameaddr_parse &&
        ((struct sb_nameaddr *)out)->uri_str.len > m->limits->max_uri) {
        hdr_fault(m, h, SB_ELIMIT, "URI too long");
        return NULL;
    }
    h->parsed = out;
    return out;
}

const struct sb_uri *sb_msg_ruri(struct sb_msg *m)
{
    if (m->kind != SB_MSG_REQUEST)
        return NULL;
    if (m->ruri_parsed)
        return m->ruri_parsed;
    struct sb_uri *u = sb_arena_alloc(&m->arena, sizeof(*u));
    if (!u || sb_uri_parse(sb_msg_span(m, m->ruri), u) != 0) {
        if (m->err.code == 0) {
            m->err.code = u ? SB_EPARSE : SB_ENOMEM;
            m->err.part = SB_MSG_ERRP_RURI;
            m->err.offset = m->ruri.off;
            m->err.what = "bad Request-URI";
        }
        return NULL;
    }
    m->ruri_parsed = u;
    return u;
}

static const void *first_parsed(struct sb_msg *m, enum sb_hdr_type t)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, t);
    return h ? sb_msg_hdr_parsed(m, h) : NULL;
}

const struct sb_via *sb_msg_via1(struct sb_msg *m)
{
    return first_parsed(m, SB_HDR_VIA);
}

const struct sb_via *sb_msg_via2(struct sb_msg *m)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_VIA);
    h = h ? sb_msg_hdr_next(m, h) : NULL;
    return h ? sb_msg_hdr_parsed(m, h) : NULL;
}

const struct sb_nameaddr *sb_msg_from(struct sb_msg *m)
{
    return first_parsed(m, SB_HDR_FROM);
}

const struct sb_nameaddr *sb_msg_to(struct sb_msg *m)
{
    return first_parsed(m, SB_HDR_TO);
}

const struct sb_cseq *sb_msg_cseq(struct sb_msg *m)
{
    return first_parsed(m, SB_HDR_CSEQ);
}

sb_str sb_msg_callid(struct sb_msg *m)
{
    const sb_str *id = first_parsed(m, SB_HDR_CALL_ID);
    return id ? *id : SB_STR_NULL;
}

int sb_msg_num(struct sb_msg *m, enum sb_hdr_type t, uint32_t *out)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, t);
    if (!h)
        return SB_ENOENT;
    if (sb_hdr_info[t].parsed_size != sizeof(struct sb_hdr_num))
        return SB_EINVAL;
    const struct sb_hdr_num *v = sb_msg_hdr_parsed(m, h);
    if (!v)
        return SB_EPARSE;
    *out = v->v;
    return 0;
}

bool sb_msg_has_token(struct sb_msg *m, enum sb_hdr_type t, sb_str token)
{
    for (struct sb_hdr *h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h)) {
        const struct sb_hdr_token *v = sb_msg_hdr_parsed(m, h);
        if (v && sb_str_caseeq(v->v, token))
            return true;
    }
    return false;
}

static int missing(struct sb_msg *m, enum sb_hdr_type t)
{
    if (m->err.code == 0) {
        m->err.code = SB_EPARSE;
        m->err.part = SB_MSG_ERRP_HEADER;
        m->err.hdr_type = (uint16_t)t;
        m->err.hdr_name = (sb_span){0, 0};
        m->err.offset = m->hdrs_end;
        m->err.what = "missing";
    }
    return SB_EPARSE;
}

int sb_msg_check(struct sb_msg *m)
{
    if (m->err.code)
        return m->err.code;
    if (m->kind == SB_MSG_REQUEST && !sb_msg_ruri(m))
        return m->err.code ? m->err.code : SB_EPARSE;
    /* RFC3261-8.1.1: the header fields every request and response carries. Max-Forwards is left
     * out: RFC 2543 peers omit it (RFC 4475 §3.4.1). */
    static const enum sb_hdr_type required[] = {SB_HDR_VIA, SB_HDR_FROM, SB_HDR_TO, SB_HDR_CALL_ID,
                                                SB_HDR_CSEQ};
    for (size_t i = 0; i < SB_ARRAY_LEN(required); i++) {
        struct sb_hdr *h = sb_msg_hdr_first(m, required[i]);
        if (!h)
            return missing(m, required[i]);
        if (sb_hdr_info[h->type].parse && !sb_msg_hdr_parsed(m, h))
            return m->err.code ? m->err.code : hdr_error(m, h, SB_EPARSE, "bad");
    }
    const struct sb_cseq *cs = sb_msg_cseq(m);
    if (m->kind == SB_MSG_REPLY) {
        m->method_id = cs->method_id;
    } else if (!sb_str_eq(cs->method, sb_msg_method(m))) {
        /* RFC 4475 §3.1.2.17: the CSeq method must match the Request-Line method. The CSeq value
         * itself is well formed and stays readable: the 400 (or, for an unknown method, the 501 of
         * RFC 4475 §3.1.2.18) echoes it */
        return hdr_error(m, sb_msg_hdr_first(m, SB_HDR_CSEQ), SB_EPARSE, "method mismatch in");
    }
    return 0;
}

int sb_msg_parse_all(struct sb_msg *m)
{
    if (m->err.code)
        return m->err.code;
    for (uint32_t i = 0; i < m->n_hdrs; i++) {
        struct sb_hdr *h = &m->hdrs[i];
        if (sb_hdr_info[h->type].parse && !sb_msg_hdr_parsed(m, h) && m->err.code)
            return m->err.code;
    }
    return sb_msg_check(m);
}

int sb_msg_err_status(const struct sb_msg *m)
{
    switch (m->err.code) {
    case 0: return 0;
    case SB_EVERSION: return 505;
    case SB_ENOMEM: return 500;
    case SB_ELIMIT:
        if (m->err.part == SB_MSG_ERRP_LIMIT && m->err.what &&
            strcmp(m->err.what, "message too large") == 0)
            return 513;
        if (m->err.hdr_type == SB_HDR_OTHER && m->err.what && strstr(m->err.what, "URI"))
            return 414;
        return 400;
    default: return 400;
    }
}

static const char *hdr_label(const struct sb_msg *m, char *tmp, size_t n)
{
    if (m->err.hdr_type != SB_HDR_OTHER)
        return sb_hdr_info[m->err.hdr_type].name;
    sb_str name = sb_msg_span(m, m->err.hdr_name);
    if (name.len == 0)
        return "Header";
    snprintf(tmp, n, SB_STR_FMT, (int)(name.len > 40 ? 40 : name.len), name.p);
    return tmp;
}

size_t sb_msg_err_reason(const struct sb_msg *m, char *out, size_t n)
{
    char tmp[48];
    const char *what = m->err.what ? m->err.what : "bad";
    int len;
    switch (m->err.part) {
    case SB_MSG_ERRP_NONE: len = snprintf(out, n, "OK"); break;
    case SB_MSG_ERRP_VERSION: len = snprintf(out, n, "Version Not Supported"); break;
    case SB_MSG_ERRP_HEADER:
        /* "Bad Via", "Missing CSeq", "Duplicate To", "Method Mismatch In CSeq" */
        len = snprintf(out, n, "%c%s %s", what[0] >= 'a' && what[0] <= 'z' ? what[0] - 32 : what[0],
                       what + 1, hdr_label(m, tmp, sizeof(tmp)));
        break;
    case SB_MSG_ERRP_BODY:
        /* name Content-Length only when it is there: RFC 2543 peers omit it (RFC 4475 §3.4.1),
         * which a stream cannot frame */
        if (m->err.hdr_type == SB_HDR_CONTENT_LENGTH)
            len = snprintf(out, n, "Bad Content-Length");
        else if (strncmp(what, "missing", 7) == 0)
            len = snprintf(out, n, "Missing Content-Length");
        else
            len = snprintf(out, n, "Bad Request (%s)", what);
        break;
    case SB_MSG_ERRP_LIMIT:
        if (sb_msg_err_status(m) == 513)
            len = snprintf(out, n, "Message Too Large");
        else if (sb_msg_err_status(m) == 414)
            len = snprintf(out, n, "Request-URI Too Long");
        else if (m->err.hdr_type != SB_HDR_OTHER || m->err.hdr_name.len)
            len = snprintf(out, n, "Bad %s (%s)", hdr_label(m, tmp, sizeof(tmp)), what);
        else
            len = snprintf(out, n, "Bad Request (%s)", what);
        break;
    case SB_MSG_ERRP_RURI: len = snprintf(out, n, "Bad Request-URI"); break;
    case SB_MSG_ERRP_METHOD: len = snprintf(out, n, "Bad Method"); break;
    case SB_MSG_ERRP_STATUS: len = snprintf(out, n, "Bad Status Line"); break;
    default: len = snprintf(out, n, "Bad Request Line"); break;
    }
    return len < 0 ? 0 : ((size_t)len < n ? (size_t)len : n - 1);
}

size_t sb_msg_err_describe(const struct sb_msg *m, char *out, size_t n)
{
    char tmp[48];
    int len;
    if (m->err.part == SB_MSG_ERRP_HEADER ||
        (m->err.part == SB_MSG_ERRP_LIMIT && m->err.hdr_name.len))
        len = snprintf(out, n, "%s %s at offset %u", m->err.what ? m->err.what : "bad",
                       hdr_label(m, tmp, sizeof(tmp)), m->err.offset);
    else
        len = snprintf(out, n, "%s at offset %u", m->err.what ? m->err.what : "parse error",
                       m->err.offset);
    return len < 0 ? 0 : ((size_t)len < n ? (size_t)len : n - 1);
}
