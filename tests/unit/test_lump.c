/* SPDX-License-Identifier: BSD-2-Clause */
/* Lumps: raw inserts/deletes/replaces, their order and conflicts, flat versus iovec output, and the
 * header-level edits (removing list values and fields, appending and prepending lines). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/msg_build.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static struct sb_msg *msg_new(const char *text, size_t len)
{
    struct sb_msg *m = malloc(sizeof(*m));
    assert_non_null(m);
    sb_msg_init(m, NULL);
    assert_int_equal(sb_msg_parse(m, text, len, 0), 0);
    return m;
}

static struct sb_msg *msg_parse(const char *text)
{
    return msg_new(text, strlen(text));
}

static void msg_free(struct sb_msg *m)
{
    sb_msg_deinit(m);
    free(m);
}

static uint32_t off_of(const struct sb_msg *m, const char *needle)
{
    const char *p = memmem(m->buf, m->len, needle, strlen(needle));
    assert_non_null(p);
    return (uint32_t)(p - m->buf);
}

static sb_span span_of(const struct sb_msg *m, const char *needle)
{
    return (sb_span){off_of(m, needle), (uint32_t)strlen(needle)};
}

/* Apply <m>'s lumps flat and as an iovec; both must give exactly <want>. Returns the flat output
 * (NUL-terminated, the caller frees it) for a round trip. */
static char *expect_output(const struct sb_msg *m, const char *want)
{
    size_t wl = strlen(want), n = 0;
    assert_int_equal(sb_msg_lumps_len(m), wl);
    char *flat = calloc(1, wl + 1);
    assert_non_null(flat);
    assert_int_equal(sb_msg_lumps_apply(m, flat, wl, &n), 0);
    assert_int_equal(n, wl);
    assert_string_equal(flat, want);
    if (wl > 1) {
        char small[1];
        assert_int_equal(sb_msg_lumps_apply(m, small, sizeof(small), &n), SB_ENOSPC);
    }

    struct iovec iov[64];
    int niov = -1;
    assert_int_equal(sb_msg_lumps_iov(m, iov, 64, &niov), 0);
    char *cat = calloc(1, wl + 1);
    assert_non_null(cat);
    size_t at = 0;
    for (int i = 0; i < niov; i++) {
        assert_true(iov[i].iov_len > 0);
        assert_true(at + iov[i].iov_len <= wl);
        memcpy(cat + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    assert_int_equal(at, wl);
    assert_string_equal(cat, want);
    free(cat);
    return flat;
}

/* Parse <text> fully: what a receiver would do with the output. */
static struct sb_msg *round_trip(const char *text)
{
    struct sb_msg *r = msg_parse(text);
    assert_int_equal(sb_msg_parse_all(r), 0);
    return r;
}

/* The values of every Via entry of <m>, joined with "|". */
static void via_values(struct sb_msg *m, char *out, size_t n)
{
    size_t at = 0;
    out[0] = '\0';
    for (struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_VIA); h; h = sb_msg_hdr_next(m, h)) {
        sb_str v = sb_msg_hdr_value(m, h);
        at += (size_t)snprintf(out + at, n - at, "%s" SB_STR_FMT, at ? "|" : "", SB_STR_ARG(v));
        assert_true(at < n);
    }
}

#define BODY_MSG                                                                                   \
    "\r\n"                                                                                         \
    "MESSAGE sip:bob@example.com SIP/2.0\r\n"                                                      \
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"                                          \
    "From: <sip:alice@example.com>;tag=a1\r\n"                                                     \
    "To: <sip:bob@example.com>\r\n"                                                                \
    "Call-ID: c1@192.0.2.1\r\n"                                                                    \
    "CSeq: 1 MESSAGE\r\n"                                                                          \
    "Subject: hi\r\n"                                                                              \
    "\r\n"                                                                                         \
    "hello"

/* ---- raw lumps ------------------------------------------------------------------------------ */

static void test_insert_start_middle_end(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    assert_int_equal(sb_msg_lump_insert(m, 0, SB_STR("\r\n")), 0);
    assert_int_equal(sb_msg_lump_insert(m, off_of(m, ";branch"), SB_STR(";rport")), 0);
    assert_int_equal(sb_msg_lump_insert(m, m->len, SB_STR(" world")), 0);
    char *out = expect_output(m, "\r\n\r\n"
                                 "MESSAGE sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c1@192.0.2.1\r\n"
                                 "CSeq: 1 MESSAGE\r\n"
                                 "Subject: hi\r\n"
                                 "\r\n"
                                 "hello world");
    struct sb_msg *r = round_trip(out);
    assert_int_equal(r->start_line.off, 4);
    assert_memory_equal(r->buf + r->body.off, "hello world", 11);
    assert_int_equal(r->body.len, 11);
    assert_non_null(sb_msg_via1(r));
    assert_true(sb_msg_via1(r)->has_rport);
    msg_free(r);
    free(out);
    msg_free(m);
}

static void test_delete_start_middle_end(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){0, 2}), 0);
    assert_int_equal(sb_msg_lump_delete(m, span_of(m, "Subject: hi\r\n")), 0);
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){m->len - 2, 2}), 0);
    char *out = expect_output(m, "MESSAGE sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c1@192.0.2.1\r\n"
                                 "CSeq: 1 MESSAGE\r\n"
                                 "\r\n"
                                 "hel");
    struct sb_msg *r = round_trip(out);
    assert_int_equal(r->start_line.off, 0);
    assert_null(sb_msg_hdr_find(r, SB_STR("Subject")));
    assert_int_equal(r->body.len, 3);
    msg_free(r);
    free(out);
    msg_free(m);
}

