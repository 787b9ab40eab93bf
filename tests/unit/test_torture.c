/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 4475 (SIP torture tests) and RFC 5118 (IPv6 torture tests): every message of both corpora
 * goes through sb_msg_parse + sb_msg_parse_all, with the outcome the RFC's own text asks for. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/msg.h"
#include "sb/uri.h"

/* ---- fixture: one message file and the sb_msg that parses it ------------------------------- */

#define MAX_SCRATCH 32

struct fx {
    char *buf;
    size_t len;
    char *scratch[MAX_SCRATCH]; /* strings the test built (unescaped values, repeats) */
    unsigned n_scratch;
    struct sb_msg m;
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    sb_msg_init(&f->m, NULL);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    sb_msg_deinit(&f->m);
    for (unsigned i = 0; i < f->n_scratch; i++)
        free(f->scratch[i]);
    free(f->buf);
    free(f);
    return 0;
}

static char *scratch(struct fx *f, size_t n)
{
    assert_true(f->n_scratch < MAX_SCRATCH);
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    f->scratch[f->n_scratch++] = p;
    return p;
}

static void load_(struct fx *f, const char *path, const char *file, int line)
{
    char full[512];
    snprintf(full, sizeof(full), "%s/%s", SB_TEST_DATA, path);
    free(f->buf);
    f->buf = NULL;
    FILE *fp = fopen(full, "rb");
    if (!fp) {
        print_error("cannot open %s\n", full);
        _fail(file, line);
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = malloc(n > 0 ? (size_t)n : 1);
    f->len = f->buf && n > 0 ? fread(f->buf, 1, (size_t)n, fp) : 0;
    fclose(fp);
    if (!f->buf || n <= 0 || f->len != (size_t)n) {
        print_error("cannot read %s\n", full);
        _fail(file, line);
    }
}

static void report(const struct sb_msg *m, const char *what)
{
    char d[192], r[96];
    sb_msg_err_describe(m, d, sizeof(d));
    sb_msg_err_reason(m, r, sizeof(r));
    print_error("%s: %s (%d \"%s\")\n", what, d, sb_msg_err_status(m), r);
}

/* Stream framing of a message that carries Content-Length: sb_msg_frame finds <expect> bytes and
 * a stream parse takes exactly those. */
static void stream_ok_(struct fx *f, size_t expect, const char *file, int line)
{
    long n = sb_msg_frame(f->buf, f->len, NULL);
    if (n != (long)expect) {
        print_error("sb_msg_frame: %ld, expected %zu\n", n, expect);
        _fail(file, line);
    }
    if (sb_msg_parse(&f->m, f->buf, f->len, SB_MSG_STREAM) != 0) {
        report(&f->m, "stream parse");
        _fail(file, line);
    }
    if (f->m.len != expect || !f->m.is_stream) {
        print_error("stream parse took %u bytes, expected %zu\n", f->m.len, expect);
        _fail(file, line);
    }
}

/* Load <path> and parse it as a datagram; the index must build. */
static struct sb_msg *indexed_(struct fx *f, const char *path, const char *file, int line)
{
    load_(f, path, file, line);
    if (sb_msg_parse(&f->m, f->buf, f->len, 0) != 0) {
        report(&f->m, path);
        _fail(file, line);
    }
    return &f->m;
}

/* A message the RFC calls valid (or that Switchboard accepts): as a stream when <stream>, then as
 * a datagram, then every header value and the Request-URI. */
static struct sb_msg *valid_(struct fx *f, const char *path, bool stream, const char *file,
                             int line)
{
    load_(f, path, file, line);
    if (stream)
        stream_ok_(f, f->len, file, line);
    if (sb_msg_parse(&f->m, f->buf, f->len, 0) != 0) {
        report(&f->m, path);
        _fail(file, line);
    }
    if (sb_msg_parse_all(&f->m) != 0) {
        report(&f->m, path);
        _fail(file, line);
    }
    return &f->m;
}

#define LOAD(f, path)        load_((f), (path), __FILE__, __LINE__)
#define INDEXED(f, path)     indexed_((f), (path), __FILE__, __LINE__)
#define VALID(f, path)       valid_((f), (path), true, __FILE__, __LINE__)
#define VALID_DGRAM(f, path) valid_((f), (path), false, __FILE__, __LINE__)
#define STREAM_OK(f, n)      stream_ok_((f), (n), __FILE__, __LINE__)

/* The parse failed (rc < 0) at <part> / <hdr>, and a server answers <status> "<reason>". */
static void fault_(const struct sb_msg *m, int rc, int part, int hdr, int status,
                   const char *reason, const char *file, int line)
{
    char got[128];
    sb_msg_err_reason(m, got, sizeof(got));
    if (rc >= 0 || m->err.code != rc || m->err.part != part || m->err.hdr_type != hdr ||
        sb_msg_err_status(m) != status || strcmp(got, reason) != 0) {
        print_error("expected rc < 0, part %d, header %d, %d \"%s\"\n"
                    "     got rc %d (err %d), part %d, header %d, %d \"%s\"\n",
                    part, hdr, status, reason, rc, m->err.code, m->err.part, m->err.hdr_type,
                    sb_msg_err_status(m), got);
        _fail(file, line);
    }
}
#define ASSERT_FAULT(m, rc, part, hdr, status, reason)                                             \
    fault_((m), (rc), (part), (hdr), (status), (reason), __FILE__, __LINE__)

/* ---- value assertions ----------------------------------------------------------------------- */

static void print_bytes(const char *label, const char *p, size_t n)
{
    char out[512];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < sizeof(out); i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
    }
    out[o] = 0;
    print_error("%s [%zu] \"%s\"%s\n", label, n, out, o + 5 >= sizeof(out) ? "..." : "");
}

static void str_eq_(sb_str s, const char *e, size_t n, const char *file, int line)
{
    if (s.p == NULL) {
        print_bytes("absent, expected", e, n);
        _fail(file, line);
    }
    if (s.len != n || memcmp(s.p, e, n) != 0) {
        print_bytes("got     ", s.p, s.len);
        print_bytes("expected", e, n);
        _fail(file, line);
    }
}

static void str_prefix_(sb_str s, const char *e, size_t n, const char *file, int line)
{
    if (s.p == NULL || s.len < n || memcmp(s.p, e, n) != 0) {
        print_bytes("got     ", s.p ? s.p : "", s.p ? (s.len < n ? s.len : n) : 0);
        print_bytes("expected prefix", e, n);
        _fail(file, line);
    }
}

static void str_suffix_(sb_str s, const char *e, size_t n, const char *file, int line)
{
    if (s.p == NULL || s.len < n || memcmp(s.p + s.len - n, e, n) != 0) {
        print_bytes("expected suffix", e, n);
        _fail(file, line);
    }
}

static void absent_(sb_str s, const char *file, int line)
{
    if (s.p != NULL) {
        print_bytes("expected absent, got", s.p, s.len);
        _fail(file, line);
    }
}

/* A literal may hold NUL bytes: its length comes from sizeof. */
#define ASSERT_STR(s, lit)    str_eq_((s), (lit), sizeof(lit) - 1, __FILE__, __LINE__)
#define ASSERT_SSTR(s, e)     str_eq_((s), (e).p, (e).len, __FILE__, __LINE__)
#define ASSERT_PREFIX(s, lit) str_prefix_((s), (lit), sizeof(lit) - 1, __FILE__, __LINE__)
#define ASSERT_SUFFIX(s, lit) str_suffix_((s), (lit), sizeof(lit) - 1, __FILE__, __LINE__)
#define ASSERT_ABSENT(s)      absent_((s), __FILE__, __LINE__)
#define SPAN(m, sp)           sb_msg_span((m), (sp))

/* <e> is a C string or NULL for "absent". */
static void opt_eq_(sb_str s, const char *e, const char *file, int line)
{
    if (e)
        str_eq_(s, e, strlen(e), file, line);
    else
        absent_(s, file, line);
}

static void uri_(const struct sb_uri *u, int scheme, const char *user, const char *host,
                 int host_kind, unsigned port_no, const char *file, int line)
{
    if (!u) {
        print_error("URI not parsed\n");
        _fail(file, line);
    }
    if (u->scheme != scheme || u->host_kind != host_kind || u->port_no != port_no) {
        print_error("scheme %d host_kind %d port %u, expected %d %d %u\n", u->scheme, u->host_kind,
                    u->port_no, scheme, host_kind, port_no);
        _fail(file, line);
    }
    opt_eq_(u->user, user, file, line);
    opt_eq_(u->host, host, file, line);
}
/* Scheme, user (escaped as written, NULL = none), host, host kind, port number (0 = none). */
#define ASSERT_URI(u, scheme, user, host, kind, port)                                              \
    uri_((u), (scheme), (user), (host), (kind), (port), __FILE__, __LINE__)

static void via_(const struct sb_via *v, const char *transport, int proto, const char *host,
                 int host_kind, unsigned port_no, const char *branch, const char *file, int line)
{
    if (!v) {
        print_error("Via not parsed\n");
        _fail(file, line);
    }
    str_eq_(v->proto_name, "SIP", 3, file, line);
    str_eq_(v->proto_ver, "2.0", 3, file, line);
    opt_eq_(v->transport, transport, file, line);
    opt_eq_(v->host, host, file, line);
    opt_eq_(v->branch, branch, file, line);
    if (v->proto != proto || v->host_kind != host_kind || v->port_no != port_no) {
        print_error("proto %d host_kind %d port %u, expected %d %d %u\n", v->proto, v->host_kind,
                    v->port_no, proto, host_kind, port_no);
        _fail(file, line);
    }
}
/* Transport as written, its enum, sent-by host and kind, port (0 = none), branch (NULL = none). */
#define ASSERT_VIA(v, tr, proto, host, kind, port, branch)                                         \
    via_((v), (tr), (proto), (host), (kind), (port), (branch), __FILE__, __LINE__)

static void na_(const struct sb_nameaddr *na, const char *display, const char *uri, const char *tag,
                const char *file, int line)
{
    if (!na) {
        print_error("name-addr not parsed\n");
        _fail(file, line);
    }
    opt_eq_(na->display, display, file, line);
    opt_eq_(na->uri_str, uri, file, line);
    opt_eq_(na->tag, tag, file, line);
}
/* Display name (without quotes, NULL = none), URI text, tag (NULL = none). */
#define ASSERT_NA(na, display, uri, tag) na_((na), (display), (uri), (tag), __FILE__, __LINE__)

static void param_(sb_str params, const char *name, const char *value, bool lws, bool want,
                   const char *file, int line)
{
    struct sb_param p;
    int rc = sb_param_find(params, name, &p, lws);
    if (!want) {
        if (rc != 0) {
            print_error("parameter %s: expected absent, got %d\n", name, rc);
            _fail(file, line);
        }
        return;
    }
    if (rc != 1) {
        print_error("parameter %s: %s\n", name, rc == 0 ? "absent" : "parse error");
        _fail(file, line);
    }
    if (value) {
        if (!p.has_value) {
            print_error("parameter %s has no value\n", name);
            _fail(file, line);
        }
        str_eq_(p.value, value, strlen(value), file, line);
    } else if (p.has_value) {
        print_bytes("expected no value, got", p.value.p, p.value.len);
        _fail(file, line);
    }
}
/* Header parameters (LWS allowed) and URI parameters; <value> NULL: present without a value.
 * <name> is lower case (sb_param_find compares case-insensitively). */
