/* SPDX-License-Identifier: BSD-2-Clause */
/* Grammar of the routing script (OpenSIPS 3.x dialect): a pure, reentrant bison parser that builds
 * the tree of script/ast.h. Tokens come from lexer.l; tree helpers live in cfg.c. */

%code requires {
#include <stdbool.h>
#include <stdint.h>

#include "script/ast.h"

/* Location of a token or a rule: bison's four fields plus the file it was read from. */
struct sb__cfg_yyltype {
    int first_line, first_column;
    int last_line, last_column;
    const char *file;
};

#define YYLLOC_DEFAULT(cur, rhs, n)                                                                \
    do {                                                                                           \
        if (n) {                                                                                   \
            (cur).first_line = YYRHSLOC(rhs, 1).first_line;                                        \
            (cur).first_column = YYRHSLOC(rhs, 1).first_column;                                    \
            (cur).file = YYRHSLOC(rhs, 1).file;                                                    \
            (cur).last_line = YYRHSLOC(rhs, n).last_line;                                          \
            (cur).last_column = YYRHSLOC(rhs, n).last_column;                                      \
        } else {                                                                                   \
            (cur).first_line = (cur).last_line = YYRHSLOC(rhs, 0).last_line;                       \
            (cur).first_column = (cur).last_column = YYRHSLOC(rhs, 0).last_column;                 \
            (cur).file = YYRHSLOC(rhs, 0).file;                                                    \
        }                                                                                          \
    } while (0)

/* A list being built: statements, arguments, string pieces. */
struct sb__cfg_list {
    struct sb_ast *head, *tail;
    uint32_t n;
};

/* An expression and the depth of its tree, bounded so that every recursive walk is safe. */
struct sb__cfg_expr {
    struct sb_ast *n;
    uint32_t depth;
};

/* A route block header: type, [name], timer interval, event mode. */
struct sb__cfg_rhead {
    uint32_t type;
    sb_str name;
    sb_str mode;
    int32_t interval;
};

#define SB__CFG_MAX_INCLUDE    32  /* include_file nesting */
#define SB__CFG_MAX_PV_NEST    32  /* brackets inside one pseudo-variable */
#define SB__CFG_MAX_EXPR_DEPTH 512 /* nodes on a path through one expression */
#define SB__CFG_MAX_BLOCKS     256 /* nested { } */
#define SB__CFG_MAX_FILE       (16u << 20)

/* An include_file being read, and where to resume in the file that included it. */
struct sb__cfg_incl {
    void *buf;        /* flex buffer of the including file */
    const char *file; /* the including file's name and cursor */
    uint32_t line, col;
    char *real;       /* canonical path of the included file (heap), for cycle detection */
    const char *name; /* the included file's name (interned) */
};

/* State shared by the lexer, the parser and cfg.c for one parse. */
struct sb__cfg_parse {
    struct sb_cfg *cfg;
    struct sb_diag *diag;
    unsigned flags;
    bool nomem;
    unsigned n_errors;
    struct sb_cfg_item **tail; /* where the next top-level item goes */

    /* lexer cursor */
    const char *file;
    uint32_t line, col;
    uint32_t tok_line, tok_col; /* start of the current match */
    uint32_t depth;             /* { } nesting: 0 = top level, where name = value is a global */
    /* after a route keyword (1), or after "route" (2, which also takes "route(name"), the next
     * name may look like to-pstn or 1 */
    uint8_t rname, prev_rname;
    int pv_after;               /* start condition after a pseudo-variable's brackets close */
    uint32_t pv_sp;
    char pv_stack[SB__CFG_MAX_PV_NEST];
    uint32_t cdepth;            /* nested comment depth */
    struct sb_loc start;        /* start of a token scanned by several rules */
    char *acc;                  /* raw text of a pseudo-variable or a global value (heap) */
    size_t acc_len, acc_cap;
    char *qacc;                 /* unescaped quoted parts of a global value (heap) */
    size_t qacc_len, qacc_cap;
    bool gv_quoted, gv_plain;   /* a global value has quoted parts / unquoted words */
    bool eof_reported;          /* an error about the end of input was already given */
    bool depth_reported;        /* "expression nested too deeply" was already given */
    struct sb_loc bad;          /* end of the last invalid character reported */
    char last_word[48];         /* the last identifier or variable, for messages */
    uint32_t files_cap;         /* room in cfg->files */

    /* includes */
    char *main_real;            /* canonical path of the main file (heap) or NULL */
    bool main_is_file;          /* includes of the main text resolve next to it, not in the cwd */
    uint32_t n_incl;
    struct sb__cfg_incl incl[SB__CFG_MAX_INCLUDE];
};

void sb__cfg_error(struct sb__cfg_parse *x, const char *file, uint32_t line, uint32_t col,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void sb__cfg_error_at(struct sb__cfg_parse *x, const struct sb__cfg_yyltype *loc, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));
sb_str sb__cfg_dup(struct sb__cfg_parse *x, const char *p, size_t n);
sb_str sb__cfg_unescape(struct sb__cfg_parse *x, const char *p, size_t n);
struct sb_ast *sb__cfg_node(struct sb__cfg_parse *x, int kind,
                            const struct sb__cfg_yyltype *loc);
struct sb_ast *sb__cfg_gvalue(struct sb__cfg_parse *x);
int sb__cfg_number(const char *p, size_t n, uint64_t dec_max, uint32_t *v);
int sb__cfg_acc(struct sb__cfg_parse *x, char **buf, size_t *len, size_t *cap, const char *p,
                size_t n);
/* Resolve, check and read the file of an include_file at <at>. On success the new entry
 * x->incl[x->n_incl] is filled (not yet pushed) and *text is a heap copy of the file. */
int sb__cfg_include_open(struct sb__cfg_parse *x, sb_str name, const struct sb_loc *at,
                         char **text, size_t *len);
}

