/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the routing-script front end (lexer.l, parser.y, cfg.c): every construct dumped
 * back to hand-written text, the reference OpenSIPS scripts, includes, locations, diagnostics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/arena.h"
#include "script/ast.h"

#define DATA SB_TEST_DATA "/cfg/"

/* ---- helpers -------------------------------------------------------------------------------- */

static char *dump_text(const struct sb_cfg *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sb_cfg_dump(cfg, f);
    fclose(f);
    return text;
}

static char *diag_text(const struct sb_diag *d)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sb_diag_print(d, f);
    fclose(f);
    return text;
}

static void check_text(const char *got, const char *want, const char *what, const char *file,
                       int line)
{
    if (strcmp(got, want) != 0) {
        print_error("%s differs\n---- expected ----\n%s---- got ----\n%s----\n", what, want, got);
        _fail(file, line);
    }
}

/* Parse <src> as "t.cfg"; it must succeed. The caller frees with sb_cfg_free. */
static struct sb_cfg *parse_ok(const char *src, const char *file, int line)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    int rc = sb_cfg_parse_text("t.cfg", src, strlen(src), &d, &cfg);
    if (rc != 0 || !cfg) {
        char *msgs = diag_text(&d);
        print_error("parse failed (%d):\n%s", rc, msgs);
        free(msgs);
        sb_diag_free(&d);
        _fail(file, line);
    }
    sb_diag_free(&d);
    return cfg;
}
#define PARSE_OK(src) parse_ok((src), __FILE__, __LINE__)

static void expect_dump(const char *src, const char *want, const char *file, int line)
{
    struct sb_cfg *cfg = parse_ok(src, file, line);
    char *got = dump_text(cfg);
    check_text(got, want, "dump", file, line);
    free(got);
    sb_cfg_free(cfg);
}
#define EXPECT_DUMP(src, want) expect_dump((src), (want), __FILE__, __LINE__)

/* The body of "route { <stmts> }", dumped: the lines between "route {" and "}". */
static void expect_route(const char *stmts, const char *want, const char *file, int line)
{
    char src[4096], full[4096];
    snprintf(src, sizeof(src), "route {\n%s\n}\n", stmts);
    snprintf(full, sizeof(full), "route {\n%s}\n", want);
    expect_dump(src, full, file, line);
}
#define EXPECT_ROUTE(stmts, want) expect_route((stmts), (want), __FILE__, __LINE__)

/* The condition of "if (<expr>) exit;", dumped. */
static void expect_expr(const char *expr, const char *want, const char *file, int line)
{
    char src[1024], full[1024];
    snprintf(src, sizeof(src), "if (%s) exit;", expr);
    snprintf(full, sizeof(full), "    if (%s)\n        exit;\n", want);
    expect_route(src, full, file, line);
}
#define EXPECT_EXPR(expr, want) expect_expr((expr), (want), __FILE__, __LINE__)

/* Parse must fail with exactly the diagnostics <want> (as sb_diag_print writes them). */
static void expect_errors_in(int rc, struct sb_diag *d, struct sb_cfg *cfg, const char *want,
                             const char *file, int line)
{
    char *got = diag_text(d);
    if (rc >= 0 || cfg) {
        print_error("parse succeeded (%d), expected errors:\n%s", rc, want);
        _fail(file, line);
    }
    check_text(got, want, "diagnostics", file, line);
    free(got);
    sb_diag_free(d);
}

static void expect_errors(const char *src, const char *want, const char *file, int line)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    int rc = sb_cfg_parse_text("t.cfg", src, strlen(src), &d, &cfg);
    expect_errors_in(rc, &d, cfg, want, file, line);
}
#define EXPECT_ERRORS(src, want) expect_errors((src), (want), __FILE__, __LINE__)

static void expect_file_errors(const char *path, const char *want, const char *file, int line)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    int rc = sb_cfg_parse_file(path, &d, &cfg);
    expect_errors_in(rc, &d, cfg, want, file, line);
}
#define EXPECT_FILE_ERRORS(path, want) expect_file_errors((path), (want), __FILE__, __LINE__)

static struct sb_cfg *parse_file_ok(const char *path, const char *file, int line)
{
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    int rc = sb_cfg_parse_file(path, &d, &cfg);
    if (rc != 0 || !cfg) {
        char *msgs = diag_text(&d);
        print_error("parse of %s failed (%d):\n%s", path, rc, msgs);
        free(msgs);
        sb_diag_free(&d);
        _fail(file, line);
    }
    sb_diag_free(&d);
    return cfg;
}
#define PARSE_FILE_OK(path) parse_file_ok((path), __FILE__, __LINE__)

static void check_loc(const struct sb_loc *l, const char *fname, uint32_t line, uint32_t col,
                      const char *file, int at)
{
    if (!l->file || strcmp(l->file, fname) != 0 || l->line != line || l->col != col) {
        print_error("location %s:%u:%u, expected %s:%u:%u\n", l->file ? l->file : "(null)", l->line,
                    l->col, fname, line, col);
        _fail(file, at);
    }
}
#define CHECK_LOC(node, fname, line, col)                                                          \
    check_loc(&(node)->loc, (fname), (line), (col), __FILE__, __LINE__)

static void check_str(sb_str s, const char *want, size_t want_len, const char *file, int line)
{
    if (s.len != want_len || (want_len && memcmp(s.p, want, want_len) != 0)) {
        print_error("string \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)\n", (int)s.len,
                    s.p ? s.p : "", s.len, (int)want_len, want, want_len);
        _fail(file, line);
    }
}
#define CHECK_STR(s, lit) check_str((s), (lit), sizeof(lit) - 1, __FILE__, __LINE__)

static const struct sb_ast *route_stmt(const struct sb_cfg *cfg, unsigned item, unsigned n)
{
    const struct sb_cfg_item *it = cfg->items;
    for (unsigned i = 0; i < item && it; i++)
        it = it->next;
    assert_non_null(it);
    assert_int_equal(it->kind, SB_CFG_ROUTE);
    const struct sb_ast *s = it->body->args;
    for (unsigned i = 0; i < n && s; i++)
        s = s->next;
    assert_non_null(s);
    return s;
}

