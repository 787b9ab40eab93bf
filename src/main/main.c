/* SPDX-License-Identifier: BSD-2-Clause */
/* switchboard: command line entry point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/log.h"

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
    int opt;
    while ((opt = getopt(argc, argv, "f:cFEVh")) != -1) {
        switch (opt) {
        case 'f': cfg = optarg; break;
        case 'c':
        case 'F':
        case 'E': break;
        case 'V': printf("switchboard %s\n", SB_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    (void)cfg;
    return 0;
}