%code provides {
int sb_cfg_yyparse(void *scanner, struct sb__cfg_parse *x);
}

%code {
#include <stdio.h>
#include <string.h>

int sb_cfg_yylex(SB_CFG_YYSTYPE *lval, SB_CFG_YYLTYPE *lloc, void *scanner);
static void sb_cfg_yyerror(SB_CFG_YYLTYPE *loc, void *scanner, struct sb__cfg_parse *x,
                           const char *msg);

/* Bounds the parser stack: nesting beyond it is an error, not a crash somewhere later. */
#define YYMAXDEPTH 2000

static struct sb_ast *mk(struct sb__cfg_parse *x, int kind, const SB_CFG_YYLTYPE *loc)
{
    return sb__cfg_node(x, kind, loc);
}

static void list_init(struct sb__cfg_list *l)
{
    l->head = l->tail = NULL;
    l->n = 0;
}

static void list_add(struct sb__cfg_list *l, struct sb_ast *n)
{
    if (!n)
        return;
    n->next = NULL;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
    l->n++;
}

static struct sb_ast *mk_list(struct sb__cfg_parse *x, int kind, const SB_CFG_YYLTYPE *loc,
                              const struct sb__cfg_list *l)
{
    struct sb_ast *n = mk(x, kind, loc);
    if (n) {
        n->args = l->head;
        n->n_args = l->n;
    }
    return n;
}

/* Join adjacent string literals into one SB_AST_STR at the first one's position. */
static struct sb_ast *join_strings(struct sb__cfg_parse *x, const struct sb__cfg_list *l)
{
    struct sb_ast *first = l->head;
    if (!first || l->n == 1)
        return first;
    size_t len = 0;
    for (const struct sb_ast *s = first; s; s = s->next)
        len += s->str.len;
    char *p = sb_arena_alloc(&x->cfg->arena, len + 1);
    if (!p) {
        x->nomem = true;
        return NULL;
    }
    size_t off = 0;
    for (const struct sb_ast *s = first; s; s = s->next) {
        if (s->str.len)
            memcpy(p + off, s->str.p, s->str.len);
        off += s->str.len;
    }
    p[len] = '\0';
    first->str = (sb_str){p, len};
    first->next = NULL;
    return first;
}

static struct sb__cfg_expr leaf(struct sb_ast *n)
{
    return (struct sb__cfg_expr){n, 1};
}

static bool too_deep(struct sb__cfg_parse *x, const SB_CFG_YYLTYPE *loc, uint32_t depth)
{
    if (depth <= SB__CFG_MAX_EXPR_DEPTH)
        return false;
    /* once: every operator above the limit would say the same */
    if (!x->depth_reported)
        sb__cfg_error_at(x, loc, "expression nested too deeply (more than %u levels)",
                         SB__CFG_MAX_EXPR_DEPTH);
    x->depth_reported = true;
    return true;
}

static struct sb__cfg_expr mk_binop(struct sb__cfg_parse *x, int op, struct sb__cfg_expr a,
                                    struct sb__cfg_expr b, const SB_CFG_YYLTYPE *loc)
{
    uint32_t d = 1 + (a.depth > b.depth ? a.depth : b.depth);
    if (too_deep(x, loc, d))
        return a;
    struct sb_ast *n = mk(x, SB_AST_BINOP, loc);
    if (n) {
        n->op = (uint8_t)op;
        n->a = a.n;
        n->b = b.n;
    }
    return (struct sb__cfg_expr){n, d};
}

static struct sb__cfg_expr mk_unop(struct sb__cfg_parse *x, int op, struct sb__cfg_expr a,
                                   const SB_CFG_YYLTYPE *loc)
{
    /* -5 is a literal, not an operation: fold it (wrapping, so -0x80000000 stays defined) */
    if (op == SB_OP_NEG && a.n && a.n->kind == SB_AST_INT) {
        a.n->num = (int32_t)(0u - (uint32_t)a.n->num);
        a.n->loc.line = (uint32_t)loc->first_line;
        a.n->loc.col = (uint32_t)loc->first_column;
        a.n->loc.file = loc->file;
        return a;
    }
    if (too_deep(x, loc, a.depth + 1))
        return a;
    struct sb_ast *n = mk(x, SB_AST_UNOP, loc);
    if (n) {
        n->op = (uint8_t)op;
        n->a = a.n;
    }
    return (struct sb__cfg_expr){n, a.depth + 1};
}

static struct sb_ast *mk_int(struct sb__cfg_parse *x, int64_t v, const SB_CFG_YYLTYPE *loc)
{
    struct sb_ast *n = mk(x, SB_AST_INT, loc);
    if (n)
        n->num = (int32_t)(uint32_t)v;
    return n;
}

static struct sb_ast *mk_str(struct sb__cfg_parse *x, int kind, sb_str s,
                             const SB_CFG_YYLTYPE *loc)
{
    struct sb_ast *n = mk(x, kind, loc);
    if (n)
        n->str = s;
    return n;
}

static struct sb_ast *mk_call(struct sb__cfg_parse *x, sb_str name, const struct sb__cfg_list *args,
                              const SB_CFG_YYLTYPE *loc)
{
    struct sb_ast *n = mk_list(x, SB_AST_CALL, loc, args);
    if (n)
        n->str = name;
    return n;
}

static struct sb_ast *mk_stmt(struct sb__cfg_parse *x, int kind, struct sb_ast *a,
                              struct sb_ast *b, struct sb_ast *c, const SB_CFG_YYLTYPE *loc)
{
    struct sb_ast *n = mk(x, kind, loc);
    if (n) {
        n->a = a;
        n->b = b;
        n->c = c;
    }
    return n;
}

/* A statement position left empty (";" or a broken statement) still needs a node under if/while. */
static struct sb_ast *body(struct sb__cfg_parse *x, struct sb_ast *s, const SB_CFG_YYLTYPE *loc)
{
    if (s)
        return s;
    return mk(x, SB_AST_BLOCK, loc);
}

static struct sb_cfg_item *mk_item(struct sb__cfg_parse *x, int kind, const SB_CFG_YYLTYPE *loc)
{
    struct sb_cfg_item *it = sb_arena_zalloc(&x->cfg->arena, sizeof(*it));
    if (!it) {
        x->nomem = true;
        return NULL;
    }
    it->kind = (uint8_t)kind;
    it->loc = (struct sb_loc){loc->file, (uint32_t)loc->first_line, (uint32_t)loc->first_column};
    *x->tail = it;
    x->tail = &it->next;
    return it;
}

static sb_str str_of(const struct sb_ast *n)
{
    return n ? n->str : SB_STR_NULL;
}

/* Message for a number that does not fit an int32 where the grammar needs one. */
static bool bad_interval(struct sb__cfg_parse *x, int64_t v, const SB_CFG_YYLTYPE *loc)
{
    if (v > 0 && v <= INT32_MAX)
        return false;
    sb__cfg_error_at(x, loc, "timer_route interval must be a positive number of seconds");
    return true;
}

#define NOMEM_IF(c)                                                                                \
    do {                                                                                           \
        if (c) {                                                                                   \
            x->nomem = true;                                                                       \
            YYNOMEM;                                                                               \
        }                                                                                          \
    } while (0)
}

