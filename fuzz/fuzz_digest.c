/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the auth header parser (credentials and challenges), plus the small header
 * parsers of hdr_misc.c on the same bytes. Traps on any broken invariant of a successful parse. */
#include <stdint.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"

#include "fuzz_check.h"

static sb_str g_in; /* the input of the current run, for inside() */

static bool inside(sb_str v)
{
    if (v.p == NULL)
        return v.len == 0;
    return v.p >= g_in.p && v.len <= g_in.len && (size_t)(v.p - g_in.p) <= g_in.len - v.len;
}

static bool lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* An independent scan of a Digest parameter list that already parsed: the first parameter named
 * <lc> and its value without quotes. Relies only on names being free of LWS, '=' and ',', and on a
 * quoted value ending at the first quote not preceded by a backslash escape. */
static bool scan_param(sb_str params, const char *lc, sb_str *val)
{
    const char *p = params.p;
    size_t n = params.len, i = 0;

    while (i < n) {
        while (i < n && (lws(p[i]) || p[i] == ','))
            i++;
        if (i == n)
            break;
        size_t n0 = i;
        while (i < n && !lws(p[i]) && p[i] != '=' && p[i] != ',')
            i++;
        sb_str name = {p + n0, i - n0};
        while (i < n && lws(p[i]))
            i++;
        CHECK(i < n && p[i] == '=');
        i++;
        while (i < n && lws(p[i]))
            i++;
        sb_str v;
        if (i < n && p[i] == '"') {
            size_t v0 = ++i;
            while (i < n && p[i] != '"')
                i += p[i] == '\\' ? 2 : 1;
            CHECK(i < n);
            v = (sb_str){p + v0, i - v0};
            i++;
        } else {
            size_t v0 = i;
            while (i < n && !lws(p[i]) && p[i] != ',')
                i++;
            v = (sb_str){p + v0, i - v0};
        }
        if (sb_str_caseeq_lit(name, lc)) {
            *val = v;
            return true;
        }
    }
    return false;
}

static void check_field(const struct sb_digest *d, sb_str field, const char *lc)
{
    sb_str v;
    bool found = d->is_digest && d->params.p && scan_param(d->params, lc, &v);
    if (field.p == NULL) {
        CHECK(field.len == 0 && !found);
        return;
    }
    CHECK(found && same(field, v));
}

static void check_digest(const struct sb_digest *d)
{
    const sb_str *views[] = {&d->raw, &d->scheme,   &d->username,  &d->realm,  &d->nonce,
                             &d->uri, &d->response, &d->algorithm, &d->cnonce, &d->opaque,
                             &d->qop, &d->nc,       &d->domain,    &d->params};
    for (size_t i = 0; i < SB_ARRAY_LEN(views); i++)
        CHECK(inside(*views[i]));
    CHECK(d->raw.p != NULL && d->scheme.p == d->raw.p && d->scheme.len > 0);
    CHECK(d->is_digest == sb_str_caseeq_lit(d->scheme, "digest"));
    if (d->params.p)
        CHECK(d->params.p + d->params.len == d->raw.p + d->raw.len && d->params.len > 0);

    check_field(d, d->username, "username");
    check_field(d, d->realm, "realm");
    check_field(d, d->nonce, "nonce");
    check_field(d, d->uri, "uri");
    check_field(d, d->response, "response");
    check_field(d, d->algorithm, "algorithm");
    check_field(d, d->cnonce, "cnonce");
    check_field(d, d->opaque, "opaque");
    check_field(d, d->qop, "qop");
    check_field(d, d->nc, "nc");
    check_field(d, d->domain, "domain");

    CHECK((d->alg == SB_DIGEST_ALG_NONE) == (d->algorithm.p == NULL));
    CHECK(d->alg <= SB_DIGEST_ALG_OTHER);
    if (d->nc.p) {
        CHECK(d->nc.len == 8);
        for (size_t i = 0; i < 8; i++)
            CHECK(sb_is_hex((unsigned char)d->nc.p[i]));
    }
    sb_str v;
    if (d->stale)
        CHECK(scan_param(d->params, "stale", &v) && sb_str_caseeq_lit(v, "true"));
    if (d->userhash)
        CHECK(scan_param(d->params, "userhash", &v) && sb_str_caseeq_lit(v, "true"));
    if (!d->is_digest)
        CHECK(!d->stale && !d->userhash && d->alg == SB_DIGEST_ALG_NONE);
}

