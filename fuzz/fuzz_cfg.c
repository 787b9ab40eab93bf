/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the routing script: any bytes parse or fail with diagnostics; a parsed
 * tree has sane locations, and its dump parses again to the same dump; then the whole load (module
 * set, checker, fixups, compiler) runs and everything it made is freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb/mod.h"
#include "sb/script.h"
#include "script/ast.h"

#include "fuzz_check.h"

static void check_node(const struct sb_ast *n, const char *file)
{
    for (; n; n = n->next) {
        CHECK(n->loc.file == file && n->loc.line >= 1 && n->loc.col >= 1);
        CHECK(n->kind >= SB_AST_INT && n->kind <= SB_AST_DROP);
        uint32_t count = 0;
        for (const struct sb_ast *a = n->args; a; a = a->next)
            count++;
        CHECK(count == n->n_args);
        /* lists hang off args; a, b and c are single nodes */
        const struct sb_ast *one[] = {n->a, n->b, n->c};
        for (size_t i = 0; i < 3; i++) {
            CHECK(one[i] == NULL || one[i]->next == NULL);
            check_node(one[i], file);
        }
        check_node(n->args, file);
    }
}

static char *dump(const struct sb_cfg *cfg, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    CHECK(f != NULL);
    sb_cfg_dump(cfg, f);
    CHECK(fclose(f) == 0);
    return text;
}

/* The public loader follows include_file / import_file, which must not reach the file system. */
static bool has_include(const uint8_t *data, size_t size)
{
    static const char *const words[] = {"include_file", "import_file"};
    for (size_t w = 0; w < 2; w++) {
        size_t n = strlen(words[w]);
        for (size_t i = 0; i + n <= size; i++)
            if (strncasecmp((const char *)data + i, words[w], n) == 0)
                return true;
    }
    return false;
}

/* Check and compile: a script comes back exactly when there are no errors, diagnostics stay
 * printable after a failed load, and the compiled tree dumps. */
static void load_all(const uint8_t *data, size_t size)
{
    if (has_include(data, size))
        return;
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *s = NULL;
    int rc = sb_script_load_text("fuzz.cfg", (const char *)data, size, &d, &s);
    CHECK((rc == 0) == (s != NULL));
    CHECK(rc == 0 ? d.n_errors == 0 : d.n_errors > 0);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        sb_diag_print(&d, null);
        if (s)
            sb_script_dump(s, null);
        fclose(null);
    }
    sb_script_free(s);
    sb_diag_free(&d);
    /* module parameters are process-wide: release what this input's modparam lines set */
    sb_mod_params_free();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_all(data, size);

    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_cfg *cfg = NULL;
    int rc =
        sb_cfg_parse_text_opts("fuzz.cfg", (const char *)data, size, SB_CFG_NO_INCLUDE, &d, &cfg);
    CHECK((rc == 0) == (cfg != NULL));
    CHECK(rc == 0 ? d.n_errors == 0 : d.n_errors > 0);
    /* the diagnostics must stay readable after a failed parse freed the cfg */
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        sb_diag_print(&d, null);
        fclose(null);
    }
    sb_diag_free(&d);
    if (!cfg)
        return 0;

    CHECK(cfg->n_files == 1 && strcmp(cfg->files[0], "fuzz.cfg") == 0);
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next) {
        CHECK(it->loc.file == cfg->files[0] && it->loc.line >= 1 && it->loc.col >= 1);
        check_node(it->value, cfg->files[0]);
        check_node(it->body, cfg->files[0]);
    }

    size_t len1, len2;
    char *text1 = dump(cfg, &len1);
    struct sb_cfg *again = NULL;
    sb_diag_init(&d);
    rc = sb_cfg_parse_text_opts("fuzz.cfg", text1, len1, SB_CFG_NO_INCLUDE, &d, &again);
    if (rc != 0) {
        sb_diag_print(&d, stderr);
        fprintf(stderr, "---- dump that failed to parse ----\n%.*s\n", (int)len1, text1);
    }
    CHECK(rc == 0);
    char *text2 = dump(again, &len2);
    if (len1 != len2 || memcmp(text1, text2, len1) != 0)
        fprintf(stderr, "---- first dump ----\n%.*s\n---- second dump ----\n%.*s\n", (int)len1,
                text1, (int)len2, text2);
    CHECK(len1 == len2 && memcmp(text1, text2, len1) == 0);
    free(text1);
    free(text2);
    sb_diag_free(&d);
    sb_cfg_free(again);
    sb_cfg_free(cfg);
    return 0;
}