%define api.pure full
%define api.prefix {sb_cfg_yy}
%define api.location.type {struct sb__cfg_yyltype}
%define parse.error custom
%locations
%lex-param {void *scanner}
%parse-param {void *scanner} {struct sb__cfg_parse *x}

%union {
    int64_t num;
    sb_str str;
    struct sb_ast *node;
    struct sb__cfg_list list;
    struct sb__cfg_expr ex;
    struct sb__cfg_rhead rhead;
    uint8_t op;
}

%token YYEOF 0 "end of file"
%token <num> NUMBER "number"
%token <str> STRING "string"
%token <str> ID "identifier"
%token <str> PV "pseudo-variable"
%token <str> IPNET "IP address"
%token <str> GPARAM "global parameter"
%token <node> GVALUE "parameter value"
%token IF "'if'" ELSE "'else'" WHILE "'while'" FOR "'for'" IN "'in'" SWITCH "'switch'"
%token CASE "'case'" DEFAULT "'default'" BREAK "'break'" RETURN "'return'" EXIT "'exit'"
%token DROP "'drop'" NULLV "'NULL'" LOADMODULE "'loadmodule'" MODPARAM "'modparam'"
%token ROUTE "'route'"
%token <num> RKW_OPT "route keyword" RKW_NAME "named route keyword" RKW_NONE "route block keyword"
%token TIMER_ROUTE "'timer_route'" EVENT_ROUTE "'event_route'"
%token TOP_END "'}'"
%token OR "'||'" AND "'&&'" NOT "'!'"
%token EQ "'=='" NE "'!='" LE "'<='" GE "'>='" MATCH "'=~'" NMATCH "'!~'" SHL "'<<'" SHR "'>>'"
%token SET_ALL "':='" ADD_SET "'+='" SUB_SET "'-='" MUL_SET "'*='" DIV_SET "'/='"
%token MOD_SET "'%='" AND_SET "'&='" OR_SET "'|='" XOR_SET "'^='"