static void test_replace_start_middle_end(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG + 2); /* no leading CRLF: the method starts at 0 */
    assert_int_equal(m->method.off, 0);
    assert_int_equal(sb_msg_lump_replace(m, m->method, SB_STR("INFO")), 0);
    assert_int_equal(sb_msg_lump_replace(m, span_of(m, "1 MESSAGE"), SB_STR("2 INFO")), 0);
    assert_int_equal(sb_msg_lump_replace(m, span_of(m, "c1@192.0.2.1"), SB_STR("xyz")), 0);
    assert_int_equal(sb_msg_lump_replace(m, m->body, SB_STR("bye")), 0);
    char *out = expect_output(m, "INFO sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: xyz\r\n"
                                 "CSeq: 2 INFO\r\n"
                                 "Subject: hi\r\n"
                                 "\r\n"
                                 "bye");
    struct sb_msg *r = round_trip(out);
    assert_int_equal(r->method_id, SB_METHOD_INFO);
    assert_true(sb_str_eq(sb_msg_callid(r), SB_STR("xyz")));
    assert_non_null(sb_msg_cseq(r));
    assert_int_equal(sb_msg_cseq(r)->num, 2);
    msg_free(r);
    free(out);
    msg_free(m);
}

static void test_replace_empty_span_is_insert(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    assert_int_equal(sb_msg_lump_replace(m, (sb_span){m->len, 0}, SB_STR("!")), 0);
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){5, 0}), 0); /* records nothing */
    assert_int_equal(sb_msg_lump_insert(m, 5, SB_STR_NULL), 0);
    assert_int_equal(m->n_lumps, 1);
    assert_int_equal(sb_msg_lumps_len(m), m->len + 1);
    msg_free(m);
}

static void test_order_at_one_offset(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    uint32_t at = off_of(m, "hi\r\n");
    /* recorded out of order on purpose: later offsets first, the replace before the inserts */
    assert_int_equal(sb_msg_lump_insert(m, at + 2, SB_STR("]")), 0);
    assert_int_equal(sb_msg_lump_replace(m, (sb_span){at, 2}, SB_STR("HI")), 0);
    assert_int_equal(sb_msg_lump_insert(m, at, SB_STR("[")), 0);
    assert_int_equal(sb_msg_lump_insert(m, at, SB_STR("1")), 0);
    assert_int_equal(sb_msg_lump_insert(m, at, SB_STR("2")), 0);
    assert_int_equal(sb_msg_lump_insert(m, at + 2, SB_STR(".")), 0);
    assert_int_equal(sb_msg_lump_insert(m, 0, SB_STR("")), 0);
    char *out = expect_output(m, "\r\n"
                                 "MESSAGE sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c1@192.0.2.1\r\n"
                                 "CSeq: 1 MESSAGE\r\n"
                                 "Subject: [12HI].\r\n"
                                 "\r\n"
                                 "hello");
    struct sb_msg *r = round_trip(out);
    sb_str subj = sb_msg_hdr_value(r, sb_msg_hdr_find(r, SB_STR("subject")));
    assert_true(sb_str_eq(subj, SB_STR("[12HI].")));
    msg_free(r);
    free(out);
    msg_free(m);
}