static unsigned count_items(const struct sb_cfg *cfg, int kind)
{
    unsigned n = 0;
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next)
        n += it->kind == kind;
    return n;
}

/* ---- top level ------------------------------------------------------------------------------ */

static void test_globals(void **state)
{
    (void)state;
    EXPECT_DUMP("socket = udp:127.0.0.1:5060 as 192.0.2.1:5060\n"
                "listen=tcp:[::1]:5060\n"
                "socket = udp:eth0:5060   # the first interface\n"
                "alias = example.com\n"
                "udp_workers = 4 use_auto_scaling_profile P\n"
                "log_level = -3\n"
                "tcp_no_new_conn_bflag = 0x10\n"
                "fifo_mode = 0660\n"
                "decimal = 09\n"
                "a = yes; b = no; c = true; d = false; e = on; f = off; g = enable; h = disable\n"
                "server_header = \"Server: \" 'Switchboard'\n"
                "log_prefix = \"a;b # c\"\n"
                "mpath = \"/usr/lib/opensips/modules/\"\n"
                "crlf = 7\r\n"
                "mixed = udp:1.2.3.4:5060 \"quoted\" /* comment */\n",
                "socket = \"udp:127.0.0.1:5060 as 192.0.2.1:5060\"\n"
                "listen = \"tcp:[::1]:5060\"\n"
                "socket = \"udp:eth0:5060\"\n"
                "alias = \"example.com\"\n"
                "udp_workers = \"4 use_auto_scaling_profile P\"\n"
                "log_level = -3\n"
                "tcp_no_new_conn_bflag = 16\n"
                "fifo_mode = 432\n"
                "decimal = 9\n"
                "a = 1\nb = 0\nc = 1\nd = 0\ne = 1\nf = 0\ng = 1\nh = 0\n"
                "server_header = \"Server: Switchboard\"\n"
                "log_prefix = \"a;b # c\"\n"
                "mpath = \"/usr/lib/opensips/modules/\"\n"
                "crlf = 7\n"
                "mixed = \"udp:1.2.3.4:5060 \\\"quoted\\\"\"\n");
}

static void test_global_kinds(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_OK("log_level = 3\n"
                                  "  socket = udp:127.0.0.1:5060\n"
                                  "mpath = \"/m\"\n"
                                  "name = \"x\"\n");
    const struct sb_cfg_item *it = cfg->items;
    assert_int_equal(it->kind, SB_CFG_GLOBAL);
    CHECK_STR(it->name, "log_level");
    assert_int_equal(it->value->kind, SB_AST_INT);
    assert_int_equal(it->value->num, 3);
    CHECK_LOC(it, "t.cfg", 1, 1);
    CHECK_LOC(it->value, "t.cfg", 1, 13);
    it = it->next;
    CHECK_STR(it->name, "socket");
    assert_int_equal(it->value->kind, SB_AST_STR);
    CHECK_STR(it->value->str, "udp:127.0.0.1:5060");
    CHECK_LOC(it, "t.cfg", 2, 3);
    CHECK_LOC(it->value, "t.cfg", 2, 12);
    it = it->next;
    assert_int_equal(it->kind, SB_CFG_MPATH);
    CHECK_STR(it->value->str, "/m");
    it = it->next;
    assert_int_equal(it->kind, SB_CFG_GLOBAL);
    assert_int_equal(it->value->kind, SB_AST_STR);
    CHECK_STR(it->value->str, "x");
    assert_null(it->next);
    assert_int_equal(cfg->n_files, 1);
    assert_string_equal(cfg->files[0], "t.cfg");
    sb_cfg_free(cfg);
}

static void test_modules(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_OK("loadmodule \"tm.so\"  loadmodule \"sl.so\";\n"
                                  "modparam(\"tm\", \"fr_timeout\", 5)\n"
                                  "modparam(\"auth_db|usrloc\", \"use_domain\", 1);\n"
                                  "modparam(\"x\", \"neg\", -1)\n"
                                  "modparam(\"usrloc\", \"nat_bflag\", \"NAT\" \"ED\")\n"
                                  "modparam(\"mi_fifo\", \"fifo_mode\", 0660)\n");
    char *got = dump_text(cfg);
    check_text(got,
               "loadmodule \"tm.so\"\n"
               "loadmodule \"sl.so\"\n"
               "modparam(\"tm\", \"fr_timeout\", 5)\n"
               "modparam(\"auth_db|usrloc\", \"use_domain\", 1)\n"
               "modparam(\"x\", \"neg\", -1)\n"
               "modparam(\"usrloc\", \"nat_bflag\", \"NATED\")\n"
               "modparam(\"mi_fifo\", \"fifo_mode\", 432)\n",
               "dump", __FILE__, __LINE__);
    free(got);
    const struct sb_cfg_item *it = cfg->items->next->next->next;
    assert_int_equal(it->kind, SB_CFG_MODPARAM);
    CHECK_STR(it->name, "auth_db|usrloc");
    CHECK_STR(it->param, "use_domain");
    it = it->next;
    assert_int_equal(it->value->kind, SB_AST_INT);
    assert_int_equal(it->value->num, -1);
    CHECK_LOC(it, "t.cfg", 4, 1);
    CHECK_LOC(it->value, "t.cfg", 4, 22);
    sb_cfg_free(cfg);
}