%type <node> strs stmt block route_body call cval modval
%type <list> str_list stmts args exprs cases
%type <ex> expr
%type <rhead> rhead
%type <str> rname rname_opt rword
%type <op> assign_op

%precedence IFX
%precedence ELSE
%left OR
%left AND
%precedence NOT
%left EQ NE '<' '>' LE GE MATCH NMATCH
%left '|' '^' '&'
%left SHL SHR
%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS '~'

%start cfg

%%

cfg: items
    ;

items: %empty
    | items item
    ;

item: GPARAM GVALUE {
        static const char mpath[] = "mpath";
        bool is_mpath = $1.len == sizeof(mpath) - 1 && memcmp($1.p, mpath, $1.len) == 0;
        struct sb_cfg_item *it = mk_item(x, is_mpath ? SB_CFG_MPATH : SB_CFG_GLOBAL, &@1);
        NOMEM_IF(!it || !$2);
        it->name = $1;
        it->value = $2;
    }
    | LOADMODULE strs {
        struct sb_cfg_item *it = mk_item(x, SB_CFG_LOADMODULE, &@1);
        NOMEM_IF(!it);
        it->value = $2;
    }
    | MODPARAM '(' strs ',' strs ',' modval ')' {
        struct sb_cfg_item *it = mk_item(x, SB_CFG_MODPARAM, &@1);
        NOMEM_IF(!it);
        it->name = str_of($3);
        it->param = str_of($5);
        it->value = $7;
    }
    | rhead route_body {
        struct sb_cfg_item *it = mk_item(x, SB_CFG_ROUTE, &@1);
        NOMEM_IF(!it);
        it->route_type = $1.type;
        it->name = $1.name;
        it->param = $1.mode;
        it->interval = $1.interval;
        it->body = $2;
    }
    | ROUTE error route_body { }
    | RKW_OPT error route_body { }
    | RKW_NAME error route_body { }
    | RKW_NONE error route_body { }
    | TIMER_ROUTE error route_body { }
    | EVENT_ROUTE error route_body { }
    | ';'
    | error item
    ;

