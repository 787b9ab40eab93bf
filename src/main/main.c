/* SPDX-License-Identifier: BSD-2-Clause */
/* switchboard: command line entry point. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/diag.h"
#include "sb/log.h"
#include "sb/script.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: switchboard [-f config] [-c] [-F] [-E] [-V] [-h]\n"
                 "  -f FILE  routing script (default etc/switchboard.cfg)\n"
                 "  -c       check the configuration and exit\n"
                 "  -F       stay in the foreground\n"
                 "  -E       log to stderr\n"
                 "  -V       print the version and exit\n");
}

int main(int argc, char **argv)
{
    const char *cfg = "etc/switchboard.cfg";
    bool check_only = false;
    int opt;
    while ((opt = getopt(argc, argv, "f:cFEVh")) != -1) {
        switch (opt) {
        case 'f': cfg = optarg; break;
        case 'c': check_only = true; break;
        case 'F':
        case 'E': break;
        case 'V': printf("switchboard %s\n", SB_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    struct sb_diag d;
    struct sb_script *script = NULL;
    sb_diag_init(&d);
    int rc = sb_script_load(cfg, &d, &script);
    sb_diag_print(&d, stderr);
    sb_diag_free(&d);
    if (rc != 0) {
        fprintf(stderr, "%s: configuration has errors\n", cfg);
        return 1;
    }
    if (check_only) {
        printf("%s: configuration ok\n", cfg);
        sb_script_free(script);
        return 0;
    }
    sb_script_free(script);
    SB_LOG(SB_LOG_NOTICE, "switchboard %s: configuration %s; the SIP runtime is not part of this "
                          "build yet, exiting", SB_VERSION, cfg);
    return 0;
}
