/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the script checker, compiler and interpreter: small scripts run over a parsed
 * INVITE, asserting $var values, $rc, return values, control flow and expression semantics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/avp.h"
#include "sb/core_cfg.h"
#include "sb/msg.h"
#include "sb/script.h"
#include "script/action.h"

/* ---- a module of test functions, loaded into every script through the test hook ------------ */

static int n_count;  /* t_count() calls */
static int n_fixups; /* t_static() fixups run */
static int n_async;
static struct {
    int n;
    bool present[3];
    struct sb_val v[3];
    char s[3][64];
} rec; /* what t_rec() received */

static sb_res f_ret(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    return sb_res_code(a[0].v.i);
}

static sb_res f_count(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx, (void)a;
    n_count++;
    return sb_res_true();
}

static sb_res f_rec(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    rec.n++;
    for (int i = 0; i < 3; i++) {
        rec.present[i] = a[i].present;
        rec.v[i] = a[i].v;
        rec.s[i][0] = '\0';
        if (a[i].present && a[i].v.type == SB_VAL_STR)
            snprintf(rec.s[i], sizeof(rec.s[i]), "%.*s", SB_STR_ARG(a[i].v.s));
    }
    return sb_res_true();
}

/* t_set($var(out), value): writes value into the output variable */
static sb_res f_set(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return sb_pv_set(ctx, a[0].var, SB_OP_SET, &a[1].v) == 0 ? sb_res_true() : sb_res_false();
}

static int fix_static(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    (void)fx;
    n_fixups++;
    char *p = malloc(in->s.len + 1);
    if (!p)
        return SB_ENOMEM;
    memcpy(p, in->s.p, in->s.len);
    p[in->s.len] = '\0';
    *out = p;
    return 0;
}

/* t_static("name"): returns the length of its fixed-up argument */
static sb_res f_static(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    return sb_res_code((int32_t)strlen(a[0].fixed));
}

/* t_regex(re, subject): 1 when the (case-sensitive) regex matches */
static sb_res f_regex(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    return sb__re_match(a[0].regex, a[1].v.s) > 0 ? sb_res_true() : sb_res_false();
}

static sb_res f_exit(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx, (void)a;
    return sb_res_exit();
}

static sb_res f_drop(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx, (void)a;
    return sb_res_drop();
}

static sb_res f_async(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    n_async++;
    return sb_res_code(a[0].v.i);
}

static const struct sb_mod_fn test_fns[] = {
    {.name = "t_ret",
     .fn = f_ret,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT}},
     .routes = SB_ROUTE_ALL},
    {.name = "t_count", .fn = f_count, .routes = SB_ROUTE_ALL},
    {.name = "t_rec",
     .fn = f_rec,
     .n_args = 3,
     .args = {{.kind = SB_ARG_ANY},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_INT, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_ALL},
    {.name = "t_raw",
     .fn = f_rec,
     .n_args = 3,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_NO_EXPAND},
              {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT},
              {.kind = SB_ARG_INT, .flags = SB_ARGF_OPT}},
     .routes = SB_ROUTE_ALL},
    {.name = "t_set",
     .fn = f_set,
     .n_args = 2,
     .args = {{.kind = SB_ARG_VAR}, {.kind = SB_ARG_ANY}},
     .routes = SB_ROUTE_ALL},
    {.name = "t_static",
     .fn = f_static,
     .n_args = 1,
     .args =
         {{.kind = SB_ARG_STR, .flags = SB_ARGF_STATIC, .fixup = fix_static, .free_fixup = free}},
     .routes = SB_ROUTE_ALL},
    {.name = "t_regex",
     .fn = f_regex,
     .n_args = 2,
     .args = {{.kind = SB_ARG_REGEX}, {.kind = SB_ARG_STR}},
     .routes = SB_ROUTE_ALL},
    {.name = "t_req_only", .fn = f_count, .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE},
    {.name = "t_exit", .fn = f_exit, .routes = SB_ROUTE_ALL},
    {.name = "t_drop", .fn = f_drop, .routes = SB_ROUTE_ALL},
    {.name = "t_async",
     .fn = f_async,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT}},
     .routes = SB_ROUTE_ALL,
     .is_async = true},
    {.name = NULL},
};

static const struct sb_module test_mod = {
    .name = "testmod",
    .summary = "script engine tests",
    .fns = test_fns,
};

/* ---- fixture ------------------------------------------------------------------------------- */

#define INVITE                                                                                     \
    "INVITE sip:bob@example.com SIP/2.0\r\n"                                                       \
    "Via: SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bK776asdhds\r\n"                                   \
    "Max-Forwards: 70\r\n"                                                                         \
    "To: Bob <sip:bob@example.com>\r\n"                                                            \
    "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                                       \
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"                                                 \
    "CSeq: 314159 INVITE\r\n"                                                                      \
    "Content-Length: 0\r\n\r\n"

#include "fixture_script.h"

static int setup(void **state)
{
    sfx_setup(state);
    sfx_parse(INVITE);
    n_count = n_fixups = n_async = 0;
    memset(&rec, 0, sizeof(rec));
    return 0;
}

/* Load <text>, expecting it to fail with exactly one diagnostic line equal to <want>
 * ("LINE:COL: error: message"). */
