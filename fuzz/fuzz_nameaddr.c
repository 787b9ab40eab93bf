/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for sb_nameaddr_parse: on success every view (the parsed URI's too) lies in the
 * input, a second parse agrees, and tag/expires/q match what sb_param_find reads from <params>. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/uri.h"

#include "fuzz_check.h"

/* A well-known field must be what sb_param_find returns for <name>; an absent one, absent. */
static void check_param(const struct sb_nameaddr *na, const char *name, sb_str field)
{
    struct sb_param prm;
    if (na->params.p == NULL) {
        CHECK(field.p == NULL);
        return;
    }
    int rc = sb_param_find(na->params, name, &prm, true);
    CHECK(rc == 0 || rc == 1);
    if (rc == 0)
        CHECK(field.p == NULL);
    else
        CHECK(prm.has_value && same(prm.value, field));
}

#define N_URI_VIEWS 14

static void uri_views(const struct sb_uri *u, sb_str *v)
{
    const sb_str all[] = {u->raw,        u->scheme_str, u->user,    u->passwd, u->host,
                          u->port,       u->params,     u->headers, u->opaque, u->transport,
                          u->user_param, u->method,     u->ttl,     u->maddr};
    _Static_assert(SB_ARRAY_LEN(all) == N_URI_VIEWS, "every view of struct sb_uri");
    memcpy(v, all, sizeof(all));
}

static void check_nameaddr(const struct sb_nameaddr *na, const char *base, size_t size)
{
    const sb_str all[] = {na->raw, na->display, na->uri_str, na->params,
                          na->tag, na->expires, na->q};
    for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
        check_in(all[i], base, size);
    if (na->is_star) {
        CHECK(na->raw.len == 1 && na->raw.p[0] == '*');
        CHECK(!na->uri_str.p && !na->display.p && !na->params.p && !na->has_angle);
        return;
    }
    sb_str uv[N_URI_VIEWS];
    uri_views(&na->uri, uv);
    for (size_t i = 0; i < N_URI_VIEWS; i++) {
        check_in(uv[i], base, size);
        /* the URI's views stay inside the URI text */
        if (uv[i].p)
            CHECK(uv[i].p >= na->uri_str.p &&
                  uv[i].p + uv[i].len <= na->uri_str.p + na->uri_str.len);
    }
    CHECK(na->uri_str.len > 0);
    if (na->display.p) {
        CHECK(na->has_angle);
        CHECK(na->display.p + na->display.len < na->uri_str.p);
    }
    CHECK(!na->display_quoted ||
          (na->display.p && na->display.p[-1] == '"' && na->display.p[na->display.len] == '"'));
    if (na->has_angle)
        CHECK(na->uri_str.p[-1] == '<' && na->uri_str.p[na->uri_str.len] == '>');
    if (na->params.p)
        CHECK(na->params.p > na->uri_str.p + na->uri_str.len);
    check_param(na, "tag", na->tag);
    check_param(na, "expires", na->expires);
    check_param(na, "q", na->q);
}

static bool nameaddr_eq(const struct sb_nameaddr *a, const struct sb_nameaddr *b)
{
    sb_str ua[N_URI_VIEWS], ub[N_URI_VIEWS];
    uri_views(&a->uri, ua);
    uri_views(&b->uri, ub);
    for (size_t i = 0; i < N_URI_VIEWS; i++)
        if (!same(ua[i], ub[i]))
            return false;
    return same(a->raw, b->raw) && a->is_star == b->is_star && a->has_angle == b->has_angle &&
           a->display_quoted == b->display_quoted && same(a->display, b->display) &&
           same(a->uri_str, b->uri_str) && same(a->params, b->params) && same(a->tag, b->tag) &&
           same(a->expires, b->expires) && same(a->q, b->q) &&
           (a->is_star || (a->uri.scheme == b->uri.scheme && a->uri.host_kind == b->uri.host_kind &&
                           a->uri.lr == b->uri.lr && a->uri.port_no == b->uri.port_no));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so that reads past the end hit the sanitizer's redzone */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    sb_str in = {buf, size};

    struct sb_nameaddr a, b;
    int rc = sb_nameaddr_parse(in, &a);
    CHECK(rc == 0 || rc == SB_EPARSE);
    CHECK(sb_nameaddr_parse(in, &b) == rc);
    if (rc == 0) {
        check_nameaddr(&a, buf, size);
        CHECK(nameaddr_eq(&a, &b));
    }
    free(buf);
    return 0;
}