#define ASSERT_HPARAM(params, name, value)                                                         \
    param_((params), (name), (value), true, true, __FILE__, __LINE__)
#define ASSERT_UPARAM(params, name, value)                                                         \
    param_((params), (name), (value), false, true, __FILE__, __LINE__)
#define ASSERT_NO_UPARAM(params, name)                                                             \
    param_((params), (name), NULL, false, false, __FILE__, __LINE__)

static void num_(struct sb_msg *m, enum sb_hdr_type t, uint32_t v, const char *file, int line)
{
    uint32_t got = 0;
    int rc = sb_msg_num(m, t, &got);
    if (rc != 0 || got != v) {
        print_error("%s: rc %d value %u, expected %u\n", sb_hdr_info[t].name, rc, got, v);
        _fail(file, line);
    }
}
#define ASSERT_NUM(m, t, v) num_((m), (t), (v), __FILE__, __LINE__)

static void cseq_(struct sb_msg *m, uint32_t num, const char *method, uint32_t method_id,
                  const char *file, int line)
{
    const struct sb_cseq *c = sb_msg_cseq(m);
    if (!c) {
        print_error("CSeq not parsed\n");
        _fail(file, line);
    }
    if (c->num != num || c->method_id != method_id) {
        print_error("CSeq %u method_id %u, expected %u %u\n", c->num, c->method_id, num, method_id);
        _fail(file, line);
    }
    str_eq_(c->method, method, strlen(method), file, line);
}
#define ASSERT_CSEQ(m, num, method, id) cseq_((m), (num), (method), (id), __FILE__, __LINE__)

/* The value of the first header named <name> (any case, compact forms match). */
static sb_str hdr_value_(struct sb_msg *m, const char *name, const char *file, int line)
{
    struct sb_hdr *h = sb_msg_hdr_find(m, sb_str_cstr(name));
    if (!h) {
        print_error("no header %s\n", name);
        _fail(file, line);
    }
    return sb_msg_hdr_value(m, h);
}
#define HDR_VALUE(m, name) hdr_value_((m), (name), __FILE__, __LINE__)

/* Entry <n> (from 0) of type <t>, parsed with its type's parser. */
static const void *nth_(struct sb_msg *m, enum sb_hdr_type t, unsigned n, const char *file,
                        int line)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, t);
    for (unsigned i = 0; h && i < n; i++)
        h = sb_msg_hdr_next(m, h);
    if (!h) {
        print_error("no %s #%u\n", sb_hdr_info[t].name, n);
        _fail(file, line);
    }
    const void *p = sb_msg_hdr_parsed(m, h);
    if (!p) {
        print_bytes("value did not parse:", m->buf + h->value.off, h->value.len);
        _fail(file, line);
    }
    return p;
}
#define NTH(m, t, n) nth_((m), (t), (n), __FILE__, __LINE__)

/* The %-decoded form of <s> (RFC3261-19.1.2: the application treats %HH as the octet). */
static sb_str unescape_(struct fx *f, sb_str s, const char *file, int line)
{
    char *out = scratch(f, s.len);
    long n = sb_uri_unescape(s, out);
    if (n < 0) {
        print_bytes("sb_uri_unescape failed on", s.p, s.len);
        _fail(file, line);
    }
    return (sb_str){out, (size_t)n};
}
#define UNESCAPE(f, s) unescape_((f), (s), __FILE__, __LINE__)

/* RFC 4475 §2.3 writes long runs as <repeat count=N>text</repeat>. rep() builds the same string
 * from (count, piece) pairs ending with a 0 count; the result is also NUL-terminated. */
static sb_str rep(struct fx *f, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, f);
    for (int c; (c = va_arg(ap, int)) != 0;)
        n += (size_t)c * strlen(va_arg(ap, const char *));
    va_end(ap);
    char *out = scratch(f, n + 1);
    size_t o = 0;
    va_start(ap, f);
    for (int c; (c = va_arg(ap, int)) != 0;) {
        const char *piece = va_arg(ap, const char *);
        size_t pl = strlen(piece);
        for (int i = 0; i < c; i++, o += pl)
            memcpy(out + o, piece, pl);
    }
    va_end(ap);
    out[n] = 0; /* also usable as a C string */
    return (sb_str){out, n};
}

/* ================================================================================================
 * RFC 4475 §3.1.1: valid messages
 * ============================================================================================== */

/* RFC 4475 §3.1.1.1 A Short Tortuous INVITE. Line folding all over, escaped characters in quoted
 * strings, an empty Subject, LWS around colons, semicolons and slashes, comma-separated and
 * repeated fields, compact and long names, unknown Request-URI and header parameters, unknown
 * headers (one with a value that would be invalid as generic-params), leading zeros in
 * Max-Forwards and CSeq. "All elements should treat this as a well-formed request." */
static void test_rfc4475_wsinv(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/wsinv.dat");

    assert_int_equal(m->kind, SB_MSG_REQUEST);
    ASSERT_STR(sb_msg_method(m), "INVITE");
    assert_int_equal(m->method_id, SB_METHOD_INVITE);
    ASSERT_STR(SPAN(m, m->version), "SIP/2.0");
    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, "vivekg", "chair-dnrc.example.com", SB_HOST_NAME, 0);
    ASSERT_STR(ru->params, "unknownparam");
    ASSERT_ABSENT(ru->headers);
    /* To From Max-Forwards Call-ID Content-Length CSeq Via s NewFangled Unknown Content-Type
     * Route v(2 values) m */
    assert_int_equal(m->n_hdrs, 15);

    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, NULL, "sip:vivekg@chair-dnrc.example.com", "1918181833n");
    assert_false(to->has_angle);
    ASSERT_URI(&to->uri, SB_URI_SIP, "vivekg", "chair-dnrc.example.com", SB_HOST_NAME, 0);
    /* display name "J Rosenberg \\\"" holds two quoted-pairs, kept escaped */
    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, "J Rosenberg \\\\\\\"", "sip:jdrosen@example.com", "98asjd8");
    assert_true(from->display_quoted);
    assert_true(from->has_angle);
    ASSERT_URI(&from->uri, SB_URI_SIP, "jdrosen", "example.com", SB_HOST_NAME, 0);

    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 68);
    ASSERT_STR(sb_msg_callid(m), "wsinv.ndaksdj@192.0.2.1");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 150);
    ASSERT_CSEQ(m, 9, "INVITE", SB_METHOD_INVITE);
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CSEQ);
    assert_true(h->flags & SB_HDRF_FOLDED);
    ASSERT_STR(sb_msg_hdr_value(m, h), "0009 INVITE");

    /* "Via  : SIP  /   2.0 CRLF /UDP CRLF 192.0.2.2;..." then "v:" with two comma-separated
     * values, themselves folded */
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 3);
    h = sb_msg_hdr_first(m, SB_HDR_VIA);
    ASSERT_STR(sb_msg_hdr_name(m, h), "Via");
    assert_true(h->flags & SB_HDRF_FOLDED);
    ASSERT_STR(sb_msg_hdr_value(m, h), "SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw");
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.2", SB_HOST_IPV4, 0, "390skdjuw");
    h = sb_msg_hdr_next(m, h);
    assert_true(h->flags & SB_HDRF_COMPACT);
    assert_true(h->flags & SB_HDRF_LIST_FIRST);
    assert_false(h->flags & SB_HDRF_LIST_LAST);
    ASSERT_VIA(sb_msg_via2(m), "TCP", SB_PROTO_TCP, "spindle.example.com", SB_HOST_NAME, 0,
               "z9hG4bK9ikj8");
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 2), "UDP", SB_PROTO_UDP, "192.168.255.111", SB_HOST_IPV4, 0,
               "z9hG4bK30239");

    /* the empty Subject, in compact form "s :" */
    h = sb_msg_hdr_find(m, SB_STR("Subject"));
    assert_non_null(h);
    assert_int_equal(h->type, SB_HDR_SUBJECT);
    assert_true(h->flags & SB_HDRF_COMPACT);
    assert_int_equal(sb_msg_hdr_value(m, h).len, 0);

    /* unknown headers: kept whole, folded value unfolded to single spaces */
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_OTHER), 2);
    h = sb_msg_hdr_find(m, SB_STR("newfangledheader"));
    assert_non_null(h);
    assert_int_equal(h->type, SB_HDR_OTHER);
    assert_true(h->flags & SB_HDRF_FOLDED);
    ASSERT_STR(sb_msg_hdr_value(m, h), "newfangled value continued newfangled value");
    ASSERT_STR(HDR_VALUE(m, "UnknownHeaderWithUnusualValue"), ";;,,;;,;");

    const struct sb_ctype *ct = NTH(m, SB_HDR_CONTENT_TYPE, 0);
    ASSERT_STR(ct->type, "application");
    ASSERT_STR(ct->subtype, "sdp");

    const struct sb_nameaddr *rt = NTH(m, SB_HDR_ROUTE, 0);
    ASSERT_NA(rt, NULL, "sip:services.example.com;lr;unknownwith=value;unknown-no-value", NULL);
    ASSERT_URI(&rt->uri, SB_URI_SIP, NULL, "services.example.com", SB_HOST_NAME, 0);
    assert_true(rt->uri.lr);
    ASSERT_STR(rt->uri.params, "lr;unknownwith=value;unknown-no-value");
    ASSERT_UPARAM(rt->uri.params, "unknownwith", "value");
    ASSERT_UPARAM(rt->uri.params, "unknown-no-value", NULL);

    /* m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ;
     * q = 0.33, folded twice */
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, "Quoted string \\\"\\\"", "sip:jdrosen@example.com", NULL);
    assert_true(c->display_quoted);
    assert_false(c->is_star);
    ASSERT_STR(c->q, "0.33");
    ASSERT_HPARAM(c->params, "newparam", "newvalue");
    ASSERT_HPARAM(c->params, "secondparam", NULL);
    ASSERT_HPARAM(c->params, "q", "0.33");

    assert_int_equal(m->body.len, 150);
    assert_int_equal(m->len, 1001);
    ASSERT_PREFIX(SPAN(m, m->body), "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\n");
    ASSERT_SUFFIX(SPAN(m, m->body), "a=rtpmap:31 LPC\r\n");
}

/* RFC 4475 §3.1.1.2 Wide Range of Valid Characters. Non-alpha token characters in the method,
 * unusual but legal Request-URI user and password, a branch of every non-alphanumeric token
 * character, quoted-pairs of BEL, NUL and DEL in a display name, an unquoted multi-token display
 * name, a UTF-8 header parameter value, every word character in the Call-ID (% is no escape
 * there), an extension header with a UTF-8 value. Valid: a proxy forwards it or answers 404, an
 * endpoint answers 501 for the unknown method. */