static void load_fails(const char *text, const char *want)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    char got[512] = "";
    unsigned n = 0;
    for (const struct sb_diag_entry *e = d.head; e; e = e->next, n++)
        if (n == 0)
            snprintf(got, sizeof(got), "%u:%u: %s: %s", e->line, e->col,
                     e->sev == SB_DIAG_ERROR ? "error" : "warning", e->msg);
    if (rc >= 0 || s || n != 1 || strcmp(got, want) != 0) {
        sb_diag_print(&d, stderr);
        sb_diag_free(&d);
        sb_script_free(s);
        fail_msg("expected one diagnostic \"%s\", got %u (first \"%s\"), rc %d", want, n, got, rc);
    }
    sb_diag_free(&d);
}

/* Run the route <name> of <type> with a fresh routing state; routes that do not run on a message
 * get none. */
static sb_res run_type(uint32_t type, const char *name)
{
    int idx = sb_script_route(F.s, type, sb_str_cstr(name));
    assert_true(idx >= 0);
    memset(&F.rs, 0, sizeof(F.rs));
    struct sb_sctx *ctx = sfx_ctx();
    if (!(type & SB_ROUTE_MSG))
        ctx->msg = NULL, ctx->rs = NULL;
    return sb_script_run(ctx, type, idx);
}

static sb_res run(const char *text)
{
    sfx_load(text);
    return run_type(SB_ROUTE_REQUEST, "");
}

static void want_res(sb_res r, int32_t code, uint8_t ctl)
{
    if (r.code != code || r.ctl != ctl)
        fail_msg("result {%d, ctl %d}, expected {%d, ctl %d}", (int)r.code, r.ctl, (int)code, ctl);
}

/* ---- expressions --------------------------------------------------------------------------- */

static void test_arithmetic(void **state)
{
    (void)state;
    want_res(run("route {\n"
                 "  $var(a) = 2 + 3 * 4;\n"
                 "  $var(b) = (2 + 3) * 4;\n"
                 "  $var(x) = 7; $var(y) = 2;\n"
                 "  $var(c) = $var(x) / $var(y);\n"
                 "  $var(d) = $var(x) % 3;\n"
                 "  $var(e) = 0 - $var(x) / $var(y);\n"
                 "  $var(f) = $var(x) & 3 | 8;\n"
                 "  $var(g) = $var(x) ^ 5;\n"
                 "  $var(h) = 1 << 4 >> 2;\n"
                 "  $var(i) = ~$var(x);\n"
                 "  $var(j) = -$var(x);\n"
                 "  $var(k) = 2147483647; $var(k) = $var(k) + 1;\n"
                 "  $var(l) = \"12\" * 2;\n"
                 "}\n"),
             1, SB_CTL_NEXT);
    want_int("$var(a)", 14);
    want_int("$var(b)", 20);
    want_int("$var(c)", 3);
    want_int("$var(d)", 1);
    want_int("$var(e)", -3);
    want_int("$var(f)", 11);
    want_int("$var(g)", 2);
    want_int("$var(h)", 4);
    want_int("$var(i)", -8);
    want_int("$var(j)", -7);
    want_int("$var(k)", INT32_MIN);
    want_int("$var(l)", 24);
}

static void test_compound_assign(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(a) = 10; $var(a) += 5; $var(a) -= 3; $var(a) *= 2; $var(a) /= 4;\n"
        "  $var(b) = 17; $var(b) %= 5;\n"
        "  $var(c) = 12; $var(c) &= 10; $var(d) = 12; $var(d) |= 3; $var(e) = 12; $var(e) ^= 4;\n"
        "  $var(s) = \"ab\"; $var(s) += \"cd\"; $var(s) += 5;\n"
        "  $var(z) = 9; $var(z) /= 0;\n"
        "}\n");
    want_int("$var(a)", 6);
    want_int("$var(b)", 2);
    want_int("$var(c)", 8);
    want_int("$var(d)", 15);
    want_int("$var(e)", 8);
    want_str("$var(s)", "abcd5");
    want_int("$var(z)", 9); /* division by zero: logged, the variable keeps its value */
}

static void test_concat(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(a) = \"sip:\" + $rU + \"@\" + $rd;\n"
        "  $var(b) = \"n\" + 1 + 2;\n"
        "  $var(c) = 1 + 2 + \"n\";\n"
        "  $var(d) = \"5\" + 1;\n"
        "  $var(e) = \"$ru\";\n"
        "  $var(f) = \"x\" + $var(undefined) + \"y\";\n"
        "}\n");
    want_str("$var(a)", "sip:bob@example.com");
    want_str("$var(b)", "n12");
    want_str("$var(c)", "3n");
    want_str("$var(d)", "51");
    want_str("$var(e)", "$ru"); /* strings in expressions are not formats */
    want_str("$var(f)", "xy");
}

