/* SPDX-License-Identifier: BSD-2-Clause */
/* The management interface: JSON-RPC 2.0 commands (OpenSIPS names), registered from the module
 * tables and the core, run by the transports (mi_http, mi_fifo) on their own threads. Every
 * command handler runs under one lock, never on a SIP worker; what needs a worker's state is
 * posted to the worker with sb_mi_on_workers(). A handler that would wait long (t_uac_dlg) goes
 * asynchronous instead: it returns SB_MI_PENDING, the lock is released, and the result is
 * delivered later through its struct sb_mi_async. Results and parameters are jansson values. */
#ifndef SB_MI_H
#define SB_MI_H

#include <jansson.h>

#include "sb/base-t.h"

struct sb_modset;
struct sb_mi_async;

/* JSON-RPC 2.0 error codes (and OpenSIPS's server-error use of -32000). */
enum {
    SB_MI_PARSE_ERROR = -32700,
    SB_MI_INVALID_REQUEST = -32600,
    SB_MI_METHOD_NOT_FOUND = -32601,
    SB_MI_INVALID_PARAMS = -32602,
    SB_MI_SERVER_ERROR = -32000,
};

#define SB_MI_MAX_PARAMS  6 /* parameters of one recipe */
#define SB_MI_MAX_RECIPES 4 /* recipes (parameter sets) of one command */

/* One execution of a command. <params> is an object keyed by the recipe's parameter names
 * (positional parameters are mapped onto names before the handler runs); borrowed. */
struct sb_mi_call {
    json_t *params;
    const char *method; /* the name the client used */
    int err_code;       /* set by sb_mi_error() */
    char err_msg[256];
    json_t *err_data;          /* optional "data" of the error (owned by the call) */
    struct sb_mi_async *async; /* set by sb_mi_async_start() */
};

/* Returns the result (a new reference: "OK", an object ...), NULL after sb_mi_error(), or
 * SB_MI_PENDING after sb_mi_async_start(). */
typedef json_t *(*sb_mi_fn)(struct sb_mi_call *c);

/* What an asynchronous handler returns; never a real value. */
extern json_t sb__mi_pending;
#define SB_MI_PENDING (&sb__mi_pending)

/* A way to call the command: a handler and the exact set of parameter names it takes. Named
 * parameters must match one recipe's set exactly; positional ones pick the recipe with as many
 * parameters, names taken in order. */
struct sb_mi_recipe {
    sb_mi_fn fn;
    const char *params[SB_MI_MAX_PARAMS + 1]; /* NULL-terminated; {NULL} for no parameters */
};

/* A command, in a module's table (mod-t.h: .mi, terminated by name == NULL). Every command is
 * also reachable as "<module>:<name>" (4.x style: "core:ps"); <alias> adds one more name
 * ("statistics:get" for get_statistics). */
struct sb_mi_cmd {
    const char *name;
    const char *help;
    const char *alias;
    struct sb_mi_recipe recipes[SB_MI_MAX_RECIPES]; /* ends at the first fn == NULL */
};

