/* SPDX-License-Identifier: BSD-2-Clause */
/* SB_BUG_ON: a broken invariant is logged with where it broke and how we got there, then the
 * process aborts (the supervisor starts a fresh one). */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/log.h"

void sb__bug(const char *file, int line, const char *cond)
{
    static const char hdr[] = "backtrace:\n";
    void *frames[64];
    /* the log line first: it reaches syslog when stderr is /dev/null */
    sb_log(SB_LOG_CRIT, "BUG: %s:%d: %s", file, line, cond);
    int n = backtrace(frames, 64);
    if (sb__log_is_syslog()) {
        /* symbolising allocates, which a corrupted heap may not survive: stderr got it first */
        backtrace_symbols_fd(frames, n, STDERR_FILENO);
        char **sym = backtrace_symbols(frames, n);
        if (sym) {
            for (int i = 1; i < n; i++)
                sb_log(SB_LOG_CRIT, "  #%d %s", i, sym[i]);
            free(sym);
        }
    } else {
        if (write(STDERR_FILENO, hdr, sizeof(hdr) - 1) < 0) {
            /* nowhere else to report it; abort anyway */
        }
        backtrace_symbols_fd(frames, n, STDERR_FILENO);
    }
    abort();
}