static void test_compare(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(n) = 10; $var(s) = \"10\"; $var(t) = \"abc\";\n"
        "  if ($var(n) == $var(s)) $var(r1) = 1; else $var(r1) = 0;\n"
        "  if (\"abc\" < \"abd\") $var(r2) = 1; else $var(r2) = 0;\n"
        "  if ($var(s) < \"9\") $var(r3) = 1; else $var(r3) = 0;\n"
        "  if ($var(n) < 9) $var(r4) = 1; else $var(r4) = 0;\n"
        "  if ($var(t) == \"ABC\") $var(r5) = 1; else $var(r5) = 0;\n"
        "  if ($var(n) != $var(t)) $var(r6) = 1; else $var(r6) = 0;\n"
        "  if ($var(n) >= 10 && $var(n) <= 10) $var(r7) = 1; else $var(r7) = 0;\n"
        "  if ($var(s) > 9) $var(r8) = 1; else $var(r8) = 0;\n"
        "  $var(r9) = ($var(n) == 10) + ($var(n) == 11);\n"
        "}\n");
    want_int("$var(r1)", 1); /* int against a numeric string: as ints */
    want_int("$var(r2)", 1);
    want_int("$var(r3)", 1); /* two strings: bytewise */
    want_int("$var(r4)", 0);
    want_int("$var(r5)", 0); /* case-sensitive */
    want_int("$var(r6)", 1);
    want_int("$var(r7)", 1);
    want_int("$var(r8)", 1);
    want_int("$var(r9)", 1);
}

static void test_null(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(n) = NULL;\n"
        "  if ($var(n) == NULL) $var(r1) = 1; else $var(r1) = 0;\n"
        "  if ($var(n) != NULL) $var(r2) = 1; else $var(r2) = 0;\n"
        "  if ($avp(none) == NULL) $var(r3) = 1; else $var(r3) = 0;\n"
        "  $var(z) = 0;\n"
        "  if ($var(z) == NULL) $var(r4) = 1; else $var(r4) = 0;\n"
        "  if ($var(n)) $var(r5) = 1; else $var(r5) = 0;\n"
        "  if ($var(z)) $var(r6) = 1; else $var(r6) = 0;\n"
        "  $var(e) = \"\";\n"
        "  if ($var(e) == NULL) $var(r7) = 1; else $var(r7) = 0;\n"
        "  if ($ru) $var(r8) = 1; else $var(r8) = 0;\n"
        "  if ($var(n) < 1) $var(r9) = 1; else $var(r9) = 0;\n"
        "}\n");
    want_int("$var(r1)", 1);
    want_int("$var(r2)", 0);
    want_int("$var(r3)", 1);
    want_int("$var(r4)", 0);
    want_int("$var(r5)", 0);
    want_int("$var(r6)", 0);
    want_int("$var(r7)", 0);
    want_int("$var(r8)", 1);
    want_int("$var(r9)", 0);
}

static void test_regex(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(s) = \"HeLLo World\";\n"
        "  if ($var(s) =~ \"^hello\") $var(r1) = 1; else $var(r1) = 0;\n"
        "  if ($var(s) !~ \"^hello\") $var(r2) = 1; else $var(r2) = 0;\n"
        "  if ($var(s) =~ \"planet\") $var(r3) = 1; else $var(r3) = 0;\n"
        "  $var(p) = \"WORLD$\";\n"
        "  if ($var(s) =~ $var(p)) $var(r4) = 1; else $var(r4) = 0;\n"
        "  if ($rm =~ \"^(invite|ack)$\") $var(r5) = 1; else $var(r5) = 0;\n"
        "  if ($var(none) =~ \".*\") $var(r6) = 1; else $var(r6) = 0;\n"
        "  if ($var(none) !~ \"x\") $var(r7) = 1; else $var(r7) = 0;\n"
        "  $var(n) = 1234;\n"
        "  if ($var(n) =~ \"^12\") $var(r8) = 1; else $var(r8) = 0;\n"
        "  if (t_regex(\"^a.c$\", \"ABC\")) $var(r9) = 1; else $var(r9) = 0;\n"
        "  if (t_regex(\"^a.c$\", \"abc\")) $var(r10) = 1; else $var(r10) = 0;\n"
        "  $var(re) = \"^A\";\n"
        "  if (t_regex($var(re), \"Abc\")) $var(r11) = 1; else $var(r11) = 0;\n"
        "}\n");
    want_int("$var(r1)", 1); /* =~ is case-insensitive */
    want_int("$var(r2)", 0);
    want_int("$var(r3)", 0);
    want_int("$var(r4)", 1); /* run-time pattern */
    want_int("$var(r5)", 1);
    want_int("$var(r6)", 0);
    want_int("$var(r7)", 1);
    want_int("$var(r8)", 1);
    want_int("$var(r9)", 0); /* regex arguments are case-sensitive */
    want_int("$var(r10)", 1);
    want_int("$var(r11)", 1);
}

