/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared fixture of the pseudo-variable, transformation and format-string tests: three parsed
 * messages (an INVITE, a REGISTER with credentials, a 200 reply), an execution context over them,
 * and helpers that parse a variable and check what it reads. Include after <cmocka.h>. */
#ifndef SB_TEST_PV_FIXTURE_H
#define SB_TEST_PV_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script/ast.h"
#include "sb/arena.h"
#include "sb/avp.h"
#include "sb/diag.h"
#include "sb/msg.h"
#include "sb/script.h"

#define TF static __attribute__((unused))

/* 18 header fields; the first Via field holds two values, and so does Path. */
static const char INVITE[] =
    "INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP "
    "proxy.example.com:5070;branch=z9hG4bKp1\r\n"
    "Via: SIP/2.0/UDP relay.example.com;branch=z9hG4bKr2;received=192.0.2.9\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>;expires=60;q=0.7\r\n"
    "User-Agent: Softphone/1.0\r\n"
    "P-Asserted-Identity: \"Alice\" <sip:+15551234@atlanta.example.com>\r\n"
    "P-Preferred-Identity: <sip:alice.pref@atlanta.example.com>\r\n"
    "Remote-Party-ID: \"Alice\" <sip:rpid@atlanta.example.com>;party=calling\r\n"
    "Diversion: <sip:diverter@example.com>;reason=unconditional\r\n"
    "Path: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "X-Custom: one\r\n"
    "x-custom: two\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "v=0\r\n";

static const char REGISTER[] =
    "REGISTER sip:registrar.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKreg1;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:carol@example.com>\r\n"
    "From: <sip:carol@example.com>;tag=reg77\r\n"
    "Call-ID: reg-1@192.0.2.4\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:carol@192.0.2.4:5060>;expires=3600, \"Carol Mobile\" "
    "<sip:carol@198.51.100.7>;q=0.5\r\n"
    "Authorization: Digest username=\"carol@example.org\", realm=\"example.com\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:registrar.example.com\", "
    "response=\"6629fae49393a05397450978507c4ef1\"\r\n"
    "Expires: 3600\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char REPLY[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Server: Phone/2\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

struct fix {
    struct sb_arena script;  /* check-time allocations, as the script's arena */
    struct sb_arena scratch; /* the execution's scratch */
    struct sb_diag diag;
    struct sb_fixup fx;
    struct sb_msg req, reg, rpl;
    struct sb_route_state rs;
    struct sb_peer peer;
    struct sb_sctx ctx;
    struct sb_avps *avps;
};

static struct fix *F;

TF int fix_setup(void **state)
{
    F = calloc(1, sizeof(*F));
    if (!F)
        return -1;
    sb_arena_init(&F->script, NULL, 0, 0);
    sb_arena_init(&F->scratch, NULL, 0, 0);
    sb_diag_init(&F->diag);
    F->fx = (struct sb_fixup){.diag = &F->diag, .file = "test.cfg", .line = 7, .col = 10};
    struct sb_msg *ms[] = {&F->req, &F->reg, &F->rpl};
    const char *texts[] = {INVITE, REGISTER, REPLY};
    for (int i = 0; i < 3; i++) {
        sb_msg_init(ms[i], NULL);
        if (sb_msg_parse(ms[i], texts[i], strlen(texts[i]), 0) != 0)
            return -1;
    }
    F->avps = sb_avps_new();
    F->peer = (struct sb_peer){.src_ip = SB_STR("192.0.2.33"), .src_port = 5062};
    F->ctx = (struct sb_sctx){.msg = &F->req,
                              .rs = &F->rs,
                              .avps = F->avps,
                              .scratch = &F->scratch,
                              .route_type = SB_ROUTE_REQUEST};
    *state = F;
    return 0;
}

TF int fix_teardown(void **state)
{
    (void)state;
    sb_msg_deinit(&F->req);
    sb_msg_deinit(&F->reg);
    sb_msg_deinit(&F->rpl);
    sb_avps_free(F->avps);
    sb_diag_free(&F->diag);
    sb_arena_deinit(&F->script);
    sb_arena_deinit(&F->scratch);
    sb_pv_worker_exit();
    free(F);
    F = NULL;
    return 0;
}