static void test_overlap_rejected_and_sticky(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    uint32_t a = off_of(m, "Call-ID");
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){a, 10}), 0);
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){a + 10, 4}), 0); /* adjacent: fine */
    assert_int_equal(sb_msg_lump_insert(m, a + 14, SB_STR("x")), 0);  /* at the end: fine */
    assert_int_equal(sb_msg_lump_insert(m, a, SB_STR("y")), 0);       /* at the start: fine */
    assert_int_equal(sb_msg_lumps_len(m), m->len - 14 + 2);
    assert_int_equal(sb_msg_lump_replace(m, (sb_span){a + 5, 10}, SB_STR("z")), SB_EINVAL);
    assert_int_equal(m->lump_err, SB_EINVAL);
    assert_int_equal(m->n_lumps, 4); /* the failing call recorded nothing */
    /* sticky: a valid edit now fails too, and so does every output */
    assert_int_equal(sb_msg_lump_insert(m, 0, SB_STR("\r\n")), SB_EINVAL);
    char buf[512];
    size_t n;
    struct iovec iov[8];
    int niov;
    assert_int_equal(sb_msg_lumps_apply(m, buf, sizeof(buf), &n), SB_EINVAL);
    assert_int_equal(sb_msg_lumps_iov(m, iov, 8, &niov), SB_EINVAL);
    msg_free(m);
}

static void test_overlap_kinds(void **state)
{
    (void)state;
    static const struct {
        uint32_t off1, del1, off2, del2;
        int rc;
    } cases[] = {
        {100, 10, 95, 10, SB_EINVAL},  /* delete reaching into an earlier delete */
        {100, 10, 105, 10, SB_EINVAL}, /* delete starting inside an earlier delete */
        {100, 10, 100, 3, SB_EINVAL},  /* two deletes at one offset */
        {100, 10, 98, 20, SB_EINVAL},  /* a delete covering an earlier delete */
        {100, 10, 105, 0, SB_EINVAL},  /* an insert strictly inside a delete */
        {105, 0, 100, 10, SB_EINVAL},  /* a delete covering an earlier insert */
        {100, 10, 109, 0, SB_EINVAL},  /* an insert at the last deleted byte */
        {100, 10, 109, 4, SB_EINVAL},  /* a delete from the last deleted byte */
        {109, 0, 100, 10, SB_EINVAL},  /* a delete covering an insert at its last byte */
        {100, 10, 110, 5, 0},          /* adjacent */
        {100, 10, 90, 10, 0},          /* adjacent, before */
        {100, 0, 100, 10, 0},          /* an insert at the start of a delete */
        {110, 0, 100, 10, 0},          /* an insert at the end of a delete */
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
        struct sb_msg *m = msg_parse(BODY_MSG);
        sb_str t1 = cases[i].del1 ? SB_STR_NULL : SB_STR("i");
        sb_str t2 = cases[i].del2 ? SB_STR("r") : SB_STR("i");
        assert_int_equal(sb_msg_lump_replace(m, (sb_span){cases[i].off1, cases[i].del1}, t1), 0);
        int rc = sb_msg_lump_replace(m, (sb_span){cases[i].off2, cases[i].del2}, t2);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
        msg_free(m);
    }
}

static void test_out_of_range(void **state)
{
    (void)state;
    /* a datagram with bytes after Content-Length: they are not part of the message */
    static const char text[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\r\n"
                               "From: <sip:alice@example.com>;tag=a1\r\n"
                               "To: <sip:bob@example.com>\r\n"
                               "Call-ID: c2\r\n"
                               "CSeq: 1 OPTIONS\r\n"
                               "Content-Length: 2\r\n"
                               "\r\n"
                               "okGARBAGE";
    struct sb_msg *m = msg_parse(text);
    assert_int_equal(m->rcv_len - m->len, 7);
    assert_int_equal(sb_msg_lump_insert(m, m->len, SB_STR("!")), 0);
    assert_int_equal(sb_msg_lump_insert(m, m->len + 1, SB_STR("!")), SB_EINVAL);
    msg_free(m);

    m = msg_parse(text);
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){m->len - 1, 2}), SB_EINVAL);
    msg_free(m);

    m = msg_parse(text);
    assert_int_equal(sb_msg_lump_replace(m, (sb_span){UINT32_MAX, 2}, SB_STR("x")), SB_EINVAL);
    msg_free(m);

    m = msg_parse(text);
    assert_int_equal(sb_msg_lump_replace(m, m->body, SB_STR("OK")), 0);
    char *out = expect_output(m, "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c2\r\n"
                                 "CSeq: 1 OPTIONS\r\n"
                                 "Content-Length: 2\r\n"
                                 "\r\n"
                                 "OK");
    free(out);
    msg_free(m);
}

