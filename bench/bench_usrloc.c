/* SPDX-License-Identifier: BSD-2-Clause */
/* Location table micro-benchmark: insert 100,000 one-contact AORs with typical field sizes and
 * report heap bytes per contact (mallinfo2 delta, RSS delta as a cross-check), insert and lookup
 * time. Fails when a lookup misses or the memory target (600 bytes per contact) is exceeded in a
 * build whose allocator mallinfo2 can see (not under ASan). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb/usrloc.h"

#define N_CONTACTS   100000
#define TARGET_BYTES 600

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * 4;
}

int main(void)
{
    struct sb_ul_domain *d;
    if (sb_ul_domain_register(SB_STR("location"), &d) != 0)
        return 1;
    struct mallinfo2 m0 = mallinfo2();
    long r0 = rss_kb();
    double t0 = now_s();
    char aor[64], uri[96], callid[64];
    for (int i = 0; i < N_CONTACTS; i++) {
        int al = snprintf(aor, sizeof(aor), "user%06d@example.com", i);
        int ul = snprintf(uri, sizeof(uri), "sip:user%06d@192.0.%d.%d:5060;transport=udp", i,
                          (i >> 8) & 255, i & 255);
        int cl = snprintf(callid, sizeof(callid), "%08x-%08x@192.0.2.1", (unsigned)i * 2654435761u,
                          (unsigned)i);
        struct sb_ul_info ci = {
            .uri = {uri, (size_t)ul},
            .callid = {callid, (size_t)cl},
            .user_agent = SB_STR("Yealink SIP-T46S 66.86.0.15"),
            .socket = SB_STR("udp:203.0.113.1:5060"),
            .expires = sb_ul_now() + 3600,
            .cseq = 1,
            .methods = 0xffffffffu,
            .q = -1,
        };
        struct sb_ul_txn t;
        sb_ul_begin(d, (sb_str){aor, (size_t)al}, &t);
        if (sb_ul_insert(&t, &ci, NULL) != 0)
            return 1;
        sb_ul_end(&t);
    }
    double t1 = now_s();
    struct mallinfo2 m1 = mallinfo2();
    long r1 = rss_kb();
    unsigned misses = 0;
    for (int i = 0; i < N_CONTACTS; i++) {
        int al = snprintf(aor, sizeof(aor), "user%06d@example.com", i);
        struct sb_ul_txn t;
        sb_ul_begin(d, (sb_str){aor, (size_t)al}, &t);
        misses += sb_ul_count(&t) != 1;
        sb_ul_end(&t);
    }
    double t2 = now_s();
    size_t heap = m1.uordblks - m0.uordblks;
    double per = (double)heap / N_CONTACTS;
    double per_rss = (double)(r1 - r0) * 1024.0 / N_CONTACTS;
    printf("usrloc: %d contacts: %.0f bytes/contact (heap), %.0f bytes/contact (RSS), "
           "insert %.0f ns, lookup %.0f ns, %u misses\n",
           N_CONTACTS, per, per_rss, (t1 - t0) * 1e9 / N_CONTACTS, (t2 - t1) * 1e9 / N_CONTACTS,
           misses);
    if (misses)
        return 1;
    /* under ASan mallinfo2 sees nothing (heap == 0): then only RSS is reported */
    if (heap && per > TARGET_BYTES) {
        fprintf(stderr, "usrloc: %.0f bytes per contact is over the %d byte target\n", per,
                TARGET_BYTES);
        return 1;
    }
    return 0;
}
