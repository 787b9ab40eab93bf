/* SPDX-License-Identifier: BSD-2-Clause */
/* Replies made from a request (RFC 3261 §8.2.6), written once into a buffer of the exact size, and
 * the default reason phrases (RFC 3261 §21 and the registered extension codes). */
#include "msg/lump_int.h"
#include "sb/log.h"

#define R(c, s)                                                                                    \
    case c: return SB_STR(s)

sb_str sb_reason_phrase(int code)
{
    switch (code) {
        R(100, "Trying");
        R(180, "Ringing");
        R(181, "Call Is Being Forwarded");
        R(182, "Queued");
        R(183, "Session Progress");
        R(199, "Early Dialog Terminated"); /* RFC 6228 */
        R(200, "OK");
        R(202, "Accepted");        /* RFC 3265 */
        R(204, "No Notification"); /* RFC 5839 */
        R(300, "Multiple Choices");
        R(301, "Moved Permanently");
        R(302, "Moved Temporarily");
        R(305, "Use Proxy");
        R(380, "Alternative Service");
        R(400, "Bad Request");
        R(401, "Unauthorized");
        R(402, "Payment Required");
        R(403, "Forbidden");
        R(404, "Not Found");
        R(405, "Method Not Allowed");
        R(406, "Not Acceptable");
        R(407, "Proxy Authentication Required");
        R(408, "Request Timeout");
        R(410, "Gone");
        R(412, "Conditional Request Failed"); /* RFC 3903 */
        R(413, "Request Entity Too Large");
        R(414, "Request-URI Too Long");
        R(415, "Unsupported Media Type");
        R(416, "Unsupported URI Scheme");
        R(417, "Unknown Resource-Priority"); /* RFC 4412 */
        R(420, "Bad Extension");
        R(421, "Extension Required");
        R(422, "Session Interval Too Small"); /* RFC 4028 */
        R(423, "Interval Too Brief");
        R(424, "Bad Location Information");         /* RFC 6442 */
        R(428, "Use Identity Header");              /* RFC 8224 */
        R(429, "Provide Referrer Identity");        /* RFC 3892 */
        R(430, "Flow Failed");                      /* RFC 5626 */
        R(433, "Anonymity Disallowed");             /* RFC 5079 */
        R(436, "Bad Identity Info");                /* RFC 8224 */
        R(437, "Unsupported Credential");           /* RFC 8224 */
        R(438, "Invalid Identity Header");          /* RFC 8224 */
        R(439, "First Hop Lacks Outbound Support"); /* RFC 5626 */
        R(440, "Max-Breadth Exceeded");             /* RFC 5393 */
        R(469, "Bad Info Package");                 /* RFC 6086 */
        R(470, "Consent Needed");                   /* RFC 5360 */
        R(480, "Temporarily Unavailable");
        R(481, "Call/Transaction Does Not Exist");
        R(482, "Loop Detected");
        R(483, "Too Many Hops");
        R(484, "Address Incomplete");
        R(485, "Ambiguous");
        R(486, "Busy Here");
        R(487, "Request Terminated");
        R(488, "Not Acceptable Here");
        R(489, "Bad Event"); /* RFC 6665 */
        R(491, "Request Pending");
        R(493, "Undecipherable");
        R(494, "Security Agreement Required"); /* RFC 3329 */
        R(500, "Server Internal Error");
        R(501, "Not Implemented");
        R(502, "Bad Gateway");
        R(503, "Service Unavailable");
        R(504, "Server Time-out");
        R(505, "Version Not Supported");
        R(513, "Message Too Large");
        R(555, "Push Notification Service Not Supported"); /* RFC 8599 */
        R(580, "Precondition Failure");                    /* RFC 3312 */
        R(600, "Busy Everywhere");
        R(603, "Decline");
        R(604, "Does Not Exist Anywhere");
        R(606, "Not Acceptable");
        R(607, "Unwanted"); /* RFC 8197 */
        R(608, "Rejected"); /* RFC 8688 */
    default: break;
    }
    /* RFC3261-21: an unknown code is understood as the x00 of its class; name the class */
    switch (code / 100) {
        R(1, "Provisional");
        R(2, "Success");
        R(3, "Redirection");
        R(4, "Client Error");
        R(5, "Server Error");
        R(6, "Global Failure");
    default: return SB_STR("Unknown");
    }
}

#undef R

/* What the options resolve to, worked out once for sizing and writing. */
struct reply_plan {
    sb_str reason;
    sb_str tag;           /* the To tag to append; empty when none */
    struct sb__lumps via; /* the request's lumps, applied inside Via fields */
};

static bool has_line_break(sb_str s)
{
    return s.len && (memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len));
}

static bool is_token(sb_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!sb_is_token((unsigned char)s.p[i]))
            return false;
    return true;
}

/* Is there a tag among the header parameters of a From/To value? For a value its parser refused:
 * the parameters follow the <...> of a name-addr, or the URI of an addr-spec (RFC3261-20.10). */