static bool digest_equal(const struct sb_digest *a, const struct sb_digest *b)
{
    return same(a->raw, b->raw) && same(a->scheme, b->scheme) && a->is_digest == b->is_digest &&
           a->stale == b->stale && a->userhash == b->userhash && a->alg == b->alg &&
           same(a->username, b->username) && same(a->realm, b->realm) && same(a->nonce, b->nonce) &&
           same(a->uri, b->uri) && same(a->response, b->response) &&
           same(a->algorithm, b->algorithm) && same(a->cnonce, b->cnonce) &&
           same(a->opaque, b->opaque) && same(a->qop, b->qop) && same(a->nc, b->nc) &&
           same(a->domain, b->domain) && same(a->params, b->params);
}

static void fuzz_digest(sb_str in)
{
    struct sb_digest d1, d2;
    int rc1 = sb_digest_parse(in, &d1);
    int rc2 = sb_digest_parse(in, &d2);
    CHECK(rc1 == rc2 && (rc1 == 0 || rc1 == SB_EPARSE));
    if (rc1 != 0)
        return;
    CHECK(digest_equal(&d1, &d2));
    check_digest(&d1);
    /* raw is the trimmed input: parsing it again gives the same result */
    CHECK(sb_digest_parse(d1.raw, &d2) == 0 && digest_equal(&d1, &d2));
}

static bool all_tokens(sb_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!sb_is_token((unsigned char)s.p[i]))
            return false;
    return s.len > 0;
}

/* The small parsers: determinism, views inside the input, and their value ranges. */
static void fuzz_misc(sb_str in)
{
    struct sb_cseq c1, c2;
    if (sb_cseq_parse(in, &c1) == 0) {
        CHECK(sb_cseq_parse(in, &c2) == 0 && c1.num == c2.num && same(c1.method, c2.method));
        CHECK(inside(c1.method) && all_tokens(c1.method));
        CHECK(c1.method_id == sb_method_lookup(c1.method));
    }
    sb_str cid;
    if (sb_callid_parse(in, &cid) == 0) {
        CHECK(inside(cid) && cid.len > 0);
        for (size_t i = 0; i < cid.len; i++)
            CHECK(sb_is_word((unsigned char)cid.p[i]) || cid.p[i] == '@');
    }
    struct sb_hdr_num num;
    if (sb_maxfwd_parse(in, &num) == 0)
        CHECK(num.v <= 255);
    if (sb_num_parse(in, &num) == 0)
        CHECK(in.len > 0);
    struct sb_hdr_token tok;
    if (sb_token_parse(in, &tok) == 0)
        CHECK(inside(tok.v) && all_tokens(tok.v));
    struct sb_ctype ct;
    if (sb_ctype_parse(in, &ct) == 0)
        CHECK(inside(ct.type) && inside(ct.subtype) && inside(ct.params) && all_tokens(ct.type) &&
              all_tokens(ct.subtype) && ct.subtype.p > ct.type.p);
    struct sb_event ev;
    if (sb_event_parse(in, &ev) == 0)
        CHECK(inside(ev.package) && inside(ev.id) && inside(ev.params) && all_tokens(ev.package) &&
              (ev.id.p == NULL || (ev.params.p && ev.id.p >= ev.params.p)));
    struct sb_session_expires se;
    if (sb_session_expires_parse(in, &se) == 0)
        CHECK(inside(se.refresher) && inside(se.params) &&
              (se.refresher.p == NULL || (se.params.p && se.refresher.p >= se.params.p)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_in = (sb_str){(const char *)data, size};
    fuzz_digest(g_in);
    fuzz_misc(g_in);
    return 0;
}