static void test_route_types(void **state)
{
    (void)state;
    const char *src = "route { }\n"
                      "route[relay] { }\n"
                      "route[to-pstn] { }\n"
                      "route[1] { }\n"
                      "route[\"with space\"] { }\n"
                      "branch_route[br] { }\n"
                      "failure_route[ fr ] { }\n"
                      "onreply_route { }\n"
                      "onreply_route[rep] { }\n"
                      "local_route { }\n"
                      "startup_route { }\n"
                      "timer_route[tick, 30] { }\n"
                      "event_route[E_PIKE_BLOCKED] { }\n"
                      "event_route[E_UL_CONTACT_INSERT, async] { };\n"
                      "error_route { }\n";
    EXPECT_DUMP(src, "route {\n}\n"
                     "route[relay] {\n}\n"
                     "route[to-pstn] {\n}\n"
                     "route[1] {\n}\n"
                     "route[\"with space\"] {\n}\n"
                     "branch_route[br] {\n}\n"
                     "failure_route[fr] {\n}\n"
                     "onreply_route {\n}\n"
                     "onreply_route[rep] {\n}\n"
                     "local_route {\n}\n"
                     "startup_route {\n}\n"
                     "timer_route[tick, 30] {\n}\n"
                     "event_route[E_PIKE_BLOCKED] {\n}\n"
                     "event_route[E_UL_CONTACT_INSERT, async] {\n}\n"
                     "error_route {\n}\n");
    struct sb_cfg *cfg = PARSE_OK(src);
    static const uint32_t types[] = {
        SB_ROUTE_REQUEST, SB_ROUTE_REQUEST, SB_ROUTE_REQUEST, SB_ROUTE_REQUEST, SB_ROUTE_REQUEST,
        SB_ROUTE_BRANCH,  SB_ROUTE_FAILURE, SB_ROUTE_ONREPLY, SB_ROUTE_ONREPLY, SB_ROUTE_LOCAL,
        SB_ROUTE_STARTUP, SB_ROUTE_TIMER,   SB_ROUTE_EVENT,   SB_ROUTE_EVENT,   SB_ROUTE_ERROR,
    };
    static const char *const names[] = {"",
                                        "relay",
                                        "to-pstn",
                                        "1",
                                        "with space",
                                        "br",
                                        "fr",
                                        "",
                                        "rep",
                                        "",
                                        "",
                                        "tick",
                                        "E_PIKE_BLOCKED",
                                        "E_UL_CONTACT_INSERT",
                                        ""};
    const struct sb_cfg_item *it = cfg->items;
    for (unsigned i = 0; i < 15; i++, it = it->next) {
        assert_non_null(it);
        assert_int_equal(it->kind, SB_CFG_ROUTE);
        assert_int_equal(it->route_type, types[i]);
        assert_int_equal(it->name.len, strlen(names[i]));
        assert_memory_equal(it->name.p ? it->name.p : "", names[i], it->name.len);
        assert_int_equal(it->body->kind, SB_AST_BLOCK);
        assert_int_equal(it->body->n_args, 0);
        CHECK_LOC(it, "t.cfg", i + 1, 1);
        if (types[i] == SB_ROUTE_TIMER)
            assert_int_equal(it->interval, 30);
        if (i == 13)
            CHECK_STR(it->param, "async");
    }
    assert_null(it);
    sb_cfg_free(cfg);
}

/* ---- statements ----------------------------------------------------------------------------- */

static void test_calls(void **state)
{
    (void)state;
    EXPECT_ROUTE("xlog(L_INFO, \"x\");\n"
                 "setflag(NAT);\n"
                 "t_relay();\n"
                 "foo.bar_2(1, $var(x), \"s\", NULL);\n"
                 "route(relay);\n"
                 "route(to-pstn, \"a\", 2);\n"
                 "route( 1 );\n"
                 "route(\"quoted\");\n"
                 "route($var(next));\n"
                 "async(rest_get(\"http://x\", $var(body)), resume_route);\n",
                 "    xlog(L_INFO, \"x\");\n"
                 "    setflag(NAT);\n"
                 "    t_relay();\n"
                 "    foo.bar_2(1, $var(x), \"s\", NULL);\n"
                 "    route(relay);\n"
                 "    route(to-pstn, \"a\", 2);\n"
                 "    route(1);\n"
                 "    route(\"quoted\");\n"
                 "    route($var(next));\n"
                 "    async(rest_get(\"http://x\", $var(body)), resume_route);\n");
    struct sb_cfg *cfg = PARSE_OK("route {\n    route(to-pstn, 2);\n}");
    const struct sb_ast *s = route_stmt(cfg, 0, 0);
    assert_int_equal(s->kind, SB_AST_EXPR);
    const struct sb_ast *c = s->a;
    assert_int_equal(c->kind, SB_AST_CALL);
    CHECK_STR(c->str, "route");
    assert_int_equal(c->n_args, 2);
    assert_int_equal(c->args->kind, SB_AST_ID);
    CHECK_STR(c->args->str, "to-pstn");
    assert_int_equal(c->args->next->kind, SB_AST_INT);
    CHECK_LOC(s, "t.cfg", 2, 5);
    CHECK_LOC(c->args, "t.cfg", 2, 11);
    CHECK_LOC(c->args->next, "t.cfg", 2, 20);
    sb_cfg_free(cfg);
}

static void test_if_else(void **state)
{
    (void)state;
    EXPECT_ROUTE("if (a) b();\n"
                 "if (a) { b(); } else c();\n"
                 "if (a) b(); else { c(); }\n"
                 "if (a) { b(); } else if (c) { d(); } else { e(); }\n"
                 "if (a) if (b) c(); else d();\n"
                 "if (a) ;\n",
                 "    if (a)\n"
                 "        b();\n"
                 "    if (a) {\n"
                 "        b();\n"
                 "    } else\n"
                 "        c();\n"
                 "    if (a)\n"
                 "        b();\n"
                 "    else {\n"
                 "        c();\n"
                 "    }\n"
                 "    if (a) {\n"
                 "        b();\n"
                 "    } else if (c) {\n"
                 "        d();\n"
                 "    } else {\n"
                 "        e();\n"
                 "    }\n"
                 /* the dangling else goes to the nearest if */
                 "    if (a)\n"
                 "        if (b)\n"
                 "            c();\n"
                 "        else\n"
                 "            d();\n"
                 "    if (a) {\n"
                 "    }\n");
}