static void test_rfc4475_intmeth(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/intmeth.dat");

    ASSERT_STR(sb_msg_method(m), "!interesting-Method0123456789_*+`.%indeed'~");
    assert_int_equal(m->method_id, SB_METHOD_OTHER);
    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", "example.com",
               SB_HOST_NAME, 0);
    ASSERT_STR(ru->passwd, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    ASSERT_ABSENT(ru->params);
    ASSERT_ABSENT(ru->headers);
    assert_int_equal(m->n_hdrs, 8);

    ASSERT_VIA(sb_msg_via1(m), "TCP", SB_PROTO_TCP, "host1.example.com", SB_HOST_NAME, 0,
               "z9hG4bK-.!%66*_+`'~");

    /* "BEL:\<0x07> NUL:\<0x00> DEL:\<0x7f>" */
    const struct sb_nameaddr *to = sb_msg_to(m);
    assert_non_null(to);
    ASSERT_STR(to->display, "BEL:\\\x07 NUL:\\\0 DEL:\\\x7f");
    ASSERT_STR(to->uri_str, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
    ASSERT_ABSENT(to->tag);
    assert_true(to->display_quoted);
    ASSERT_URI(&to->uri, SB_URI_SIP, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
               "example.com", SB_HOST_NAME, 0);

    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, "token1~` token2'+_ token3*%!.-", "sip:mundane@example.com",
              "_token~1'+`*%!-.");
    assert_false(from->display_quoted);
    /* fromParam''~+*_!.-%="работающий" (UTF-8), the value keeps its quotes */
    ASSERT_HPARAM(from->params, "fromparam''~+*_!.-%",
                  "\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8"
                  "\xd0\xb9\"");

    ASSERT_STR(sb_msg_callid(m), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    ASSERT_CSEQ(m, 139122385, "!interesting-Method0123456789_*+`.%indeed'~", SB_METHOD_OTHER);
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 255);

    struct sb_hdr *h = sb_msg_hdr_find(m, SB_STR("extensionHeader-!.%*+_`'~"));
    assert_non_null(h);
    assert_int_equal(h->type, SB_HDR_OTHER);
    /* U+FEFF then U+5927 U+505C U+96FB in UTF-8 */
    ASSERT_STR(sb_msg_hdr_value(m, h), "\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 0);
    assert_int_equal(m->body.len, 0);
}

/* RFC 4475 §3.1.1.3 Valid Use of the % Escaping Mechanism. The Request-URI carries
 * sips:user@example.com escaped in its user part; the From and To users and the Contact URI
 * parameters hold escapes. A parser must accept it; the application treats %HH as the octet, and
 * unescaping is never recursive: the "name" parameter's value is "value%41", not "valueA". */
static void test_rfc4475_esc01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/esc01.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, "sips%3Auser%40example.com", "example.net", SB_HOST_NAME, 0);
    ASSERT_STR(UNESCAPE(f, ru->user), "sips:user@example.com");
    assert_int_equal(m->n_hdrs, 9);

    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, NULL, "sip:%75se%72@example.com", NULL);
    ASSERT_STR(UNESCAPE(f, to->uri.user), "user");
    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, NULL, "sip:I%20have%20spaces@example.net", "938");
    ASSERT_STR(UNESCAPE(f, from->uri.user), "I have spaces");

    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 87);
    ASSERT_STR(sb_msg_callid(m), "esc01.239409asdfakjkn23onasd0-3234");
    assert_true(sb_msg_hdr_first(m, SB_HDR_CALL_ID)->flags & SB_HDRF_COMPACT);
    ASSERT_CSEQ(m, 234234, "INVITE", SB_METHOD_INVITE);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "host5.example.net", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw");
    const struct sb_ctype *ct = NTH(m, SB_HDR_CONTENT_TYPE, 0);
    ASSERT_STR(ct->type, "application");
    ASSERT_STR(ct->subtype, "sdp");

    /* "Contact:" CRLF "  <sip:cal%6Cer@...>": the value starts on the continuation line */
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", NULL);
    ASSERT_URI(&c->uri, SB_URI_SIP, "cal%6Cer", "host5.example.net", SB_HOST_NAME, 0);
    ASSERT_STR(UNESCAPE(f, c->uri.user), "caller");
    ASSERT_STR(c->uri.params, "%6C%72;n%61me=v%61lue%25%34%31");
    sb_str params = c->uri.params;
    struct sb_param p;
    assert_int_equal(sb_param_next(&params, &p, false), 1);
    ASSERT_STR(UNESCAPE(f, p.name), "lr");
    assert_false(p.has_value);
    assert_int_equal(sb_param_next(&params, &p, false), 1);
    ASSERT_STR(UNESCAPE(f, p.name), "name");
    ASSERT_STR(UNESCAPE(f, p.value), "value%41");
    assert_int_equal(sb_param_next(&params, &p, false), 0);

    assert_int_equal(m->body.len, 150);
}

/* RFC 4475 §3.1.1.4 Escaped Nulls in URIs. URIs with %00 in their user parts: "the message is
 * well formed - parsers must accept this message as well formed". */
static void test_rfc4475_escnull(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/escnull.dat");

    ASSERT_STR(sb_msg_method(m), "REGISTER");
    assert_int_equal(m->method_id, SB_METHOD_REGISTER);
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, NULL, "example.com", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 9);

    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, NULL, "sip:null-%00-null@example.com", NULL);
    ASSERT_URI(&to->uri, SB_URI_SIP, "null-%00-null", "example.com", SB_HOST_NAME, 0);
    ASSERT_STR(UNESCAPE(f, to->uri.user), "null-\0-null");
    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, NULL, "sip:null-%00-null@example.com", "839923423");
    ASSERT_STR(UNESCAPE(f, from->uri.user), "null-\0-null");

    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 70);
    ASSERT_STR(sb_msg_callid(m), "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd");
    ASSERT_CSEQ(m, 14398234, "REGISTER", SB_METHOD_REGISTER);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "host5.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw");

    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CONTACT), 2);
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "sip:%00@host5.example.com", NULL);
    ASSERT_STR(UNESCAPE(f, c->uri.user), "\0");
    c = NTH(m, SB_HDR_CONTACT, 1);
    ASSERT_NA(c, NULL, "sip:%00%00@host5.example.com", NULL);
    ASSERT_STR(UNESCAPE(f, c->uri.user), "\0\0");

    /* "L:0": compact Content-Length, no space */
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTENT_LENGTH);
    assert_true(h->flags & SB_HDRF_COMPACT);
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 0);
}

/* RFC 4475 §3.1.1.5 Use of % When It Is Not an Escape. The method RE%47IST%45R is an unknown
 * method, not REGISTER; the display names are "%Z%45"; "C%6Fntact" is an unknown header, so
 * there are two Contact values, not three. A parser accepts it; an endpoint would answer 501. */
static void test_rfc4475_esc02(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/esc02.dat");

    ASSERT_STR(sb_msg_method(m), "RE%47IST%45R");
    assert_int_equal(m->method_id, SB_METHOD_OTHER);
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, NULL, "registrar.example.com", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 10);

    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, "%Z%45", "sip:resource@example.com", NULL);
    assert_true(to->display_quoted);
    ASSERT_NA(sb_msg_from(m), "%Z%45", "sip:resource@example.com", "f232jadfj23");
    ASSERT_STR(sb_msg_callid(m), "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf");
    ASSERT_VIA(sb_msg_via1(m), "TCP", SB_PROTO_TCP, "host.example.com", SB_HOST_NAME, 0,
               "z9hG4bK209%fzsnel234");
    ASSERT_CSEQ(m, 29344, "RE%47IST%45R", SB_METHOD_OTHER);
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 70);

    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CONTACT), 2);
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 0), NULL, "sip:alias1@host1.example.com", NULL);
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 1), NULL, "sip:alias3@host3.example.com", NULL);
    struct sb_hdr *h = sb_msg_hdr_find(m, SB_STR("C%6Fntact"));
    assert_non_null(h);
    assert_int_equal(h->type, SB_HDR_OTHER);
    ASSERT_STR(sb_msg_hdr_value(m, h), "<sip:alias2@host2.example.com>");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 0);
}

/* RFC 4475 §3.1.1.6 Message with No LWS between Display Name and <. Invalid per the RFC 3261
 * grammar, identified as a specification bug: "Elements should accept this request as well
 * formed." */
static void test_rfc4475_lwsdisp(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/lwsdisp.dat");

    ASSERT_STR(sb_msg_method(m), "OPTIONS");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "example.com", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 7);
    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, "caller", "sip:caller@example.com", "323");
    assert_false(from->display_quoted);
    assert_true(from->has_angle);
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.com", NULL);
    ASSERT_STR(sb_msg_callid(m), "lwsdisp.1234abcd@funky.example.com");
    ASSERT_CSEQ(m, 60, "OPTIONS", SB_METHOD_OPTIONS);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "funky.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw");
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 70);
}

/* RFC 4475 §3.1.1.7 Long Values in Header Fields. A long display name, long URI parameter names
 * and values, long header parameters (a very long tag), a long Call-ID, an unknown header with a
 * long name, 34 Via values under every spelling of the name, a long branch. Well formed. */
static void test_rfc4475_longreq(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/longreq.dat");

    ASSERT_STR(sb_msg_method(m), "INVITE");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "example.com", SB_HOST_NAME, 0);
    /* To F Call-ID CSeq Unknown-... 34 x Via, Max-Forwards Contact Content-Type l */
    assert_int_equal(m->n_hdrs, 43);

    const struct sb_nameaddr *to = sb_msg_to(m);
    assert_non_null(to);
    ASSERT_SSTR(to->display,
                rep(f, 1, "I have a user name of ", 10, "extreme", 1, " proportion", 0));
    assert_true(to->display_quoted);
    ASSERT_SSTR(to->uri_str, rep(f, 1, "sip:user@example.com:6000;unknownparam1=very", 20, "long",
                                 1, "value;longparam", 25, "name", 1, "=shortvalue;very", 25,
                                 "long", 1, "ParameterNameWithNoValue", 0));
    ASSERT_URI(&to->uri, SB_URI_SIP, "user", "example.com", SB_HOST_NAME, 6000);
    ASSERT_STR(to->uri.port, "6000");
    ASSERT_ABSENT(to->tag);

    /* "F: sip:...;tag=...": addr-spec, so the ;params after the URI are header parameters */
    const struct sb_nameaddr *from = sb_msg_from(m);
    assert_non_null(from);
    assert_true(sb_msg_hdr_first(m, SB_HDR_FROM)->flags & SB_HDRF_COMPACT);
    assert_false(from->has_angle);
    ASSERT_SSTR(from->uri.user, rep(f, 5, "amazinglylongcallername", 0));
    ASSERT_STR(from->uri.host, "example.net");
    ASSERT_ABSENT(from->uri.params);
    ASSERT_SSTR(from->tag, rep(f, 1, "12", 50, "982", 1, "424", 0));
    sb_str pname = rep(f, 1, "unknownheaderparam", 20, "name", 0);
    struct sb_param p;
    assert_int_equal(sb_param_find(from->params, pname.p, &p, true), 1);
    ASSERT_SSTR(p.value, rep(f, 1, "unknowheaderparam", 15, "value", 0));
    pname = rep(f, 1, "unknownvaluelessparamname", 9, "paramname", 0);
    assert_int_equal(sb_param_find(from->params, pname.p, &p, true), 1);
    assert_false(p.has_value);

    ASSERT_SSTR(sb_msg_callid(m), rep(f, 1, "longreq.one", 20, "really", 1, "longcallid", 0));
    ASSERT_CSEQ(m, 3882340, "INVITE", SB_METHOD_INVITE);

    sb_str name = rep(f, 1, "Unknown-", 20, "Long", 1, "-Name", 0);
    struct sb_hdr *h = sb_msg_hdr_find(m, name);
    assert_non_null(h);
    assert_int_equal(h->type, SB_HDR_OTHER);
    ASSERT_SSTR(sb_msg_hdr_value(m, h),
                rep(f, 1, "unknown-", 20, "long", 1, "-value; unknown-", 20, "long", 1,
                    "-parameter-name = unknown-", 20, "long", 1, "-parameter-value", 0));

    /* Via, v, V, ViA, VIA, V :, Via  : ... all name the Via header; in order sip33 .. sip1 */
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 34);
    for (unsigned i = 0; i < 33; i++) {
        char host[32];
        snprintf(host, sizeof(host), "sip%u.example.com", 33 - i);
        ASSERT_VIA(NTH(m, SB_HDR_VIA, i), "TCP", SB_PROTO_TCP, host, SB_HOST_NAME, 0, NULL);
    }
    const struct sb_via *v = NTH(m, SB_HDR_VIA, 33);
    assert_non_null(v);
    ASSERT_STR(v->host, "host.example.com");
    ASSERT_STR(v->received, "192.0.2.5");
    ASSERT_SSTR(v->branch, rep(f, 1, "very", 50, "long", 1, "branchvalue", 0));

    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 70);
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_SSTR(c->uri.user, rep(f, 5, "amazinglylongcallername", 0));
    ASSERT_STR(c->uri.host, "host5.example.net");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 150);
    assert_int_equal(m->body.len, 150);
}