modval: NUMBER { $$ = mk_int(x, $1, &@1); NOMEM_IF(!$$); }
    | '-' NUMBER { $$ = mk_int(x, -$2, &@1); NOMEM_IF(!$$); }
    | strs
    ;

rhead: ROUTE rname_opt {
        $$ = (struct sb__cfg_rhead){SB_ROUTE_REQUEST, $2, SB_STR_NULL, 0};
    }
    | RKW_OPT rname_opt { $$ = (struct sb__cfg_rhead){(uint32_t)$1, $2, SB_STR_NULL, 0}; }
    | RKW_NAME rname { $$ = (struct sb__cfg_rhead){(uint32_t)$1, $2, SB_STR_NULL, 0}; }
    | RKW_NONE { $$ = (struct sb__cfg_rhead){(uint32_t)$1, SB_STR_NULL, SB_STR_NULL, 0}; }
    | TIMER_ROUTE '[' rword ',' NUMBER ']' {
        bad_interval(x, $5, &@5);
        $$ = (struct sb__cfg_rhead){SB_ROUTE_TIMER, $3, SB_STR_NULL, (int32_t)$5};
    }
    | EVENT_ROUTE '[' rword ']' {
        $$ = (struct sb__cfg_rhead){SB_ROUTE_EVENT, $3, SB_STR_NULL, 0};
    }
    | EVENT_ROUTE '[' rword ',' ID ']' {
        if (strcmp($5.p, "sync") != 0 && strcmp($5.p, "async") != 0)
            sb__cfg_error_at(x, &@5, "event_route mode must be 'sync' or 'async', not '%s'",
                             $5.p);
        $$ = (struct sb__cfg_rhead){SB_ROUTE_EVENT, $3, $5, 0};
    }
    ;

rname_opt: %empty { $$ = SB_STR_NULL; }
    | rname
    ;

rname: '[' rword ']' { $$ = $2; }
    ;

rword: ID
    | strs { $$ = str_of($1); }
    ;

/* The lexer marks the brace that closes a top-level block: a broken route is skipped up to its own
 * end, never further. */
route_body: '{' stmts TOP_END {
        /* back in step at top level (the lexer counts braces): report the next error even if it
         * comes right away */
        yyerrok;
        $$ = mk_list(x, SB_AST_BLOCK, &@1, &$2);
        NOMEM_IF(!$$);
    }
    | '{' stmts error TOP_END {
        yyerrok;
        $$ = mk_list(x, SB_AST_BLOCK, &@1, &$2);
        NOMEM_IF(!$$);
    }
    ;