static void test_iov_zero_copy(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    static const char ins[] = ";rport";
    assert_int_equal(sb_msg_lump_insert(m, off_of(m, ";branch"), (sb_str){ins, 6}), 0);
    assert_int_equal(sb_msg_lump_delete(m, span_of(m, "Subject: hi\r\n")), 0);
    struct iovec iov[8];
    int niov = 0;
    assert_int_equal(sb_msg_lumps_iov(m, iov, 8, &niov), 0);
    assert_int_equal(niov, 4);
    assert_ptr_equal(iov[0].iov_base, m->buf);
    assert_int_equal(iov[0].iov_len, off_of(m, ";branch"));
    assert_ptr_equal(iov[1].iov_base, ins);
    assert_ptr_equal(iov[2].iov_base, m->buf + off_of(m, ";branch"));
    assert_ptr_equal(iov[3].iov_base, m->buf + off_of(m, "\r\n\r\nhello") + 2);
    /* too few slots: the number needed comes back */
    assert_int_equal(sb_msg_lumps_iov(m, iov, 3, &niov), SB_ENOSPC);
    assert_int_equal(niov, 4);
    /* no lumps: one piece, the message itself */
    struct sb_msg *plain = msg_parse(BODY_MSG);
    assert_int_equal(sb_msg_lumps_iov(plain, iov, 8, &niov), 0);
    assert_int_equal(niov, 1);
    assert_ptr_equal(iov[0].iov_base, plain->buf);
    assert_int_equal(iov[0].iov_len, plain->len);
    msg_free(plain);
    msg_free(m);
}

static void test_strdup_printf(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    char tmp[16] = "temporary";
    sb_str a = sb_msg_strdup(m, sb_str_cstr(tmp));
    memset(tmp, 'x', sizeof(tmp) - 1); /* the copy does not depend on the caller's bytes */
    assert_true(sb_str_eq(a, SB_STR("temporary")));
    sb_str b = sb_msg_printf(m, "X-Count: %d", 42);
    assert_true(sb_str_eq(b, SB_STR("X-Count: 42")));
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    sb_str c = sb_msg_printf(m, "X-Big: %s", big);
    assert_int_equal(c.len, 7 + 399);
    assert_memory_equal(c.p + 7, big, 399);
    assert_int_equal(m->lump_err, 0);
    msg_free(m);
}

static void test_arena_failure_is_sticky(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    int rc = 0, i;
    sb_arena_fail_after = 1;
    for (i = 0; i < 400 && rc == 0; i++)
        rc = sb_msg_lump_insert(m, (uint32_t)i % m->len, SB_STR("x"));
    sb_arena_fail_after = 0;
    assert_int_equal(rc, SB_ENOMEM);
    assert_int_equal(m->lump_err, SB_ENOMEM);
    char buf[4096];
    size_t n;
    assert_int_equal(sb_msg_lumps_apply(m, buf, sizeof(buf), &n), SB_ENOMEM);
    msg_free(m);
}

/* ---- header-level edits --------------------------------------------------------------------- */

#define VIA_A "SIP/2.0/UDP a.example.com;branch=z9hG4bKa"
#define VIA_B "SIP/2.0/UDP b.example.com;branch=z9hG4bKb"
#define VIA_C "SIP/2.0/UDP c.example.com;branch=z9hG4bKc"
#define VIA_D "SIP/2.0/TCP d.example.com;branch=z9hG4bKd"

#define LIST_HEAD "BYE sip:bob@192.0.2.4 SIP/2.0\r\n"
#define LIST_TAIL                                                                                  \
    "From: <sip:alice@example.com>;tag=a1\r\n"                                                     \
    "To: <sip:bob@example.com>;tag=b1\r\n"                                                         \
    "Call-ID: c3\r\n"                                                                              \
    "CSeq: 2 BYE\r\n"                                                                              \
    "Content-Length: 0\r\n"                                                                        \
    "\r\n"
