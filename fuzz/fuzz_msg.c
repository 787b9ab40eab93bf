/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the whole message: index invariants, the lazy value parsers, round trips
 * (rebuilt from its parts, and built for forwarding) that must read the same, and agreement of the
 * stream framer with a stream parse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/uri.h"

#include "fuzz_check.h"

static bool span_in(sb_span outer, sb_span inner)
{
    return inner.off >= outer.off &&
           (uint64_t)inner.off + inner.len <= (uint64_t)outer.off + outer.len;
}

/* A view produced by a value parser borrows from the text it parsed (or is absent). */
static void check_in_text(sb_str s, sb_str in)
{
    if (s.p == NULL) {
        CHECK(s.len == 0);
        return;
    }
    CHECK(s.p >= in.p && s.len <= in.len && (size_t)(s.p - in.p) <= in.len - s.len);
}

static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_start_line(const struct sb_msg *m)
{
    sb_span all = {0, m->len};
    CHECK(span_in(all, m->start_line));
    CHECK(m->start_line.len > 0);
    CHECK(memchr(m->buf + m->start_line.off, '\n', m->start_line.len) == NULL);
    CHECK(span_in(m->start_line, m->version));
    if (m->kind == SB_MSG_REQUEST) {
        CHECK(m->status == 0);
        CHECK(m->method.len > 0 && m->ruri.len > 0);
        CHECK(m->ruri.len <= m->limits->max_uri);
        CHECK(span_in(m->start_line, m->method));
        CHECK(span_in(m->start_line, m->ruri));
        CHECK(m->method.off < m->ruri.off && m->ruri.off < m->version.off);
        CHECK(m->method_id == sb_method_lookup(sb_msg_method(m)));
    } else {
        CHECK(m->kind == SB_MSG_REPLY);
        CHECK(m->status >= 100 && m->status <= 699);
        CHECK(span_in(m->start_line, m->reason));
        CHECK(m->method.len == 0 && m->ruri.len == 0);
    }
}

static void check_entry(const struct sb_msg *m, uint32_t i)
{
    const struct sb_hdr *h = &m->hdrs[i];
    const struct sb_hdr_info *info = &sb_hdr_info[h->type];
    CHECK(h->idx == i);
    CHECK(h->type < SB_HDR__COUNT);
    sb_span section = {m->start_line.off + m->start_line.len, 0};
    section.len = m->hdrs_end - section.off;
    CHECK(span_in(section, h->field));
    CHECK(h->name.off == h->field.off && h->name.len > 0);
    CHECK(span_in(h->field, h->name));
    CHECK(span_in(h->field, h->value));
    CHECK(h->value.off > h->name.off + h->name.len); /* the colon comes between */
    sb_str name = sb_msg_hdr_name(m, h);
    CHECK(h->type == sb_hdr_lookup(name));
    CHECK(!!(h->flags & SB_HDRF_COMPACT) == (name.len == 1 && h->type != SB_HDR_OTHER));
    sb_str raw = sb_msg_span(m, h->value);
    if (raw.len)
        CHECK(!is_lws(raw.p[0]) && !is_lws(raw.p[raw.len - 1]));
    if (h->flags & SB_HDRF_FOLDED) {
        CHECK(h->unfolded != NULL);
        CHECK(h->unfolded_len <= h->value.len);
        CHECK(h->unfolded < m->buf || h->unfolded >= m->buf + m->rcv_len);
        CHECK(memchr(h->unfolded, '\n', h->unfolded_len) == NULL);
        CHECK(memchr(raw.p, '\n', raw.len) != NULL);
    } else {
        CHECK(h->unfolded == NULL);
        CHECK(memchr(raw.p, '\n', raw.len) == NULL);
    }
    CHECK(!(h->flags & (SB_HDRF_PARSED | SB_HDRF_BAD)));
    CHECK(h->parsed == NULL);

    /* values of one field are consecutive entries sharing <field>; list flags mark the ends */
    const struct sb_hdr *prev = i ? &m->hdrs[i - 1] : NULL;
    bool is_list = info->flags & SB_HDRI_LIST;
    if (prev && prev->field.off == h->field.off) {
        CHECK(prev->field.len == h->field.len && prev->type == h->type && is_list);
        CHECK(!(prev->flags & SB_HDRF_LIST_LAST) && !(h->flags & SB_HDRF_LIST_FIRST));
        CHECK(h->value.off > prev->value.off + prev->value.len); /* a comma between */
    } else {
        if (prev)
            CHECK(h->field.off >= prev->field.off + prev->field.len);
        if (prev && (sb_hdr_info[prev->type].flags & SB_HDRI_LIST))
            CHECK(prev->flags & SB_HDRF_LIST_LAST);
        if (is_list)
            CHECK(h->flags & SB_HDRF_LIST_FIRST);
    }
    if (!is_list)
        CHECK(!(h->flags & (SB_HDRF_LIST_FIRST | SB_HDRF_LIST_LAST)));

    /* sb_msg_hdr_find finds this entry or an earlier one of the same name */
    const struct sb_hdr *f = sb_msg_hdr_find(m, name);
    CHECK(f != NULL && f->type == h->type && f->idx <= h->idx);
    if (h->type == SB_HDR_OTHER)
        CHECK(sb_str_caseeq(sb_msg_hdr_name(m, f), name));
}

