/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for sb_via_parse: on success every view lies in the input, a second parse
 * agrees, and the well-known parameters match what sb_param_find reads from <params>. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb/base.h"
#include "sb/hdr.h"
#include "sb/uri.h"

#include "fuzz_check.h"

/* A well-known field must be what sb_param_find returns for <name>; an absent one, absent. */
static void check_param(const struct sb_via *v, const char *name, sb_str field)
{
    struct sb_param prm;
    if (v->params.p == NULL) {
        CHECK(field.p == NULL);
        return;
    }
    int rc = sb_param_find(v->params, name, &prm, true);
    CHECK(rc == 0 || rc == 1);
    if (rc == 0) {
        CHECK(field.p == NULL);
        return;
    }
    if (prm.has_value)
        CHECK(same(prm.value, field));
    else
        CHECK(field.p != NULL && field.len == 0);
}

static void check_via(const struct sb_via *v, const char *base, size_t size)
{
    const sb_str all[] = {v->raw,   v->proto_name, v->proto_ver, v->transport, v->host,
                          v->port,  v->params,     v->branch,    v->received,  v->rport,
                          v->maddr, v->ttl,        v->comment};
    for (size_t i = 0; i < SB_ARRAY_LEN(all); i++)
        check_in(all[i], base, size);
    CHECK(v->proto_name.len && v->proto_ver.len && v->transport.len && v->host.len);
    CHECK(v->proto == sb_proto_lookup(v->transport));
    CHECK(v->host_kind == SB_HOST_NAME || v->host_kind == SB_HOST_IPV4 ||
          v->host_kind == SB_HOST_IPV6);
    CHECK((v->host_kind == SB_HOST_IPV6) == (v->host.p[0] == '['));
    if (v->port.p) {
        uint64_t port;
        CHECK(sb_str_to_u64(v->port, 65535, &port) == 0 && port == v->port_no);
    } else {
        CHECK(v->port_no == 0);
    }
    CHECK(v->has_rport == (v->rport.p != NULL));
    check_param(v, "branch", v->branch);
    check_param(v, "received", v->received);
    check_param(v, "rport", v->rport);
    check_param(v, "maddr", v->maddr);
    check_param(v, "ttl", v->ttl);
    if (v->comment.p)
        CHECK(v->comment.p[0] == '(' && v->comment.p[v->comment.len - 1] == ')');
}

static bool via_eq(const struct sb_via *a, const struct sb_via *b)
{
    return same(a->raw, b->raw) && same(a->proto_name, b->proto_name) &&
           same(a->proto_ver, b->proto_ver) && same(a->transport, b->transport) &&
           a->proto == b->proto && a->host_kind == b->host_kind && a->has_rport == b->has_rport &&
           a->port_no == b->port_no && same(a->host, b->host) && same(a->port, b->port) &&
           same(a->params, b->params) && same(a->branch, b->branch) &&
           same(a->received, b->received) && same(a->rport, b->rport) && same(a->maddr, b->maddr) &&
           same(a->ttl, b->ttl) && same(a->comment, b->comment);
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

    struct sb_via a, b;
    int rc = sb_via_parse(in, &a);
    CHECK(rc == 0 || rc == SB_EPARSE);
    CHECK(sb_via_parse(in, &b) == rc);
    if (rc == 0) {
        check_via(&a, buf, size);
        CHECK(via_eq(&a, &b));
    }
    free(buf);
    return 0;
}