#define LIST_MSG LIST_HEAD "Via: " VIA_A ", " VIA_B " ,  " VIA_C "\r\nVia: " VIA_D "\r\n" LIST_TAIL

static struct sb_hdr *via_n(struct sb_msg *m, int n)
{
    struct sb_hdr *h = sb_msg_hdr_first(m, SB_HDR_VIA);
    while (h && n--)
        h = sb_msg_hdr_next(m, h);
    assert_non_null(h);
    return h;
}

/* Remove the Via entries of LIST_MSG listed in <which> (indexes, in that order) and check the
 * output and the Vias a receiver sees. */
static void check_via_removal(const int *which, size_t n, const char *want_vias,
                              const char *want_vals, const char *want_branch)
{
    struct sb_msg *m = msg_parse(LIST_MSG);
    assert_int_equal(sb_msg_hdr_count(m, SB_HDR_VIA), 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sb_msg_hdr_remove(m, via_n(m, which[i])), 0);
    char want[1024];
    snprintf(want, sizeof(want), "%s%s%s", LIST_HEAD, want_vias, LIST_TAIL);
    char *out = expect_output(m, want);
    struct sb_msg *r = round_trip(out);
    char vals[512];
    via_values(r, vals, sizeof(vals));
    assert_string_equal(vals, want_vals);
    const struct sb_via *v1 = sb_msg_via1(r);
    assert_non_null(v1);
    assert_true(sb_str_eq(v1->branch, sb_str_cstr(want_branch)));
    msg_free(r);
    free(out);
    msg_free(m);
}

static void test_remove_via_first_middle_last(void **state)
{
    (void)state;
    static const int first[] = {0}, middle[] = {1}, last[] = {2};
    check_via_removal(first, 1, "Via: " VIA_B " ,  " VIA_C "\r\nVia: " VIA_D "\r\n",
                      VIA_B "|" VIA_C "|" VIA_D, "z9hG4bKb");
    check_via_removal(middle, 1, "Via: " VIA_A ", " VIA_C "\r\nVia: " VIA_D "\r\n",
                      VIA_A "|" VIA_C "|" VIA_D, "z9hG4bKa");
    check_via_removal(last, 1, "Via: " VIA_A ", " VIA_B "\r\nVia: " VIA_D "\r\n",
                      VIA_A "|" VIA_B "|" VIA_D, "z9hG4bKa");
}

static void test_remove_via_several(void **state)
{
    (void)state;
    static const int bc[] = {1, 2}, cb[] = {2, 1}, ab[] = {0, 1}, ac[] = {0, 2}, ca[] = {2, 0};
    static const int all1[] = {0, 1, 2}, all2[] = {2, 0, 1}, all3[] = {1, 2, 0};
    check_via_removal(bc, 2, "Via: " VIA_A "\r\nVia: " VIA_D "\r\n", VIA_A "|" VIA_D, "z9hG4bKa");
    check_via_removal(cb, 2, "Via: " VIA_A "\r\nVia: " VIA_D "\r\n", VIA_A "|" VIA_D, "z9hG4bKa");
    check_via_removal(ab, 2, "Via: " VIA_C "\r\nVia: " VIA_D "\r\n", VIA_C "|" VIA_D, "z9hG4bKc");
    check_via_removal(ac, 2, "Via: " VIA_B "\r\nVia: " VIA_D "\r\n", VIA_B "|" VIA_D, "z9hG4bKb");
    check_via_removal(ca, 2, "Via: " VIA_B "\r\nVia: " VIA_D "\r\n", VIA_B "|" VIA_D, "z9hG4bKb");
    /* every value of the field: the field goes */
    check_via_removal(all1, 3, "Via: " VIA_D "\r\n", VIA_D, "z9hG4bKd");
    check_via_removal(all2, 3, "Via: " VIA_D "\r\n", VIA_D, "z9hG4bKd");
    check_via_removal(all3, 3, "Via: " VIA_D "\r\n", VIA_D, "z9hG4bKd");
}

