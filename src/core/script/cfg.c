/* SPDX-License-Identifier: BSD-2-Clause */
/* Configuration front end around the generated lexer and parser: file reading and include_file
 * resolution, the file-name table, tree helpers, diagnostics, and the canonical dump. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb/base.h"
#include "script/ast.h"

#include "cfg_parser.h"
/* after the parser's header: the scanner's prototypes use its value and location types */
#define YYSTYPE SB_CFG_YYSTYPE
#define YYLTYPE SB_CFG_YYLTYPE
#include "cfg_lexer.h"

/* ---- diagnostics ---------------------------------------------------------------------------- */

__attribute__((format(printf, 5, 0))) static void cfg_verror(struct sb__cfg_parse *x,
                                                             const char *file, uint32_t line,
                                                             uint32_t col, const char *fmt,
                                                             va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    x->n_errors++;
    sb_diag_add(x->diag, SB_DIAG_ERROR, file, line, col, "%s", msg);
}

void sb__cfg_error(struct sb__cfg_parse *x, const char *file, uint32_t line, uint32_t col,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_verror(x, file, line, col, fmt, ap);
    va_end(ap);
}

void sb__cfg_error_at(struct sb__cfg_parse *x, const struct sb__cfg_yyltype *loc, const char *fmt,
                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_verror(x, loc->file, (uint32_t)loc->first_line, (uint32_t)loc->first_column, fmt, ap);
    va_end(ap);
}

/* ---- tree helpers --------------------------------------------------------------------------- */

sb_str sb__cfg_dup(struct sb__cfg_parse *x, const char *p, size_t n)
{
    char *q = sb_arena_alloc(&x->cfg->arena, n + 1);
    if (!q) {
        x->nomem = true;
        return SB_STR_NULL;
    }
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return (sb_str){q, n};
}

/* Escapes \" \' \\ \n \r \t; any other backslash stays, so that regexes keep theirs ("\+"). */
sb_str sb__cfg_unescape(struct sb__cfg_parse *x, const char *p, size_t n)
{
    char *q = sb_arena_alloc(&x->cfg->arena, n + 1);
    if (!q) {
        x->nomem = true;
        return SB_STR_NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n) {
            char e = p[i + 1];
            switch (e) {
            case '"':
            case '\'':
            case '\\':
                c = e;
                i++;
                break;
            case 'n':
                c = '\n';
                i++;
                break;
            case 'r':
                c = '\r';
                i++;
                break;
            case 't':
                c = '\t';
                i++;
                break;
            default: break;
            }
        }
        q[o++] = c;
    }
    q[o] = '\0';
    return (sb_str){q, o};
}

struct sb_ast *sb__cfg_node(struct sb__cfg_parse *x, int kind, const struct sb__cfg_yyltype *loc)
{
    struct sb_ast *n = sb_arena_zalloc(&x->cfg->arena, sizeof(*n));
    if (!n) {
        x->nomem = true;
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->loc = (struct sb_loc){loc->file, (uint32_t)loc->first_line, (uint32_t)loc->first_column};
    return n;
}

int sb__cfg_acc(struct sb__cfg_parse *x, char **buf, size_t *len, size_t *cap, const char *p,
                size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *len + n)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b) {
            x->nomem = true;
            return -1;
        }
        *buf = b;
        *cap = c;
    }
    if (n)
        memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

/* Value of p[0..n): 0x1f hex, 0660 octal (file modes), else decimal up to <dec_max>; hex and octal
 * may use all 32 bits (flag masks). Returns 1, 0 when the text is not a number, -1 out of range. */
int sb__cfg_number(const char *p, size_t n, uint64_t dec_max, uint32_t *v)
{
    unsigned base = 10;
    size_t i = 0;
    if (n > 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        base = 16;
        i = 2;
    } else if (n > 1 && p[0] == '0') {
        base = 8;
        for (size_t k = 1; k < n; k++)
            if (p[k] < '0' || p[k] > '7')
                base = 10; /* 09 is a decimal with a leading zero */
    }
    if (i == n)
        return 0;
    uint64_t val = 0, max = base == 10 ? dec_max : UINT32_MAX;
    bool over = false;
    for (; i < n; i++) {
        int d = sb_hex_val((unsigned char)p[i]);
        if (d < 0 || (unsigned)d >= base)
            return 0;
        val = val * base + (uint64_t)d;
        if (val > max) {
            over = true;
            val = 0;
        }
    }
    *v = (uint32_t)val;
    return over ? -1 : 1;
}

