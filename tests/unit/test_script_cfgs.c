/* SPDX-License-Identifier: BSD-2-Clause */
/* Loads every configuration under tests/script/ (and tests/script/pending/) and compares the
 * checker's diagnostics with the "# expect: [FILE:]LINE:COL: error|warning: TEXT" lines of the
 * file, exactly: same entries, no others. A file without expect lines must load cleanly.
 * Pending configurations name modules not written yet: one whose only errors come from those
 * missing modules is skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/script.h"
#include "script/action.h"

#define SCRIPT_DIR SB_TEST_DATA "/../script"

/* ---- functions the configurations call: a test module loaded through the test hook --------- */

static sb_res f_ret(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx;
    return sb_res_code(a[0].v.i);
}

static sb_res f_true(struct sb_sctx *ctx, const struct sb_arg *a)
{
    (void)ctx, (void)a;
    return sb_res_true();
}

static sb_res f_set(struct sb_sctx *ctx, const struct sb_arg *a)
{
    return sb_pv_set(ctx, a[0].var, SB_OP_SET, &a[1].v) == 0 ? sb_res_true() : sb_res_false();
}

static int fix_name(struct sb_fixup *fx, const struct sb_val *in, void **out)
{
    (void)out;
    if (in->type != SB_VAL_STR || in->s.len == 0) {
        sb_diag_error(fx->diag, fx->file, fx->line, fx->col, "argument %u of '%s': empty name",
                      fx->arg_no, fx->fn_name);
        return SB_EINVAL;
    }
    return 0;
}

#define ALL SB_ROUTE_ALL

static const struct sb_mod_fn test_fns[] = {
    {.name = "test_ret", .fn = f_ret, .n_args = 1, .args = {{.kind = SB_ARG_INT}}, .routes = ALL},
    {.name = "test_count", .fn = f_true, .routes = ALL},
    {.name = "test_log",
     .fn = f_true,
     .n_args = 2,
     .args = {{.kind = SB_ARG_STR}, {.kind = SB_ARG_STR, .flags = SB_ARGF_OPT}},
     .routes = ALL},
    {.name = "test_set",
     .fn = f_set,
     .n_args = 2,
     .args = {{.kind = SB_ARG_VAR}, {.kind = SB_ARG_ANY}},
     .routes = ALL},
    {.name = "test_req_only",
     .fn = f_true,
     .routes = SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_BRANCH},
    {.name = "test_reply_only", .fn = f_true, .routes = SB_ROUTE_ONREPLY},
    {.name = "test_nomsg",
     .fn = f_true,
     .routes = SB_ROUTE_STARTUP | SB_ROUTE_TIMER | SB_ROUTE_EVENT},
    {.name = "test_static",
     .fn = f_true,
     .n_args = 1,
     .args = {{.kind = SB_ARG_STR, .flags = SB_ARGF_STATIC, .fixup = fix_name}},
     .routes = ALL},
    {.name = "test_regex",
     .fn = f_true,
     .n_args = 2,
     .args = {{.kind = SB_ARG_REGEX}, {.kind = SB_ARG_STR}},
     .routes = ALL},
    {.name = "test_async",
     .fn = f_ret,
     .n_args = 1,
     .args = {{.kind = SB_ARG_INT}},
     .routes = ALL,
     .is_async = true},
    {.name = "test_arm", .fn = f_true, .n_args = 1, .args = {{.kind = SB_ARG_STR}}, .routes = ALL},
    {.name = NULL},
};

static const struct sb_module test_mod = {
    .name = "testmod",
    .summary = "functions for the configuration tests",
    .fns = test_fns,
};

/* ---- expectations -------------------------------------------------------------------------- */

struct lines {
    char **v;
    size_t n, cap;
};

static void lines_add(struct lines *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        assert_non_null(l->v);
    }
    l->v[l->n] = strdup(s);
    assert_non_null(l->v[l->n]);
    l->n++;
}

static void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_expect(const char *path, struct lines *out)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[1024];
    static const char tag[] = "# expect: ";
    while (fgets(buf, sizeof(buf), f)) {
        if (strncmp(buf, tag, sizeof(tag) - 1) != 0)
            continue;
        buf[strcspn(buf, "\r\n")] = '\0';
        lines_add(out, buf + sizeof(tag) - 1);
    }
    fclose(f);
}

/* "LINE:COL: sev: msg" for the main file, "FILE:LINE:COL: ..." for another one (relative to the
 * main file's directory). */