static void test_remove_whole_field(void **state)
{
    (void)state;
    static const int d[] = {3}, da[] = {3, 0};
    check_via_removal(d, 1, "Via: " VIA_A ", " VIA_B " ,  " VIA_C "\r\n", VIA_A "|" VIA_B "|" VIA_C,
                      "z9hG4bKa");
    check_via_removal(da, 2, "Via: " VIA_B " ,  " VIA_C "\r\n", VIA_B "|" VIA_C, "z9hG4bKb");

    /* a header that is not a list, and removing it twice */
    struct sb_msg *m = msg_parse(BODY_MSG);
    struct sb_hdr *subj = sb_msg_hdr_find(m, SB_STR("Subject"));
    assert_non_null(subj);
    assert_int_equal(sb_msg_hdr_remove(m, subj), 0);
    assert_true(subj->flags & SB_HDRF_REMOVED);
    assert_int_equal(sb_msg_hdr_remove(m, subj), 0);
    assert_int_equal(m->n_lumps, 1);
    char *out = expect_output(m, "\r\n"
                                 "MESSAGE sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c1@192.0.2.1\r\n"
                                 "CSeq: 1 MESSAGE\r\n"
                                 "\r\n"
                                 "hello");
    free(out);
    /* an entry that is not of this message */
    struct sb_hdr stray = *subj;
    assert_int_equal(sb_msg_hdr_remove(m, &stray), SB_EINVAL);
    msg_free(m);
}

static void test_remove_folded_list(void **state)
{
    (void)state;
    static const char text[] = "ACK sip:bob@192.0.2.4 SIP/2.0\r\n"
                               "Via: " VIA_A ",\r\n"
                               "     " VIA_B "\r\n"
                               "Route: <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\n"
                               "From: <sip:alice@example.com>;tag=a1\r\n"
                               "To: <sip:bob@example.com>;tag=b1\r\n"
                               "Call-ID: c4\r\n"
                               "CSeq: 1 ACK\r\n"
                               "\r\n";
    struct sb_msg *m = msg_parse(text);
    assert_int_equal(sb_msg_hdr_remove(m, via_n(m, 0)), 0);
    assert_int_equal(sb_msg_hdr_remove(m, sb_msg_hdr_first(m, SB_HDR_ROUTE)), 0);
    char *out = expect_output(m, "ACK sip:bob@192.0.2.4 SIP/2.0\r\n"
                                 "Via: " VIA_B "\r\n"
                                 "Route: <sip:p2.example.com;lr>\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>;tag=b1\r\n"
                                 "Call-ID: c4\r\n"
                                 "CSeq: 1 ACK\r\n"
                                 "\r\n");
    struct sb_msg *r = round_trip(out);
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_VIA), 1);
    assert_int_equal(sb_msg_hdr_count(r, SB_HDR_ROUTE), 1);
    const struct sb_nameaddr *rt = sb_msg_hdr_parsed(r, sb_msg_hdr_first(r, SB_HDR_ROUTE));
    assert_non_null(rt);
    assert_true(sb_str_eq(rt->uri.host, SB_STR("p2.example.com")));
    msg_free(r);
    free(out);
    msg_free(m);

    /* the last value of the folded list */
    m = msg_parse(text);
    assert_int_equal(sb_msg_hdr_remove(m, via_n(m, 1)), 0);
    out = expect_output(m, "ACK sip:bob@192.0.2.4 SIP/2.0\r\n"
                           "Via: " VIA_A "\r\n"
                           "Route: <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\n"
                           "From: <sip:alice@example.com>;tag=a1\r\n"
                           "To: <sip:bob@example.com>;tag=b1\r\n"
                           "Call-ID: c4\r\n"
                           "CSeq: 1 ACK\r\n"
                           "\r\n");
    free(out);
    msg_free(m);
}

static void test_remove_absorbs_edits_inside(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(LIST_MSG);
    /* parameters appended to values b and c, then those values removed */
    struct sb_hdr *b = via_n(m, 1), *c = via_n(m, 2), *a = via_n(m, 0);
    assert_int_equal(sb_msg_lump_insert(m, b->value.off + b->value.len, SB_STR(";x=1")), 0);
    assert_int_equal(sb_msg_lump_insert(m, c->value.off + c->value.len, SB_STR(";y=2")), 0);
    assert_int_equal(sb_msg_lump_insert(m, a->value.off + a->value.len, SB_STR(";received=9")), 0);
    assert_int_equal(sb_msg_hdr_remove(m, c), 0);
    assert_int_equal(sb_msg_hdr_remove(m, b), 0);
    char *out =
        expect_output(m, LIST_HEAD "Via: " VIA_A ";received=9\r\nVia: " VIA_D "\r\n" LIST_TAIL);
    free(out);
    /* a raw delete across an insert is still refused */
    assert_int_equal(sb_msg_lump_delete(m, (sb_span){a->value.off + 1, a->value.len}), SB_EINVAL);
    msg_free(m);
}