/* "-12", "0x1f", "0660", "-0x10" as the whole text of a global value. */
static bool parse_int(sb_str s, int32_t *out, bool *range)
{
    bool neg = s.len && s.p[0] == '-';
    size_t i = neg ? 1 : 0;
    uint32_t v = 0;
    int r = sb__cfg_number(s.p + i, s.len - i, (uint64_t)INT32_MAX + neg, &v);
    if (r == 0)
        return false;
    *range = r < 0;
    *out = (int32_t)(neg ? 0u - v : v);
    return true;
}

static int bool_word(sb_str s)
{
    static const char *const yes[] = {"yes", "true", "on", "enable"};
    static const char *const no[] = {"no", "false", "off", "disable"};
    for (size_t i = 0; i < SB_ARRAY_LEN(yes); i++) {
        if (sb_str_caseeq_lit(s, yes[i]))
            return 1;
        if (sb_str_caseeq_lit(s, no[i]))
            return 0;
    }
    return -1;
}

/* The value of "name = value", from what the lexer collected: only quoted strings give their
 * folded text, one number or yes/no word gives an int, anything else the raw trimmed text. */
struct sb_ast *sb__cfg_gvalue(struct sb__cfg_parse *x)
{
    struct sb__cfg_yyltype loc = {(int)x->start.line, (int)x->start.col, (int)x->start.line,
                                  (int)x->start.col, x->start.file};
    struct sb_ast *n = sb__cfg_node(x, SB_AST_STR, &loc);
    if (!n)
        return NULL;
    while (x->acc_len &&
           (sb_is_ws((unsigned char)x->acc[x->acc_len - 1]) || x->acc[x->acc_len - 1] == '\r'))
        x->acc_len--;
    if (!x->gv_quoted && !x->gv_plain) {
        sb__cfg_error_at(x, &loc, "missing value for '%s'", x->last_word);
        n->str = sb__cfg_dup(x, "", 0);
    } else if (!x->gv_plain) {
        n->str = sb__cfg_dup(x, x->qacc, x->qacc_len);
    } else {
        sb_str raw = {x->acc, x->acc_len};
        bool range = false;
        int b;
        if (!x->gv_quoted && parse_int(raw, &n->num, &range)) {
            n->kind = SB_AST_INT;
            if (range)
                sb__cfg_error_at(x, &loc, "number out of range: %.*s",
                                 raw.len > 40 ? 40 : (int)raw.len, raw.p);
        } else if (!x->gv_quoted && (b = bool_word(raw)) >= 0) {
            n->kind = SB_AST_INT;
            n->num = b;
        } else {
            n->str = sb__cfg_dup(x, raw.p, raw.len);
        }
    }
    return x->nomem ? NULL : n;
}

/* ---- file names and include_file ------------------------------------------------------------ */

static const char *intern(struct sb__cfg_parse *x, const char *name, uint32_t *cap)
{
    struct sb_cfg *cfg = x->cfg;
    for (uint32_t i = 0; i < cfg->n_files; i++)
        if (strcmp(cfg->files[i], name) == 0)
            return cfg->files[i];
    if (cfg->n_files == *cap) {
        uint32_t c = *cap ? *cap * 2 : 8;
        const char **f = sb_arena_alloc(&cfg->arena, c * sizeof(*f));
        if (!f) {
            x->nomem = true;
            return NULL;
        }
        if (cfg->n_files)
            memcpy(f, cfg->files, cfg->n_files * sizeof(*f));
        cfg->files = f;
        *cap = c;
    }
    sb_str s = sb__cfg_dup(x, name, strlen(name));
    if (!s.p)
        return NULL;
    cfg->files[cfg->n_files++] = s.p;
    return s.p;
}