static void check_index(const struct sb_msg *m, size_t size)
{
    CHECK(m->err.code == 0);
    CHECK(m->rcv_len == size && m->len <= m->rcv_len);
    check_start_line(m);
    CHECK(m->hdrs_end >= m->start_line.off + m->start_line.len && m->hdrs_end <= m->len);
    CHECK(m->n_hdrs <= m->cap_hdrs && m->n_hdrs <= m->limits->max_headers);
    for (uint32_t i = 0; i < m->n_hdrs; i++)
        check_entry(m, i);
    if (m->n_hdrs && (sb_hdr_info[m->hdrs[m->n_hdrs - 1].type].flags & SB_HDRI_LIST))
        CHECK(m->hdrs[m->n_hdrs - 1].flags & SB_HDRF_LIST_LAST);

    /* every entry is on exactly one per-type chain, in order */
    uint32_t total = 0;
    for (int t = 0; t < SB_HDR__COUNT; t++) {
        CHECK((m->first[t] == 0) == (m->last[t] == 0));
        uint32_t n = 0, prev = 0;
        for (const struct sb_hdr *h = sb_msg_hdr_first(m, t); h; h = sb_msg_hdr_next(m, h)) {
            CHECK(h->type == t);
            CHECK(n == 0 || h->idx > prev);
            CHECK(h->idx < m->n_hdrs);
            prev = h->idx;
            if (++n > m->n_hdrs)
                __builtin_trap(); /* a cycle */
        }
        CHECK(n == 0 || m->last[t] == prev + 1);
        CHECK(n == sb_msg_hdr_count(m, t));
        if (sb_hdr_info[t].flags & SB_HDRI_SINGLE)
            CHECK(n <= 1);
        total += n;
    }
    CHECK(total == m->n_hdrs);

    /* the body: Content-Length bytes, or the rest of the datagram */
    CHECK(m->body.off >= m->hdrs_end && m->body.off + m->body.len == m->len);
    if (m->has_clen) {
        CHECK(m->first[SB_HDR_CONTENT_LENGTH] != 0);
        CHECK(m->clen == m->body.len);
    } else {
        CHECK(m->first[SB_HDR_CONTENT_LENGTH] == 0);
        CHECK(!m->is_stream);
        CHECK(m->len == m->rcv_len);
    }
}

static void check_error(const struct sb_msg *m, int rc, size_t size)
{
    CHECK(rc == m->err.code);
    CHECK(rc == SB_EPARSE || rc == SB_ELIMIT || rc == SB_EVERSION || rc == SB_ENOMEM);
    CHECK(m->err.what != NULL);
    CHECK(m->err.offset <= size);
    CHECK(m->err.hdr_type < SB_HDR__COUNT);
    CHECK((uint64_t)m->err.hdr_name.off + m->err.hdr_name.len <= size);
    int st = sb_msg_err_status(m);
    CHECK(st == 400 || st == 414 || st == 500 || st == 505 || st == 513);
    CHECK((st == 505) == (rc == SB_EVERSION));
    char big[256], small[8];
    size_t n = sb_msg_err_reason(m, big, sizeof(big));
    CHECK(n > 0 && n == strlen(big));
    n = sb_msg_err_reason(m, small, sizeof(small));
    CHECK(n == strlen(small) && n < sizeof(small));
    n = sb_msg_err_describe(m, big, sizeof(big));
    CHECK(n > 0 && n == strlen(big));
    n = sb_msg_err_describe(m, small, sizeof(small));
    CHECK(n == strlen(small));
}

static void check_uri(const struct sb_uri *u, sb_str in)
{
    const sb_str all[] = {u->raw,        u->scheme_str, u->user,    u->passwd, u->host,
                          u->port,       u->params,     u->headers, u->opaque, u->transport,
                          u->user_param, u->method,     u->ttl,     u->maddr};
    for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
        check_in_text(all[i], in);
}