static void test_cidr(void **state)
{
    (void)state;
    const char *script = "route {\n"
                         "  if ($si == 10.0.0.0/8) $var(r1) = 1; else $var(r1) = 0;\n"
                         "  if ($si == 192.168.0.0/16) $var(r2) = 1; else $var(r2) = 0;\n"
                         "  if ($si != 11.0.0.0/8) $var(r3) = 1; else $var(r3) = 0;\n"
                         "  if ($si == 10.1.2.3) $var(r4) = 1; else $var(r4) = 0;\n"
                         "  if (10.1.2.0/30 == $si) $var(r5) = 1; else $var(r5) = 0;\n"
                         "  if ($si == 2001:db8::/32) $var(r6) = 1; else $var(r6) = 0;\n"
                         "  if ($si == 10.1.2.4) $var(r7) = 1; else $var(r7) = 0;\n"
                         "}\n";
    run(script);
    want_int("$var(r1)", 1);
    want_int("$var(r2)", 0);
    want_int("$var(r3)", 1);
    want_int("$var(r4)", 1);
    want_int("$var(r5)", 1);
    want_int("$var(r6)", 0);
    want_int("$var(r7)", 0);
    F.peer.src_ip = SB_STR("2001:db8:0::5");
    run_type(SB_ROUTE_REQUEST, "");
    want_int("$var(r1)", 0);
    want_int("$var(r6)", 1);
    want_int("$var(r3)", 1);
    run("route {\n"
        "  if ($si == 2001:db8::5) $var(r1) = 1; else $var(r1) = 0;\n"
        "  if ($si == 2001:db8:0:0::/64) $var(r2) = 1; else $var(r2) = 0;\n"
        "  if ($si == 2001:db9::/32) $var(r3) = 1; else $var(r3) = 0;\n"
        "}\n");
    want_int("$var(r1)", 1); /* a plain address matches exactly, whatever its spelling */
    want_int("$var(r2)", 1);
    want_int("$var(r3)", 0);
}

static void test_arith_brackets_and_logic(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(a) = 6;\n"
        "  if ([$var(a) & 4]) $var(r1) = 1; else $var(r1) = 0;\n"
        "  if ([$var(a) & 1]) $var(r2) = 1; else $var(r2) = 0;\n"
        "  if (t_ret(-1) && t_count()) $var(r3) = 1; else $var(r3) = 0;\n"
        "  if (t_ret(1) || t_count()) $var(r4) = 1; else $var(r4) = 0;\n"
        "  if (!t_ret(-1)) $var(r5) = 1; else $var(r5) = 0;\n"
        "  if (!($var(a) == 6) || t_count()) $var(r6) = 1; else $var(r6) = 0;\n"
        "  $var(t) = t_ret(-4);\n"
        "}\n");
    want_int("$var(r1)", 1);
    want_int("$var(r2)", 0);
    want_int("$var(r3)", 0);
    want_int("$var(r4)", 1);
    want_int("$var(r5)", 1);
    want_int("$var(r6)", 1);
    want_int("$var(t)", -4);
    assert_int_equal(n_count, 1); /* short circuit: only the last t_count() ran */
}

static void test_division_by_zero(void **state)
{
    (void)state;
    want_res(run("route {\n"
                 "  $var(z) = 0;\n"
                 "  $var(r) = 10 / $var(z);\n"
                 "  if (10 / $var(z)) $var(c) = 1; else $var(c) = 0;\n"
                 "  $var(after) = 1;\n"
                 "}\n"),
             1, SB_CTL_NEXT);
    want_null("$var(r)");
    want_int("$var(c)", 0);
    want_int("$var(after)", 1);
}

/* Constant subexpressions are folded at check time: the dump shows the result. */
static void test_constant_folding(void **state)
{
    (void)state;
    sfx_load("route {\n"
             "  $var(a) = 2 * 3 + 1;\n"
             "  $var(b) = \"a\" + \"b\" + 3;\n"
             "  if (1 < 2 && \"x\" =~ \"X\") $var(c) = 10.0.0.1 == 10.0.0.0/8;\n"
             "}\n");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    sb_script_dump(F.s, f);
    fclose(f);
    bool ok = strstr(buf, "$var(a) = 7;") && strstr(buf, "$var(b) = \"ab3\";") &&
              strstr(buf, "if (1)") && strstr(buf, "$var(c) = 1;");
    if (!ok)
        fail_msg("dump:\n%s", buf);
    free(buf);
    run_type(SB_ROUTE_REQUEST, "");
    want_int("$var(a)", 7);
    want_str("$var(b)", "ab3");
    want_int("$var(c)", 1);
}

/* ---- functions and routes ------------------------------------------------------------------ */

static void test_function_results(void **state)
{
    (void)state;
    run("route {\n"
        "  t_ret(5); $var(a) = $rc;\n"
        "  if (t_ret(-2)) $var(b) = 1; else $var(b) = $retcode;\n"
        "  t_ret(0);\n"
        "  $var(never) = 1;\n"
        "}\n");
    want_int("$var(a)", 5);
    want_int("$var(b)", -2);
    want_null("$var(never)"); /* a function returning 0 stops the script */
    want_res(run_type(SB_ROUTE_REQUEST, ""), 0, SB_CTL_EXIT);
    want_res(run("route { t_exit(); $var(x) = 1; }"), 0, SB_CTL_EXIT);
    want_null("$var(x)");
    want_res(run("route { t_drop(); $var(x) = 1; }"), 0, SB_CTL_DROP);
    want_null("$var(x)");
}