/* Read a whole regular file (never a FIFO or a device: an include must not block or stream). */
static int read_file(const char *path, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > SB__CFG_MAX_FILE) {
        rc = -EFBIG;
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    *text = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

static const char *read_error(int rc)
{
    switch (rc) {
    case -EINVAL: return "not a regular file";
    case -EFBIG: return "file too large";
    default: return strerror(-rc);
    }
}

/* include_file "x": relative to the including file's directory, then to the current one. */
static char *include_path(struct sb__cfg_parse *x, const char *name)
{
    if (name[0] == '/')
        return strdup(name);
    const char *from = x->n_incl || x->main_is_file ? x->file : NULL;
    const char *slash = from ? strrchr(from, '/') : NULL;
    if (slash) {
        size_t dl = (size_t)(slash - from) + 1, nl = strlen(name);
        char *p = malloc(dl + nl + 1);
        if (!p)
            return NULL;
        memcpy(p, from, dl);
        memcpy(p + dl, name, nl + 1);
        if (access(p, F_OK) == 0)
            return p;
        free(p);
    }
    return strdup(name);
}

static void cycle_error(struct sb__cfg_parse *x, const struct sb_loc *at, uint32_t from,
                        const char *path)
{
    char chain[1024];
    size_t off = 0;
    for (uint32_t i = from; i <= x->n_incl && off < sizeof(chain); i++) {
        const char *n = i == 0 ? x->cfg->files[0] : x->incl[i - 1].name;
        off += (size_t)snprintf(chain + off, sizeof(chain) - off, "%s -> ", n);
    }
    if (off < sizeof(chain))
        snprintf(chain + off, sizeof(chain) - off, "%s", path);
    sb__cfg_error(x, at->file, at->line, at->col, "include cycle: %s", chain);
}

int sb__cfg_include_open(struct sb__cfg_parse *x, sb_str name, const struct sb_loc *at, char **text,
                         size_t *len)
{
    if (x->flags & SB_CFG_NO_INCLUDE) {
        sb__cfg_error(x, at->file, at->line, at->col, "include_file is not allowed here");
        return -1;
    }
    if (name.len == 0 || memchr(name.p, '\0', name.len) || name.len >= PATH_MAX) {
        sb__cfg_error(x, at->file, at->line, at->col, "invalid include file name");
        return -1;
    }
    if (x->n_incl == SB__CFG_MAX_INCLUDE) {
        sb__cfg_error(x, at->file, at->line, at->col,
                      "include_file nested too deeply (more than %u levels)", SB__CFG_MAX_INCLUDE);
        return -1;
    }
    char *path = include_path(x, name.p), *real = NULL;
    int rc = -1;
    if (!path) {
        x->nomem = true;
        return -1;
    }
    real = realpath(path, NULL);
    if (!real) {
        sb__cfg_error(x, at->file, at->line, at->col, "cannot open include file '%s': %s", path,
                      strerror(errno));
        goto out;
    }
    /* the main file is entry 0 of the chain, include k is entry k + 1 */
    for (uint32_t i = 0; i <= x->n_incl; i++) {
        const char *r = i == 0 ? x->main_real : x->incl[i - 1].real;
        if (r && strcmp(r, real) == 0) {
            cycle_error(x, at, i, path);
            goto out;
        }
    }
    int e = read_file(real, text, len);
    if (e < 0) {
        sb__cfg_error(x, at->file, at->line, at->col, "cannot read include file '%s': %s", path,
                      read_error(e));
        goto out;
    }
    const char *nm = intern(x, path, &x->files_cap);
    if (!nm) {
        free(*text);
        goto out;
    }
    x->incl[x->n_incl] = (struct sb__cfg_incl){.real = real, .name = nm};
    real = NULL;
    rc = 0;
out:
    free(real);
    free(path);
    return rc;
}

/* ---- parse ---------------------------------------------------------------------------------- */

static int cfg_parse(const char *name, const char *text, size_t len, char *real, unsigned flags,
                     struct sb_diag *d, struct sb_cfg **out)
{
    *out = NULL;
    struct sb_cfg *cfg = calloc(1, sizeof(*cfg));
    struct sb__cfg_parse *x = calloc(1, sizeof(*x));
    yyscan_t sc = NULL;
    int rc = SB_ENOMEM;
    if (!cfg || !x) {
        sb_diag_error(d, NULL, 0, 0, "out of memory");
        free(real);
        goto out;
    }
    sb_arena_init(&cfg->arena, NULL, 0, 0);
    *x = (struct sb__cfg_parse){.cfg = cfg,
                                .diag = d,
                                .flags = flags,
                                .tail = &cfg->items,
                                .line = 1,
                                .col = 1,
                                .main_real = real,
                                .main_is_file = real != NULL};
    x->file = intern(x, name, &x->files_cap);
    if (len > INT_MAX) {
        sb__cfg_error(x, x->file, 0, 0, "file too large");
        goto done;
    }
    if (!x->file || sb_cfg_yylex_init_extra(x, &sc) != 0) {
        x->nomem = true;
        goto done;
    }
    sb_cfg_yy_scan_bytes(text, (int)len, sc);
    if (sb_cfg_yyparse(sc, x) != 0 && x->n_errors == 0 && !x->nomem)
        sb__cfg_error(x, x->file, 0, 0, "cannot parse the configuration");
done:
    /* buffers of files whose include was still open when the parser stopped */
    for (uint32_t i = 0; i < x->n_incl; i++) {
        if (x->incl[i].buf)
            sb_cfg_yy_delete_buffer(x->incl[i].buf, sc);
        free(x->incl[i].real);
    }
    if (sc)
        sb_cfg_yylex_destroy(sc);
    free(x->acc);
    free(x->qacc);
    free(x->main_real);
    if (x->nomem)
        sb__cfg_error(x, NULL, 0, 0, "out of memory while reading the configuration");
    rc = x->n_errors ? (x->nomem ? SB_ENOMEM : SB_EPARSE) : 0;
out:
    free(x);
    if (rc == 0)
        *out = cfg;
    else
        sb_cfg_free(cfg);
    return rc;
}

int sb_cfg_parse_text_opts(const char *name, const char *text, size_t len, unsigned flags,
                           struct sb_diag *d, struct sb_cfg **out)
{
    return cfg_parse(name ? name : "<text>", text, len, NULL, flags, d, out);
}

int sb_cfg_parse_text(const char *name, const char *text, size_t len, struct sb_diag *d,
                      struct sb_cfg **out)
{
    return sb_cfg_parse_text_opts(name, text, len, 0, d, out);
}

int sb_cfg_parse_file(const char *path, struct sb_diag *d, struct sb_cfg **out)
{
    *out = NULL;
    char *text = NULL, *real = realpath(path, NULL);
    size_t len = 0;
    int rc = real ? read_file(real, &text, &len) : -errno;
    if (rc < 0) {
        sb_diag_error(d, path, 0, 0, "cannot read configuration: %s", read_error(rc));
        free(real);
        return SB_ENOENT;
    }
    rc = cfg_parse(path, text, len, real, 0, d, out);
    free(text);
    return rc;
}

void sb_cfg_free(struct sb_cfg *cfg)
{
    if (!cfg)
        return;
    sb_arena_deinit(&cfg->arena);
    free(cfg);
}

/* ---- dump ----------------------------------------------------------------------------------- */

static void dump_quoted(FILE *o, sb_str s)
{
    fputc('"', o);
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        switch (c) {
        case '"': fputs("\\\"", o); break;
        case '\\': fputs("\\\\", o); break;
        case '\n': fputs("\\n", o); break;
        case '\r': fputs("\\r", o); break;
        case '\t': fputs("\\t", o); break;
        default: fputc(c, o); break;
        }
    }
    fputc('"', o);
}

