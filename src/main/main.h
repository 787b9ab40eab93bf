/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared between the command line and the supervisor (src/main only). */
#ifndef SB_MAIN_H
#define SB_MAIN_H

#include <stdbool.h>

struct sb_script;

#define SB_MAX_CLI_LISTENERS 64

struct sb_cli {
    const char *cfg_path;                        /* absolute once daemonized (chdir("/") follows) */
    bool check_only;                             /* -c */
    bool dump_script;                            /* --dump-script */
    bool foreground;                             /* -F */
    bool log_stderr;                             /* -E */
    bool no_supervisor;                          /* --no-supervisor */
    const char *pidfile;                         /* -P */
    unsigned n_workers;                          /* -w, 0: from the config or the CPU count */
    const char *listeners[SB_MAX_CLI_LISTENERS]; /* -l */
    unsigned n_listeners;
};

/* Load and check the script named by <cli>, add the -l listeners and print every diagnostic to
 * stderr. Returns the script or NULL. */
struct sb_script *sb__main_load(const struct sb_cli *cli);
/* Workers to start: -w, else udp_workers, else the online CPUs. */
unsigned sb__main_workers(const struct sb_cli *cli, const struct sb_script *s);

/* Write <pid> into <path> (atomically, via a temporary file). Returns 0 or -1 (logged). */
int sb__pidfile_write(const char *path, int pid);

/* Run the server under a supervisor that restarts it (see supervisor.c). <ready_fd>: where to
 * report a successful start, or -1. Returns the exit status. */
int sb__supervise(const struct sb_cli *cli, struct sb_script *s, int ready_fd);

#endif
