/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of format strings (compile once, expand per execution, "$$", NULL as "<null>",
 * constant formats without copies, errors with columns) and of the value helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pv_fixture.h"

static const struct sb_fmt *compile(const char *text)
{
    struct sb_fmt *f = NULL;
    int r = sb_fmt_compile(sb_str_cstr(text), &f, &F->script, &F->fx);
    if (r != 0)
        fail_msg("compile \"%s\": %d, %s", text, r, first_diag());
    assert_non_null(f);
    return f;
}

static void expect_fmt(const char *text, const char *want)
{
    sb_str out;
    assert_int_equal(sb_fmt_expand(&F->ctx, compile(text), &out), 0);
    if (out.len != strlen(want) || memcmp(out.p, want, out.len) != 0)
        fail_msg("\"%s\": got \"%.*s\", expected \"%s\"", text, (int)out.len, out.p, want);
}

static void expect_fmt_error(const char *text, const char *msg, uint32_t col)
{
    sb_diag_free(&F->diag);
    struct sb_fmt *f = NULL;
    assert_true(sb_fmt_compile(sb_str_cstr(text), &f, &F->script, &F->fx) < 0);
    if (!F->diag.head || !strstr(F->diag.head->msg, msg))
        fail_msg("\"%s\": diagnostic \"%s\", expected \"%s\"", text, first_diag(), msg);
    assert_int_equal(F->diag.head->line, 7);
    assert_int_equal(F->diag.head->col, col);
    sb_diag_free(&F->diag);
}

static void test_constant(void **state)
{
    (void)state;
    const struct sb_fmt *f = compile("hello world");
    assert_true(sb_fmt_is_const(f));
    sb_str a, b;
    size_t used = F->scratch.total;
    char *mark = F->scratch.cur;
    assert_int_equal(sb_fmt_expand(&F->ctx, f, &a), 0);
    assert_int_equal(sb_fmt_expand(&F->ctx, f, &b), 0);
    /* zero-copy: the same text every time, nothing taken from scratch */
    assert_ptr_equal(a.p, b.p);
    assert_int_equal(a.len, 11);
    assert_memory_equal(a.p, "hello world", 11);
    assert_int_equal(F->scratch.total, used);
    assert_ptr_equal(F->scratch.cur, mark);

    f = compile("");
    assert_true(sb_fmt_is_const(f));
    assert_int_equal(sb_fmt_expand(&F->ctx, f, &a), 0);
    assert_int_equal(a.len, 0);

    /* "$$" is a '$' and keeps the format constant; so does a '$' that starts no variable */
    f = compile("cost $$5 or $5 and $$");
    assert_true(sb_fmt_is_const(f));
    expect_fmt("cost $$5 or $5 and $$", "cost $5 or $5 and $");
    expect_fmt("trailing $", "trailing $");
    expect_fmt("$$ru", "$ru");
    assert_false(sb_fmt_is_const(compile("x $ru")));
}

static void test_expand(void **state)
{
    (void)state;
    expect_fmt("from $fU@$fd to $(ru{uri.host})", "from alice@atlanta.example.com to "
                                                  "biloxi.example.com");
    expect_fmt("$rm $ru", "INVITE sip:bob@biloxi.example.com;transport=tcp");
    expect_fmt("cseq=$cs len=$cl", "cseq=314159 len=5");
    expect_fmt("[$ci]", "[a84b4c76e66710@pc33.atlanta.example.com]");
    expect_fmt("$ru.", "sip:bob@biloxi.example.com;transport=tcp.");
    expect_fmt("$fU$tU", "alicebob");
    expect_fmt("via=$hdr(Via)[1]!", "via=SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKp1!");
    expect_fmt("$(hdr(X-Custom)[*])", "one,two");
    expect_fmt("$$$fU", "$alice");
    /* NULL prints as <null>, like xlog */
    expect_fmt("x=$var(unset) y=$tt", "x=<null> y=<null>");
    /* values are read at each expansion */
    const struct sb_fmt *f = compile("n=$var(n)");
    sb_str out;
    for (int i = 0; i < 3; i++) {
        char want[16];
        assert_int_equal(set_int("$var(n)", i * 10), 0);
        assert_int_equal(sb_fmt_expand(&F->ctx, f, &out), 0);
        snprintf(want, sizeof(want), "n=%d", i * 10);
        assert_int_equal(out.len, strlen(want));
        assert_memory_equal(out.p, want, out.len);
    }
    assert_int_equal(set_int("$var(n)", -7), 0);
    expect_fmt("$var(n)", "-7");
    /* more variables than the expander keeps on its stack */
    char big[512] = "", want[1024] = "";
    for (int i = 0; i < 20; i++) {
        strcat(big, "$rU-");
        strcat(want, "bob-");
    }
    expect_fmt(big, want);
    /* expansion goes to scratch: the next message starts from a reset arena */
    sb_arena_reset(&F->scratch);
    expect_fmt("$fU", "alice");
}