static void dump_int(FILE *o, int32_t v)
{
    /* "-2147483648" would read back as minus an out-of-range number */
    if (v == INT32_MIN)
        fputs("0x80000000", o);
    else
        fprintf(o, "%d", v);
}

static const char *op_text(int op)
{
    static const char *const t[] = {
        [SB_OP_NOT] = "!",      [SB_OP_NEG] = "-",      [SB_OP_BNOT] = "~",
        [SB_OP_AND] = "&&",     [SB_OP_OR] = "||",      [SB_OP_EQ] = "==",
        [SB_OP_NE] = "!=",      [SB_OP_LT] = "<",       [SB_OP_GT] = ">",
        [SB_OP_LE] = "<=",      [SB_OP_GE] = ">=",      [SB_OP_MATCH] = "=~",
        [SB_OP_NMATCH] = "!~",  [SB_OP_ADD] = "+",      [SB_OP_SUB] = "-",
        [SB_OP_MUL] = "*",      [SB_OP_DIV] = "/",      [SB_OP_MOD] = "%",
        [SB_OP_BAND] = "&",     [SB_OP_BOR] = "|",      [SB_OP_BXOR] = "^",
        [SB_OP_SHL] = "<<",     [SB_OP_SHR] = ">>",     [SB_OP_SET] = "=",
        [SB_OP_SET_ALL] = ":=", [SB_OP_ADD_SET] = "+=", [SB_OP_SUB_SET] = "-=",
        [SB_OP_MUL_SET] = "*=", [SB_OP_DIV_SET] = "/=", [SB_OP_MOD_SET] = "%=",
        [SB_OP_AND_SET] = "&=", [SB_OP_OR_SET] = "|=",  [SB_OP_XOR_SET] = "^=",
    };
    return op > 0 && (size_t)op < SB_ARRAY_LEN(t) && t[op] ? t[op] : "?";
}