/* RFC 4475 §3.1.1.8 Extra Trailing Octets in a UDP Datagram. One REGISTER (Content-Length: 0)
 * followed by octets that look like an INVITE; per RFC 3261 §18.3 they are noise to be ignored
 * and the REGISTER is handled normally. */
static void test_rfc4475_dblreq(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/dblreq.dat");

    /* over a stream the first message ends after its empty line (296 + 4 octets) */
    STREAM_OK(f, 300);

    struct sb_msg *m = &f->m;
    assert_int_equal(sb_msg_parse(m, f->buf, f->len, 0), 0);
    assert_int_equal(sb_msg_parse_all(m), 0);
    assert_int_equal(m->rcv_len, 750);
    assert_int_equal(m->len, 300);
    assert_int_equal(m->body.len, 0);
    ASSERT_STR(sb_msg_method(m), "REGISTER");
    assert_int_equal(m->method_id, SB_METHOD_REGISTER);
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, NULL, "example.com", SB_HOST_NAME, 0);
    /* To From Max-Forwards I Contact CSeq Via Content-Length: nothing of the INVITE */
    assert_int_equal(m->n_hdrs, 8);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_TO), 1);
    assert_null(sb_msg_hdr_first(m, SB_HDR_CONTENT_TYPE));

    ASSERT_NA(sb_msg_to(m), NULL, "sip:j.user@example.com", NULL);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:j.user@example.com", "43251j3j324");
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 8);
    ASSERT_STR(sb_msg_callid(m), "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 0), NULL, "sip:j.user@host.example.com", NULL);
    ASSERT_CSEQ(m, 8, "REGISTER", SB_METHOD_REGISTER);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.125", SB_HOST_IPV4, 0,
               "z9hG4bKkdjuw23492");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 0);
}

/* RFC 4475 §3.1.1.9 Semicolon-Separated Parameters in URI User Part. "The Request-URI will parse
 * so that the user part is "user;par=u@example.net"" (here still escaped as written). */
static void test_rfc4475_semiuri(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/semiuri.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, "user;par=u%40example.net", "example.com", SB_HOST_NAME, 0);
    ASSERT_STR(UNESCAPE(f, ru->user), "user;par=u@example.net");
    ASSERT_ABSENT(ru->params);
    /* To From Max-Forwards Call-ID CSeq Accept (6 values over 3 folded lines) Via l */
    assert_int_equal(m->n_hdrs, 13);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_ACCEPT), 6);
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_ACCEPT);
    ASSERT_STR(sb_msg_hdr_value(m, h), "application/sdp");
    h = sb_msg_hdr_next(m, h);
    ASSERT_STR(sb_msg_hdr_value(m, h), "application/pkcs7-mime");
    h = sb_msg_hdr_next(m, h);
    ASSERT_STR(sb_msg_hdr_value(m, h), "multipart/mixed");
    for (unsigned i = 0; i < 3; i++)
        h = sb_msg_hdr_next(m, h);
    ASSERT_STR(sb_msg_hdr_value(m, h), "message/sipfrag");
    assert_true(h->flags & SB_HDRF_LIST_LAST);

    ASSERT_NA(sb_msg_to(m), NULL, "sip:j_user@example.com", NULL);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:caller@example.org", "33242");
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 3);
    ASSERT_CSEQ(m, 8, "OPTIONS", SB_METHOD_OPTIONS);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.1", SB_HOST_IPV4, 0, "z9hG4bKkdjuw");
}

/* RFC 4475 §3.1.1.10 Varied and Unknown Transport Types. Via values with UDP, SCTP, TLS, an
 * unknown transport and TCP. "Parsers must accept this message as well formed." */
static void test_rfc4475_transports(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/transports.dat");

    ASSERT_STR(sb_msg_method(m), "OPTIONS");
    assert_int_equal(m->n_hdrs, 12);
    ASSERT_STR(sb_msg_callid(m), "transports.kijh4akdnaqjkwendsasfdj");
    ASSERT_NA(sb_msg_from(m), NULL, "sip:caller@example.com", "323");
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 5);
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 0), "UDP", SB_PROTO_UDP, "t1.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw");
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 1), "SCTP", SB_PROTO_SCTP, "t2.example.com", SB_HOST_NAME, 0,
               "z9hG4bKklasjdhf");
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 2), "TLS", SB_PROTO_TLS, "t3.example.com", SB_HOST_NAME, 0,
               "z9hG4bK2980unddj");
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 3), "UNKNOWN", SB_PROTO_OTHER, "t4.example.com", SB_HOST_NAME, 0,
               "z9hG4bKasd0f3en");
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 4), "TCP", SB_PROTO_TCP, "t5.example.com", SB_HOST_NAME, 0,
               "z9hG4bK0a9idfnee");
}

/* RFC 4475 §3.1.1.11 Multipart MIME Message. A MESSAGE with two body parts, the second binary
 * and holding NUL octets. "Receivers must parse this message as well-formed"; the body is taken
 * octet for octet. */
static void test_rfc4475_mpart01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/mpart01.dat");

    ASSERT_STR(sb_msg_method(m), "MESSAGE");
    assert_int_equal(m->method_id, SB_METHOD_MESSAGE);
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "kumiko", "example.org", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 14);

    const struct sb_via *v = sb_msg_via1(m);
    ASSERT_VIA(v, "UDP", SB_PROTO_UDP, "127.0.0.1", SB_HOST_IPV4, 5070,
               "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-");
    assert_true(v->has_rport);
    assert_non_null(v->rport.p);
    assert_int_equal(v->rport.len, 0);
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 70);
    const struct sb_nameaddr *rt = NTH(m, SB_HDR_ROUTE, 0);
    ASSERT_URI(&rt->uri, SB_URI_SIP, NULL, "127.0.0.1", SB_HOST_IPV4, 5080);
    ASSERT_PREFIX(HDR_VALUE(m, "Identity"), "r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YW");
    ASSERT_SUFFIX(HDR_VALUE(m, "Identity"), "XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=");
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_URI(&c->uri, SB_URI_SIP, "fluffy", "127.0.0.1", SB_HOST_IPV4, 5070);
    ASSERT_NA(sb_msg_to(m), NULL, "sip:kumiko@example.org", NULL);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:fluffy@example.com", "2fb0dcc9");
    ASSERT_STR(sb_msg_callid(m), "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..");
    ASSERT_CSEQ(m, 1, "MESSAGE", SB_METHOD_MESSAGE);
    ASSERT_STR(HDR_VALUE(m, "Content-Transfer-Encoding"), "binary");
    const struct sb_ctype *ct = NTH(m, SB_HDR_CONTENT_TYPE, 0);
    ASSERT_STR(ct->type, "multipart");
    ASSERT_STR(ct->subtype, "mixed");
    ASSERT_STR(ct->params, "boundary=7a9cbec02ceef655");
    ASSERT_STR(HDR_VALUE(m, "Date"), "Sat, 15 Oct 2005 04:44:56 GMT");
    ASSERT_STR(HDR_VALUE(m, "User-Agent"), "SIPimp.org/0.2.5 (curses)");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 553);

    /* the body: 553 octets after the empty line at 735, the first part text, the second a DER
     * blob with a NUL at offsets 368 and 397 of the body and a bare LF inside */
    assert_int_equal(m->hdrs_end, 735);
    assert_int_equal(m->body.off, 737);
    assert_int_equal(m->body.len, 553);
    sb_str body = SPAN(m, m->body);
    ASSERT_PREFIX(body, "--7a9cbec02ceef655\r\n"
                        "Content-Type: text/plain\r\n"
                        "Content-Transfer-Encoding: binary\r\n"
                        "\r\n"
                        "Hello\r\n"
                        "--7a9cbec02ceef655\r\n"
                        "Content-Type: application/octet-stream\r\n"
                        "Content-Transfer-Encoding: binary\r\n"
                        "\r\n"
                        "0\x82\x01R\x06\t*\x86H\x86\xf7\r\x01");
    ASSERT_SUFFIX(body, "\r\n--7a9cbec02ceef655--\r\n");
    unsigned nuls = 0;
    for (size_t i = 0; i < body.len; i++)
        nuls += body.p[i] == 0;
    assert_int_equal(nuls, 2);
    assert_int_equal(body.p[368], 0);
    assert_int_equal(body.p[397], 0);
}

/* RFC 4475 §3.1.1.12 Unusual Reason Phrase. A 200 whose reason phrase holds reserved and
 * non-ASCII UTF-8 characters. "This response is well formed. A parser must accept this
 * message." */
static void test_rfc4475_unreason(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/unreason.dat");

    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 200);
    /* "= 2**3 * 5**2 но сто девяносто девять - простое" */
    ASSERT_STR(SPAN(m, m->reason),
               "= 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe \xd0\xb4\xd0\xb5\xd0\xb2"
               "\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe \xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f"
               "\xd1\x82\xd1\x8c - \xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5");
    assert_int_equal(m->method_id, SB_METHOD_INVITE); /* from CSeq */
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.198", SB_HOST_IPV4, 0,
               "z9hG4bK1324923");
    ASSERT_STR(sb_msg_callid(m), "unreason.1234ksdfak3j2erwedfsASdf");
    ASSERT_CSEQ(m, 35, "INVITE", SB_METHOD_INVITE);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:user@example.com", "11141343");
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.edu", "2229");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 154);
    assert_int_equal(m->body.len, 154);
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 0), NULL, "sip:user@host198.example.com", NULL);
}

/* RFC 4475 §3.1.1.13 Empty Reason Phrase. "This well-formed response contains no reason phrase.
 * A parser must accept this message." (The SP after the code is present.) */
static void test_rfc4475_noreason(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/noreason.dat");

    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 100);
    assert_int_equal(m->reason.len, 0);
    ASSERT_STR(SPAN(m, m->start_line), "SIP/2.0 100 ");
    assert_int_equal(m->method_id, SB_METHOD_INVITE);
    assert_int_equal(m->n_hdrs, 7);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.105", SB_HOST_IPV4, 0,
               "z9hG4bK2398ndaoe");
    ASSERT_STR(sb_msg_callid(m), "noreason.asndj203insdf99223ndf");
    ASSERT_CSEQ(m, 35, "INVITE", SB_METHOD_INVITE);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:user@example.com", "39ansfi3");
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.edu", "902jndnke3");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 0);
}

/* ================================================================================================
 * RFC 4475 §3.1.2: invalid messages
 * ============================================================================================== */

