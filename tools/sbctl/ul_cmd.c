/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl ul dump / ul show: the location tables (MI ul_dump, ul_show_contact) as tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbctl.h"

#define UL_DEFAULT_TABLE "location"
#define MAX_COLS         8
#define CELL             512

struct table {
    unsigned ncols, nrows, cap;
    const char *head[MAX_COLS];
    int width[MAX_COLS];
    char (*cells)[MAX_COLS][CELL];
};

static int table_row(struct table *t, const char *const vals[])
{
    if (t->nrows == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 16;
        void *p = realloc(t->cells, cap * sizeof(*t->cells));
        if (!p)
            return SB_ENOMEM;
        t->cells = p;
        t->cap = cap;
    }
    for (unsigned i = 0; i < t->ncols; i++) {
        snprintf(t->cells[t->nrows][i], CELL, "%s", vals[i] ? vals[i] : "");
        int n = (int)strlen(t->cells[t->nrows][i]);
        t->width[i] = n > t->width[i] ? n : t->width[i];
    }
    t->nrows++;
    return 0;
}

static void print_row(const struct table *t, const char *const vals[])
{
    /* the last column is not padded: no trailing blanks */
    for (unsigned i = 0; i + 1 < t->ncols; i++)
        printf("%-*s  ", t->width[i], vals[i]);
    printf("%s\n", vals[t->ncols - 1]);
}

static void table_print(struct table *t)
{
    for (unsigned i = 0; i < t->ncols; i++) {
        int n = (int)strlen(t->head[i]);
        t->width[i] = n > t->width[i] ? n : t->width[i];
    }
    print_row(t, t->head);
    for (unsigned r = 0; r < t->nrows; r++) {
        const char *row[MAX_COLS];
        for (unsigned i = 0; i < t->ncols; i++)
            row[i] = t->cells[r][i];
        print_row(t, row);
    }
    free(t->cells);
    t->cells = NULL;
}

static const char *field(json_t *o, const char *name, char *buf)
{
    json_t *v = json_object_get(o, name);
    return v ? sbctl_field_text(v, buf, CELL) : "";
}

static int dump(struct sbctl *c)
{
    json_t *res;
    int rc = sbctl_mi_result(c, "ul_dump", NULL, &res);
    if (rc != 0)
        return rc;
    if (c->json) {
        sbctl_print_json(res, true);
        json_decref(res);
        return 0;
    }
    struct table t = {.ncols = 6,
                      .head = {"Table", "AOR", "Contact", "Expires", "Q", "User-agent"}};
    size_t i, j, k;
    json_t *dom, *aor, *ct;
    json_array_foreach(json_object_get(res, "Domains"), i, dom)
    {
        json_array_foreach(json_object_get(dom, "AORs"), j, aor)
        {
            json_array_foreach(json_object_get(aor, "Contacts"), k, ct)
            {
                char b[6][CELL];
                const char *row[] = {field(dom, "name", b[0]),   field(aor, "AOR", b[1]),
                                     field(ct, "Contact", b[2]), field(ct, "Expires", b[3]),
                                     field(ct, "Q", b[4]),       field(ct, "User-agent", b[5])};
                if (table_row(&t, row) != 0) {
                    fprintf(stderr, "sbctl: out of memory\n");
                    free(t.cells);
                    json_decref(res);
                    return 1;
                }
            }
        }
    }
    table_print(&t);
    json_decref(res);
    return 0;
}

static int show(struct sbctl *c, const char *table, const char *aor)
{
    json_t *res, *params = json_pack("{s:s, s:s}", "table_name", table, "aor", aor);
    if (!params) {
        fprintf(stderr, "sbctl: the table and AOR must be valid UTF-8\n");
        return 2;
    }
    int rc = sbctl_mi_result(c, "ul_show_contact", params, &res);
    json_decref(params);
    if (rc != 0)
        return rc;
    if (c->json) {
        sbctl_print_json(res, true);
        json_decref(res);
        return 0;
    }
    struct table t = {.ncols = 6,
                      .head = {"Contact", "Expires", "Q", "Callid", "Cseq", "User-agent"}};
    size_t i;
    json_t *ct;
    json_array_foreach(json_object_get(res, "Contacts"), i, ct)
    {
        char b[6][CELL];
        const char *row[] = {field(ct, "Contact", b[0]), field(ct, "Expires", b[1]),
                             field(ct, "Q", b[2]),       field(ct, "Callid", b[3]),
                             field(ct, "Cseq", b[4]),    field(ct, "User-agent", b[5])};
        if (table_row(&t, row) != 0) {
            fprintf(stderr, "sbctl: out of memory\n");
            free(t.cells);
            json_decref(res);
            return 1;
        }
    }
    table_print(&t);
    json_decref(res);
    return 0;
}

int sbctl_ul(struct sbctl *c, int argc, char **argv)
{
    if (argc == 1 && !strcmp(argv[0], "dump"))
        return dump(c);
    if (argc == 2 && !strcmp(argv[0], "show"))
        return show(c, UL_DEFAULT_TABLE, argv[1]);
    if (argc == 3 && !strcmp(argv[0], "show"))
        return show(c, argv[1], argv[2]);
    fprintf(stderr, "usage: sbctl ul dump | sbctl ul show [TABLE] AOR\n");
    return 2;
}