static void test_arguments(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(u) = \"alice\";\n"
        "  t_rec(\"user $var(u) at $rd\", \"$$rU\", \"42\");\n"
        "  $var(a1) = $(var(u){s.len});\n"
        "  t_rec(7);\n"
        "  t_rec($var(u), $var(u) + \"!\", $var(a1) * 2);\n"
        "  t_set($var(out), \"written\");\n"
        "  t_raw(\"$var(u)\", NULL);\n"
        "}\n");
    assert_int_equal(rec.n, 4);
    assert_true(rec.present[0]);
    assert_string_equal(rec.s[0], "$var(u)"); /* NO_EXPAND: taken as written */
    assert_false(rec.present[1]);             /* NULL for an optional argument: omitted */
    want_str("$var(out)", "written");
    run("route { t_rec(\"user $var(u) at $rd\", \"$$rU\", \"42\"); }");
    assert_string_equal(rec.s[0], "user alice at example.com");
    assert_string_equal(rec.s[1], "$rU");
    assert_int_equal(rec.v[2].type, SB_VAL_INT);
    assert_int_equal(rec.v[2].i, 42);
    run("route { $var(u) = \"bob\"; t_rec($var(u), $var(u) + \"!\", 3 * 2); }");
    assert_string_equal(rec.s[0], "bob");
    assert_string_equal(rec.s[1], "bob!");
    assert_int_equal(rec.v[2].i, 6);
    run("route { t_rec(7); }");
    assert_int_equal(rec.v[0].type, SB_VAL_INT);
    assert_false(rec.present[1]);
    assert_false(rec.present[2]);
    /* an INT argument that is not a number at run time: the call fails, the script goes on */
    run("route { $var(x) = \"abc\"; t_rec(1, \"a\", $var(x)); $var(rc) = $rc; }");
    want_int("$var(rc)", -1);
}

static void test_fixup_once(void **state)
{
    (void)state;
    sfx_load("route { $var(a) = 0; t_static(\"abcd\"); $var(a) = $rc; }\n");
    assert_int_equal(n_fixups, 1);
    for (int i = 0; i < 3; i++)
        run_type(SB_ROUTE_REQUEST, "");
    assert_int_equal(n_fixups, 1);
    want_int("$var(a)", 4);
}

static void test_subroutes(void **state)
{
    (void)state;
    want_res(run("route {\n"
                 "  route(sub, 1, \"two\");\n"
                 "  $var(rc) = $rc;\n"
                 "  $var(p1_after) = $param(1);\n"
                 "  $var(ret1) = $return(0); $var(ret2) = $return(1);\n"
                 "  route(plain);\n"
                 "  $var(rc2) = $rc;\n"
                 "  if (route(neg)) $var(neg) = 1; else $var(neg) = 0;\n"
                 "}\n"
                 "route[sub] {\n"
                 "  $var(p1) = $param(1); $var(p2) = $param(2);\n"
                 "  route(inner, \"x\");\n"
                 "  $var(p1_back) = $param(1);\n"
                 "  return(-3, \"a\", 3);\n"
                 "}\n"
                 "route[inner] { $var(inner) = $param(1); $var(inner2) = $param(2); }\n"
                 "route[plain] { $var(plain) = 1; }\n"
                 "route[neg] { return(-1); }\n"),
             1, SB_CTL_NEXT);
    want_int("$var(p1)", 1);
    want_str("$var(p2)", "two");
    want_str("$var(inner)", "x");
    want_null("$var(inner2)");
    want_int("$var(p1_back)", 1); /* the caller's parameters come back after route() */
    want_int("$var(rc)", -3);
    want_null("$var(p1_after)");
    want_str("$var(ret1)", "a");
    want_int("$var(ret2)", 3);
    want_int("$var(plain)", 1);
    want_int("$var(rc2)", 1);
    want_int("$var(neg)", 0);
}

static void test_return_zero_and_exit(void **state)
{
    (void)state;
    want_res(run("route { route(stop); $var(after) = 1; }\n"
                 "route[stop] { $var(in) = 1; return(0); }\n"),
             0, SB_CTL_EXIT);
    want_int("$var(in)", 1);
    want_null("$var(after)");
    want_res(run("route { route(x); $var(after) = 1; }\n"
                 "route[x] { exit; }\n"),
             0, SB_CTL_EXIT);
    want_null("$var(after)");
    want_res(run("route { route(x); $var(after) = 1; }\n"
                 "route[x] { drop; }\n"),
             0, SB_CTL_DROP);
    want_null("$var(after)");
    want_res(run("route { $var(a) = 1; return(7); $var(a) = 2; }"), 7, SB_CTL_NEXT);
    want_int("$var(a)", 1);
    want_res(run("route { return; }"), 1, SB_CTL_NEXT);
}

static void test_dynamic_route(void **state)
{
    (void)state;
    run("route { $var(r) = \"b\"; route($var(r), 5); $var(rc) = $rc; route($var(nope)); }\n"
        "route[a] { $var(got) = \"a\"; }\n"
        "route[b] { $var(got) = \"b\" + $param(1); return(9); }\n");
    want_str("$var(got)", "b5");
    want_int("$var(rc)", 9);
}

static void test_recursion_limit(void **state)
{
    (void)state;
    want_res(run("route { $var(n) = 0; route(r); }\n"
                 "route[r] { $var(n) += 1; route(r); }\n"),
             -1, SB_CTL_ERROR);
    want_int("$var(n)", SB_SCRIPT_MAX_DEPTH);
}