/* RFC 4475 §3.1.2.1 Extraneous Header Field Separators. The Via holds extra semicolons and
 * commas without parameters or values, the Contact extra semicolons. "This message is
 * syntactically invalid. An element receiving this request should respond with a 400 Bad
 * Request." The first bad value in the message is the Via. */
static void test_rfc4475_badinv01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/badinv01.dat");

    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_VIA, 400, "Bad Via");
    assert_null(sb_msg_via1(m));
    assert_null(sb_msg_hdr_parsed(m, sb_msg_hdr_first(m, SB_HDR_CONTACT)));
    /* the first fault stays the one reported */
    ASSERT_FAULT(m, m->err.code, SB_MSG_ERRP_HEADER, SB_HDR_VIA, 400, "Bad Via");
}

/* RFC 4475 §3.1.2.2 Content Length Larger Than Message. Content-Length 9999 with a 154-octet
 * body. Over UDP "the receiving element should respond with a 400 Bad Request error"; over a
 * stream it can only wait for more data. */
static void test_rfc4475_clerr(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/clerr.dat");

    assert_int_equal(sb_msg_frame(f->buf, f->len, NULL), SB_EAGAIN);
    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_BODY, SB_HDR_CONTENT_LENGTH, 400, "Bad Content-Length");
}

/* RFC 4475 §3.1.2.3 Negative Content-Length. Content-Length -999: "An element receiving this
 * message should respond with an error"; over TCP the framing error is not recoverable. */
static void test_rfc4475_ncl(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/ncl.dat");

    assert_int_equal(sb_msg_frame(f->buf, f->len, NULL), SB_EPARSE);
    int rc = sb_msg_parse(&f->m, f->buf, f->len, SB_MSG_STREAM);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CONTENT_LENGTH, 400, "Bad Content-Length");
    rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CONTENT_LENGTH, 400, "Bad Content-Length");
}

/* RFC 4475 §3.1.2.4 Request Scalar Fields with Overlarge Values. CSeq above 2**32-1, Max-Forwards
 * above 255, Expires and a Contact expires above 2**32-1. "An element receiving this request
 * should respond with a 400 Bad Request due to the CSeq error." The other values are individually
 * refused, so a later layer may treat them as absent or default. */
static void test_rfc4475_scalar02(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/scalar02.dat");

    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CSEQ, 400, "Bad CSeq");
    assert_null(sb_msg_cseq(m));
    uint32_t v = 0;
    assert_int_equal(sb_msg_num(m, SB_HDR_MAX_FORWARDS, &v), SB_EPARSE);
    assert_int_equal(sb_msg_num(m, SB_HDR_EXPIRES, &v), SB_EPARSE);
    /* the Contact itself is well formed; its expires value is left to the registrar */
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "sip:user@host129.example.com", NULL);
    ASSERT_STR(c->expires, "280297596632815");
    ASSERT_STR(sb_msg_hdr_value(m, sb_msg_hdr_first(m, SB_HDR_CONTACT)),
               "<sip:user@host129.example.com> ;expires=280297596632815");
    ASSERT_FAULT(m, m->err.code, SB_MSG_ERRP_HEADER, SB_HDR_CSEQ, 400, "Bad CSeq");
}

/* RFC 4475 §3.1.2.5 Response Scalar Fields with Overlarge Values. A 503 with CSeq above 2**32-1,
 * a huge Retry-After and a Warning code of four digits. "An element receiving this response will
 * simply discard it": the parse fails (on the CSeq). */
static void test_rfc4475_scalarlg(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/scalarlg.dat");

    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 503);
    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CSEQ, 400, "Bad CSeq");
    ASSERT_STR(HDR_VALUE(m, "Retry-After"), "949302838503028349304023988");
    ASSERT_STR(HDR_VALUE(m, "Warning"), "1812 overture \"In Progress\"");
}

/* RFC 4475 §3.1.2.6 Unterminated Quoted String in Display Name. "An element receiving this
 * request should return a 400 Bad Request error." Inferring the missing quote would be a guess. */
static void test_rfc4475_quotbal(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/quotbal.dat");

    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_TO, 400, "Bad To");
    assert_null(sb_msg_to(m));
}

/* RFC 4475 §3.1.2.7 <> Enclosing Request-URI. "It is reasonable always to reject a request with
 * this error with a 400 Bad Request." Switchboard does: the Request-URI does not parse. */
static void test_rfc4475_ltgtruri(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/ltgtruri.dat");

    ASSERT_STR(SPAN(m, m->ruri), "<sip:user@example.com>");
    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_RURI, SB_HDR_OTHER, 400, "Bad Request-URI");
    assert_null(sb_msg_ruri(m));
}

/* RFC 4475 §3.1.2.8 Malformed SIP Request-URI (embedded LWS). "An element receiving this request
 * should respond with a 400 Bad Request." The Request-Line has four words. */
static void test_rfc4475_lwsruri(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/lwsruri.dat");

    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_START_LINE, SB_HDR_OTHER, 400, "Bad Request Line");
}

/* RFC 4475 §3.1.2.9 Multiple SP Separating Request-Line Elements. Rejecting is acceptable; "an
 * element that is liberal in what it accepts may ignore these extra SP characters". Switchboard
 * is liberal: the request parses with the elements themselves unchanged. */
static void test_rfc4475_lwsstart(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/lwsstart.dat");

    ASSERT_STR(SPAN(m, m->start_line), "INVITE  sip:user@example.com  SIP/2.0");
    ASSERT_STR(sb_msg_method(m), "INVITE");
    ASSERT_STR(SPAN(m, m->ruri), "sip:user@example.com");
    ASSERT_STR(SPAN(m, m->version), "SIP/2.0");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "example.com", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 9);
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 8);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:caller@example.net", "8814");
    ASSERT_STR(sb_msg_callid(m), "lwsstart.dfknq234oi243099adsdfnawe3@example.com");
    ASSERT_CSEQ(m, 1893884, "INVITE", SB_METHOD_INVITE);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "host1.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw3923");
    assert_int_equal(m->body.len, 150);
}

/* RFC 4475 §3.1.2.10 SP Characters at End of Request-Line. Rejecting is acceptable; a liberal
 * element "may ignore these extra SP characters". Switchboard is liberal. */
static void test_rfc4475_trws(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/trws.dat");

    ASSERT_STR(SPAN(m, m->start_line), "OPTIONS sip:remote-target@example.com SIP/2.0  ");
    ASSERT_STR(SPAN(m, m->version), "SIP/2.0");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "remote-target", "example.com", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_VIA(sb_msg_via1(m), "TCP", SB_PROTO_TCP, "host1.examle.com", SB_HOST_NAME, 0,
               "z9hG4bK299342093");
    ASSERT_NA(sb_msg_from(m), NULL, "sip:local-resource@example.com", "329429089");
    ASSERT_CSEQ(m, 238923, "OPTIONS", SB_METHOD_OPTIONS);
}

/* RFC 4475 §3.1.2.11 Escaped Headers in SIP Request-URI. Rejecting with 400 is acceptable; "an
 * element could choose to be liberal in what it accepts and ignore the escaped headers". The URI
 * grammar allows headers, so Switchboard parses it and hands the headers to the layer that must
 * ignore them (a UA) or not forward them (a proxy). */
static void test_rfc4475_escruri(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/escruri.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, "user", "example.com", SB_HOST_NAME, 0);
    ASSERT_STR(ru->headers, "Route=%3Csip:example.com%3E");
    ASSERT_ABSENT(ru->params);
    assert_int_equal(m->n_hdrs, 9);
    ASSERT_CSEQ(m, 149209342, "INVITE", SB_METHOD_INVITE);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "host-of-the-hour.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw");
}

/* RFC 4475 §3.1.2.12 Invalid Time Zone in Date Header Field. Rejecting is acceptable but an
 * element "shouldn't do that unless the contents of the Date header field were actually important
 * to its processing". Date is not parsed by the core: the message is accepted, the value kept. */
static void test_rfc4475_baddate(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/baddate.dat");

    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_DATE);
    assert_non_null(h);
    ASSERT_STR(sb_msg_hdr_value(m, h), "Fri, 01 Jan 2010 16:00:00 EST");
    assert_int_equal(m->n_hdrs, 10);
    ASSERT_CSEQ(m, 1392934, "INVITE", SB_METHOD_INVITE);
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 0), NULL, "sip:caller@host5.example.net", NULL);
    assert_int_equal(m->body.len, 150);
}

/* RFC 4475 §3.1.2.13 Failure to Enclose name-addr URI in <>. A Contact addr-spec with an escaped
 * header: "It is reasonable always to reject a request with this error with a 400 Bad Request."
 * RFC 3261 §20.10 requires the brackets when the URI has a '?'; Switchboard rejects, naming the
 * Contact. */
static void test_rfc4475_regbadct(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/regbadct.dat");

    struct sb_msg *m = &f->m;
    assert_int_equal(sb_msg_parse(m, f->buf, f->len, 0), 0);
    assert_int_equal(m->n_hdrs, 8);
    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CONTACT, 400, "Bad Contact");
    ASSERT_STR(sb_msg_callid(m), "regbadct.k345asrl3fdbv@10.0.0.1");
}

/* RFC 4475 §3.1.2.14 Spaces within addr-spec. "< sip:t.watson@example.org >": "It is reasonable
 * always to reject a request with this error with a 400 Bad Request." The grammar has no room for
 * LWS inside the brackets; Switchboard rejects, naming the To. */
static void test_rfc4475_badaspec(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/badaspec.dat");

    struct sb_msg *m = &f->m;
    assert_int_equal(sb_msg_parse(m, f->buf, f->len, 0), 0);
    assert_int_equal(m->n_hdrs, 8);
    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_TO, 400, "Bad To");
    assert_null(sb_msg_to(m));
}

/* RFC 4475 §3.1.2.15 Non-token Characters in Display Name. Unquoted display names with a comma
 * in From and To: "It is reasonable always to reject this kind of error with a 400 Bad Request".
 * A proxy could not forward the fields as received, so Switchboard rejects; From comes first.
 * The message also lacks the empty line ending the header section: as a datagram the end of the
 * datagram ends it, on a stream the message is incomplete. */
static void test_rfc4475_baddn(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/baddn.dat");

    assert_int_equal(sb_msg_frame(f->buf, f->len, NULL), SB_EAGAIN);
    int rc = sb_msg_parse(&f->m, f->buf, f->len, SB_MSG_STREAM);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_BODY, SB_HDR_OTHER, 400, "Bad Request (no end of headers)");

    struct sb_msg *m = &f->m;
    assert_int_equal(sb_msg_parse(m, f->buf, f->len, 0), 0);
    assert_int_equal(m->n_hdrs, 8);
    rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_FROM, 400, "Bad From");
    assert_null(sb_msg_to(m));
}

/* RFC 4475 §3.1.2.16 Unknown Protocol Version. SIP/7.0: "The element should respond to the
 * request with a 505 Version Not Supported error." */
static void test_rfc4475_badvers(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/badvers.dat");

    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    assert_int_equal(rc, SB_EVERSION);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_VERSION, SB_HDR_OTHER, 505, "Version Not Supported");
    ASSERT_STR(SPAN(&f->m, f->m.version), "SIP/7.0");
}

/* RFC 4475 §3.1.2.17 Start Line and CSeq Method Mismatch. OPTIONS with "CSeq: 8 INVITE": "Any
 * element receiving this request will respond with a 400 Bad Request." */