/* The parsed value of <h> borrows from its (unfolded) value. */
static void check_parsed(struct sb_msg *m, struct sb_hdr *h)
{
    const struct sb_hdr_info *info = &sb_hdr_info[h->type];
    const void *p = h->parsed;
    sb_str in = sb_msg_hdr_value(m, h);
    CHECK(h->flags & SB_HDRF_PARSED);
    CHECK(!(h->flags & SB_HDRF_BAD) && p != NULL);
    if (info->parse == (sb_hdr_parse_fn)sb_via_parse) {
        const struct sb_via *v = p;
        const sb_str all[] = {v->raw,   v->proto_name, v->proto_ver, v->transport, v->host,
                              v->port,  v->params,     v->branch,    v->received,  v->rport,
                              v->maddr, v->ttl,        v->comment};
        for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
            check_in_text(all[i], in);
    } else if (info->parse == (sb_hdr_parse_fn)sb_nameaddr_parse) {
        const struct sb_nameaddr *na = p;
        const sb_str all[] = {na->raw, na->display, na->uri_str, na->params,
                              na->tag, na->expires, na->q};
        for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
            check_in_text(all[i], in);
        if (!na->is_star) {
            check_uri(&na->uri, in);
            CHECK(na->uri_str.len <= m->limits->max_uri);
        }
    } else if (info->parse == (sb_hdr_parse_fn)sb_cseq_parse) {
        const struct sb_cseq *c = p;
        check_in_text(c->method, in);
        CHECK(c->method.len > 0);
    } else if (info->parse == (sb_hdr_parse_fn)sb_callid_parse) {
        const sb_str *id = p;
        check_in_text(*id, in);
        CHECK(id->len > 0);
    } else if (info->parse == (sb_hdr_parse_fn)sb_token_parse) {
        check_in_text(((const struct sb_hdr_token *)p)->v, in);
    } else if (info->parse == (sb_hdr_parse_fn)sb_ctype_parse) {
        const struct sb_ctype *c = p;
        check_in_text(c->type, in);
        check_in_text(c->subtype, in);
        check_in_text(c->params, in);
    } else if (info->parse == (sb_hdr_parse_fn)sb_event_parse) {
        const struct sb_event *e = p;
        check_in_text(e->package, in);
        check_in_text(e->id, in);
        check_in_text(e->params, in);
    } else if (info->parse == (sb_hdr_parse_fn)sb_session_expires_parse) {
        const struct sb_session_expires *s = p;
        check_in_text(s->refresher, in);
        check_in_text(s->params, in);
    } else if (info->parse == (sb_hdr_parse_fn)sb_digest_parse) {
        const struct sb_digest *d = p;
        const sb_str all[] = {d->raw, d->scheme,   d->username,  d->realm,  d->nonce,
                              d->uri, d->response, d->algorithm, d->cnonce, d->opaque,
                              d->qop, d->nc,       d->domain,    d->params};
        for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
            check_in_text(all[i], in);
    }
}

static void check_parsed_all(struct sb_msg *m)
{
    if (m->kind == SB_MSG_REQUEST) {
        const struct sb_uri *u = sb_msg_ruri(m);
        CHECK(u != NULL);
        check_uri(u, sb_msg_span(m, m->ruri));
    }
    for (uint32_t i = 0; i < m->n_hdrs; i++)
        if (sb_hdr_info[m->hdrs[i].type].parse)
            check_parsed(m, &m->hdrs[i]);
    CHECK(sb_msg_via1(m) && sb_msg_from(m) && sb_msg_to(m) && sb_msg_cseq(m));
    CHECK(sb_msg_callid(m).p != NULL);
    if (m->kind == SB_MSG_REPLY)
        CHECK(m->method_id == sb_msg_cseq(m)->method_id);
    else
        CHECK(sb_str_eq(sb_msg_cseq(m)->method, sb_msg_method(m)));
}

/* The lazy accessors on a message whose values may be bad: they answer or fail, never crash. */
static void poke_accessors(struct sb_msg *m)
{
    uint32_t v;
    (void)sb_msg_ruri(m);
    (void)sb_msg_via1(m);
    (void)sb_msg_via2(m);
    (void)sb_msg_from(m);
    (void)sb_msg_to(m);
    (void)sb_msg_cseq(m);
    (void)sb_msg_callid(m);
    int rc = sb_msg_num(m, SB_HDR_MAX_FORWARDS, &v);
    CHECK(rc == 0 || rc == SB_ENOENT || rc == SB_EPARSE);
    CHECK(sb_msg_num(m, SB_HDR_CONTENT_LENGTH, &v) != SB_EINVAL);
    (void)sb_msg_has_token(m, SB_HDR_SUPPORTED, SB_STR("100rel"));
    (void)sb_msg_has_token(m, SB_HDR_REQUIRE, SB_STR("timer"));
}