static void test_route_introspection(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(top) = $route;\n"
        "  route(named);\n"
        "  $var(back) = $route;\n"
        "}\n"
        "route[named] {\n"
        "  $var(line) = $cfg_line;\n"
        "  $var(name) = $route;\n"
        "}\n");
    want_str("$var(top)", "route");
    want_str("$var(name)", "named");
    want_str("$var(back)", "route");
    want_int("$var(line)", 7);
}

/* ---- statements ---------------------------------------------------------------------------- */

static void test_if_else(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(x) = 5;\n"
        "  if ($var(x) < 3) $var(r) = \"small\";\n"
        "  else if ($var(x) < 10) $var(r) = \"medium\";\n"
        "  else $var(r) = \"large\";\n"
        "  if ($var(x) == 5) { $var(a) = 1; $var(b) = 2; }\n"
        "}\n");
    want_str("$var(r)", "medium");
    want_int("$var(a)", 1);
    want_int("$var(b)", 2);
}

static void test_while(void **state)
{
    (void)state;
    run("route {\n"
        "  $var(i) = 0; $var(sum) = 0;\n"
        "  while ($var(i) < 10) { $var(i) += 1; if ($var(i) == 7) break; $var(sum) += $var(i); }\n"
        "  $var(j) = 0;\n"
        "  while (t_ret(1)) { $var(j) += 1; if ($var(j) >= 3) break; }\n"
        "}\n");
    want_int("$var(i)", 7);
    want_int("$var(sum)", 21);
    want_int("$var(j)", 3);
}

static void test_max_while_loops(void **state)
{
    (void)state;
    want_res(run("max_while_loops = 50\n"
                 "route { $var(n) = 0; while (1) { $var(n) += 1; } $var(after) = 1; }\n"),
             1, SB_CTL_NEXT);
    want_int("$var(n)", 50);
    want_int("$var(after)", 1);
    assert_int_equal(sb_script_core(F.s)->max_while_loops, 50);
    run("route { $var(n) = 0; while ($var(n) < 20000) { $var(n) += 1; } }\n");
    want_int("$var(n)", 10000); /* the default bound */
}

static void test_for_each(void **state)
{
    (void)state;
    run("route {\n"
        "  $avp(x) = 1; $avp(x) = 2; $avp(x) = 3;\n"
        "  $var(sum) = 0; $var(seq) = \"\";\n"
        "  for ($var(i) in $(avp(x)[*])) { $var(sum) += $var(i); $var(seq) += $var(i); }\n"
        "  $var(n) = 0;\n"
        "  for ($var(i) in $(avp(x)[*])) { $var(n) += 1; if ($var(i) == 2) break; }\n"
        "  $var(m) = 0;\n"
        "  for ($var(i) in $(avp(empty)[*])) $var(m) += 1;\n"
        "}\n");
    want_int("$var(sum)", 6);
    want_str("$var(seq)", "321"); /* index 0 is the value added last */
    want_int("$var(n)", 2);
    want_int("$var(m)", 0);
}

static const char switch_script[] = "route {\n"
                                    "  $var(out) = \"\";\n"
                                    "  switch ($var(in)) {\n"
                                    "  case 1:\n"
                                    "    $var(out) += \"one\";\n"
                                    "  case 2:\n"
                                    "    $var(out) += \"two\";\n"
                                    "    break;\n"
                                    "  case \"abc\":\n"
                                    "    $var(out) += \"abc\";\n"
                                    "    break;\n"
                                    "  case -5:\n"
                                    "  case \"x\":\n"
                                    "    $var(out) += \"x\";\n"
                                    "  default:\n"
                                    "    $var(out) += \"def\";\n"
                                    "  }\n"
                                    "  $var(done) = 1;\n"
                                    "}\n"
                                    "route[set1] { $var(in) = 1; }\n"
                                    "route[set2] { $var(in) = \"2\"; }\n"
                                    "route[setabc] { $var(in) = \"abc\"; }\n"
                                    "route[setm5] { $var(in) = -5; }\n"
                                    "route[setx] { $var(in) = \"x\"; }\n"
                                    "route[set9] { $var(in) = 9; }\n"
                                    "route[setnull] { $var(in) = NULL; }\n";

static void switch_case(const char *setter, const char *want)
{
    run_type(SB_ROUTE_REQUEST, setter);
    run_type(SB_ROUTE_REQUEST, "");
    want_str("$var(out)", want);
    want_int("$var(done)", 1);
}

static void test_switch(void **state)
{
    (void)state;
    struct sb_diag d;
    sb_diag_init(&d);
    /* the setter routes are never called: load keeps only warnings */
    assert_int_equal(sb_script_load_text("t.cfg", switch_script, strlen(switch_script), &d, &F.s),
                     0);
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(d.n_warnings, 7);
    sb_diag_free(&d);
    switch_case("set1", "onetwo"); /* fall-through until break */
    switch_case("set2", "two");    /* a numeric string selects the int case */
    switch_case("setabc", "abc");
    switch_case("setm5", "xdef");
    switch_case("setx", "xdef");
    switch_case("set9", "def");
    switch_case("setnull", "def");
    run("route { switch ($var(v)) { case 1: $var(hit) = 1; } $var(end) = 1; }");
    want_null("$var(hit)"); /* no match and no default: nothing runs */
    want_int("$var(end)", 1);
    run("route { switch (t_ret(3)) { case 3: $var(hit) = 3; break; case -1: $var(hit) = -1; } }");
    want_int("$var(hit)", 3);
}