static void test_rfc4475_mismatch01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/mismatch01.dat");

    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CSEQ, 400, "Method mismatch in CSeq");
    assert_int_equal(m->method_id, SB_METHOD_OPTIONS);
    ASSERT_CSEQ(m, 8, "INVITE", SB_METHOD_INVITE);
}

/* RFC 4475 §3.1.2.18 Unknown Method with CSeq Method Mismatch. NEWMETHOD with "CSeq: 8 INVITE":
 * 501 is preferred, "a 400 Bad Request is also acceptable". The parser reports the mismatch (400)
 * and leaves the method unknown, so a layer that prefers 501 can see why. */
static void test_rfc4475_mismatch02(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc4475/mismatch02.dat");

    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CSEQ, 400, "Method mismatch in CSeq");
    ASSERT_STR(sb_msg_method(m), "NEWMETHOD");
    assert_int_equal(m->method_id, SB_METHOD_OTHER);
    ASSERT_CSEQ(m, 8, "INVITE", SB_METHOD_INVITE);
}

/* RFC 4475 §3.1.2.19 Overlarge Response Code. Status 4294967301: "An element receiving this
 * response should simply drop it." */
static void test_rfc4475_bigcode(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/bigcode.dat");

    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_STATUS, SB_HDR_OTHER, 400, "Bad Status Line");
    assert_int_equal(f->m.kind, SB_MSG_REPLY);
}

/* ================================================================================================
 * RFC 4475 §3.2: transaction layer semantics
 * ============================================================================================== */

/* RFC 4475 §3.2.1 Missing Transaction Identifier. "branch=z9hG4bK" with nothing after the magic
 * cookie. "A parser must not break when receiving this message"; the transaction layer may answer
 * 400 or fall back to RFC 2543 matching, so it needs the branch as written. */
static void test_rfc4475_badbranch(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/badbranch.dat");

    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.1", SB_HOST_IPV4, 0, "z9hG4bK");
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.com", NULL);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:caller@example.org", "33242");
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 3);
    ASSERT_CSEQ(m, 8, "OPTIONS", SB_METHOD_OPTIONS);
}

/* ================================================================================================
 * RFC 4475 §3.3: application layer semantics
 * ============================================================================================== */

/* RFC 4475 §3.3.1 Missing Required Header Fields. No Call-ID, From or To: the element must not
 * break and "ideally, it will respond with a 400 Bad Request error". */
static void test_rfc4475_insuf(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/insuf.dat");
    STREAM_OK(f, f->len);

    struct sb_msg *m = &f->m;
    assert_int_equal(sb_msg_parse(m, f->buf, f->len, 0), 0);
    assert_int_equal(m->n_hdrs, 4);
    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_HEADER, SB_HDR_FROM, 400, "Missing From");
    assert_null(sb_msg_to(m));
    assert_null(sb_msg_callid(m).p);
    ASSERT_CSEQ(m, 193942, "INVITE", SB_METHOD_INVITE);
}

/* RFC 4475 §3.3.2 Request-URI with Unknown Scheme. "A parser must accept this as a well-formed
 * SIP request"; a UAS answers 416 (and must not route on the To header). */
static void test_rfc4475_unkscm(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/unkscm.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_OTHER, NULL, NULL, SB_HOST_NONE, 0);
    ASSERT_STR(ru->scheme_str, "nobodyKnowsThisScheme");
    ASSERT_STR(ru->opaque, "totallyopaquecontent");
    assert_int_equal(m->n_hdrs, 7);
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.com", NULL);
    ASSERT_CSEQ(m, 3923423, "OPTIONS", SB_METHOD_OPTIONS);
    ASSERT_VIA(sb_msg_via1(m), "TCP", SB_PROTO_TCP, "host9.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw39234");
}

/* RFC 4475 §3.3.3 Request-URI with Known but Atypical Scheme. soap.beep: "A parser must accept
 * this as a well-formed SIP request"; an element answers 416 or 404. */
static void test_rfc4475_novelsc(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/novelsc.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_OTHER, NULL, NULL, SB_HOST_NONE, 0);
    ASSERT_STR(ru->scheme_str, "soap.beep");
    ASSERT_STR(ru->opaque, "//192.0.2.103:3002");
    assert_int_equal(m->n_hdrs, 7);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:caller@example.net", "384");
}

/* RFC 4475 §3.3.4 Unknown URI Schemes in Header Fields. isbn:, http: and name: URIs in To, From
 * and Contact: "The message is syntactically valid. Parsers must not fail"; a registrar answers
 * 400 because the To is no SIP or SIPS AOR. */
static void test_rfc4475_unksm2(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/unksm2.dat");

    ASSERT_STR(sb_msg_method(m), "REGISTER");
    assert_int_equal(m->n_hdrs, 8);
    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, NULL, "isbn:2983792873", NULL);
    assert_int_equal(to->uri.scheme, SB_URI_OTHER);
    ASSERT_STR(to->uri.scheme_str, "isbn");
    ASSERT_STR(to->uri.opaque, "2983792873");
    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, NULL, "http://www.example.com", "3234233");
    assert_int_equal(from->uri.scheme, SB_URI_OTHER);
    ASSERT_STR(from->uri.scheme_str, "http");
    ASSERT_STR(from->uri.opaque, "//www.example.com");
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "name:John_Smith", NULL);
    assert_int_equal(c->uri.scheme, SB_URI_OTHER);
    ASSERT_STR(c->uri.scheme_str, "name");
    ASSERT_STR(c->uri.opaque, "John_Smith");
    ASSERT_STR(sb_msg_callid(m), "unksm2.daksdj@hyphenated-host.example.com");
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.21", SB_HOST_IPV4, 5060,
               "z9hG4bKkdjuw");
}

/* RFC 4475 §3.3.5 Proxy-Require and Require. Option tags nobody supports: "Any element receiving
 * this request will respond with a 420 Bad Extension response" listing them in Unsupported. The
 * parser gives that layer the tags. */
static void test_rfc4475_bext01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/bext01.dat");

    assert_int_equal(m->n_hdrs, 11);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_REQUIRE), 2);
    assert_true(sb_msg_has_token(m, SB_HDR_REQUIRE, SB_STR("nothingSupportsThis")));
    assert_true(sb_msg_has_token(m, SB_HDR_REQUIRE, SB_STR("nothingSupportsThisEither")));
    assert_false(sb_msg_has_token(m, SB_HDR_REQUIRE, SB_STR("nothing")));
    const struct sb_hdr_token *t = NTH(m, SB_HDR_REQUIRE, 1);
    ASSERT_STR(t->v, "nothingSupportsThisEither");
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_PROXY_REQUIRE), 2);
    t = NTH(m, SB_HDR_PROXY_REQUIRE, 0);
    ASSERT_STR(t->v, "noProxiesSupportThis");
    t = NTH(m, SB_HDR_PROXY_REQUIRE, 1);
    ASSERT_STR(t->v, "norDoAnyProxiesSupportThis");
    ASSERT_VIA(sb_msg_via1(m), "TLS", SB_PROTO_TLS, "fold-and-staple.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw");
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 6);
}

/* RFC 4475 §3.3.6 Unknown Content-Type. A body of type application/unknownformat: syntactically
 * valid; a proxy forwards it, an endpoint answers 415. */
static void test_rfc4475_invut(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/invut.dat");

    const struct sb_ctype *ct = NTH(m, SB_HDR_CONTENT_TYPE, 0);
    ASSERT_STR(ct->type, "application");
    ASSERT_STR(ct->subtype, "unknownformat");
    assert_int_equal(ct->params.len, 0);
    ASSERT_STR(SPAN(m, m->body), "<audio>\r\n <pcmu port=\"443\"/>\r\n</audio>\r\n");
    assert_int_equal(m->n_hdrs, 9);
    ASSERT_CSEQ(m, 235448, "INVITE", SB_METHOD_INVITE);
}

/* RFC 4475 §3.3.7 Unknown Authorization Scheme. "The request is well formed. A registrar should
 * reject this request with a 401 Unauthorized." */
static void test_rfc4475_regaut01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/regaut01.dat");

    const struct sb_digest *a = NTH(m, SB_HDR_AUTHORIZATION, 0);
    ASSERT_STR(a->scheme, "NoOneKnowsThisScheme");
    assert_false(a->is_digest);
    ASSERT_STR(a->params, "opaque-data=here");
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_VIA(sb_msg_via1(m), "TCP", SB_PROTO_TCP, "192.0.2.253", SB_HOST_IPV4, 0, "z9hG4bKkdjuw");
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 0);
}

/* RFC 4475 §3.3.8 Multiple Values in Single Value Required Fields. Two Call-ID, To, From,
 * Max-Forwards and CSeq fields: "An element receiving this request would respond with a 400 Bad
 * Request error." The index stops at the first repeat, the second CSeq. */
static void test_rfc4475_multi01(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/multi01.dat");

    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CSEQ, 400, "Duplicate CSeq");
    const char *second = strstr(f->buf, "CSeq: 59 INVITE");
    assert_non_null(second);
    assert_int_equal(f->m.err.offset, (uint32_t)(second - f->buf));

    /* The fault is the first duplicate, yet the index goes on to the end of the header section:
     * the From and To after it are there for the 400 to copy. Each repeated single-value field
     * is indexed but kept out of its type's chain: the reply copies the first value only. */
    struct sb_msg *m = &f->m;
    assert_int_equal(m->n_hdrs, 15);
    unsigned repeated = 0;
    for (uint32_t k = 0; k < m->n_hdrs; k++)
        repeated += (m->hdrs[k].flags & SB_HDRF_REPEATED) != 0;
    assert_int_equal(repeated, 5); /* CSeq, Call-ID, To, From, Max-Forwards */
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CSEQ), 1);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CALL_ID), 1);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_FROM), 1);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_TO), 1);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_MAX_FORWARDS), 1);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CONTACT), 2);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_CONTENT_LENGTH), 1);
    ASSERT_STR(sb_msg_hdr_value(m, sb_msg_hdr_first(m, SB_HDR_FROM)),
               "sip:caller@example.com;tag=3413415");
    ASSERT_STR(sb_msg_hdr_value(m, sb_msg_hdr_first(m, SB_HDR_TO)), "sip:user@example.com");
    ASSERT_STR(sb_msg_hdr_value(m, sb_msg_hdr_first(m, SB_HDR_CSEQ)), "5 INVITE");
    ASSERT_STR(sb_msg_callid(m), "multi01.98asdh@192.0.2.1");
    const struct sb_nameaddr *from = sb_msg_from(m);
    assert_non_null(from);
    ASSERT_STR(from->tag, "3413415");
    ASSERT_STR(sb_msg_hdr_value(m, &m->hdrs[m->n_hdrs - 1]), "5");
    assert_int_equal(m->hdrs[m->n_hdrs - 1].type, SB_HDR_MAX_FORWARDS);
    assert_true(m->hdrs[m->n_hdrs - 1].flags & SB_HDRF_REPEATED);
    /* the error still ends the header section where it ends */
    const char *blank = strstr(f->buf, "\r\n\r\n");
    assert_non_null(blank);
    assert_int_equal(m->hdrs_end, (uint32_t)(blank + 2 - f->buf));
}

/* RFC 4475 §3.3.9 Multiple Content-Length Values. Conflicting Content-Length values are a
 * framing error like an invalid value: "An element receiving this message should respond with an
 * error"; over TCP the connection should be closed. */
static void test_rfc4475_mcl01(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/mcl01.dat");

    assert_int_equal(sb_msg_frame(f->buf, f->len, NULL), SB_EPARSE);
    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_HEADER, SB_HDR_CONTENT_LENGTH, 400,
                 "Duplicate Content-Length");
}