static void dump_expr(FILE *o, const struct sb_ast *e);

static void dump_operand(FILE *o, const struct sb_ast *e)
{
    bool paren = e && (e->kind == SB_AST_BINOP || e->kind == SB_AST_UNOP);
    if (paren)
        fputc('(', o);
    dump_expr(o, e);
    if (paren)
        fputc(')', o);
}

static void dump_list(FILE *o, const struct sb_ast *a)
{
    for (; a; a = a->next) {
        dump_expr(o, a);
        if (a->next)
            fputs(", ", o);
    }
}

/* Operators print fully parenthesised below the top, so the text reads back to the same tree. */
static void dump_expr(FILE *o, const struct sb_ast *e)
{
    if (!e) {
        fputs("<missing>", o);
        return;
    }
    switch (e->kind) {
    case SB_AST_INT: dump_int(o, e->num); break;
    case SB_AST_STR: dump_quoted(o, e->str); break;
    case SB_AST_NULL: fputs("NULL", o); break;
    case SB_AST_ID:
    case SB_AST_IPNET:
    case SB_AST_PV: fwrite(e->str.p, 1, e->str.len, o); break;
    case SB_AST_CALL:
        fprintf(o, SB_STR_FMT "(", SB_STR_ARG(e->str));
        dump_list(o, e->args);
        fputc(')', o);
        break;
    case SB_AST_UNOP:
        fputs(op_text(e->op), o);
        dump_operand(o, e->a);
        break;
    case SB_AST_BINOP:
        dump_operand(o, e->a);
        fprintf(o, " %s ", op_text(e->op));
        dump_operand(o, e->b);
        break;
    case SB_AST_ARITH:
        fputc('[', o);
        dump_expr(o, e->a);
        fputc(']', o);
        break;
    default: fprintf(o, "<node %d>", e->kind); break;
    }
}

static void indent(FILE *o, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        fputs("    ", o);
}

static void dump_stmt(FILE *o, const struct sb_ast *s, unsigned ind);

static void dump_stmts(FILE *o, const struct sb_ast *s, unsigned ind)
{
    for (; s; s = s->next)
        dump_stmt(o, s, ind);
}

/* The body after "if (c)", "while (c)", "else": " {...}" (no newline after the brace) or an
 * indented statement on the next line. */
static void dump_body(FILE *o, const struct sb_ast *b, unsigned ind)
{
    if (b->kind == SB_AST_BLOCK) {
        fputs(" {\n", o);
        dump_stmts(o, b->args, ind + 1);
        indent(o, ind);
        fputc('}', o);
    } else {
        fputc('\n', o);
        dump_stmt(o, b, ind + 1);
    }
}

static void dump_body_line(FILE *o, const struct sb_ast *b, unsigned ind)
{
    dump_body(o, b, ind);
    if (b->kind == SB_AST_BLOCK)
        fputc('\n', o);
}

static void dump_if(FILE *o, const struct sb_ast *s, unsigned ind)
{
    fputs("if (", o);
    dump_expr(o, s->a);
    fputc(')', o);
    dump_body(o, s->b, ind);
    if (!s->c) {
        if (s->b->kind == SB_AST_BLOCK)
            fputc('\n', o);
        return;
    }
    if (s->b->kind == SB_AST_BLOCK) {
        fputs(" else", o);
    } else {
        indent(o, ind);
        fputs("else", o);
    }
    if (s->c->kind == SB_AST_IF) {
        fputc(' ', o);
        dump_if(o, s->c, ind);
        return;
    }
    dump_body_line(o, s->c, ind);
}

static void dump_switch(FILE *o, const struct sb_ast *s, unsigned ind)
{
    fputs("switch (", o);
    dump_expr(o, s->a);
    fputs(") {\n", o);
    for (const struct sb_ast *c = s->args; c; c = c->next) {
        indent(o, ind + 1);
        if (c->a) {
            fputs("case ", o);
            dump_expr(o, c->a);
            fputs(":\n", o);
        } else {
            fputs("default:\n", o);
        }
        dump_stmts(o, c->args, ind + 2);
    }
    indent(o, ind);
    fputs("}\n", o);
}