static void test_loops_switch(void **state)
{
    (void)state;
    EXPECT_ROUTE("while ($var(i) < 10) { $var(i) = $var(i) + 1; if ($var(i) == 5) break; }\n"
                 "while (1) drop;\n"
                 "for ($var(x) in $(avp(y)[*])) xlog(\"$var(x)\");\n"
                 "for ($var(c) in $(ct[*])) { break; }\n"
                 "switch ($rc) {\n"
                 "case 1: xlog(\"one\"); break;\n"
                 "case -1:\n"
                 "case \"abc\": exit;\n"
                 "default: drop;\n"
                 "}\n"
                 "switch ($var(x)) { }\n",
                 "    while ($var(i) < 10) {\n"
                 "        $var(i) = $var(i) + 1;\n"
                 "        if ($var(i) == 5)\n"
                 "            break;\n"
                 "    }\n"
                 "    while (1)\n"
                 "        drop;\n"
                 "    for ($var(x) in $(avp(y)[*]))\n"
                 "        xlog(\"$var(x)\");\n"
                 "    for ($var(c) in $(ct[*])) {\n"
                 "        break;\n"
                 "    }\n"
                 "    switch ($rc) {\n"
                 "        case 1:\n"
                 "            xlog(\"one\");\n"
                 "            break;\n"
                 "        case -1:\n"
                 "        case \"abc\":\n"
                 "            exit;\n"
                 "        default:\n"
                 "            drop;\n"
                 "    }\n"
                 "    switch ($var(x)) {\n"
                 "    }\n");
    struct sb_cfg *cfg = PARSE_OK("route { switch ($rc) { case -2: break; default: } }");
    const struct sb_ast *s = route_stmt(cfg, 0, 0);
    assert_int_equal(s->kind, SB_AST_SWITCH);
    assert_int_equal(s->n_args, 2);
    assert_int_equal(s->args->kind, SB_AST_CASE);
    assert_int_equal(s->args->a->kind, SB_AST_INT);
    assert_int_equal(s->args->a->num, -2);
    assert_int_equal(s->args->n_args, 1);
    assert_int_equal(s->args->args->kind, SB_AST_BREAK);
    assert_null(s->args->next->a);
    assert_int_equal(s->args->next->n_args, 0);
    CHECK_LOC(s->args, "t.cfg", 1, 24);
    CHECK_LOC(s->args->a, "t.cfg", 1, 29);
    sb_cfg_free(cfg);
}

static void test_assign_return(void **state)
{
    (void)state;
    EXPECT_ROUTE("$var(x) = 1; $var(x) := 2; $var(x) += 3; $var(x) -= 4; $var(x) *= 5;\n"
                 "$var(x) /= 6; $var(x) %= 7; $var(x) &= 8; $var(x) |= 9; $var(x) ^= 10;\n"
                 "$avp(a) := NULL; $ru = \"sip:x@y\"; $var(n) = null;\n"
                 "return; return(); return(1); return -1; return(1, $var(x), \"s\");\n"
                 "return ($var(a) + 1) * 2;\n"
                 "exit; exit(); drop; drop();\n"
                 "{ ; { } ; }\n",
                 "    $var(x) = 1;\n"
                 "    $var(x) := 2;\n"
                 "    $var(x) += 3;\n"
                 "    $var(x) -= 4;\n"
                 "    $var(x) *= 5;\n"
                 "    $var(x) /= 6;\n"
                 "    $var(x) %= 7;\n"
                 "    $var(x) &= 8;\n"
                 "    $var(x) |= 9;\n"
                 "    $var(x) ^= 10;\n"
                 "    $avp(a) := NULL;\n"
                 "    $ru = \"sip:x@y\";\n"
                 "    $var(n) = NULL;\n"
                 "    return;\n"
                 "    return;\n"
                 "    return(1);\n"
                 "    return(-1);\n"
                 "    return(1, $var(x), \"s\");\n"
                 "    return(($var(a) + 1) * 2);\n"
                 "    exit;\n"
                 "    exit;\n"
                 "    drop;\n"
                 "    drop;\n"
                 "    {\n"
                 "        {\n"
                 "        }\n"
                 "    }\n");
    struct sb_cfg *cfg = PARSE_OK("route { $var(x) ^= 1; return(2, \"a\"); }");
    const struct sb_ast *s = route_stmt(cfg, 0, 0);
    assert_int_equal(s->kind, SB_AST_ASSIGN);
    assert_int_equal(s->op, SB_OP_XOR_SET);
    assert_int_equal(s->a->kind, SB_AST_PV);
    CHECK_STR(s->a->str, "$var(x)");
    s = s->next;
    assert_int_equal(s->kind, SB_AST_RETURN);
    assert_int_equal(s->n_args, 2);
    assert_int_equal(s->args->num, 2);
    CHECK_STR(s->args->next->str, "a");
    sb_cfg_free(cfg);
}

/* ---- expressions ---------------------------------------------------------------------------- */

static void test_precedence(void **state)
{
    (void)state;
    EXPECT_EXPR("a || b && c", "a || (b && c)");
    EXPECT_EXPR("a && b || c", "(a && b) || c");
    EXPECT_EXPR("a or b and not c", "a || (b && (!c))");
    EXPECT_EXPR("!lookup(\"location\")", "!lookup(\"location\")");
    /* ! binds looser than comparisons, tighter than && */
    EXPECT_EXPR("!$a == 1", "!($a == 1)");
    EXPECT_EXPR("!$a && $b", "(!$a) && $b");
    EXPECT_EXPR("$a == 1 | 2", "$a == (1 | 2)");
    EXPECT_EXPR("$a & 4 == 4", "($a & 4) == 4");
    EXPECT_EXPR("1 | 2 ^ 3 & 4", "((1 | 2) ^ 3) & 4");
    EXPECT_EXPR("1 | 2 << 3", "1 | (2 << 3)");
    EXPECT_EXPR("1 << 2 + 3 >> 4", "(1 << (2 + 3)) >> 4");
    EXPECT_EXPR("1 + 2 * 3 - 4 / 5 % 6", "(1 + (2 * 3)) - ((4 / 5) % 6)");
    EXPECT_EXPR("-$a * 2", "(-$a) * 2");
    EXPECT_EXPR("~$a + 1", "(~$a) + 1");
    EXPECT_EXPR("$a - -1", "$a - -1");
    EXPECT_EXPR("- -5", "5");
    EXPECT_EXPR("(1 + 2) * 3", "(1 + 2) * 3");
    EXPECT_EXPR("$a < 1 || $a > 2 || $a <= 3 || $a >= 4",
                "((($a < 1) || ($a > 2)) || ($a <= 3)) || ($a >= 4)");
    EXPECT_EXPR("$ru =~ \"^sip:\" && $fu !~ 'x' && $a != NULL",
                "(($ru =~ \"^sip:\") && ($fu !~ \"x\")) && ($a != NULL)");
    EXPECT_EXPR("[$var(a) & 4]", "[$var(a) & 4]");
    EXPECT_EXPR("[1] + [2 * 3]", "[1] + [2 * 3]");
}