static void test_errors(void **state)
{
    (void)state;
    /* columns count from the fixup's column (10) */
    expect_fmt_error("hi $foo there", "unknown pseudo-variable $foo", 13);
    expect_fmt_error("$fU and $(ru{s.nope})", "unknown transformation {s.nope}", 23);
    expect_fmt_error("x $hdr", "pseudo-variable $hdr needs a subname", 16);
    expect_fmt_error("x $(ru", "missing ')' to close $(", 12);
}

/* ---- values -------------------------------------------------------------------------------- */

static bool to_int(const char *s, int32_t *out)
{
    struct sb_val v = {.type = SB_VAL_STR, .s = sb_str_cstr(s)};
    return sb_val_to_int(&v, out);
}

static void test_val_to_int(void **state)
{
    (void)state;
    int32_t i = 99;
    assert_true(to_int("123", &i));
    assert_int_equal(i, 123);
    assert_true(to_int("-5", &i));
    assert_int_equal(i, -5);
    assert_true(to_int("+8", &i));
    assert_int_equal(i, 8);
    assert_true(to_int("007", &i));
    assert_int_equal(i, 7);
    assert_true(to_int("2147483647", &i));
    assert_int_equal(i, INT32_MAX);
    assert_true(to_int("-2147483648", &i));
    assert_int_equal(i, INT32_MIN);
    i = 99;
    assert_false(to_int("2147483648", &i));
    assert_false(to_int("-2147483649", &i));
    assert_false(to_int("99999999999999999999999", &i));
    assert_false(to_int("12a", &i));
    assert_false(to_int("a12", &i));
    assert_false(to_int("", &i));
    assert_false(to_int("-", &i));
    assert_false(to_int(" 1", &i));
    assert_false(to_int("1 ", &i));
    assert_false(to_int("1.5", &i));
    assert_int_equal(i, 99);
    struct sb_val v = {.type = SB_VAL_INT, .i = -3};
    assert_true(sb_val_to_int(&v, &i));
    assert_int_equal(i, -3);
    v = (struct sb_val){.type = SB_VAL_NULL};
    assert_true(sb_val_to_int(&v, &i));
    assert_int_equal(i, 0);
}

static void test_val_to_str(void **state)
{
    (void)state;
    sb_str s;
    struct sb_val v = {.type = SB_VAL_INT, .i = -2147483647 - 1};
    assert_int_equal(sb_val_to_str(&F->ctx, &v, &s), 0);
    assert_int_equal(s.len, 11);
    assert_memory_equal(s.p, "-2147483648", 11);
    v.i = 0;
    assert_int_equal(sb_val_to_str(&F->ctx, &v, &s), 0);
    assert_int_equal(s.len, 1);
    assert_memory_equal(s.p, "0", 1);
    v = (struct sb_val){.type = SB_VAL_STR, .s = SB_STR("abc")};
    assert_int_equal(sb_val_to_str(&F->ctx, &v, &s), 0);
    assert_ptr_equal(s.p, v.s.p); /* strings are not copied */
    v = (struct sb_val){.type = SB_VAL_NULL};
    assert_int_equal(sb_val_to_str(&F->ctx, &v, &s), 0);
    assert_int_equal(s.len, 0);
    assert_non_null(s.p);
}

static void test_val_is_true(void **state)
{
    (void)state;
    struct sb_val v = {.type = SB_VAL_NULL};
    assert_false(sb_val_is_true(&v));
    v = (struct sb_val){.type = SB_VAL_INT, .i = 0};
    assert_false(sb_val_is_true(&v));
    v.i = -1;
    assert_true(sb_val_is_true(&v));
    v = (struct sb_val){.type = SB_VAL_STR, .s = SB_STR("")};
    assert_false(sb_val_is_true(&v));
    v.s = SB_STR("0");
    assert_true(sb_val_is_true(&v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_constant, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_expand, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_errors, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_val_to_int, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_val_to_str, fix_setup, fix_teardown),
        cmocka_unit_test_setup_teardown(test_val_is_true, fix_setup, fix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