static void dump_stmt(FILE *o, const struct sb_ast *s, unsigned ind)
{
    indent(o, ind);
    switch (s->kind) {
    case SB_AST_BLOCK:
        fputs("{\n", o);
        dump_stmts(o, s->args, ind + 1);
        indent(o, ind);
        fputs("}\n", o);
        break;
    case SB_AST_EXPR:
        dump_expr(o, s->a);
        fputs(";\n", o);
        break;
    case SB_AST_IF: dump_if(o, s, ind); break;
    case SB_AST_WHILE:
        fputs("while (", o);
        dump_expr(o, s->a);
        fputc(')', o);
        dump_body_line(o, s->b, ind);
        break;
    case SB_AST_FOR:
        fputs("for (", o);
        dump_expr(o, s->a);
        fputs(" in ", o);
        dump_expr(o, s->b);
        fputc(')', o);
        dump_body_line(o, s->c, ind);
        break;
    case SB_AST_SWITCH: dump_switch(o, s, ind); break;
    case SB_AST_BREAK: fputs("break;\n", o); break;
    case SB_AST_ASSIGN:
        dump_expr(o, s->a);
        fprintf(o, " %s ", op_text(s->op));
        dump_expr(o, s->b);
        fputs(";\n", o);
        break;
    case SB_AST_RETURN:
        if (s->args) {
            fputs("return(", o);
            dump_list(o, s->args);
            fputs(");\n", o);
        } else {
            fputs("return;\n", o);
        }
        break;
    case SB_AST_EXIT: fputs("exit;\n", o); break;
    case SB_AST_DROP: fputs("drop;\n", o); break;
    default:
        dump_expr(o, s);
        fputs(";\n", o);
        break;
    }
}

static const char *route_kw(uint32_t type)
{
    switch (type) {
    case SB_ROUTE_REQUEST: return "route";
    case SB_ROUTE_FAILURE: return "failure_route";
    case SB_ROUTE_ONREPLY: return "onreply_route";
    case SB_ROUTE_BRANCH: return "branch_route";
    case SB_ROUTE_ERROR: return "error_route";
    case SB_ROUTE_LOCAL: return "local_route";
    case SB_ROUTE_STARTUP: return "startup_route";
    case SB_ROUTE_TIMER: return "timer_route";
    case SB_ROUTE_EVENT: return "event_route";
    default: return "?route";
    }
}

/* A route name is written bare when it reads back as one (relay, to-pstn, 1), else quoted. */
static void dump_route_name(FILE *o, sb_str n)
{
    bool bare = n.len > 0;
    for (size_t i = 0; i < n.len && bare; i++) {
        unsigned char c = (unsigned char)n.p[i];
        bare = sb_is_alpha(c) || sb_is_digit(c) || c == '_' || (i > 0 && (c == '.' || c == '-'));
    }
    if (bare)
        fwrite(n.p, 1, n.len, o);
    else
        dump_quoted(o, n);
}

static void dump_route(FILE *o, const struct sb_cfg_item *it)
{
    uint32_t t = it->route_type;
    fputs(route_kw(t), o);
    bool named =
        t == SB_ROUTE_BRANCH || t == SB_ROUTE_FAILURE || t == SB_ROUTE_TIMER || t == SB_ROUTE_EVENT;
    if (it->name.len || named) {
        fputc('[', o);
        dump_route_name(o, it->name);
        if (t == SB_ROUTE_TIMER)
            fprintf(o, ", %d", it->interval);
        if (t == SB_ROUTE_EVENT && it->param.len)
            fprintf(o, ", " SB_STR_FMT, SB_STR_ARG(it->param));
        fputc(']', o);
    }
    fputs(" {\n", o);
    if (it->body)
        dump_stmts(o, it->body->args, 1);
    fputs("}\n", o);
}

void sb_cfg_dump(const struct sb_cfg *cfg, FILE *out)
{
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next) {
        switch (it->kind) {
        case SB_CFG_GLOBAL:
        case SB_CFG_MPATH:
            fprintf(out, SB_STR_FMT " = ", SB_STR_ARG(it->name));
            dump_expr(out, it->value);
            fputc('\n', out);
            break;
        case SB_CFG_LOADMODULE:
            fputs("loadmodule ", out);
            dump_expr(out, it->value);
            fputc('\n', out);
            break;
        case SB_CFG_MODPARAM:
            fputs("modparam(", out);
            dump_quoted(out, it->name);
            fputs(", ", out);
            dump_quoted(out, it->param);
            fputs(", ", out);
            dump_expr(out, it->value);
            fputs(")\n", out);
            break;
        case SB_CFG_ROUTE: dump_route(out, it); break;
        default: break;
        }
    }
}