static bool scan_tag(sb_str v)
{
    bool quoted = false;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.p[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            const char *e = memchr(v.p + i, '>', v.len - i);
            if (!e)
                return false;
            i = (size_t)(e - v.p);
        } else if (c == ';') {
            size_t k = i + 1;
            while (k < v.len && sb_is_ws((unsigned char)v.p[k]))
                k++;
            if (v.len - k < 3 || !sb_str_caseeq_lit((sb_str){v.p + k, 3}, "tag"))
                continue;
            k += 3;
            while (k < v.len && sb_is_ws((unsigned char)v.p[k]))
                k++;
            if (k < v.len && v.p[k] == '=')
                return true;
        }
    }
    return false;
}

static bool to_has_tag(struct sb_msg *req, struct sb_hdr *to)
{
    const struct sb_nameaddr *na = sb_msg_hdr_parsed(req, to);
    if (na)
        return na->tag.p != NULL;
    return scan_tag(sb_msg_hdr_value(req, to));
}

static int reply_plan(struct sb_msg *req, const struct sb_reply_opts *o, struct reply_plan *p)
{
    /* RFC3261-17: an ACK is never answered */
    if (o->code < 100 || o->code > 699 || req->kind != SB_MSG_REQUEST ||
        req->method_id == SB_METHOD_ACK)
        return SB_EINVAL;
    if (has_line_break(o->reason) || has_line_break(o->server) || has_line_break(o->content_type) ||
        (o->to_tag.p && !is_token(o->to_tag)))
        return SB_EINVAL;
    if (o->hdrs.len && (!o->hdrs.p || o->hdrs.p[o->hdrs.len - 1] != '\n'))
        return SB_EINVAL;
    if ((o->body.len && !o->body.p) || o->body.len > UINT32_MAX)
        return SB_EINVAL;
    p->reason = o->reason.p ? o->reason : sb_reason_phrase(o->code);
    p->tag = SB_STR_NULL;
    /* RFC3261-8.2.6.2: the To tag of the request, or ours when it has none; a 100 may go without
     * one, and ours does */
    struct sb_hdr *to = sb_msg_hdr_first(req, SB_HDR_TO);
    if (to && o->code > 100 && o->to_tag.len && !to_has_tag(req, to))
        p->tag = o->to_tag;
    /* a request whose edits failed is still answered, with its Vias as received */
    p->via = (struct sb__lumps){req->lumps, req->lump_err ? 0 : req->n_lumps, req->cap_lumps,
                                req->len, NULL};
    return 0;
}

static inline sb_str field_of(const struct sb_msg *m, const struct sb_hdr *h)
{
    return sb_msg_span(m, h->field);
}

static inline bool ends_line(sb_str f)
{
    return f.len && f.p[f.len - 1] == '\n';
}

/* A header field exactly as received; a last line without its line end gets one. */
static void put_field(struct sb_wbuf *w, const struct sb_msg *m, const struct sb_hdr *h)
{
    sb_str f = field_of(m, h);
    sb_wbuf_str(w, f);
    if (!ends_line(f))
        sb_wbuf_put(w, "\r\n", 2);
}

/* Every field of type <t>, in order, each once however many values it holds. With <via>, the
 * request's edits inside each field are applied. */
static size_t fields_len(const struct sb_msg *m, enum sb_hdr_type t, const struct sb__lumps *via)
{
    uint32_t last = UINT32_MAX;
    size_t n = 0;
    for (const struct sb_hdr *h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h)) {
        if (h->field.off == last)
            continue;
        last = h->field.off;
        size_t f = via ? sb__lumps_range_len(via, m->buf, h->field.off, h->field.off + h->field.len,
                                             SB__RANGE_INNER)
                       : h->field.len;
        n += f + (f && !ends_line(field_of(m, h)) ? 2 : 0);
    }
    return n;
}

static void put_fields(struct sb_wbuf *w, const struct sb_msg *m, enum sb_hdr_type t,
                       const struct sb__lumps *via)
{
    uint32_t last = UINT32_MAX;
    for (const struct sb_hdr *h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h)) {
        if (h->field.off == last)
            continue;
        last = h->field.off;
        if (!via || via->n == 0) {
            put_field(w, m, h);
            continue;
        }
        size_t before = w->len;
        sb__lumps_range_write(via, m->buf, h->field.off, h->field.off + h->field.len,
                              SB__RANGE_INNER, w);
        if (w->len > before && !ends_line(field_of(m, h)))
            sb_wbuf_put(w, "\r\n", 2);
    }
}

/* To, with our tag after the value and before the line end. */
static void put_to(struct sb_wbuf *w, const struct sb_msg *m, const struct sb_hdr *h, sb_str tag)
{
    if (!tag.len) {
        put_field(w, m, h);
        return;
    }
    uint32_t ve = h->value.off + h->value.len, fe = h->field.off + h->field.len;
    sb_wbuf_put(w, m->buf + h->field.off, ve - h->field.off);
    sb_wbuf_put(w, ";tag=", 5);
    sb_wbuf_str(w, tag);
    sb_wbuf_put(w, m->buf + ve, fe - ve);
    if (!ends_line(field_of(m, h)))
        sb_wbuf_put(w, "\r\n", 2);
}