static void collect(const struct sb_diag *d, const char *path, struct lines *out)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char buf[1200];
    for (const struct sb_diag_entry *e = d->head; e; e = e->next) {
        const char *sev = e->sev == SB_DIAG_ERROR ? "error" : "warning";
        const char *file = e->file ? e->file : "";
        if (strcmp(file, path) == 0)
            snprintf(buf, sizeof(buf), "%u:%u: %s: %s", e->line, e->col, sev, e->msg);
        else
            snprintf(buf, sizeof(buf), "%s:%u:%u: %s: %s",
                     strncmp(file, path, dirlen) == 0 ? file + dirlen : file, e->line, e->col, sev,
                     e->msg);
        lines_add(out, buf);
    }
}

/* Errors caused only by modules that do not exist yet. */
static bool only_missing_modules(const struct sb_diag *d)
{
    bool any = false;
    for (const struct sb_diag_entry *e = d->head; e; e = e->next) {
        if (e->sev != SB_DIAG_ERROR)
            continue;
        if (strncmp(e->msg, "unknown module '", 16) == 0)
            any = true;
        else if (strncmp(e->msg, "modparam for unknown module '", 29) != 0 &&
                 strncmp(e->msg, "unknown function '", 18) != 0)
            return false;
    }
    return any;
}

static void check_cfg(void **state)
{
    const char *path = *state;
    struct lines want = {0}, got = {0};
    read_expect(path, &want);
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load(path, &d, &s);
    if (strstr(path, "/pending/") && d.n_errors && only_missing_modules(&d)) {
        sb_diag_free(&d);
        lines_free(&want);
        skip();
    }
    collect(&d, path, &got);
    if (want.n > 1)
        qsort(want.v, want.n, sizeof(*want.v), cmp_str);
    if (got.n > 1)
        qsort(got.v, got.n, sizeof(*got.v), cmp_str);
    bool same = want.n == got.n;
    for (size_t i = 0; same && i < want.n; i++)
        same = strcmp(want.v[i], got.v[i]) == 0;
    bool has_errors = false;
    for (size_t i = 0; i < want.n; i++)
        has_errors = has_errors || strstr(want.v[i], ": error: ") != NULL;
    if (!same || (rc == 0) == has_errors || (s != NULL) == has_errors) {
        fprintf(stderr, "%s: load returned %d\n  expected:\n", path, rc);
        for (size_t i = 0; i < want.n; i++)
            fprintf(stderr, "    %s\n", want.v[i]);
        fprintf(stderr, "  got:\n");
        for (size_t i = 0; i < got.n; i++)
            fprintf(stderr, "    %s\n", got.v[i]);
    }
    if (s) {
        FILE *null = fopen("/dev/null", "w");
        assert_non_null(null);
        sb_script_dump(s, null);
        fclose(null);
    }
    sb_script_free(s);
    sb_diag_free(&d);
    lines_free(&want);
    lines_free(&got);
    assert_true(same);
    assert_true((rc == 0) != has_errors);
}

/* ---- discovery ----------------------------------------------------------------------------- */

static void scan(const char *dir, struct lines *out)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *de;
    char buf[1024];
    while ((de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".cfg") != 0)
            continue;
        snprintf(buf, sizeof(buf), "%s/%s", dir, de->d_name);
        lines_add(out, buf);
    }
    closedir(dp);
}

int main(void)
{
    sb__script_extra_module = &test_mod;
    struct lines cfgs = {0};
    scan(SCRIPT_DIR, &cfgs);
    scan(SCRIPT_DIR "/pending", &cfgs);
    qsort(cfgs.v, cfgs.n, sizeof(*cfgs.v), cmp_str);
    if (cfgs.n < 60)
        fprintf(stderr, "warning: only %zu configurations under %s\n", cfgs.n, SCRIPT_DIR);
    struct CMUnitTest *tests = calloc(cfgs.n ? cfgs.n : 1, sizeof(*tests));
    assert_non_null(tests);
    for (size_t i = 0; i < cfgs.n; i++) {
        const char *name = strstr(cfgs.v[i], "/script/");
        tests[i] = (struct CMUnitTest){.name = name ? name + 8 : cfgs.v[i],
                                       .test_func = check_cfg,
                                       .initial_state = cfgs.v[i]};
    }
    int rc = _cmocka_run_group_tests("script_cfgs", tests, cfgs.n, NULL, NULL);
    free(tests);
    lines_free(&cfgs);
    sb_pv_worker_exit();
    sb_script_worker_exit();
    return rc;
}