static void test_primaries(void **state)
{
    (void)state;
    EXPECT_EXPR("0x1F == 31 && 0xffffffff == -1 && 0x80000000 == 0",
                "((31 == 31) && (-1 == -1)) && (0x80000000 == 0)");
    /* a leading 0 means octal (file modes), unless a digit says otherwise */
    EXPECT_EXPR("0660 + 09 + 0 + 00 + 037777777777", "(((432 + 9) + 0) + 0) + -1");
    EXPECT_EXPR("$si == 10.0.0.0/8", "$si == 10.0.0.0/8");
    EXPECT_EXPR("$si == 192.168.1.1", "$si == 192.168.1.1");
    EXPECT_EXPR("$si == [::1] || $si == ::1", "($si == [::1]) || ($si == ::1)");
    EXPECT_EXPR("$si == 2001:db8::/32 || $si == ::ffff:10.0.0.1",
                "($si == 2001:db8::/32) || ($si == ::ffff:10.0.0.1)");
    EXPECT_EXPR("$x == L_INFO", "$x == L_INFO");
    EXPECT_EXPR("\"a\\\"b\\\\c\\n\\r\\t\\+\"", "\"a\\\"b\\\\c\\n\\r\\t\\\\+\"");

    struct sb_cfg *cfg = PARSE_OK("route { if ($si == 10.0.0.0/8 && $x == L_INFO && NULL) exit; }");
    const struct sb_ast *e = route_stmt(cfg, 0, 0)->a;
    assert_int_equal(e->kind, SB_AST_BINOP);
    assert_int_equal(e->op, SB_OP_AND);
    const struct sb_ast *ip = e->a->a->b;
    assert_int_equal(ip->kind, SB_AST_IPNET);
    CHECK_STR(ip->str, "10.0.0.0/8");
    const struct sb_ast *id = e->a->b->b;
    assert_int_equal(id->kind, SB_AST_ID);
    CHECK_STR(id->str, "L_INFO");
    assert_int_equal(e->b->kind, SB_AST_NULL);
    sb_cfg_free(cfg);
}

static void test_strings(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_OK("route {\n"
                                  "    xlog(\"a\\\"b\" 'c\\'d' \"\\\\\\n\\r\\t\"\n"
                                  "         # comment between pieces\n"
                                  "         \"\\+1\\1\" /* and another */ \"end\");\n"
                                  "    xlog('multi\n"
                                  "line');\n"
                                  "}\n");
    const struct sb_ast *c = route_stmt(cfg, 0, 0)->a;
    assert_int_equal(c->n_args, 1);
    assert_int_equal(c->args->kind, SB_AST_STR);
    CHECK_STR(c->args->str, "a\"bc'd\\\n\r\t\\+1\\1end");
    CHECK_LOC(c->args, "t.cfg", 2, 10);
    c = route_stmt(cfg, 0, 1)->a;
    CHECK_STR(c->args->str, "multi\nline");
    CHECK_LOC(c, "t.cfg", 5, 5);
    sb_cfg_free(cfg);
}

static void test_pv_tokens(void **state)
{
    (void)state;
    static const char *const pvs[] = {
        "$ru",
        "$var(x)",
        "$avp(a)",
        "$hdr(Via)",
        "$(hdr(Via)[1])",
        "$(avp(x)[*])",
        "$(ru{uri.user}{s.len})",
        "$(<reply>hdr(Contact))",
        "$T_reply_code",
        "$DLG_status",
        "$param(1)",
        "$hdr(X)[2]",
        "$hdr(X)[-1]",
        "$ct.fields(uri)",
        "$msg.flag(x)",
        "$(hdr($var(h))[$var(i)])",
        "$(var(x){re.subst,/a(b/c)/g})",
        "$(var(y){s.select,0,'})",
        "$(var(z){s.select,1,\")\"})",
        "$json(a/b[0])",
    };
    for (size_t i = 0; i < SB_ARRAY_LEN(pvs); i++) {
        char src[256];
        snprintf(src, sizeof(src), "route {\n\t$var(r) = %s+%s;\n}", pvs[i], pvs[i]);
        struct sb_cfg *cfg = PARSE_OK(src);
        const struct sb_ast *s = route_stmt(cfg, 0, 0);
        const struct sb_ast *e = s->b;
        assert_int_equal(e->kind, SB_AST_BINOP);
        assert_int_equal(e->a->kind, SB_AST_PV);
        assert_int_equal(e->b->kind, SB_AST_PV);
        check_str(e->a->str, pvs[i], strlen(pvs[i]), __FILE__, __LINE__);
        check_str(e->b->str, pvs[i], strlen(pvs[i]), __FILE__, __LINE__);
        /* tabs count as one column */
        CHECK_LOC(e->a, "t.cfg", 2, 12);
        check_loc(&e->b->loc, "t.cfg", 2, (uint32_t)(13 + strlen(pvs[i])), __FILE__, __LINE__);
        sb_cfg_free(cfg);
    }
}

static void test_locations(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_OK("/* a comment\n"
                                  "   over /* nested */ three\n"
                                  "   lines */ route[r] {\n"
                                  "\txlog(\"a\"\n"
                                  "\t     \"b\");   $var(x) =\n"
                                  "  1 +\n"
                                  "      $y; # end\n"
                                  "    if ($z) { exit; } else drop;\n"
                                  "}\n");
    const struct sb_cfg_item *it = cfg->items;
    CHECK_LOC(it, "t.cfg", 3, 13);
    CHECK_LOC(it->body, "t.cfg", 3, 22);
    const struct sb_ast *s = it->body->args;
    CHECK_LOC(s, "t.cfg", 4, 2);
    CHECK_LOC(s->a, "t.cfg", 4, 2);
    CHECK_LOC(s->a->args, "t.cfg", 4, 7);
    s = s->next;
    assert_int_equal(s->kind, SB_AST_ASSIGN);
    CHECK_LOC(s, "t.cfg", 5, 15);
    CHECK_LOC(s->b, "t.cfg", 6, 3);
    CHECK_LOC(s->b->a, "t.cfg", 6, 3);
    CHECK_LOC(s->b->b, "t.cfg", 7, 7);
    s = s->next;
    assert_int_equal(s->kind, SB_AST_IF);
    CHECK_LOC(s, "t.cfg", 8, 5);
    CHECK_LOC(s->a, "t.cfg", 8, 9);
    CHECK_LOC(s->b, "t.cfg", 8, 13);
    CHECK_LOC(s->b->args, "t.cfg", 8, 15);
    CHECK_LOC(s->c, "t.cfg", 8, 28);
    sb_cfg_free(cfg);
}