static void test_append_prepend(void **state)
{
    (void)state;
    struct sb_msg *m = msg_parse(BODY_MSG);
    assert_int_equal(sb_msg_hdr_append(m, SB_STR("X-A: 1")), 0);
    assert_int_equal(sb_msg_hdr_prepend(m, SB_STR("X-P: 1")), 0);
    assert_int_equal(sb_msg_hdr_append(m, sb_msg_printf(m, "X-B: %d", 2)), 0);
    assert_int_equal(sb_msg_hdr_prepend(m, SB_STR("X-Q: 2")), 0);
    /* removing the first header keeps the prepended lines (inserted at its start) */
    assert_int_equal(sb_msg_hdr_remove(m, via_n(m, 0)), 0);
    char *out = expect_output(m, "\r\n"
                                 "MESSAGE sip:bob@example.com SIP/2.0\r\n"
                                 "X-P: 1\r\n"
                                 "X-Q: 2\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c1@192.0.2.1\r\n"
                                 "CSeq: 1 MESSAGE\r\n"
                                 "Subject: hi\r\n"
                                 "X-A: 1\r\n"
                                 "X-B: 2\r\n"
                                 "\r\n"
                                 "hello");
    struct sb_msg *r = msg_parse(out);
    assert_int_equal(r->n_hdrs, 9);
    assert_true(sb_str_eq(sb_msg_hdr_name(r, &r->hdrs[0]), SB_STR("X-P")));
    assert_true(sb_str_eq(sb_msg_hdr_name(r, &r->hdrs[8]), SB_STR("X-B")));
    assert_int_equal(r->body.len, 5);
    msg_free(r);
    free(out);
    /* a line with a line break is refused (and sticks) */
    assert_int_equal(sb_msg_hdr_append(m, SB_STR("X-C: 1\r\nX-D: 2")), SB_EINVAL);
    assert_int_equal(m->lump_err, SB_EINVAL);
    msg_free(m);
}

static void test_append_without_empty_line(void **state)
{
    (void)state;
    /* a datagram whose header section runs to its end, the last line without CRLF */
    static const char text[] = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK5\r\n"
                               "From: <sip:alice@example.com>;tag=a1\r\n"
                               "To: <sip:bob@example.com>\r\n"
                               "Call-ID: c5\r\n"
                               "CSeq: 1 OPTIONS";
    struct sb_msg *m = msg_parse(text);
    assert_int_equal(m->hdrs_end, m->len);
    assert_int_equal(sb_msg_hdr_append(m, SB_STR("X-A: 1")), 0);
    assert_int_equal(sb_msg_hdr_append(m, SB_STR("X-B: 2")), 0);
    char *out = expect_output(m, "OPTIONS sip:bob@example.com SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK5\r\n"
                                 "From: <sip:alice@example.com>;tag=a1\r\n"
                                 "To: <sip:bob@example.com>\r\n"
                                 "Call-ID: c5\r\n"
                                 "CSeq: 1 OPTIONS\r\n"
                                 "X-A: 1\r\n"
                                 "X-B: 2\r\n");
    struct sb_msg *r = round_trip(out);
    assert_non_null(sb_msg_cseq(r));
    assert_int_equal(sb_msg_cseq(r)->num, 1);
    assert_non_null(sb_msg_hdr_find(r, SB_STR("X-B")));
    msg_free(r);
    free(out);
    msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_start_middle_end),
        cmocka_unit_test(test_delete_start_middle_end),
        cmocka_unit_test(test_replace_start_middle_end),
        cmocka_unit_test(test_replace_empty_span_is_insert),
        cmocka_unit_test(test_order_at_one_offset),
        cmocka_unit_test(test_overlap_rejected_and_sticky),
        cmocka_unit_test(test_overlap_kinds),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_iov_zero_copy),
        cmocka_unit_test(test_strdup_printf),
        cmocka_unit_test(test_arena_failure_is_sticky),
        cmocka_unit_test(test_remove_via_first_middle_last),
        cmocka_unit_test(test_remove_via_several),
        cmocka_unit_test(test_remove_whole_field),
        cmocka_unit_test(test_remove_folded_list),
        cmocka_unit_test(test_remove_absorbs_edits_inside),
        cmocka_unit_test(test_append_prepend),
        cmocka_unit_test(test_append_without_empty_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