/* The first diagnostic, for failure messages. */
TF const char *first_diag(void)
{
    return F->diag.head ? F->diag.head->msg : "(no diagnostic)";
}

/* Parse <text>, which must be exactly one variable. */
TF const struct sb_pv *P(const char *text)
{
    struct sb_pv *pv = sb_arena_zalloc(&F->script, sizeof(*pv));
    assert_non_null(pv);
    int n = sb_pv_parse(sb_str_cstr(text), pv, &F->script, &F->fx);
    if (n < 0)
        fail_msg("parse of %s failed: %s", text, first_diag());
    if ((size_t)n != strlen(text))
        fail_msg("parse of %s consumed %d bytes", text, n);
    return pv;
}

TF struct sb_val get(const char *text)
{
    struct sb_val v;
    int r = sb_pv_get(&F->ctx, P(text), &v);
    if (r != 0)
        fail_msg("get %s returned %d", text, r);
    return v;
}

TF void expect_str(const char *text, const char *want)
{
    struct sb_val v = get(text);
    if (v.type != SB_VAL_STR)
        fail_msg("%s: type %d, expected the string \"%s\"", text, v.type, want);
    if (v.s.len != strlen(want) || memcmp(v.s.p, want, v.s.len) != 0)
        fail_msg("%s: got \"%.*s\", expected \"%s\"", text, (int)v.s.len, v.s.p, want);
}

TF void expect_int(const char *text, int32_t want)
{
    struct sb_val v = get(text);
    if (v.type != SB_VAL_INT)
        fail_msg("%s: type %d (\"%.*s\"), expected the int %d", text, v.type, (int)v.s.len,
                 v.s.p ? v.s.p : "", want);
    if (v.i != want)
        fail_msg("%s: got %d, expected %d", text, v.i, want);
}

TF void expect_null(const char *text)
{
    struct sb_val v = get(text);
    if (v.type != SB_VAL_NULL)
        fail_msg("%s: expected NULL, got type %d (\"%.*s\" / %d)", text, v.type, (int)v.s.len,
                 v.s.p ? v.s.p : "", v.i);
}

/* Parsing <text> must fail with a diagnostic containing <msg> at column <col> (0: any). */
TF void expect_parse_error(const char *text, const char *msg, uint32_t col)
{
    sb_diag_free(&F->diag);
    struct sb_pv pv;
    int n = sb_pv_parse(sb_str_cstr(text), &pv, &F->script, &F->fx);
    if (n >= 0)
        fail_msg("%s parsed (%d bytes), expected the error \"%s\"", text, n, msg);
    if (!F->diag.head || !strstr(F->diag.head->msg, msg))
        fail_msg("%s: diagnostic \"%s\", expected \"%s\"", text, first_diag(), msg);
    assert_int_equal(F->diag.n_errors, 1);
    assert_int_equal(F->diag.head->line, 7);
    if (col && F->diag.head->col != col)
        fail_msg("%s: error at column %u, expected %u", text, F->diag.head->col, col);
    sb_diag_free(&F->diag);
}

TF int set_str(const char *text, const char *v)
{
    struct sb_val val = {.type = SB_VAL_STR, .s = sb_str_cstr(v)};
    return sb_pv_set(&F->ctx, P(text), SB_OP_SET, &val);
}

TF int set_int(const char *text, int32_t i)
{
    struct sb_val val = {.type = SB_VAL_INT, .i = i};
    return sb_pv_set(&F->ctx, P(text), SB_OP_SET, &val);
}

TF int set_op(const char *text, int op, const struct sb_val *v)
{
    return sb_pv_set(&F->ctx, P(text), op, v);
}

TF int set_null(const char *text, int op)
{
    struct sb_val val = {.type = SB_VAL_NULL};
    return sb_pv_set(&F->ctx, P(text), op, &val);
}

#endif