/* RFC 4475 §3.3.10 200 OK Response with Broadcast Via Header Field Value. "The message is well
 * formed; parsers must not fail when receiving it." An endpoint discards it and a proxy drops it
 * rather than send to 255.255.255.255: that layer needs the second Via's host. */
static void test_rfc4475_bcast(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/bcast.dat");

    assert_int_equal(m->kind, SB_MSG_REPLY);
    assert_int_equal(m->status, 200);
    ASSERT_STR(SPAN(m, m->reason), "OK");
    assert_int_equal(m->method_id, SB_METHOD_INVITE);
    assert_int_equal(m->n_hdrs, 9);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 2);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "192.0.2.198", SB_HOST_IPV4, 0,
               "z9hG4bK1324923");
    ASSERT_VIA(sb_msg_via2(m), "UDP", SB_PROTO_UDP, "255.255.255.255", SB_HOST_IPV4, 0,
               "z9hG4bK1saber23");
    ASSERT_CSEQ(m, 35, "INVITE", SB_METHOD_INVITE);
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.edu", "2229");
    assert_int_equal(m->body.len, 154);
}

/* RFC 4475 §3.3.11 Max-Forwards of Zero. "This is a legal SIP request": a proxy answers 483, an
 * endpoint processes it. */
static void test_rfc4475_zeromf(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/zeromf.dat");

    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 0);
    assert_int_equal(m->n_hdrs, 7);
    ASSERT_CSEQ(m, 39234321, "OPTIONS", SB_METHOD_OPTIONS);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "host1.example.com", SB_HOST_NAME, 0,
               "z9hG4bKkdjuw2349i");
}

/* RFC 4475 §3.3.12 REGISTER with a Contact Header Parameter. In the addr-spec form
 * "unknownparam must be interpreted as being a contact-param and not a url-param". */
static void test_rfc4475_cparam01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/cparam01.dat");

    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "sip:+19725552222@gw1.example.net", NULL);
    assert_false(c->has_angle);
    ASSERT_URI(&c->uri, SB_URI_SIP, "+19725552222", "gw1.example.net", SB_HOST_NAME, 0);
    ASSERT_ABSENT(c->uri.params);
    ASSERT_STR(c->params, "unknownparam");
    ASSERT_HPARAM(c->params, "unknownparam", NULL);
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:watson@example.com", "DkfVgjkrtMwaerKKpe");
    ASSERT_CSEQ(m, 2, "REGISTER", SB_METHOD_REGISTER);
}

/* RFC 4475 §3.3.13 REGISTER with a url-parameter. Inside <>, unknownparam is a URI parameter and
 * must be kept in the binding. */
static void test_rfc4475_cparam02(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/cparam02.dat");

    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "sip:+19725552222@gw1.example.net;unknownparam", NULL);
    assert_true(c->has_angle);
    ASSERT_URI(&c->uri, SB_URI_SIP, "+19725552222", "gw1.example.net", SB_HOST_NAME, 0);
    ASSERT_STR(c->uri.params, "unknownparam");
    assert_int_equal(c->params.len, 0);
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_CSEQ(m, 3, "REGISTER", SB_METHOD_REGISTER);
}

/* RFC 4475 §3.3.14 REGISTER with a URL Escaped Header. The Contact URI holds an escaped Route
 * header: the REGISTER should succeed and the binding keep it. */
static void test_rfc4475_regescrt(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/regescrt.dat");

    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_CONTACT);
    assert_non_null(h);
    ASSERT_STR(sb_msg_hdr_name(m, h), "M");
    assert_true(h->flags & SB_HDRF_COMPACT);
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, NULL, "sip:user@example.com?Route=%3Csip:sip.example.com%3E", NULL);
    assert_true(c->has_angle);
    ASSERT_URI(&c->uri, SB_URI_SIP, "user", "example.com", SB_HOST_NAME, 0);
    ASSERT_STR(c->uri.headers, "Route=%3Csip:sip.example.com%3E");
    ASSERT_ABSENT(c->uri.params);
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:user@example.com", "8");
}

/* RFC 4475 §3.3.15 Unacceptable Accept Offering. Accept: text/nobodyKnowsThis on an INVITE with
 * SDP: a UAS may answer 406 or 400; the parser gives it the Accept value. */
static void test_rfc4475_sdp01(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc4475/sdp01.dat");

    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_ACCEPT), 1);
    ASSERT_STR(sb_msg_hdr_value(m, sb_msg_hdr_first(m, SB_HDR_ACCEPT)), "text/nobodyKnowsThis");
    const struct sb_ctype *ct = NTH(m, SB_HDR_CONTENT_TYPE, 0);
    ASSERT_STR(ct->type, "application");
    ASSERT_STR(ct->subtype, "sdp");
    assert_int_equal(m->n_hdrs, 10);
    ASSERT_NUM(m, SB_HDR_MAX_FORWARDS, 5);
    assert_int_equal(m->body.len, 150);
}

/* ================================================================================================
 * RFC 4475 §3.4: backward compatibility
 * ============================================================================================== */

/* RFC 4475 §3.4.1 INVITE with RFC 2543 Syntax. No Via branch, no From tag, no Content-Length (the
 * body is the rest of the datagram), no Max-Forwards: legal per RFC 2543 and to be accepted by
 * elements that keep backward compatibility. Over a stream, no Content-Length means no framing. */
static void test_rfc4475_inv2543(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/inv2543.dat");

    assert_int_equal(sb_msg_frame(f->buf, f->len, NULL), SB_EPARSE);
    int rc = sb_msg_parse(&f->m, f->buf, f->len, SB_MSG_STREAM);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_BODY, SB_HDR_OTHER, 400, "Missing Content-Length");

    struct sb_msg *m = VALID_DGRAM(f, "rfc4475/inv2543.dat");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "UserB", "example.com", SB_HOST_NAME, 0);
    assert_int_equal(m->n_hdrs, 7);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "iftgw.example.com", SB_HOST_NAME, 0, NULL);
    const struct sb_nameaddr *from = sb_msg_from(m);
    ASSERT_NA(from, NULL, "sip:+13035551111@ift.client.example.net;user=phone", NULL);
    ASSERT_STR(from->uri.user_param, "phone");
    const struct sb_nameaddr *rr = NTH(m, SB_HDR_RECORD_ROUTE, 0);
    ASSERT_URI(&rr->uri, SB_URI_SIP, "UserB", "example.com", SB_HOST_NAME, 0);
    ASSERT_STR(rr->uri.maddr, "ss1.example.com");
    /* addr-spec: ";user=phone" after it is a header parameter of To, not a URI parameter */
    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, NULL, "sip:+16505552222@ss1.example.net", NULL);
    ASSERT_ABSENT(to->uri.user_param);
    ASSERT_HPARAM(to->params, "user", "phone");
    ASSERT_STR(sb_msg_callid(m), "inv2543.1717@ift.client.example.com");
    ASSERT_CSEQ(m, 56, "INVITE", SB_METHOD_INVITE);
    uint32_t v;
    assert_int_equal(sb_msg_num(m, SB_HDR_MAX_FORWARDS, &v), SB_ENOENT);
    assert_false(m->has_clen);
    assert_int_equal(m->body.len, 105);
    assert_int_equal(m->len, 445);
    ASSERT_PREFIX(SPAN(m, m->body), "v=0\r\n");
    ASSERT_SUFFIX(SPAN(m, m->body), "m=audio 49217 RTP/AVP 0\r\n");
}

/* test.dat: in the RFC 4475 archive but described nowhere in the RFC. No SIP-Version in the
 * Request-Line, no Via, no CSeq: a server only has to survive it. */
static void test_rfc4475_test(void **state)
{
    struct fx *f = *state;
    LOAD(f, "rfc4475/test.dat");

    int rc = sb_msg_parse(&f->m, f->buf, f->len, 0);
    ASSERT_FAULT(&f->m, rc, SB_MSG_ERRP_START_LINE, SB_HDR_OTHER, 400, "Bad Request Line");
    assert_int_equal(sb_msg_parse_all(&f->m), rc);
}

/* ================================================================================================
 * RFC 5118 §4: IPv6 torture tests
 * ============================================================================================== */

/* RFC 5118 §4.1 Valid SIP Message with an IPv6 Reference. IPv6 references, bracketed, in the
 * Request-URI, the Via sent-by and the Contact: well formed. */
static void test_rfc5118_ipv6_good(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/ipv6-good.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, NULL, "[2001:db8::10]", SB_HOST_IPV6, 0);
    ASSERT_ABSENT(ru->port);
    assert_int_equal(m->n_hdrs, 8);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "[2001:db8::9:1]", SB_HOST_IPV6, 0,
               "z9hG4bKas3-111");
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, "Caller", "sip:caller@[2001:db8::1]", NULL);
    ASSERT_URI(&c->uri, SB_URI_SIP, "caller", "[2001:db8::1]", SB_HOST_IPV6, 0);
    ASSERT_NA(sb_msg_from(m), NULL, "sip:user@example.com", "81x2");
    ASSERT_STR(sb_msg_callid(m), "SSG9559905523997077@hlau_4100");
    ASSERT_CSEQ(m, 98176, "REGISTER", SB_METHOD_REGISTER);
}

/* RFC 5118 §4.2 Invalid SIP Message with an IPv6 Reference. "sip:2001:db8::10" lacks the
 * brackets an IPv6 reference needs in a SIP URI: the request should be answered 400 Bad
 * Request. */
static void test_rfc5118_ipv6_bad(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = INDEXED(f, "rfc5118/ipv6-bad.dat");

    ASSERT_STR(SPAN(m, m->ruri), "sip:2001:db8::10");
    int rc = sb_msg_parse_all(m);
    ASSERT_FAULT(m, rc, SB_MSG_ERRP_RURI, SB_HDR_OTHER, 400, "Bad Request-URI");
    /* the rest of the message is sound */
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "[2001:db8::9:1]", SB_HOST_IPV6, 0,
               "z9hG4bKas3-111");
}

/* RFC 5118 §4.3 Port Ambiguous in a SIP URI. "sip:[2001:db8::10:5070]": well formed, but 5070 is
 * part of the address, not a port; the URI has no port. */
static void test_rfc5118_port_ambiguous(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/port-ambiguous.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, NULL, "[2001:db8::10:5070]", SB_HOST_IPV6, 0);
    ASSERT_ABSENT(ru->port);
    assert_int_equal(m->n_hdrs, 8);
}

/* RFC 5118 §4.4 Port Unambiguous in a SIP URI. "sip:[2001:db8::10]:5070": port 5070. */
static void test_rfc5118_port_unambiguous(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/port-unambiguous.dat");

    const struct sb_uri *ru = sb_msg_ruri(m);
    ASSERT_URI(ru, SB_URI_SIP, NULL, "[2001:db8::10]", SB_HOST_IPV6, 5070);
    ASSERT_STR(ru->port, "5070");
    assert_int_equal(m->n_hdrs, 8);
}

/* RFC 5118 §4.5 IPv6 Reference Delimiters in Via Header, with "[" "]" around the received
 * address. Not valid under a strict reading of the RFC 3261 grammar, yet implementations must be
 * liberal and accept a received parameter with or without the delimiters. */