/* ---- reference scripts ---------------------------------------------------------------------- */

static void test_opensips_scripts(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_FILE_OK(DATA "residential.cfg");
    assert_int_equal(count_items(cfg, SB_CFG_GLOBAL), 2);
    assert_int_equal(count_items(cfg, SB_CFG_MPATH), 1);
    assert_int_equal(count_items(cfg, SB_CFG_LOADMODULE), 18);
    assert_int_equal(count_items(cfg, SB_CFG_MODPARAM), 10);
    assert_int_equal(count_items(cfg, SB_CFG_ROUTE), 3);
    sb_cfg_free(cfg);

    cfg = PARSE_FILE_OK(DATA "loadbalancer.cfg");
    assert_int_equal(count_items(cfg, SB_CFG_LOADMODULE), 10);
    assert_int_equal(count_items(cfg, SB_CFG_ROUTE), 2);
    char *got = dump_text(cfg);
    check_text(strstr(got, "failure_route"),
               "failure_route[lb_failover] {\n"
               "    if (t_was_cancelled())\n"
               "        exit;\n"
               "    if (t_check_status(\"408|5[0-9][0-9]\")) {\n"
               "        lb_disable_dst();\n"
               "        if (lb_next()) {\n"
               "            t_on_failure(\"lb_failover\");\n"
               "            t_relay();\n"
               "            exit;\n"
               "        }\n"
               "        t_reply(503, \"All destinations down\");\n"
               "    }\n"
               "}\n",
               "failure route", __FILE__, __LINE__);
    free(got);
    sb_cfg_free(cfg);

    cfg = PARSE_FILE_OK(DATA "trunking.cfg");
    assert_int_equal(count_items(cfg, SB_CFG_ROUTE), 2);
    sb_cfg_free(cfg);
}

static void test_bench_configs(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_FILE_OK(DATA "bench_stateful.cfg");
    assert_int_equal(count_items(cfg, SB_CFG_GLOBAL), 7);
    assert_int_equal(count_items(cfg, SB_CFG_LOADMODULE), 10);
    assert_int_equal(count_items(cfg, SB_CFG_MODPARAM), 10);
    assert_int_equal(count_items(cfg, SB_CFG_ROUTE), 3);
    char *got = dump_text(cfg);
    assert_non_null(strstr(got, "log_level = 1\nstderror_enabled = 1\nsyslog_enabled = 0\n"
                                "udp_workers = 2\nsocket = \"udp:127.0.0.1:5060\"\ndns = 0\n"));
    assert_non_null(strstr(got, "    if ((is_method(\"OPTIONS\") && is_myself(\"$rd\")) && "
                                "($rU == NULL)) {\n"));
    free(got);
    sb_cfg_free(cfg);

    cfg = PARSE_FILE_OK(DATA "bench_stateless.cfg");
    got = dump_text(cfg);
    check_text(strstr(got, "route {"),
               "route {\n"
               "    if (!mf_process_maxfwd_header(10)) {\n"
               "        sl_send_reply(483, \"Too Many Hops\");\n"
               "        exit;\n"
               "    }\n"
               "    forward(\"udp:127.0.0.1:5080\");\n"
               "    exit;\n"
               "}\n",
               "stateless route", __FILE__, __LINE__);
    free(got);
    sb_cfg_free(cfg);
}

/* The dump reads back to the same dump. */
static void test_dump_round_trip(void **state)
{
    (void)state;
    static const char *const files[] = {"residential.cfg", "loadbalancer.cfg", "trunking.cfg",
                                        "bench_stateful.cfg", "bench_stateless.cfg"};
    for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
        char path[512];
        snprintf(path, sizeof(path), DATA "%s", files[i]);
        struct sb_cfg *cfg = PARSE_FILE_OK(path);
        char *one = dump_text(cfg);
        struct sb_cfg *again = PARSE_OK(one);
        char *two = dump_text(again);
        check_text(two, one, files[i], __FILE__, __LINE__);
        free(one);
        free(two);
        sb_cfg_free(again);
        sb_cfg_free(cfg);
    }
}

/* ---- includes ------------------------------------------------------------------------------- */

static void test_include_nested(void **state)
{
    (void)state;
    struct sb_cfg *cfg = PARSE_FILE_OK(DATA "inc/main.cfg");
    char *got = dump_text(cfg);
    check_text(got,
               "log_level = 2\n"
               "loadmodule \"tm.so\"\n"
               "modparam(\"tm\", \"fr_timeout\", 5)\n"
               "route {\n"
               "    xlog(\"main\");\n"
               "    if ($rU == NULL)\n"
               "        drop;\n"
               "    exit;\n"
               "}\n",
               "dump", __FILE__, __LINE__);
    free(got);
    assert_int_equal(cfg->n_files, 4);
    assert_string_equal(cfg->files[0], DATA "inc/main.cfg");
    assert_string_equal(cfg->files[1], DATA "inc/sub/mods.cfg");
    assert_string_equal(cfg->files[2], DATA "inc/sub/more.cfg");
    assert_string_equal(cfg->files[3], DATA "inc/sub/body.cfg");
    const struct sb_cfg_item *it = cfg->items;
    CHECK_LOC(it, DATA "inc/main.cfg", 2, 1);
    it = it->next;
    CHECK_LOC(it, DATA "inc/sub/mods.cfg", 1, 1);
    it = it->next;
    CHECK_LOC(it, DATA "inc/sub/more.cfg", 1, 1);
    CHECK_LOC(it->value, DATA "inc/sub/more.cfg", 1, 30);
    it = it->next;
    CHECK_LOC(it, DATA "inc/main.cfg", 4, 1);
    const struct sb_ast *s = it->body->args;
    CHECK_LOC(s, DATA "inc/main.cfg", 5, 5);
    s = s->next;
    CHECK_LOC(s, DATA "inc/sub/body.cfg", 1, 1);
    CHECK_LOC(s->b, DATA "inc/sub/body.cfg", 2, 2);
    s = s->next;
    /* back in the including file, after the include statement */
    CHECK_LOC(s, DATA "inc/main.cfg", 7, 5);
    sb_cfg_free(cfg);
}