static void test_async_inline(void **state)
{
    (void)state;
    want_res(run("route { async(t_async(4), resume); $var(after) = 1; }\n"
                 "route[resume] { $var(rc) = $rc; }\n"),
             0, SB_CTL_EXIT);
    assert_int_equal(n_async, 1);
    want_int("$var(rc)", 4);
    want_null("$var(after)");
}

static void test_assert(void **state)
{
    (void)state;
    run("route { assert($var(none) == 1, \"never checked\"); $var(a) = 1; }");
    want_int("$var(a)", 1);
    run("enable_asserts = yes\n"
        "route { assert(1 == 2, \"fails\"); $var(a) = 2; assert(t_count(), \"runs\"); }");
    want_int("$var(a)", 2);
    assert_int_equal(n_count, 1);
}

static void test_other_route_types(void **state)
{
    (void)state;
    sfx_load("route { exit; }\n"
             "startup_route { $var(s) = \"startup\"; $var(sr) = $route; }\n"
             "timer_route[tick, 5] { $var(t) = 1; }\n"
             "failure_route[f] { $var(f) = 1; }\n"
             "onreply_route { $var(o) = 1; }\n"
             "onreply_route[named] { $var(on) = 1; }\n"
             "branch_route[b] { drop; }\n"
             "local_route { $var(l) = 1; }\n"
             "error_route { $var(e) = 1; }\n"
             "event_route[E_TEST] { $var(ev) = 1; }\n");
    want_res(run_type(SB_ROUTE_STARTUP, ""), 1, SB_CTL_NEXT);
    want_str("$var(s)", "startup");
    want_str("$var(sr)", "startup_route");
    want_res(run_type(SB_ROUTE_TIMER, "tick"), 1, SB_CTL_NEXT);
    want_int("$var(t)", 1);
    assert_int_equal(sb_script_timer_interval(F.s, 0), 5);
    assert_int_equal(sb_script_n_routes(F.s, SB_ROUTE_ONREPLY), 2);
    want_res(run_type(SB_ROUTE_BRANCH, "b"), 0, SB_CTL_DROP);
    run_type(SB_ROUTE_FAILURE, "f");
    run_type(SB_ROUTE_ONREPLY, "");
    run_type(SB_ROUTE_ONREPLY, "named");
    run_type(SB_ROUTE_LOCAL, "");
    run_type(SB_ROUTE_ERROR, "");
    run_type(SB_ROUTE_EVENT, "E_TEST");
    want_int("$var(f)", 1);
    want_int("$var(o)", 1);
    want_int("$var(on)", 1);
    want_int("$var(l)", 1);
    want_int("$var(e)", 1);
    want_int("$var(ev)", 1);
    assert_int_equal(sb_script_route(F.s, SB_ROUTE_FAILURE, SB_STR("nope")), -1);
    assert_int_equal(sb_script_route(F.s, SB_ROUTE_REQUEST, SB_STR("0")), 0);
}

/* ---- checker ------------------------------------------------------------------------------- */

static void test_check_errors(void **state)
{
    (void)state;
    load_fails("route { nosuch(); }", "1:9: error: unknown function 'nosuch'");
    load_fails("route { t_ret(); }", "1:9: error: function 't_ret' needs 1 argument, got 0");
    load_fails("route { t_count(1); }", "1:9: error: function 't_count' takes no arguments, got 1");
    load_fails("route { t_rec(1, 2, 3, 4); }",
               "1:9: error: function 't_rec' takes at most 3 arguments, got 4");
    load_fails("route { t_ret(\"abc\"); }",
               "1:15: error: argument 1 of 't_ret' must be an integer");
    load_fails("route { t_set(\"x\", 1); }",
               "1:15: error: argument 1 of 't_set' must be a writable variable");
    load_fails("route { t_set($si, 1); }",
               "1:15: error: argument 1 of 't_set' must be a writable variable");
    load_fails("route { t_static($var(x)); }",
               "1:18: error: argument 1 of 't_static' must be a constant");
    load_fails("route { route(nowhere); }", "1:15: error: route 'nowhere' is not defined");
    load_fails("route { $si = \"1.2.3.4\"; }",
               "1:9: error: assignment: variable '$si' is read-only");
    load_fails("route { break; }", "1:9: error: break outside a loop or switch");
    load_fails("route { $var(x) = 1 / 0; }", "1:19: error: division by zero");
    load_fails("route { if ($var(x) =~ \"(ab\") exit; }",
               "1:24: error: bad regular expression: missing closing parenthesis at offset 3");
    load_fails("route { exit; }\nroute { exit; }", "2:1: error: duplicate route (first defined "
                                                   "at t.cfg:1)");
    load_fails("route { switch ($var(x)) { case 1: break; case 1: break; } }",
               "1:43: error: duplicate case value 1");
    load_fails("startup_route { t_req_only(); }",
               "1:17: error: function 't_req_only' cannot be used in startup_route");
    load_fails("startup_route { route(x); }\nroute[x] { t_req_only(); }",
               "2:12: error: function 't_req_only' cannot be used in startup_route (reached "
               "through route[x])");
    load_fails("startup_route { $var(m) = $rm; }",
               "1:27: error: variable '$rm' cannot be used in startup_route");
    load_fails("route { async(t_ret(1), r); }\nroute[r] { exit; }",
               "1:15: error: function 't_ret' cannot be called asynchronously");
}

