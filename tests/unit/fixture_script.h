/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared fixture of the tests that run a routing script over a parsed message: the script, the
 * message, its routing state and execution context, and helpers that load a script, run a route
 * and read back variables and the edited message. One fixture per test binary, in F. Include
 * after <cmocka.h>. */
#ifndef SB_TEST_FIXTURE_SCRIPT_H
#define SB_TEST_FIXTURE_SCRIPT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/avp.h"
#include "sb/diag.h"
#include "sb/mod.h"
#include "sb/msg.h"
#include "sb/msg_build.h"
#include "sb/script.h"
#include "sb/stats.h"
#include "sb/tp.h"

#define SFX static __attribute__((unused))

struct sfx {
    struct sb_script *s;
    bool started; /* the script's module set was started: stop it before freeing */
    struct sb_msg msg;
    struct sb_route_state rs;
    struct sb_peer peer; /* the sender, when there is no receive context */
    struct sb_rcv rcv;   /* the receive context, used instead of <peer> once rcv.sock is set */
    struct sb_arena scratch;
    struct sb_arena pv_arena; /* variables parsed to read them back */
    struct sb_avps *avps;
    struct sb_sctx ctx;
    char req[4096]; /* room for a request a test prints */
    char out[8192]; /* the message with its edits applied */
};

static struct sfx F;

/* A fresh fixture with an empty message; the sender is 10.1.2.3:5060. */
SFX int sfx_setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    sb_msg_init(&F.msg, NULL);
    sb_arena_init(&F.scratch, NULL, 0, 1 << 20);
    sb_arena_init(&F.pv_arena, NULL, 0, 0);
    F.avps = sb_avps_new();
    assert_non_null(F.avps);
    F.peer = (struct sb_peer){.src_ip = SB_STR("10.1.2.3"), .src_port = 5060};
    return 0;
}

/* Stop and free the loaded script, if any. */
SFX void sfx_unload(void)
{
    if (F.started)
        sb_modset_stop(sb_script_modset(F.s));
    F.started = false;
    sb_script_free(F.s);
    F.s = NULL;
}

SFX int sfx_teardown(void **state)
{
    (void)state;
    sfx_unload();
    sb_msg_deinit(&F.msg);
    sb_arena_deinit(&F.scratch);
    sb_arena_deinit(&F.pv_arena);
    sb_avps_free(F.avps);
    sb_pv_worker_exit(); /* $var values start afresh in the next test */
    return 0;
}

/* Load <text> in place of the current script; the test fails with the diagnostics when it does
 * not load. */
SFX struct sb_script *sfx_load(const char *text)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    if (rc != 0 || d.n_errors) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        sb_script_free(s);
        fail_msg("script did not load (%d)", rc);
    }
    sb_diag_free(&d);
    sfx_unload();
    F.s = s;
    return s;
}

/* sfx_load() of a formatted text. */
SFX __attribute__((format(printf, 1, 2))) struct sb_script *sfx_loadf(const char *fmt, ...)
{
    static char text[16384];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(text));
    return sfx_load(text);
}

/* Start the module set of the loaded script. */
SFX void sfx_start(void)
{
    assert_int_equal(sb_modset_start(sb_script_modset(F.s)), 0);
    F.started = true;
}

/* Loading <text> must fail with a first diagnostic containing <want>. */
SFX void sfx_load_fails(const char *text, const char *want)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    const char *got = d.head ? d.head->msg : "";
    if (rc >= 0 || s || !strstr(got, want)) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        sb_script_free(s);
        fail_msg("expected a diagnostic with \"%s\", got \"%s\" (rc %d)", want, got, rc);
    }
    sb_diag_free(&d);
}

/* Parse <text> into the message afresh, dropping earlier edits. */
SFX void sfx_parse(const char *text)
{
    sb_msg_reset(&F.msg);
    assert_int_equal(sb_msg_parse(&F.msg, text, strlen(text), 0), 0);
}

/* The text every sfx_run_script() parses afresh. */
static const char *sfx_msg_text;

/* Parse <text> now and in every later sfx_run_script(). */
SFX void sfx_use_msg(const char *text)
{
    sfx_msg_text = text;
    sfx_parse(text);
}

/* A new execution context over the message, the routing state and the loaded script. */
SFX struct sb_sctx *sfx_ctx(void)
{
    sb_arena_reset(&F.scratch);
    F.ctx = (struct sb_sctx){.msg = &F.msg,
                             .peer = F.rcv.sock ? &F.rcv.peer : &F.peer,
                             .script = F.s,
                             .rs = &F.rs,
                             .avps = F.avps,
                             .scratch = &F.scratch};
    return &F.ctx;
}