static void test_rfc5118_via_received_param_with_delim(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/via-received-param-with-delim.dat");

    ASSERT_STR(sb_msg_method(m), "BYE");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, NULL, "[2001:db8::10]", SB_HOST_IPV6, 0);
    const struct sb_via *v = sb_msg_via1(m);
    ASSERT_VIA(v, "UDP", SB_PROTO_UDP, "[2001:db8::9:1]", SB_HOST_IPV6, 0, "z9hG4bKas3-111");
    ASSERT_STR(v->received, "[2001:db8::9:255]");
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.com", "bd76ya");
    assert_int_equal(m->n_hdrs, 7);
}

/* RFC 5118 §4.5 IPv6 Reference Delimiters in Via Header, received without "[" "]" (the RFC 3261
 * form). Must be accepted as well. */
static void test_rfc5118_via_received_param_no_delim(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/via-received-param-no-delim.dat");

    ASSERT_STR(sb_msg_method(m), "OPTIONS");
    const struct sb_via *v = sb_msg_via1(m);
    ASSERT_VIA(v, "UDP", SB_PROTO_UDP, "[2001:db8::9:1]", SB_HOST_IPV6, 0, "z9hG4bKas3");
    ASSERT_STR(v->received, "2001:db8::9:255");
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 0), "Caller", "sip:caller@[2001:db8::9:1]", NULL);
    ASSERT_CSEQ(m, 921, "OPTIONS", SB_METHOD_OPTIONS);
    assert_int_equal(m->n_hdrs, 8);
}

/* RFC 5118 §4.6 SIP Request with IPv6 Addresses in Session Description Protocol (SDP) Body.
 * Valid; the SDP writes its IPv6 addresses without brackets (its own grammar). */
static void test_rfc5118_ipv6_in_sdp(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/ipv6-in-sdp.dat");

    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "[2001:db8::10]", SB_HOST_IPV6, 0);
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@[2001:db8::10]", NULL);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "[2001:db8::20]", SB_HOST_IPV6, 0,
               "z9hG4bKas3-111");
    ASSERT_NA(NTH(m, SB_HDR_CONTACT, 0), "Caller", "sip:caller@[2001:db8::20]", NULL);
    ASSERT_CSEQ(m, 8612, "INVITE", SB_METHOD_INVITE);
    assert_int_equal(m->n_hdrs, 9);
    ASSERT_NUM(m, SB_HDR_CONTENT_LENGTH, 251);
    assert_int_equal(m->body.len, 251);
    ASSERT_PREFIX(SPAN(m, m->body),
                  "v=0\r\no=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\n"
                  "s=Live video feed for today's meeting\r\n"
                  "c=IN IP6 2001:db8::20\r\n");
}

/* RFC 5118 §4.7 Multiple IP Addresses in SIP Headers. Three Via values mixing IPv6 (one with a
 * port after the "]") and IPv4, one with an IPv4 received parameter. Valid. */
static void test_rfc5118_mult_ip_in_header(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/mult-ip-in-header.dat");

    ASSERT_STR(sb_msg_method(m), "BYE");
    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "host.example.net", SB_HOST_NAME, 0);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 3);
    const struct sb_via *v = NTH(m, SB_HDR_VIA, 0);
    ASSERT_VIA(v, "UDP", SB_PROTO_UDP, "[2001:db8::9:1]", SB_HOST_IPV6, 6050, "z9hG4bKas3-111");
    ASSERT_STR(v->port, "6050");
    ASSERT_VIA(NTH(m, SB_HDR_VIA, 1), "UDP", SB_PROTO_UDP, "192.0.2.1", SB_HOST_IPV4, 0,
               "z9hG4bKjhja8781hjuaij65144");
    v = NTH(m, SB_HDR_VIA, 2);
    ASSERT_VIA(v, "TCP", SB_PROTO_TCP, "[2001:db8::9:255]", SB_HOST_IPV6, 0, "z9hG4bK451jj");
    ASSERT_STR(v->received, "192.0.2.200");
    ASSERT_NA(sb_msg_to(m), NULL, "sip:user@example.net", "9817--94");
    ASSERT_CSEQ(m, 89187, "BYE", SB_METHOD_BYE);
    assert_int_equal(m->n_hdrs, 9);
}

/* RFC 5118 §4.8 Multiple IP Addresses in SDP. An IPv4 and an IPv6 c= line per media: valid. */
static void test_rfc5118_mult_ip_in_sdp(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/mult-ip-in-sdp.dat");

    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "[2001:db8::10]", SB_HOST_IPV6, 0);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "[2001:db8::9:1]", SB_HOST_IPV6, 0,
               "z9hG4bKas3-111");
    ASSERT_CSEQ(m, 8912, "INVITE", SB_METHOD_INVITE);
    assert_int_equal(m->n_hdrs, 9);
    assert_int_equal(m->body.len, 189);
    ASSERT_SUFFIX(SPAN(m, m->body), "m=audio 22334 RTP/AVP 0\r\n"
                                    "c=IN IP4 192.0.2.1\r\n"
                                    "m=video 6024 RTP/AVP 107\r\n"
                                    "c=IN IP6 2001:db8::1\r\n"
                                    "a=rtpmap:107 H263-1998/90000\r\n");
}

/* RFC 5118 §4.9 IPv4-Mapped IPv6 Addresses. ::ffff:192.0.2.x in the Via values, the Contact and
 * the SDP: an implementation must be prepared to parse them. */
static void test_rfc5118_ipv4_mapped_ipv6(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/ipv4-mapped-ipv6.dat");

    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 2);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "[::ffff:192.0.2.10]", SB_HOST_IPV6, 19823,
               "z9hG4bKbh19");
    ASSERT_VIA(sb_msg_via2(m), "UDP", SB_PROTO_UDP, "[::ffff:192.0.2.2]", SB_HOST_IPV6, 0,
               "z9hG4bKas3-111");
    const struct sb_nameaddr *c = NTH(m, SB_HDR_CONTACT, 0);
    ASSERT_NA(c, "T. desk phone", "sip:ted@[::ffff:192.0.2.2]", NULL);
    ASSERT_URI(&c->uri, SB_URI_SIP, "ted", "[::ffff:192.0.2.2]", SB_HOST_IPV6, 0);
    ASSERT_STR(sb_msg_callid(m), "SSG9559905523997077@hlau_4100");
    ASSERT_CSEQ(m, 612, "INVITE", SB_METHOD_INVITE);
    assert_int_equal(m->n_hdrs, 10);
    assert_int_equal(m->body.len, 245);
    ASSERT_PREFIX(SPAN(m, m->body), "v=0\r\no=assistant 971731711378798081 0 IN IP6 "
                                    "::ffff:192.0.2.2\r\n");
}

/* RFC 5118 §4.10 IPv6 Reference Bug in RFC 3261 ABNF: "[2001:db8:::192.0.2.1]", three colons,
 * which the RFC 3261 ABNF allows by mistake. "An implementation must tolerate both of the above
 * constructs." */
static void test_rfc5118_ipv6_bug_abnf_3_colons(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/ipv6-bug-abnf-3-colons.dat");

    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "[2001:db8:::192.0.2.1]", SB_HOST_IPV6, 0);
    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_NA(to, NULL, "sip:user@[2001:db8:::192.0.2.1]", NULL);
    ASSERT_URI(&to->uri, SB_URI_SIP, "user", "[2001:db8:::192.0.2.1]", SB_HOST_IPV6, 0);
    ASSERT_CSEQ(m, 689, "OPTIONS", SB_METHOD_OPTIONS);
    assert_int_equal(m->n_hdrs, 7);
}

/* RFC 5118 §4.10 IPv6 Reference Bug in RFC 3261 ABNF: the correct form "[2001:db8::192.0.2.1]"
 * (an IPv6 address ending in an IPv4 address). Valid. */
static void test_rfc5118_ipv6_correct_abnf_2_colons(void **state)
{
    struct fx *f = *state;
    struct sb_msg *m = VALID(f, "rfc5118/ipv6-correct-abnf-2-colons.dat");

    ASSERT_URI(sb_msg_ruri(m), SB_URI_SIP, "user", "[2001:db8::192.0.2.1]", SB_HOST_IPV6, 0);
    const struct sb_nameaddr *to = sb_msg_to(m);
    ASSERT_URI(&to->uri, SB_URI_SIP, "user", "[2001:db8::192.0.2.1]", SB_HOST_IPV6, 0);
    ASSERT_VIA(sb_msg_via1(m), "UDP", SB_PROTO_UDP, "lab1.east.example.com", SB_HOST_NAME, 0,
               "z9hG4bKas3-111");
    ASSERT_STR(sb_msg_callid(m), "G9559905523997077@hlau_4100");
    assert_int_equal(m->n_hdrs, 7);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* RFC 4475 §3.1.1 */
        T(test_rfc4475_wsinv),
        T(test_rfc4475_intmeth),
        T(test_rfc4475_esc01),
        T(test_rfc4475_escnull),
        T(test_rfc4475_esc02),
        T(test_rfc4475_lwsdisp),
        T(test_rfc4475_longreq),
        T(test_rfc4475_dblreq),
        T(test_rfc4475_semiuri),
        T(test_rfc4475_transports),
        T(test_rfc4475_mpart01),
        T(test_rfc4475_unreason),
        T(test_rfc4475_noreason),
        /* RFC 4475 §3.1.2 */
        T(test_rfc4475_badinv01),
        T(test_rfc4475_clerr),
        T(test_rfc4475_ncl),
        T(test_rfc4475_scalar02),
        T(test_rfc4475_scalarlg),
        T(test_rfc4475_quotbal),
        T(test_rfc4475_ltgtruri),
        T(test_rfc4475_lwsruri),
        T(test_rfc4475_lwsstart),
        T(test_rfc4475_trws),
        T(test_rfc4475_escruri),
        T(test_rfc4475_baddate),
        T(test_rfc4475_regbadct),
        T(test_rfc4475_badaspec),
        T(test_rfc4475_baddn),
        T(test_rfc4475_badvers),
        T(test_rfc4475_mismatch01),
        T(test_rfc4475_mismatch02),
        T(test_rfc4475_bigcode),
        /* RFC 4475 §3.2, §3.3, §3.4 */
        T(test_rfc4475_badbranch),
        T(test_rfc4475_insuf),
        T(test_rfc4475_unkscm),
        T(test_rfc4475_novelsc),
        T(test_rfc4475_unksm2),
        T(test_rfc4475_bext01),
        T(test_rfc4475_invut),
        T(test_rfc4475_regaut01),
        T(test_rfc4475_multi01),
        T(test_rfc4475_mcl01),
        T(test_rfc4475_bcast),
        T(test_rfc4475_zeromf),
        T(test_rfc4475_cparam01),
        T(test_rfc4475_cparam02),
        T(test_rfc4475_regescrt),
        T(test_rfc4475_sdp01),
        T(test_rfc4475_inv2543),
        T(test_rfc4475_test),
        /* RFC 5118 §4 */
        T(test_rfc5118_ipv6_good),
        T(test_rfc5118_ipv6_bad),
        T(test_rfc5118_port_ambiguous),
        T(test_rfc5118_port_unambiguous),
        T(test_rfc5118_via_received_param_with_delim),
        T(test_rfc5118_via_received_param_no_delim),
        T(test_rfc5118_ipv6_in_sdp),
        T(test_rfc5118_mult_ip_in_header),
        T(test_rfc5118_mult_ip_in_sdp),
        T(test_rfc5118_ipv4_mapped_ipv6),
        T(test_rfc5118_ipv6_bug_abnf_3_colons),
        T(test_rfc5118_ipv6_correct_abnf_2_colons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