block: '{' stmts '}' { $$ = mk_list(x, SB_AST_BLOCK, &@1, &$2); NOMEM_IF(!$$); }
    | '{' stmts error '}' { $$ = mk_list(x, SB_AST_BLOCK, &@1, &$2); NOMEM_IF(!$$); }
    ;

stmts: %empty { list_init(&$$); }
    | stmts stmt { $$ = $1; list_add(&$$, $2); }
    ;

stmt: ';' { $$ = NULL; }
    | block
    | call ';' { $$ = mk_stmt(x, SB_AST_EXPR, $1, NULL, NULL, &@1); NOMEM_IF(!$$); }
    | ID ';' {
        sb__cfg_error_at(x, &@1, "'%s' is not a statement: command calls need '()'", $1.p);
        $$ = NULL;
    }
    | IF '(' expr ')' stmt %prec IFX {
        struct sb_ast *then = body(x, $5, &@5);
        $$ = mk_stmt(x, SB_AST_IF, $3.n, then, NULL, &@1);
        NOMEM_IF(!$$ || !then);
    }
    | IF '(' expr ')' stmt ELSE stmt {
        struct sb_ast *then = body(x, $5, &@5), *other = body(x, $7, &@7);
        $$ = mk_stmt(x, SB_AST_IF, $3.n, then, other, &@1);
        NOMEM_IF(!$$ || !then || !other);
    }
    | WHILE '(' expr ')' stmt {
        struct sb_ast *loop = body(x, $5, &@5);
        $$ = mk_stmt(x, SB_AST_WHILE, $3.n, loop, NULL, &@1);
        NOMEM_IF(!$$ || !loop);
    }
    | FOR '(' PV IN PV ')' stmt {
        struct sb_ast *it = mk_str(x, SB_AST_PV, $3, &@3), *set = mk_str(x, SB_AST_PV, $5, &@5);
        struct sb_ast *loop = body(x, $7, &@7);
        $$ = mk_stmt(x, SB_AST_FOR, it, set, loop, &@1);
        NOMEM_IF(!$$ || !it || !set || !loop);
    }
    | SWITCH '(' expr ')' '{' cases '}' {
        $$ = mk_list(x, SB_AST_SWITCH, &@1, &$6);
        NOMEM_IF(!$$);
        $$->a = $3.n;
    }
    | BREAK ';' { $$ = mk(x, SB_AST_BREAK, &@1); NOMEM_IF(!$$); }
    | PV assign_op expr ';' {
        struct sb_ast *dst = mk_str(x, SB_AST_PV, $1, &@1);
        $$ = mk_stmt(x, SB_AST_ASSIGN, dst, $3.n, NULL, &@1);
        NOMEM_IF(!$$ || !dst);
        $$->op = $2;
    }
    | RETURN ';' { $$ = mk(x, SB_AST_RETURN, &@1); NOMEM_IF(!$$); }
    | RETURN '(' ')' ';' { $$ = mk(x, SB_AST_RETURN, &@1); NOMEM_IF(!$$); }
    | RETURN expr ';' {
        struct sb__cfg_list l;
        list_init(&l);
        list_add(&l, $2.n);
        $$ = mk_list(x, SB_AST_RETURN, &@1, &l);
        NOMEM_IF(!$$);
    }
    | RETURN '(' expr ',' exprs ')' ';' {
        struct sb__cfg_list l;
        list_init(&l);
        list_add(&l, $3.n);
        if ($5.head) {
            l.tail->next = $5.head;
            l.tail = $5.tail;
            l.n += $5.n;
        }
        $$ = mk_list(x, SB_AST_RETURN, &@1, &l);
        NOMEM_IF(!$$);
    }
    | EXIT ';' { $$ = mk(x, SB_AST_EXIT, &@1); NOMEM_IF(!$$); }
    | EXIT '(' ')' ';' { $$ = mk(x, SB_AST_EXIT, &@1); NOMEM_IF(!$$); }
    | DROP ';' { $$ = mk(x, SB_AST_DROP, &@1); NOMEM_IF(!$$); }
    | DROP '(' ')' ';' { $$ = mk(x, SB_AST_DROP, &@1); NOMEM_IF(!$$); }
    | error ';' { $$ = NULL; }
    ;