static void test_include_errors(void **state)
{
    (void)state;
    EXPECT_FILE_ERRORS(DATA "inc/cycle_a.cfg", DATA
                       "inc/cycle_b.cfg:2:1: error: include cycle: " DATA "inc/cycle_a.cfg -> " DATA
                       "inc/cycle_b.cfg -> " DATA "inc/cycle_a.cfg\n");
    EXPECT_FILE_ERRORS(DATA "inc/missing.cfg",
                       DATA "inc/missing.cfg:2:5: error: cannot open include file 'nope.cfg': No "
                            "such file or directory\n");
    /* an error inside the included file is reported there, the next one back in the includer */
    EXPECT_FILE_ERRORS(DATA "inc/bad_inc.cfg",
                       DATA "inc/sub/broken.cfg:2:11: error: syntax error, unexpected identifier "
                            "'foo', expecting ';'\n" DATA
                            "inc/bad_inc.cfg:5:1: error: syntax error, unexpected '}', expecting "
                            "'(' or ';'\n");
    EXPECT_FILE_ERRORS(DATA "inc/absent.cfg",
                       DATA "inc/absent.cfg: error: cannot read configuration: No such file or "
                            "directory\n");
    EXPECT_ERRORS("include_file 5\nroute { include_file }\ninclude_file",
                  "t.cfg:1:1: error: include_file needs a quoted file name\n"
                  "t.cfg:1:14: error: syntax error, unexpected number\n"
                  "t.cfg:2:9: error: include_file needs a quoted file name\n"
                  "t.cfg:3:1: error: include_file needs a quoted file name\n");
}

static void test_include_text_and_cwd(void **state)
{
    (void)state;
    /* text: relative to the current directory, or absolute */
    const char *src = "include_file \"" DATA "inc/sub/more.cfg\"\nroute { exit; }\n";
    EXPECT_DUMP(src, "modparam(\"tm\", \"fr_timeout\", 5)\nroute {\n    exit;\n}\n");

    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    int rc = sb_cfg_parse_text_opts("t.cfg", src, strlen(src), SB_CFG_NO_INCLUDE, &d, &cfg);
    expect_errors_in(rc, &d, cfg, "t.cfg:1:1: error: include_file is not allowed here\n", __FILE__,
                     __LINE__);

    /* sub/cwd.cfg includes "sub/more.cfg": not next to it, but from the current directory */
    char old[4096];
    assert_non_null(getcwd(old, sizeof(old)));
    assert_int_equal(chdir(DATA "inc"), 0);
    cfg = PARSE_FILE_OK("sub/cwd.cfg");
    assert_int_equal(cfg->n_files, 2);
    assert_string_equal(cfg->files[1], "sub/more.cfg");
    assert_int_equal(cfg->items->kind, SB_CFG_MODPARAM);
    sb_cfg_free(cfg);
    assert_int_equal(chdir(old), 0);
}

/* ---- diagnostics ---------------------------------------------------------------------------- */

static void test_multiple_errors(void **state)
{
    (void)state;
    EXPECT_ERRORS("route {\n"
                  "    f()\n"
                  "}\n"
                  "route[a] {\n"
                  "    if ($x == ) { g(); }\n"
                  "    h();\n"
                  "}\n"
                  "foo \"x\"\n"
                  "\n"
                  "route[b] {\n"
                  "    t_relay;\n"
                  "    xlog(\"x\")\n"
                  "    exit;\n"
                  "}\n"
                  "modparam(\"tm\" \"x\", 1)\n"
                  "loadmodule \"a.so\"\n"
                  "route x { exit; }\n",
                  "t.cfg:3:1: error: syntax error, unexpected '}', expecting ';'\n"
                  "t.cfg:5:15: error: syntax error, unexpected ')'\n"
                  "t.cfg:8:1: error: unknown keyword 'foo' at top level\n"
                  "t.cfg:11:5: error: 't_relay' is not a statement: command calls need '()'\n"
                  "t.cfg:13:5: error: syntax error, unexpected 'exit', expecting ';'\n"
                  "t.cfg:15:20: error: syntax error, unexpected number, expecting string\n"
                  "t.cfg:17:7: error: syntax error, unexpected identifier 'x', expecting '[' or "
                  "'{'\n");
}