static void test_check_warnings(void **state)
{
    (void)state;
    struct sb_diag d;
    sb_diag_init(&d);
    const char *text = "route { exit; $var(a) = 1; }\nroute[unused] { exit; }\n";
    assert_int_equal(sb_script_load_text("w.cfg", text, strlen(text), &d, &F.s), 0);
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(d.n_warnings, 2);
    assert_string_equal(d.head->msg, "unreachable code");
    assert_int_equal(d.head->line, 1);
    assert_int_equal(d.head->col, 15);
    assert_string_equal(d.head->next->msg, "route[unused] is never used");
    assert_int_equal(d.head->next->line, 2);
    sb_diag_free(&d);
}

/* Several errors in one script are all reported, in order. */
static void test_all_errors(void **state)
{
    (void)state;
    struct sb_diag d;
    sb_diag_init(&d);
    const char *text = "route {\n"
                       "  nosuch1();\n"
                       "  t_ret(\"x\");\n"
                       "  route(missing);\n"
                       "  nosuch2($var(a));\n"
                       "}\n";
    struct sb_script *s = NULL;
    assert_true(sb_script_load_text("e.cfg", text, strlen(text), &d, &s) < 0);
    assert_null(s);
    assert_int_equal(d.n_errors, 4);
    const struct sb_diag_entry *e = d.head;
    assert_int_equal(e->line, 2);
    assert_int_equal(e->next->line, 3);
    assert_int_equal(e->next->next->line, 4);
    assert_int_equal(e->next->next->next->line, 5);
    assert_string_equal(e->file, "e.cfg"); /* the name outlives the failed load */
    sb_diag_free(&d);
}

static void test_reload(void **state)
{
    (void)state;
    sfx_load("route { $var(v) = 1; }\n");
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *next = NULL;
    const char *text = "modparam(\"nomod\", \"x\", 1)\n"
                       "max_while_loops = 7\n"
                       "route { $var(v) = 2; t_count(); }\n";
    assert_int_equal(sb_script_load_routes_text("r.cfg", text, strlen(text), F.s, &d, &next), 0);
    assert_int_equal(d.n_errors, 0); /* modparams are not applied again on reload */
    assert_int_equal(sb_script_core(next)->max_while_loops, 7);
    run_type(SB_ROUTE_REQUEST, "");
    want_int("$var(v)", 1); /* the live script is untouched */
    sb_script_free(F.s);
    F.s = next;
    run_type(SB_ROUTE_REQUEST, "");
    want_int("$var(v)", 2);
    assert_int_equal(n_count, 1);
    const char *bad = "loadmodule \"nosuchmod.so\"\nroute { exit; }\n";
    assert_true(sb_script_load_routes_text("r.cfg", bad, strlen(bad), F.s, &d, &next) < 0);
    assert_null(next);
    assert_int_equal(d.n_errors, 1);
    sb_diag_free(&d);
}

static void test_dump(void **state)
{
    (void)state;
    sfx_load("route {\n"
             "  if ($si == 10.0.0.0/8 && $rm =~ \"inv\") { t_rec(\"$ru\", \"x\"); }\n"
             "  switch ($var(a)) { case 1: t_count(); break; default: exit; }\n"
             "  for ($var(i) in $(avp(x)[*])) { $var(n) += 1; }\n"
             "  while ($var(i) < 3) $var(i) += 1;\n"
             "  route(sub, 1);\n"
             "}\n"
             "route[sub] { return(-1, \"a\"); }\n"
             "timer_route[t, 10] { drop; }\n");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sb_script_dump(F.s, f);
    fclose(f);
    const char *want[] = {"route[sub]",
                          "timer_route[t] every 10s",
                          "if (($si == 10.0.0.0/8) && ($rm =~ \"inv\"))",
                          "testmod.t_rec(fmt\"$ru\", \"x\")",
                          "case 1:",
                          "default:",
                          "for ($var(i) in $(avp(x)[*]))",
                          "route(sub, 1);",
                          "return(-1, \"a\");",
                          "drop;"};
    for (size_t i = 0; i < SB_ARRAY_LEN(want); i++)
        if (!strstr(buf, want[i]))
            fail_msg("dump lacks \"%s\":\n%s", want[i], buf);
    free(buf);
}

int main(void)
{
    sb__script_extra_module = &test_mod;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arithmetic, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_compound_assign, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_concat, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_compare, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_null, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_regex, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_cidr, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_arith_brackets_and_logic, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_division_by_zero, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_constant_folding, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_function_results, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_arguments, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_fixup_once, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_subroutes, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_return_zero_and_exit, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_dynamic_route, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_recursion_limit, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_route_introspection, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_if_else, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_while, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_max_while_loops, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_for_each, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_switch, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_async_inline, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_assert, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_other_route_types, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_check_errors, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_check_warnings, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_all_errors, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, sfx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sb_script_worker_exit();
    return rc;
}