/* Rebuild: start line, each header field as received, the empty line, the body. */
static size_t rebuild(const struct sb_msg *m, char *out)
{
    size_t n = 0;
    memcpy(out + n, m->buf + m->start_line.off, m->start_line.len);
    n += m->start_line.len;
    memcpy(out + n, "\r\n", 2);
    n += 2;
    for (uint32_t i = 0; i < m->n_hdrs; i++) {
        const struct sb_hdr *h = &m->hdrs[i];
        if (i && m->hdrs[i - 1].field.off == h->field.off)
            continue;
        memcpy(out + n, m->buf + h->field.off, h->field.len);
        n += h->field.len;
        if (m->buf[h->field.off + h->field.len - 1] != '\n') {
            /* the last line of a datagram that ends without a line break */
            memcpy(out + n, "\r\n", 2);
            n += 2;
        }
    }
    memcpy(out + n, "\r\n", 2);
    n += 2;
    memcpy(out + n, m->buf + m->body.off, m->body.len);
    return n + m->body.len;
}

static void check_same(struct sb_msg *a, struct sb_msg *b)
{
    CHECK(a->kind == b->kind && a->status == b->status && a->method_id == b->method_id);
    CHECK(sb_str_eq(sb_msg_span(a, a->start_line), sb_msg_span(b, b->start_line)));
    CHECK(sb_str_eq(sb_msg_method(a), sb_msg_method(b)));
    CHECK(sb_str_eq(sb_msg_span(a, a->ruri), sb_msg_span(b, b->ruri)));
    CHECK(sb_str_eq(sb_msg_span(a, a->reason), sb_msg_span(b, b->reason)));
    CHECK(a->n_hdrs == b->n_hdrs);
    for (uint32_t i = 0; i < a->n_hdrs; i++) {
        const struct sb_hdr *x = &a->hdrs[i], *y = &b->hdrs[i];
        CHECK(x->type == y->type);
        CHECK((x->flags & ~SB_HDRF_PARSED) == (y->flags & ~SB_HDRF_PARSED));
        CHECK(sb_str_eq(sb_msg_hdr_name(a, x), sb_msg_hdr_name(b, y)));
        CHECK(sb_str_eq(sb_msg_hdr_value(a, x), sb_msg_hdr_value(b, y)));
    }
    CHECK(a->has_clen == b->has_clen && a->clen == b->clen);
    CHECK(sb_str_eq(sb_msg_span(a, a->body), sb_msg_span(b, b->body)));
}

static void round_trip(struct sb_msg *m)
{
    /* the rebuilt message may be a few bytes longer: CRLF for LF, a final line break */
    static struct sb_msg_limits lim;
    lim = *m->limits;
    lim.max_size += 16;
    lim.max_line += 16;
    char *out = malloc((size_t)m->len + 2 * (size_t)m->n_hdrs + 8);
    CHECK(out != NULL);
    size_t n = rebuild(m, out);
    struct sb_msg r;
    sb_msg_init(&r, &lim);
    CHECK(sb_msg_parse(&r, out, n, 0) == 0);
    check_index(&r, n);
    CHECK(sb_msg_parse_all(&r) == 0);
    check_same(m, &r);
    /* Call-ID and CSeq read the same */
    CHECK(sb_str_eq(sb_msg_callid(m), sb_msg_callid(&r)));
    const struct sb_cseq *c1 = sb_msg_cseq(m), *c2 = sb_msg_cseq(&r);
    CHECK(c1->num == c2->num && c1->method_id == c2->method_id &&
          sb_str_eq(c1->method, c2->method));
    sb_msg_deinit(&r);
    free(out);
}

/* Index entries other than Content-Length, which the builder writes anew. */
static uint32_t next_not_clen(const struct sb_msg *m, uint32_t i)
{
    while (i < m->n_hdrs && m->hdrs[i].type == SB_HDR_CONTENT_LENGTH)
        i++;
    return i;
}

/* Built for forwarding with no edits, the message reads the same, now with a right
 * Content-Length (RFC3261-18.3), and frames on a stream. */