assign_op: '=' { $$ = SB_OP_SET; }
    | SET_ALL { $$ = SB_OP_SET_ALL; }
    | ADD_SET { $$ = SB_OP_ADD_SET; }
    | SUB_SET { $$ = SB_OP_SUB_SET; }
    | MUL_SET { $$ = SB_OP_MUL_SET; }
    | DIV_SET { $$ = SB_OP_DIV_SET; }
    | MOD_SET { $$ = SB_OP_MOD_SET; }
    | AND_SET { $$ = SB_OP_AND_SET; }
    | OR_SET { $$ = SB_OP_OR_SET; }
    | XOR_SET { $$ = SB_OP_XOR_SET; }
    ;

cases: %empty { list_init(&$$); }
    | cases CASE cval ':' stmts {
        struct sb_ast *c = mk_list(x, SB_AST_CASE, &@2, &$5);
        NOMEM_IF(!c);
        c->a = $3;
        $$ = $1;
        list_add(&$$, c);
    }
    | cases DEFAULT ':' stmts {
        struct sb_ast *c = mk_list(x, SB_AST_CASE, &@2, &$4);
        NOMEM_IF(!c);
        $$ = $1;
        list_add(&$$, c);
    }
    ;

cval: NUMBER { $$ = mk_int(x, $1, &@1); NOMEM_IF(!$$); }
    | '-' NUMBER { $$ = mk_int(x, -$2, &@1); NOMEM_IF(!$$); }
    | strs
    ;

call: ID '(' args ')' { $$ = mk_call(x, $1, &$3, &@1); NOMEM_IF(!$$); }
    | ROUTE '(' args ')' { $$ = mk_call(x, SB_STR("route"), &$3, &@1); NOMEM_IF(!$$); }
    ;

args: %empty { list_init(&$$); }
    | exprs
    ;

exprs: expr { list_init(&$$); list_add(&$$, $1.n); }
    | exprs ',' expr { $$ = $1; list_add(&$$, $3.n); }
    ;

