/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for sb_uri_parse and sb_uri_cmp: views stay inside the input, parsing is
 * deterministic, a URI equals itself and its case variants. Input "A\nB" also compares A with B. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/uri.h"

#include "fuzz_check.h"

#define MAX_INPUT 8192

static void all_views(const struct sb_uri *u, sb_str out[15])
{
    const sb_str v[15] = {u->raw,        u->scheme_str, u->user,    u->passwd, u->host,
                          u->port,       u->params,     u->headers, u->opaque, u->transport,
                          u->user_param, u->method,     u->ttl,     u->maddr,  SB_STR_NULL};
    memcpy(out, v, sizeof(v));
}

/* Two parses of the same bytes agree field by field. */
static void check_same(const struct sb_uri *a, const struct sb_uri *b)
{
    sb_str va[15], vb[15];
    all_views(a, va);
    all_views(b, vb);
    for (size_t i = 0; i < 15; i++)
        CHECK(same(va[i], vb[i]));
    CHECK(a->scheme == b->scheme && a->host_kind == b->host_kind && a->lr == b->lr &&
          a->port_no == b->port_no);
}

static void check_unescape(sb_str s, char *tmp)
{
    if (!s.p)
        return;
    long n = sb_uri_unescape(s, tmp);
    CHECK(n >= 0 && (size_t)n <= s.len);
}

/* A well-known field is set whenever sb_param_find sees the parameter (it may also be set from an
 * escaped name, which sb_param_find does not decode). */
static void check_wk(sb_str params, const char *name, bool set)
{
    if (!params.p)
        return;
    int rc = sb_param_find(params, name, NULL, false);
    CHECK(rc == 0 || rc == 1);
    if (rc == 1)
        CHECK(set);
}

static void check_sip(const struct sb_uri *u, const char *base, size_t size)
{
    CHECK(u->host.len > 0 && u->host_kind != SB_HOST_NONE && !u->opaque.p);
    if (u->host_kind == SB_HOST_IPV6)
        CHECK(u->host.p[0] == '[' && u->host.p[u->host.len - 1] == ']');
    if (u->port.p) {
        uint64_t v;
        CHECK(sb_str_to_u64(u->port, 65535, &v) == 0 && v == u->port_no);
    } else {
        CHECK(u->port_no == 0);
    }
    if (u->params.p)
        CHECK(u->params.p > base && u->params.p[-1] == ';');
    if (u->headers.p)
        CHECK(u->headers.p > base && u->headers.p[-1] == '?' &&
              u->headers.p + u->headers.len == base + size);
    check_wk(u->params, "transport", u->transport.p != NULL);
    check_wk(u->params, "user", u->user_param.p != NULL);
    check_wk(u->params, "method", u->method.p != NULL);
    check_wk(u->params, "ttl", u->ttl.p != NULL);
    check_wk(u->params, "maddr", u->maddr.p != NULL);
    check_wk(u->params, "lr", u->lr);
}

static bool is_hex_letter(unsigned char c)
{
    return sb_is_hex(c) && !sb_is_digit(c);
}

static void flip_all(char *p, size_t off, size_t len)
{
    for (size_t i = off; i < off + len; i++)
        if (sb_is_alpha((unsigned char)p[i]))
            p[i] ^= 0x20;
}

/* Flip only the hex letters of %HH escapes: "%3a" and "%3A" are the same character. */
static void flip_escapes(char *p, size_t off, size_t len)
{
    for (size_t i = off; i + 2 < off + len; i++)
        if (p[i] == '%') {
            for (size_t k = i + 1; k <= i + 2; k++)
                if (is_hex_letter((unsigned char)p[k]))
                    p[k] ^= 0x20;
            i += 2;
        }
}

static size_t off_of(sb_str s, const char *base)
{
    return s.p ? (size_t)(s.p - base) : 0;
}

/* Change the case where the comparison rules ignore it; the result must parse and be equal. */
static void check_case_variant(const struct sb_uri *u, const char *base, size_t size)
{
    char *copy = malloc(size);
    CHECK(copy != NULL);
    memcpy(copy, base, size);
    flip_all(copy, 0, u->scheme_str.len);
    if (u->scheme == SB_URI_SIP || u->scheme == SB_URI_SIPS) {
        flip_all(copy, off_of(u->host, base), u->host.len);
        flip_all(copy, off_of(u->params, base), u->params.len);
        flip_escapes(copy, off_of(u->user, base), u->user.len);
        flip_escapes(copy, off_of(u->passwd, base), u->passwd.len);
        flip_escapes(copy, off_of(u->headers, base), u->headers.len);
    } else if (u->scheme == SB_URI_TEL) {
        flip_all(copy, off_of(u->user, base), u->user.len);
        flip_all(copy, off_of(u->params, base), u->params.len);
    }
    struct sb_uri v;
    CHECK(sb_uri_parse(sb_str_make(copy, size), &v) == 0);
    CHECK(v.scheme == u->scheme && v.host_kind == u->host_kind && v.lr == u->lr);
    CHECK(sb_uri_cmp(u, &v) == 0 && sb_uri_cmp(&v, u) == 0);
    free(copy);
}

/* Parse <data>; on success check every invariant. Returns whether it parsed. */
static bool check_one(const char *data, size_t size, struct sb_uri *u)
{
    int rc = sb_uri_parse(sb_str_make(data, size), u);
    CHECK(rc == 0 || rc == SB_EPARSE);
    if (rc)
        return false;

    sb_str v[15];
    all_views(u, v);
    for (size_t i = 0; i < 15; i++)
        check_in(v[i], data, size);
    CHECK(u->raw.p == data && u->raw.len == size);
    CHECK(u->scheme_str.p == data && u->scheme_str.len > 0 && data[u->scheme_str.len] == ':');

    if (u->scheme == SB_URI_SIP || u->scheme == SB_URI_SIPS) {
        check_sip(u, data, size);
    } else if (u->scheme == SB_URI_TEL) {
        CHECK(u->user.len > 0 && u->host_kind == SB_HOST_NONE && !u->host.p && !u->opaque.p);
    } else {
        CHECK(u->opaque.len > 0 && u->opaque.p + u->opaque.len == data + size);
        CHECK(!u->user.p && !u->host.p && !u->params.p && u->host_kind == SB_HOST_NONE);
    }

    char *tmp = malloc(size);
    CHECK(tmp != NULL);
    check_unescape(u->user, tmp);
    check_unescape(u->passwd, tmp);
    check_unescape(u->params, tmp);
    check_unescape(u->headers, tmp);
    check_unescape(u->opaque, tmp);
    free(tmp);

    struct sb_uri again;
    CHECK(sb_uri_parse(sb_str_make(data, size), &again) == 0);
    check_same(u, &again);
    CHECK(sb_uri_cmp(u, u) == 0 && sb_uri_cmp(u, &again) == 0);
    check_case_variant(u, data, size);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    const char *p = (const char *)data;
    struct sb_uri a, b;
    check_one(p, size, &a);

    /* two URIs on two lines: the relation must at least be symmetric */
    const char *nl = size ? memchr(p, '\n', size) : NULL;
    if (nl) {
        size_t n1 = (size_t)(nl - p);
        bool ok_a = check_one(p, n1, &a);
        bool ok_b = check_one(nl + 1, size - n1 - 1, &b);
        if (ok_a && ok_b)
            CHECK((sb_uri_cmp(&a, &b) == 0) == (sb_uri_cmp(&b, &a) == 0));
    }
    return 0;
}
