/* SPDX-License-Identifier: BSD-2-Clause */
/* The server process: start the workers, serve until asked to stop, reload the routes. The
 * command line (src/main) owns daemonizing and the supervisor; this is what runs inside. */
#ifndef SB_RUNTIME_H
#define SB_RUNTIME_H

#include "sb/base-t.h"
#include "sb/diag.h"

struct sb_script;

struct sb_server_opts {
    const char *script_path; /* for reloads */
    unsigned n_workers;      /* > 0; the caller applies -w / udp_workers / CPU count */
    int ready_fd;            /* >= 0: one byte is written here once the server serves, then it
                                is closed (the supervisor and daemon parent wait for it) */
};

/* Run the server on <script> (loaded and checked; ownership passes). Blocks the handled signals
 * in every thread and takes SIGTERM/SIGINT (graceful stop) and SIGHUP (reload routes) on the
 * calling thread, which becomes the control thread. Returns the process exit status: 0 after a
 * graceful stop, 1 when start-up failed. */
int sb_server_run(struct sb_script *script, const struct sb_server_opts *o);

/* Any thread: start a graceful stop, as SIGTERM does. */
void sb_server_stop(void);

/* reload_routes: read, check and compile the script file again and publish it to the workers.
 * On failure every problem is in <d> and the running script stays. Any thread except a worker
 * (it waits for the workers to adopt); reloads are serialised. Returns 0 or < 0. */
int sb_reload_routes(struct sb_diag *d);

/* Which file sb_reload_routes() reads. Set by sb_server_run(). */
void sb_runtime_set_script_path(const char *path);

/* Internal. */
/* How long sb_publish_script() waits for every worker to adopt a new script (ms). */
extern unsigned sb__rt_publish_wait_ms;
/* After the workers have stopped: free the published script and every retired one. */
void sb__rt_scripts_free(void);

#endif