/* Run the route <name> of <type>, which must exist, in a new context. */
SFX sb_res sfx_run_route(uint32_t type, const char *name)
{
    int idx = sb_script_route(F.s, type, sb_str_cstr(name));
    assert_true(idx >= 0);
    return sb_script_run(sfx_ctx(), type, idx);
}

/* Run the main request route over <text> parsed afresh, with a fresh routing state. */
SFX sb_res sfx_run_msg(const char *text)
{
    sfx_parse(text);
    memset(&F.rs, 0, sizeof(F.rs));
    return sfx_run_route(SB_ROUTE_REQUEST, "");
}

/* Load <text> and run its request route over the sfx_use_msg() message parsed afresh (no earlier
 * edits) and a fresh routing state. */
SFX sb_res sfx_run_script(const char *text)
{
    sfx_load(text);
    return sfx_run_msg(sfx_msg_text);
}

/* The value of the variable <pv_text> in the last context. */
SFX struct sb_val sfx_get(const char *pv_text)
{
    struct sb_pv pv;
    struct sb_fixup fx = {0};
    int n = sb_pv_parse(sb_str_cstr(pv_text), &pv, &F.pv_arena, &fx);
    assert_int_equal(n, (int)strlen(pv_text));
    struct sb_val v;
    assert_int_equal(sb_pv_get(&F.ctx, &pv, &v), 0);
    return v;
}

/* The integer value of <pv_text>; the test fails when it is not an integer. */
SFX int32_t sfx_int(const char *pv_text)
{
    struct sb_val v = sfx_get(pv_text);
    if (v.type != SB_VAL_INT)
        fail_msg("%s is not an integer (type %d, \"%.*s\")", pv_text, v.type, SB_STR_ARG(v.s));
    return v.i;
}

SFX void want_int(const char *pv, int32_t want)
{
    struct sb_val v = sfx_get(pv);
    if (v.type != SB_VAL_INT || v.i != want)
        fail_msg("%s: expected int %d, got type %d int %d str \"%.*s\"", pv, (int)want, v.type,
                 (int)v.i, SB_STR_ARG(v.s));
}

SFX void want_str(const char *pv, const char *want)
{
    struct sb_val v = sfx_get(pv);
    if (v.type != SB_VAL_STR || !sb_str_eq(v.s, sb_str_cstr(want)))
        fail_msg("%s: expected \"%s\", got type %d int %d str \"%.*s\"", pv, want, v.type, (int)v.i,
                 SB_STR_ARG(v.s));
}

SFX void want_null(const char *pv)
{
    struct sb_val v = sfx_get(pv);
    if (v.type != SB_VAL_NULL)
        fail_msg("%s: expected NULL, got type %d int %d str \"%.*s\"", pv, v.type, (int)v.i,
                 SB_STR_ARG(v.s));
}

/* Run <call> inside route{} of a script that starts with <head>, and return $rc after it. */
SFX int32_t sfx_rc_of(const char *head, const char *call)
{
    sfx_loadf("%sroute {\n  %s\n  $var(rc) = $rc;\n}\n", head, call);
    sfx_run_msg(sfx_msg_text);
    return sfx_int("$var(rc)");
}

/* <r> must be the return code <code> without a drop or an exit beyond the route. */
SFX void want_code(sb_res r, int32_t code)
{
    if (r.code != code || r.ctl > SB_CTL_EXIT)
        fail_msg("result {%d, ctl %d}, expected {%d}", (int)r.code, r.ctl, (int)code);
}

/* The value of the statistic <full> ("group:name"), which must exist. */
SFX int64_t sfx_stat(const char *full)
{
    sb_stat_t id = sb_stat_find_full(sb_str_cstr(full));
    assert_true(id != 0);
    return sb_stat_get(id);
}

/* The message with every recorded edit applied, in F.out. */
SFX const char *sfx_output(void)
{
    size_t n = 0;
    int rc = sb_msg_lumps_apply(&F.msg, F.out, sizeof(F.out) - 1, &n);
    if (rc != 0)
        fail_msg("applying the edits failed: %d", rc);
    F.out[n] = '\0';
    return F.out;
}

/* The message with every recorded edit applied must be exactly <want>. */
SFX void want_msg(const char *want)
{
    size_t cap = sb_msg_lumps_len(&F.msg) + 1, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    int rc = sb_msg_lumps_apply(&F.msg, out, cap, &len);
    if (rc != 0) {
        free(out);
        fail_msg("applying the edits failed: %d", rc);
    }
    if (len != strlen(want) || memcmp(out, want, len) != 0) {
        fprintf(stderr, "---- got:\n%.*s\n---- expected:\n%s\n----\n", (int)len, out, want);
        free(out);
        fail_msg("message differs");
    }
    free(out);
}

#endif