static void test_lexical_errors(void **state)
{
    (void)state;
    EXPECT_ERRORS("route { xlog(\"never closed); }\n", "t.cfg:1:14: error: unterminated string\n");
    EXPECT_ERRORS("route { exit; }\n/* never /* closed */\n",
                  "t.cfg:2:1: error: unterminated comment\n");
    EXPECT_ERRORS("route { $var(x) = $(hdr(Via)\n; }",
                  "t.cfg:1:19: error: unterminated pseudo-variable\n");
    EXPECT_ERRORS("route { $var(x) = $(hdr(X]; }",
                  "t.cfg:1:19: error: mismatched ']' in pseudo-variable (expected ')')\n"
                  "t.cfg:1:26: error: syntax error, unexpected ']'\n");
    EXPECT_ERRORS("route {\n  $ = 1;\n  f(@@ 1);\n}\n",
                  "t.cfg:2:3: error: '$' must start a pseudo-variable name\n"
                  "t.cfg:3:5: error: invalid character '@'\n");
    EXPECT_ERRORS("a = 2147483648\nroute { $x = 2147483648 + 0x100000000; }\n",
                  "t.cfg:1:5: error: number out of range: 2147483648\n"
                  "t.cfg:2:14: error: number out of range: 2147483648\n"
                  "t.cfg:2:27: error: number out of range: 0x100000000\n");
    EXPECT_ERRORS("route { if ($si == 10.0.0.256 || $si == 1.2.3.4/33 || $si == 1:2:3) exit; }",
                  "t.cfg:1:20: error: invalid IP address '10.0.0.256'\n"
                  "t.cfg:1:41: error: invalid IP address '1.2.3.4/33'\n"
                  "t.cfg:1:62: error: invalid IP address '1:2:3'\n");
    EXPECT_ERRORS("log_level =\nroute { }\n", "t.cfg:1:12: error: missing value for 'log_level'\n");
    EXPECT_ERRORS("event_route[E_X, bogus] { }\ntimer_route[t, 0] { }\nbranch_route { }\n",
                  "t.cfg:1:18: error: event_route mode must be 'sync' or 'async', not 'bogus'\n"
                  "t.cfg:2:16: error: timer_route interval must be a positive number of seconds\n"
                  "t.cfg:3:14: error: syntax error, unexpected '{', expecting '['\n");
    EXPECT_ERRORS("route {\n    if (1) {\n        exit;\n", "t.cfg:4:1: error: syntax error, "
                                                            "unexpected end of file\n");
    EXPECT_ERRORS("}\n", "t.cfg:1:1: error: syntax error, unexpected '}'\n");
}

/* The diagnostics name their file after the failed parse freed the cfg and its file table. */
static void test_diag_outlives_cfg(void **state)
{
    (void)state;
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    char name[] = "dynamic-name.cfg";
    int rc = sb_cfg_parse_text(name, "route { x }", 11, &d, &cfg);
    assert_int_equal(rc, SB_EPARSE);
    assert_null(cfg);
    memset(name, 'X', sizeof(name) - 1);
    char *got = diag_text(&d);
    assert_string_equal(got, "dynamic-name.cfg:1:11: error: syntax error, unexpected '}', "
                             "expecting '(' or ';'\n");
    free(got);
    sb_diag_free(&d);
}

static void test_limits(void **state)
{
    (void)state;
    char *src = malloc(20000);
    assert_non_null(src);
    /* a long flat chain of operators: the tree depth is bounded */
    strcpy(src, "route { $x = 1");
    for (int i = 0; i < 600; i++)
        strcat(src, "+1");
    strcat(src, "; }");
    EXPECT_ERRORS(src, "t.cfg:1:14: error: expression nested too deeply (more than 512 levels)\n");
    /* deep blocks */
    strcpy(src, "route ");
    for (int i = 0; i < 300; i++)
        strcat(src, "{");
    for (int i = 0; i < 300; i++)
        strcat(src, "}");
    EXPECT_ERRORS(src, "t.cfg:1:263: error: blocks nested too deeply (more than 256 levels)\n");
    /* deep parentheses exhaust the parser stack: an error, not a crash */
    strcpy(src, "route { $x = ");
    for (int i = 0; i < 3000; i++)
        strcat(src, "(");
    strcat(src, "1");
    EXPECT_ERRORS(src, "t.cfg:1:2006: error: nesting too deep for the parser\n");

    /* the same from an included file: the parser stops with the include still open */
    char tmp[] = "/tmp/sb_cfg_deep_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    strcpy(src, "$x = ");
    for (int i = 0; i < 3000; i++)
        strcat(src, "(");
    assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
    close(fd);
    char main_src[256], want[256];
    snprintf(main_src, sizeof(main_src), "route {\n    include_file \"%s\"\n}\n", tmp);
    /* as above, the parser stops at the 1994th parenthesis: column 5 + 1993 */
    snprintf(want, sizeof(want), "%s:1:1998: error: nesting too deep for the parser\n", tmp);
    EXPECT_ERRORS(main_src, want);
    unlink(tmp);
    free(src);
}

/* Every allocation failure is reported, never a crash or a leak (includes still open too). */
static void out_of_memory(const char *path)
{
    bool done = false;
    for (int n = 1; n < 200 && !done; n++) {
        struct sb_diag d;
        sb_diag_init(&d);
        struct sb_cfg *cfg = NULL;
        sb_arena_fail_after = n;
        int rc = sb_cfg_parse_file(path, &d, &cfg);
        sb_arena_fail_after = 0;
        if (rc == 0) {
            assert_non_null(cfg);
            done = true;
        } else {
            assert_int_equal(rc, SB_ENOMEM);
            assert_null(cfg);
            assert_true(d.n_errors > 0);
        }
        sb_cfg_free(cfg);
        sb_diag_free(&d);
    }
    assert_true(done);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    out_of_memory(DATA "residential.cfg");
    out_of_memory(DATA "inc/main.cfg");
}

/* No hidden shared state: parses run at the same time in several threads agree. */
struct par_job {
    char *dump;
};

static void *par_parse(void *arg)
{
    struct par_job *job = arg;
    for (int i = 0; i < 20; i++) {
        struct sb_diag d;
        sb_diag_init(&d);
        struct sb_cfg *cfg = NULL;
        if (sb_cfg_parse_file(DATA "inc/main.cfg", &d, &cfg) == 0) {
            free(job->dump);
            job->dump = dump_text(cfg);
        }
        sb_cfg_free(cfg);
        sb_diag_free(&d);
    }
    return NULL;
}

static void test_parallel(void **state)
{
    (void)state;
    pthread_t th[4];
    struct par_job jobs[4] = {{0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, par_parse, &jobs[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        assert_non_null(jobs[i].dump);
        assert_string_equal(jobs[i].dump, jobs[0].dump);
    }
    for (int i = 0; i < 4; i++)
        free(jobs[i].dump);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_global_kinds),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_route_types),
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_if_else),
        cmocka_unit_test(test_loops_switch),
        cmocka_unit_test(test_assign_return),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_primaries),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_pv_tokens),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_opensips_scripts),
        cmocka_unit_test(test_bench_configs),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_include_nested),
        cmocka_unit_test(test_include_errors),
        cmocka_unit_test(test_include_text_and_cwd),
        cmocka_unit_test(test_multiple_errors),
        cmocka_unit_test(test_lexical_errors),
        cmocka_unit_test(test_diag_outlives_cfg),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_parallel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
