/* SPDX-License-Identifier: BSD-2-Clause */
/* Routing-script values, route types, results and the per-execution context. Types only. */
#ifndef SB_SCRIPT_T_H
#define SB_SCRIPT_T_H

#include "sb/arena.h"
#include "sb/base-t.h"

struct sb_msg;
struct sb_script;
struct sb_avps;
struct sb_uri;

/* Route block types, as bit flags so that a function can list where it is allowed. */
enum sb_route_type {
    SB_ROUTE_REQUEST = 1 << 0, /* route, route[name] reached from it */
    SB_ROUTE_FAILURE = 1 << 1,
    SB_ROUTE_ONREPLY = 1 << 2,
    SB_ROUTE_BRANCH = 1 << 3,
    SB_ROUTE_ERROR = 1 << 4,
    SB_ROUTE_LOCAL = 1 << 5,
    SB_ROUTE_STARTUP = 1 << 6,
    SB_ROUTE_TIMER = 1 << 7,
    SB_ROUTE_EVENT = 1 << 8,
};
#define SB_ROUTE_ALL 0x1ffu
/* Routes that carry a SIP message. */
#define SB_ROUTE_MSG                                                                               \
    (SB_ROUTE_REQUEST | SB_ROUTE_FAILURE | SB_ROUTE_ONREPLY | SB_ROUTE_BRANCH | SB_ROUTE_ERROR |   \
     SB_ROUTE_LOCAL)

/* A script value. OpenSIPS has 32-bit signed integers, strings and NULL. A string borrows: from
 * the message, from the compiled script (constants) or from the execution's scratch arena. */
enum sb_val_type {
    SB_VAL_NULL = 0,
    SB_VAL_INT,
    SB_VAL_STR,
};

struct sb_val {
    uint8_t type; /* enum sb_val_type */
    int32_t i;    /* SB_VAL_INT */
    sb_str s;     /* SB_VAL_STR */
};

/* How execution continues after a statement or a function. */
enum sb_ctl {
    SB_CTL_NEXT = 0, /* go on */
    SB_CTL_RETURN,   /* leave the current route (return) */
    SB_CTL_EXIT,     /* stop the whole script (exit, or a return code of 0 — OpenSIPS rule) */
    SB_CTL_DROP,     /* stop and drop (drop; in branch_route: drop the branch) */
    SB_CTL_BREAK,    /* leave the innermost switch / loop */
    SB_CTL_SUSPEND,  /* an async function suspended the script; it resumes later */
    SB_CTL_ERROR,    /* a runtime error: stop the script, log it */
};

/* The explicit result of a script function or route: <code> is what $rc sees (>0 true, <0 false,
 * 0 only together with SB_CTL_EXIT), <ctl> what happens next. Returned by value. */
typedef struct {
    int32_t code;
    uint8_t ctl; /* enum sb_ctl */
} sb_res;

static inline sb_res sb_res_code(int32_t code)
{
    /* OpenSIPS: a function returning 0 stops the script. Modules say so explicitly with
     * sb_res_exit(); a plain 0 here is treated the same way, never silently as "true". */
    return (sb_res){code, code == 0 ? SB_CTL_EXIT : SB_CTL_NEXT};
}
static inline sb_res sb_res_true(void)
{
    return (sb_res){1, SB_CTL_NEXT};
}
static inline sb_res sb_res_false(void)
{
    return (sb_res){-1, SB_CTL_NEXT};
}
static inline sb_res sb_res_exit(void)
{
    return (sb_res){0, SB_CTL_EXIT};
}
static inline sb_res sb_res_drop(void)
{
    return (sb_res){0, SB_CTL_DROP};
}
static inline sb_res sb_res_error(int32_t code)
{
    return (sb_res){code < 0 ? code : -1, SB_CTL_ERROR};
}

#define SB_SCRIPT_MAX_ARGS   8
#define SB_SCRIPT_MAX_DEPTH  64 /* nested route() calls */
#define SB_SCRIPT_MAX_RETURN 8  /* values of return(code, v1, ...) */

#define SB_MAX_BRANCHES 12 /* max_branches: the destination set, branch 0 included */