static void build_trip(struct sb_msg *m)
{
    const struct sb_fwd_opts none = {0};
    struct sb_buf *out = NULL;
    int rc = sb_msg_build_request(m, &none, &out);
    CHECK(rc == 0 && out != NULL);
    struct sb_msg r;
    sb_msg_init(&r, NULL);
    if (out->len > r.limits->max_size) {
        /* a message at the size limit may not take an added Content-Length */
        sb_msg_deinit(&r);
        sb_buf_unref(out);
        return;
    }
    CHECK(sb_msg_parse(&r, out->data, out->len, SB_MSG_STREAM) == 0);
    check_index(&r, out->len);
    CHECK(r.len == out->len);
    size_t k = 0;
    while (k < out->len && (out->data[k] == '\r' || out->data[k] == '\n'))
        k++;
    CHECK(sb_msg_frame(out->data + k, out->len - k, NULL) == (long)(out->len - k));
    CHECK(sb_msg_parse_all(&r) == 0);
    CHECK(r.kind == m->kind && r.status == m->status && r.method_id == m->method_id);
    if (m->kind == SB_MSG_REQUEST) {
        /* a request line is forwarded in the strict form: the same elements, single SPs */
        CHECK(sb_str_eq(sb_msg_span(&r, r.method), sb_msg_span(m, m->method)));
        CHECK(sb_str_eq(sb_msg_span(&r, r.ruri), sb_msg_span(m, m->ruri)));
        CHECK(r.start_line.len == r.method.len + r.ruri.len + 9);
    } else {
        CHECK(sb_str_eq(sb_msg_span(&r, r.start_line), sb_msg_span(m, m->start_line)));
    }
    CHECK(sb_msg_hdr_count(&r, SB_HDR_CONTENT_LENGTH) == 1);
    CHECK(r.has_clen && r.clen == m->body.len);
    CHECK(sb_str_eq(sb_msg_span(&r, r.body), sb_msg_span(m, m->body)));
    uint32_t i = next_not_clen(m, 0), j = next_not_clen(&r, 0);
    while (i < m->n_hdrs && j < r.n_hdrs) {
        const struct sb_hdr *x = &m->hdrs[i], *y = &r.hdrs[j];
        CHECK(x->type == y->type);
        CHECK(sb_str_eq(sb_msg_hdr_name(m, x), sb_msg_hdr_name(&r, y)));
        CHECK(sb_str_eq(sb_msg_hdr_value(m, x), sb_msg_hdr_value(&r, y)));
        i = next_not_clen(m, i + 1);
        j = next_not_clen(&r, j + 1);
    }
    CHECK(i == m->n_hdrs && j == r.n_hdrs);
    CHECK(sb_str_eq(sb_msg_callid(m), sb_msg_callid(&r)));
    CHECK(sb_msg_cseq(m)->num == sb_msg_cseq(&r)->num);
    sb_msg_deinit(&r);
    sb_buf_unref(out);
}

/* Stream parse and framer agree: when the stream parse succeeds, the framer (after the leading
 * CRLFs a reader consumes) gives the same length; a framed length never exceeds the input. */
static void check_stream(const char *buf, size_t size)
{
    static struct sb_msg s;
    static bool init;
    if (!init) {
        sb_msg_init(&s, NULL);
        init = true;
    }
    size_t k = 0;
    while (k < size && (buf[k] == '\r' || buf[k] == '\n'))
        k++;
    long fl = k < size ? sb_msg_frame(buf + k, size - k, NULL) : SB_EAGAIN;
    CHECK(fl > 0 || fl == SB_EAGAIN || fl == SB_EPARSE || fl == SB_ELIMIT);
    if (fl > 0)
        CHECK((size_t)fl <= size - k);
    int rc = sb_msg_parse(&s, buf, size, SB_MSG_STREAM);
    if (rc == 0) {
        check_index(&s, size);
        CHECK(s.is_stream && s.has_clen);
        CHECK(fl > 0 && (size_t)fl == s.len - k);
    } else {
        check_error(&s, rc, size);
    }
    sb_msg_reset(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one message reused across inputs, as a worker does */
    static struct sb_msg m;
    static bool init;
    if (!init) {
        sb_msg_init(&m, NULL);
        init = true;
    }
    const char *buf = (const char *)data;
    int rc = sb_msg_parse(&m, buf, size, 0);
    if (rc != 0) {
        check_error(&m, rc, size);
    } else {
        check_index(&m, size);
        rc = sb_msg_parse_all(&m);
        if (rc == 0) {
            check_parsed_all(&m);
            round_trip(&m);
            build_trip(&m);
        } else {
            check_error(&m, rc, size);
            poke_accessors(&m);
        }
    }
    check_stream(buf, size);
    return 0;
}