static const enum sb_hdr_type copied_after_to[] = {SB_HDR_CALL_ID, SB_HDR_CSEQ};

static size_t reply_len(const struct sb_msg *req, const struct sb_reply_opts *o,
                        const struct reply_plan *p)
{
    size_t n = 8 + 3 + 1 + p->reason.len + 2; /* "SIP/2.0 200 OK\r\n" */
    n += fields_len(req, SB_HDR_VIA, &p->via);
    n += fields_len(req, SB_HDR_FROM, NULL) + fields_len(req, SB_HDR_TO, NULL);
    n += p->tag.len ? 5 + p->tag.len : 0;
    for (size_t i = 0; i < SB_ARRAY_LEN(copied_after_to); i++)
        n += fields_len(req, copied_after_to[i], NULL);
    if (o->copy_record_route)
        n += fields_len(req, SB_HDR_RECORD_ROUTE, NULL);
    if (o->server.p)
        n += 8 + o->server.len + 2;
    n += o->hdrs.len;
    if (o->body.len && o->content_type.p)
        n += 14 + o->content_type.len + 2;
    char digits[20];
    /* "Content-Length: N\r\n\r\n" and the body */
    n += 16 + sb_u64_to_dec(o->body.len, digits) + 4 + o->body.len;
    return n;
}

static int reply_write(const struct sb_msg *req, const struct sb_reply_opts *o,
                       const struct reply_plan *p, struct sb_wbuf *w)
{
    char code[3] = {(char)('0' + o->code / 100), (char)('0' + o->code / 10 % 10),
                    (char)('0' + o->code % 10)};
    sb_wbuf_put(w, "SIP/2.0 ", 8);
    sb_wbuf_put(w, code, 3);
    sb_wbuf_put(w, " ", 1);
    sb_wbuf_str(w, p->reason);
    sb_wbuf_put(w, "\r\n", 2);
    /* RFC3261-8.2.6.2: Via fields in order, From, To, Call-ID and CSeq copied from the request */
    put_fields(w, req, SB_HDR_VIA, &p->via);
    put_fields(w, req, SB_HDR_FROM, NULL);
    const struct sb_hdr *to = sb_msg_hdr_first(req, SB_HDR_TO);
    if (to)
        put_to(w, req, to, p->tag);
    for (size_t i = 0; i < SB_ARRAY_LEN(copied_after_to); i++)
        put_fields(w, req, copied_after_to[i], NULL);
    /* RFC3261-12.1.1: a UAS answering a dialog-creating request copies Record-Route in order */
    if (o->copy_record_route)
        put_fields(w, req, SB_HDR_RECORD_ROUTE, NULL);
    if (o->server.p) {
        sb_wbuf_put(w, "Server: ", 8);
        sb_wbuf_str(w, o->server);
        sb_wbuf_put(w, "\r\n", 2);
    }
    sb_wbuf_str(w, o->hdrs);
    if (o->body.len && o->content_type.p) {
        sb_wbuf_put(w, "Content-Type: ", 14);
        sb_wbuf_str(w, o->content_type);
        sb_wbuf_put(w, "\r\n", 2);
    }
    /* RFC3261-18.3: always written, whatever the transport */
    sb_wbuf_put(w, "Content-Length: ", 16);
    sb_wbuf_u64(w, o->body.len);
    sb_wbuf_put(w, "\r\n\r\n", 4);
    sb_wbuf_str(w, o->body);
    return w->err;
}

int sb_msg_reply_write(struct sb_msg *req, const struct sb_reply_opts *o, struct sb_wbuf *w)
{
    struct reply_plan p;
    int rc = reply_plan(req, o, &p);
    return rc ? rc : reply_write(req, o, &p, w);
}

size_t sb_msg_reply_len(struct sb_msg *req, const struct sb_reply_opts *o)
{
    struct reply_plan p;
    return reply_plan(req, o, &p) ? 0 : reply_len(req, o, &p);
}

int sb_msg_build_reply(struct sb_msg *req, const struct sb_reply_opts *o, struct sb_buf **out)
{
    struct reply_plan p;
    *out = NULL;
    int rc = reply_plan(req, o, &p);
    if (rc)
        return rc;
    size_t cap = reply_len(req, o, &p);
    struct sb_buf *b = sb_buf_new(cap);
    if (!b)
        return SB_ENOMEM;
    struct sb_wbuf w;
    sb_wbuf_init(&w, b->data, cap);
    rc = reply_write(req, o, &p, &w);
    if (SB_UNLIKELY(rc || w.len != cap)) {
        /* the length and the writer walk the same plan: a mismatch is a bug, but one that a
         * packet can reach, so it costs this reply, never the process */
        SB_ERR("reply builder: %zu bytes planned, %zu written (%d): reply not sent", cap, w.len,
               rc);
        sb_buf_unref(b);
        return rc ? rc : SB_EINVAL;
    }
    b->len = (uint32_t)w.len;
    *out = b;
    return 0;
}
