/* SPDX-License-Identifier: BSD-2-Clause */
/* The syntax tree of a configuration file, as the parser (parser.y) builds it and the compiler
 * (compile.c) consumes it. Internal to src/core/script. */
#ifndef SB_SCRIPT_AST_H
#define SB_SCRIPT_AST_H

#include "sb/arena.h"
#include "sb/diag.h"
#include "sb/script-t.h"

struct sb_loc {
    const char *file; /* interned in the cfg's file table; lives as long as the cfg */
    uint32_t line;    /* 1-based */
    uint32_t col;     /* 1-based */
};

enum sb_ast_kind {
    /* expressions */
    SB_AST_INT = 1, /* num */
    SB_AST_STR,     /* str: the literal, escapes resolved, adjacent literals folded */
    SB_AST_NULL,    /* NULL */
    SB_AST_ID,      /* str: a bare word (L_INFO, a route name, a flag name) */
    SB_AST_IPNET,   /* str: an unquoted IPv4/IPv6 address or CIDR (10.0.0.0/8) */
    SB_AST_PV,      /* str: the pseudo-variable text as written, "$ru", "$(hdr(Via)[1]{s.len})" */
    SB_AST_CALL,    /* str: function name; args: argument list */
    SB_AST_UNOP,    /* op; a */
    SB_AST_BINOP,   /* op; a, b */
    SB_AST_ARITH,   /* a: the expression inside [ ] (evaluated as a number, OpenSIPS) */
    /* statements */
    SB_AST_BLOCK,  /* args: statements */
    SB_AST_EXPR,   /* a: an expression used as a statement (a function call) */
    SB_AST_IF,     /* a: condition; b: then; c: else (may be NULL) */
    SB_AST_WHILE,  /* a: condition; b: body */
    SB_AST_FOR,    /* a: iterator PV; b: iterable PV; c: body */
    SB_AST_SWITCH, /* a: subject; args: SB_AST_CASE list */
    SB_AST_CASE,   /* a: value (SB_AST_INT or SB_AST_STR), NULL for default; args: statements */
    SB_AST_BREAK,
    SB_AST_ASSIGN, /* op: assignment op; a: target PV; b: value */
    SB_AST_RETURN, /* args: code and values (may be empty: return;) */
    SB_AST_EXIT,
    SB_AST_DROP,
};

enum sb_ast_op {
    SB_OP_NONE = 0,
    /* unary */
    SB_OP_NOT,  /* ! not */
    SB_OP_NEG,  /* - */
    SB_OP_BNOT, /* ~ */
    /* binary */
    SB_OP_AND, /* && and */
    SB_OP_OR,  /* || or */
    SB_OP_EQ,
    SB_OP_NE,
    SB_OP_LT,
    SB_OP_GT,
    SB_OP_LE,
    SB_OP_GE,
    SB_OP_MATCH,  /* =~ */
    SB_OP_NMATCH, /* !~ */
    SB_OP_ADD,
    SB_OP_SUB,
    SB_OP_MUL,
    SB_OP_DIV,
    SB_OP_MOD,
    SB_OP_BAND,
    SB_OP_BOR,
    SB_OP_BXOR,
    SB_OP_SHL,
    SB_OP_SHR,
    /* assignment */
    SB_OP_SET,     /* = */
    SB_OP_SET_ALL, /* := */
    SB_OP_ADD_SET, /* += */
    SB_OP_SUB_SET, /* -= */
    SB_OP_MUL_SET, /* *= */
    SB_OP_DIV_SET, /* /= */
    SB_OP_MOD_SET, /* %= */
    SB_OP_AND_SET, /* &= */
    SB_OP_OR_SET,  /* |= */
    SB_OP_XOR_SET, /* ^= */
};

struct sb_ast {
    uint8_t kind; /* enum sb_ast_kind */
    uint8_t op;   /* enum sb_ast_op */
    struct sb_loc loc;
    int32_t num;
    sb_str str; /* in the cfg arena */
    struct sb_ast *a, *b, *c;
    struct sb_ast *args; /* first of a list linked by next */
    uint32_t n_args;
    struct sb_ast *next;
};

/* Top-level items of a configuration, in file order (includes expanded in place). */
enum sb_cfg_kind {
    SB_CFG_GLOBAL = 1, /* name = value: str name; value */
    SB_CFG_MPATH,      /* mpath = "dir": value */
    SB_CFG_LOADMODULE, /* loadmodule "x.so": value (SB_AST_STR) */
    SB_CFG_MODPARAM,   /* modparam("mod", "param", value): name = mod, param, value */
    SB_CFG_ROUTE,      /* a route block */
};

struct sb_cfg_item {
    uint8_t kind;        /* enum sb_cfg_kind */
    uint32_t route_type; /* SB_CFG_ROUTE: enum sb_route_type */
    struct sb_loc loc;
    sb_str name;          /* global name; module of modparam; route name (empty: the main one) */
    sb_str param;         /* modparam's parameter; event_route[E_X, mode]: the mode ("async") */
    struct sb_ast *value; /* global / mpath / loadmodule / modparam value; for a global with
                             several words (socket = udp:1.2.3.4:5060 as 5.6.7.8:5060) an
                             SB_AST_STR holding the whole text */
    int32_t interval;     /* timer_route[name, secs] */
    struct sb_ast *body;  /* SB_CFG_ROUTE: an SB_AST_BLOCK */
    struct sb_cfg_item *next;
};

struct sb_cfg {
    struct sb_arena arena; /* every node, string and file name */
    struct sb_cfg_item *items;
    const char **files; /* every file read, main first */
    uint32_t n_files;
};

/* Parse <path> (and the files it includes, relative to the including file, cycles refused) into
 * a new cfg. Syntax errors are added to <d> with file:line:col; parsing goes on after an error
 * where it can so that several are reported. Returns 0, or a negative value when <d> holds
 * errors (the cfg is then freed and *out is NULL). */
int sb_cfg_parse_file(const char *path, struct sb_diag *d, struct sb_cfg **out);
/* Same over text in memory; <name> is used as the file name in diagnostics, and includes resolve
 * relative to the current directory. */
int sb_cfg_parse_text(const char *name, const char *text, size_t len, struct sb_diag *d,
                      struct sb_cfg **out);
/* Options for sb_cfg_parse_text_opts(). */
#define SB_CFG_NO_INCLUDE (1u << 0) /* include_file / import_file are errors (untrusted text) */
/* sb_cfg_parse_text() with options (SB_CFG_*). */
int sb_cfg_parse_text_opts(const char *name, const char *text, size_t len, unsigned flags,
                           struct sb_diag *d, struct sb_cfg **out);
void sb_cfg_free(struct sb_cfg *cfg);

/* Print the tree back as configuration text (for tests and --dump-script). */
void sb_cfg_dump(const struct sb_cfg *cfg, FILE *out);

#endif