expr: expr OR expr { $$ = mk_binop(x, SB_OP_OR, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr AND expr { $$ = mk_binop(x, SB_OP_AND, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | NOT expr { $$ = mk_unop(x, SB_OP_NOT, $2, &@$); NOMEM_IF(!$$.n); }
    | expr EQ expr { $$ = mk_binop(x, SB_OP_EQ, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr NE expr { $$ = mk_binop(x, SB_OP_NE, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '<' expr { $$ = mk_binop(x, SB_OP_LT, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '>' expr { $$ = mk_binop(x, SB_OP_GT, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr LE expr { $$ = mk_binop(x, SB_OP_LE, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr GE expr { $$ = mk_binop(x, SB_OP_GE, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr MATCH expr { $$ = mk_binop(x, SB_OP_MATCH, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr NMATCH expr { $$ = mk_binop(x, SB_OP_NMATCH, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '|' expr { $$ = mk_binop(x, SB_OP_BOR, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '^' expr { $$ = mk_binop(x, SB_OP_BXOR, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '&' expr { $$ = mk_binop(x, SB_OP_BAND, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr SHL expr { $$ = mk_binop(x, SB_OP_SHL, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr SHR expr { $$ = mk_binop(x, SB_OP_SHR, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '+' expr { $$ = mk_binop(x, SB_OP_ADD, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '-' expr { $$ = mk_binop(x, SB_OP_SUB, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '*' expr { $$ = mk_binop(x, SB_OP_MUL, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '/' expr { $$ = mk_binop(x, SB_OP_DIV, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | expr '%' expr { $$ = mk_binop(x, SB_OP_MOD, $1, $3, &@$); NOMEM_IF(!$$.n); }
    | '-' expr %prec UMINUS { $$ = mk_unop(x, SB_OP_NEG, $2, &@$); NOMEM_IF(!$$.n); }
    | '~' expr { $$ = mk_unop(x, SB_OP_BNOT, $2, &@$); NOMEM_IF(!$$.n); }
    | NUMBER { $$ = leaf(mk_int(x, $1, &@1)); NOMEM_IF(!$$.n); }
    | strs { $$ = leaf($1); }
    | NULLV { $$ = leaf(mk(x, SB_AST_NULL, &@1)); NOMEM_IF(!$$.n); }
    | PV { $$ = leaf(mk_str(x, SB_AST_PV, $1, &@1)); NOMEM_IF(!$$.n); }
    | IPNET { $$ = leaf(mk_str(x, SB_AST_IPNET, $1, &@1)); NOMEM_IF(!$$.n); }
    | ID { $$ = leaf(mk_str(x, SB_AST_ID, $1, &@1)); NOMEM_IF(!$$.n); }
    | call { $$ = leaf($1); }
    | '(' expr ')' { $$ = $2; }
    | '[' expr ']' {
        $$ = (struct sb__cfg_expr){mk_stmt(x, SB_AST_ARITH, $2.n, NULL, NULL, &@1), $2.depth + 1};
        NOMEM_IF(!$$.n);
        too_deep(x, &@1, $$.depth);
    }
    ;

strs: str_list { $$ = join_strings(x, &$1); NOMEM_IF(!$$); }
    ;

str_list: STRING {
        list_init(&$$);
        struct sb_ast *s = mk_str(x, SB_AST_STR, $1, &@1);
        NOMEM_IF(!s);
        list_add(&$$, s);
    }
    | str_list STRING {
        $$ = $1;
        struct sb_ast *s = mk_str(x, SB_AST_STR, $2, &@2);
        NOMEM_IF(!s);
        list_add(&$$, s);
    }
    ;

%%

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, struct sb__cfg_parse *x)
{
    (void)scanner;
    if (x->nomem)
        return 0;
    /* the lexer already said why the input ended early (unterminated string or comment) */
    if (yypcontext_token(ctx) == YYSYMBOL_YYEOF && x->eof_reported)
        return 0;
    yysymbol_kind_t tok = yypcontext_token(ctx);
    const SB_CFG_YYLTYPE *loc = yypcontext_location(ctx);
    yysymbol_kind_t exp[5];
    int n = yypcontext_expected_tokens(ctx, exp, 5);
    bool top = false;
    for (int i = 0; i < n; i++)
        top |= exp[i] == YYSYMBOL_LOADMODULE;
    if (n < 0)
        n = 0;
    if (tok == YYSYMBOL_ID && (top || n == 0) && x->depth == 0) {
        sb__cfg_error_at(x, loc, "unknown keyword '%s' at top level", x->last_word);
        return 0;
    }
    char msg[512];
    size_t off = 0;
    if (tok == YYSYMBOL_ID || tok == YYSYMBOL_PV)
        off += (size_t)snprintf(msg, sizeof(msg), "syntax error, unexpected %s '%s'",
                                yysymbol_name(tok), x->last_word);
    else
        off += (size_t)snprintf(msg, sizeof(msg), "syntax error, unexpected %s",
                                yysymbol_name(tok));
    if (n > 0 && n < 5) {
        for (int i = 0; i < n && off < sizeof(msg); i++)
            off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s",
                                    i == 0 ? ", expecting " : " or ", yysymbol_name(exp[i]));
    }
    sb__cfg_error_at(x, loc, "%s", msg);
    return 0;
}

static void sb_cfg_yyerror(SB_CFG_YYLTYPE *loc, void *scanner, struct sb__cfg_parse *x,
                           const char *msg)
{
    (void)scanner;
    (void)msg;
    /* only "memory exhausted" reaches here: syntax errors go through yyreport_syntax_error */
    if (x->nomem)
        sb__cfg_error_at(x, loc, "out of memory");
    else
        sb__cfg_error_at(x, loc, "nesting too deep for the parser");
}