/* One extra branch of the destination set. Strings live in the message arena. */
struct sb_branch_ent {
    sb_str uri;
    sb_str dst_uri; /* p == NULL: none */
    sb_str path;    /* Path vector to turn into Route headers; p == NULL: none */
    int32_t q;      /* 0..1000, -1 when not given */
    uint32_t bflags;
    const void *sock; /* forced send socket, or NULL */
};

/* Per-request routing state that the script edits and the forwarding code reads. Strings live in
 * the message arena. */
struct sb_route_state {
    uint64_t seq;          /* a number unique to this message on this worker (sb_worker_unique), so
                              that module state kept per thread can tell messages apart */
    sb_str new_ruri;       /* $ru after a write; p == NULL: the received Request-URI */
    sb_str dst_uri;        /* $du; p == NULL: none */
    uint32_t flags;        /* message flags ($mf, setflag) */
    uint32_t bflags;       /* branch flags of branch 0 ($bf, setbflag) */
    bool force_rport;      /* force_rport() */
    bool maxfwd_done;      /* Max-Forwards already handled (maxfwd module): forwarding leaves it */
    bool replied;          /* a reply was sent for this request */
    bool forwarded;        /* the request was relayed/forwarded */
    const void *send_sock; /* force_send_socket(): a const struct sb_socket *, or NULL */
    /* Header lines ("Name: value\r\n") for the next locally generated reply (append_to_reply),
     * in the message arena; p == NULL: none. */
    sb_str reply_hdrs;
    /* Additional branches (append_msg_branch, lookup of several contacts): branch 0 is the
     * Request-URI itself and is not stored here. In the message arena. */
    struct sb_branch_ent *branches;
    uint32_t n_branches;
    /* Parse caches kept by the pseudo-variable engine: <new_ruri> and <dst_uri> parsed, in the
     * message arena. A cache is used only while its raw.p/raw.len equal the string it was parsed
     * from (every write makes a new string), so code that sets new_ruri/dst_uri need not touch
     * them. Zero-initialise with the rest of the struct. */
    const struct sb_uri *ruri_parsed;
    const struct sb_uri *duri_parsed;
};

/* Where a message came from and arrived: $si, $sp ... Filled by the transport layer for each
 * received message; the strings borrow from it and live at least as long as the execution. */
struct sb_peer {
    sb_str src_ip; /* textual address; IPv6 without brackets */
    uint16_t src_port;
    sb_str dst_ip; /* the local address the message arrived on */
    uint16_t dst_port;
    uint8_t proto; /* enum sb_proto */
};

/* One execution of the script over one message (or none: startup, timer, event routes). Lives on
 * the worker's stack; everything it allocates is in <scratch>, reset when the execution ends. */
struct sb_sctx {
    struct sb_msg *msg;         /* NULL in startup/timer/event routes */
    struct sb_msg *reply;       /* the <reply> context in failure/onreply routes, else NULL */
    struct sb_msg *request;     /* the <request> context in onreply routes (the transaction's
                                   request) when <msg> is a reply, else NULL */
    const struct sb_peer *peer; /* source/destination of <msg>; NULL when unknown */
    const struct sb_script *script;
    struct sb_route_state *rs; /* NULL when there is no message */
    struct sb_avps *avps;      /* $avp list (the transaction's, or this execution's) */
    struct sb_arena *scratch;  /* strings made while executing */
    uint32_t route_type;       /* enum sb_route_type of the running top route */
    int32_t rc;                /* $rc / $retcode */
    uint32_t depth;            /* route() nesting */
    const char *route_name;    /* $route */
    uint32_t cfg_line;         /* $cfg_line: line of the running statement */
    uint32_t n_params;         /* $param(n) of the running sub-route */
    struct sb_val params[SB_SCRIPT_MAX_ARGS];
    uint32_t n_returns; /* $return(n) set by the last return(code, v...) */
    struct sb_val returns[SB_SCRIPT_MAX_RETURN];
    const struct sb_val *event_params; /* event_route: $param(name) */
    uint32_t n_event_params;
    const sb_str *event_param_names;
    uint32_t loops; /* while iterations, bounded by max_while_loops */
};

#endif