/* Set the call's error and return NULL (so a handler can `return sb_mi_error(...)`). */
json_t *sb_mi_error(struct sb_mi_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parameter accessors on c->params. NULL / SB_ENOENT when absent; a wrong type is
 * SB_EINVAL. sb_mi_param_int accepts a JSON integer or a string of digits (FIFO clients send
 * strings). */
json_t *sb_mi_param(const struct sb_mi_call *c, const char *name);
const char *sb_mi_param_str(const struct sb_mi_call *c, const char *name);
int sb_mi_param_int(const struct sb_mi_call *c, const char *name, int64_t *out);

/* ---- asynchronous commands ----------------------------------------------------------------- */

#define SB_MI_ASYNC_TIMEOUT_MS 60000 /* time limit when the handler gives none */

/* Inside a handler: make this call asynchronous. Returns the completion object, holding one
 * reference for the caller (the completer), or NULL when out of memory or when the management
 * interface is shutting down (then answer at once: return sb_mi_error(...)). The handler then
 * returns SB_MI_PENDING; <c>->params is released when it returns, so copy what the completer
 * needs. If the handler returns anything else after all, that is the answer and a later
 * completion is refused. Unless completed within <timeout_ms> (0: SB_MI_ASYNC_TIMEOUT_MS) of the
 * handler's return, the client gets -32000 "no result within N ms". Management thread. */
struct sb_mi_async *sb_mi_async_start(struct sb_mi_call *c, unsigned timeout_ms);
/* Another reference, for a second possible completer (a timer and a reply callback). */
struct sb_mi_async *sb_mi_async_ref(struct sb_mi_async *a);
/* Complete with <result> (a new reference, taken; NULL counts as a server error) or with an
 * error. Both release the caller's reference to <a>, so <a> may not be used after. Any thread.
 * The first completion wins and is delivered to the client before these return; a later one
 * (another completer, or after the time limit or a shutdown answered) is refused: its result
 * is freed and SB_ENOENT returned. */
int sb_mi_async_done(struct sb_mi_async *a, json_t *result);
int sb_mi_async_error(struct sb_mi_async *a, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Release a reference without completing (the time limit answers). Any thread. */
void sb_mi_async_unref(struct sb_mi_async *a);
/* Calls waiting for a completion (tests, diagnostics). */
unsigned sb_mi_async_pending(void);
/* Answer every pending call with -32000 "shutting down", refuse new asynchronous calls, wait for
 * deliveries in progress and stop the time-limit thread. Transports call it in their destroy
 * before they stop (their reply callbacks are not called after it returns); idempotent.
 * sb_mi_init() allows asynchronous calls again. Not from a reply callback. */
void sb_mi_async_shutdown(void);

/* ---- registry (control thread, before the transports start) -------------------------------- */

/* Forget every command, then register the core's commands. */
int sb_mi_init(void);
/* Register <cmds> (terminated by name == NULL) of module <owner>. A name already registered is
 * refused (logged, SB_EINVAL). */
int sb_mi_register(const char *owner, const struct sb_mi_cmd *cmds);
/* At sb_modset_start: sb_mi_init(), the module tables of <ms>, and the core statistics groups
 * (core:, net:, shmem:). */
int sb_mi_modset_start(const struct sb_modset *ms);
/* Forget every command (shutdown, tests). */
void sb_mi_destroy(void);

/* Find a command by its name, its alias or "<owner>:<name>". *owner gets the module name. */
const struct sb_mi_cmd *sb_mi_find(sb_str name, const char **owner);
/* Registered commands, in registration order (which, help). */
unsigned sb_mi_count(void);
const struct sb_mi_cmd *sb_mi_at(unsigned i, const char **owner);

/* ---- execution (transport threads) --------------------------------------------------------- */

/* Handle one JSON-RPC request text. Returns the reply text (malloc'd, caller frees), or NULL
 * for a notification (a request without "id": executed, nothing to answer) and when memory ran
 * out. Every other problem is a JSON-RPC error reply. */
char *sb_mi_handle(const char *req, size_t len);
/* The same on a parsed request; returns the reply object (new reference) or NULL for a
 * notification. */
json_t *sb_mi_handle_json(json_t *req);
/* Run one command directly (tests, other modules): <params> is an array, an object or NULL.
 * Returns the result, or NULL with c->err_code set. An asynchronous command is waited for (not
 * under the management lock). */
json_t *sb_mi_run(const char *method, json_t *params, struct sb_mi_call *c);

/* Where a transport gets the reply of a request that went asynchronous: <reply> is a new
 * reference (the object, or the array of a batch), or NULL when there is nothing to answer
 * (notifications only). Called once, from any thread (a SIP worker, the time-limit thread);
 * it must not block and must not call back into the management interface. */
typedef void (*sb_mi_reply_fn)(void *arg, json_t *reply);
/* Handle a parsed request (object or batch) without waiting for asynchronous commands. Returns
 * 0 with *reply set (a new reference, or NULL for nothing to answer) when every command of it
 * finished before this returned: <cb> is not called. Returns 1 when one is pending: <cb> gets
 * the reply later (possibly before this returns, from another thread). JSON-RPC ids are kept.
 * Returns < 0 (SB_ENOMEM) with nothing to call back. Transport threads. */
int sb_mi_handle_json_async(json_t *req, sb_mi_reply_fn cb, void *arg, json_t **reply);
/* The same on request text; a parse error is answered at once. */
int sb_mi_handle_async(const char *req, size_t len, sb_mi_reply_fn cb, void *arg, json_t **reply);
/* The text of a reply (compact JSON, malloc'd; a fixed server error when out of memory); takes
 * <reply>. NULL for NULL. */
char *sb_mi_reply_text(json_t *reply);

/* ---- helpers for commands ------------------------------------------------------------------ */

/* Run fn(worker, arg) on every running worker's thread and wait, at most <timeout_ms>, for all
 * of them. Calls of fn are serialized (a lock is held around each), so fn may write into <arg>
 * without more locking; after a timeout no late call touches <arg>. Returns how many workers
 * ran fn, or < 0. MI threads only (never on a worker: it would wait for itself). */
int sb_mi_on_workers(void (*fn)(unsigned worker, void *arg), void *arg, unsigned timeout_ms);

/* A management thread announces itself for `ps` ("HTTPD", "MI FIFO"); call on that thread.
 * sb_mi_thread_gone() when it ends. */
void sb_mi_thread_register(const char *type);
void sb_mi_thread_gone(void);

#endif
