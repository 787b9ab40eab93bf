/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the stream framer: a TCP reader fed in chunks must cut the same messages as
 * one fed the whole stream at once, and a framed length never exceeds what was received.
 * Input: byte 0 = k (mod 16), k chunk-plan bytes, then the stream bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb/msg.h"

#include "fuzz_check.h"

#define MAX_MSGS 4096

struct reader {
    long lens[MAX_MSGS]; /* framed message lengths, in order */
    size_t n;
    size_t skipped; /* keep-alive bytes consumed between messages */
    long end;       /* why framing stopped: an error, or SB_EAGAIN (waiting for more) */
};

/* Frame what is available from <*pos> on, as a reader does after each read: drop keep-alive CRLFs,
 * cut every complete message, stop on an incomplete one or an error (the connection is closed). */
static bool frame_available(struct reader *r, const char *buf, size_t have, size_t *pos,
                            const struct sb_msg_limits *lim, struct sb_msg *m)
{
    for (;;) {
        while (*pos < have && (buf[*pos] == '\r' || buf[*pos] == '\n')) {
            (*pos)++;
            r->skipped++;
        }
        if (*pos == have) {
            r->end = SB_EAGAIN;
            return true;
        }
        long n = sb_msg_frame(buf + *pos, have - *pos, lim);
        if (n == SB_EAGAIN) {
            r->end = SB_EAGAIN;
            return true;
        }
        if (n < 0) {
            CHECK(n == SB_EPARSE || n == SB_ELIMIT);
            r->end = n;
            return false;
        }
        CHECK((size_t)n <= have - *pos);
        CHECK(n <= (long)lim->max_size);
        /* the message framed on its own bytes gives the same length */
        CHECK(sb_msg_frame(buf + *pos, (size_t)n, lim) == n);
        /* a stream parse that succeeds on the framed bytes takes all of them */
        if (sb_msg_parse(m, buf + *pos, (size_t)n, SB_MSG_STREAM) == 0)
            CHECK(m->len == (uint32_t)n);
        if (r->n < MAX_MSGS)
            r->lens[r->n] = n;
        r->n++;
        *pos += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct reader whole, chunked;
    static struct sb_msg m;
    static bool init;
    if (!init) {
        sb_msg_init(&m, NULL);
        init = true;
    }
    if (size < 1)
        return 0;
    size_t k = data[0] % 16;
    if (size < 1 + k)
        return 0;
    const uint8_t *plan = data + 1;
    const char *in = (const char *)data + 1 + k;
    size_t len = size - 1 - k;

    /* a small size limit (chosen by the plan) exercises SB_ELIMIT */
    struct sb_msg_limits lim = sb_msg_limits_default;
    if (k && (plan[0] & 0x80))
        lim.max_size = 64 + (uint32_t)(plan[0] & 0x7f) * 8;

    /* the whole stream at once */
    memset(&whole, 0, sizeof(whole));
    size_t pos = 0;
    frame_available(&whole, in, len, &pos, &lim, &m);

    /* the same stream in chunks; the buffer is reallocated to exactly what was received, so that a
     * read past it hits the sanitizer's redzone */
    memset(&chunked, 0, sizeof(chunked));
    chunked.end = SB_EAGAIN;
    char *buf = NULL;
    size_t have = 0, j = 0;
    pos = 0;
    bool open = true;
    while (have < len && open) {
        size_t step = k ? (size_t)plan[j++ % k] + 1 : 1 + (have % 7);
        if (step > len - have)
            step = len - have;
        char *nb = realloc(buf, have + step);
        CHECK(nb != NULL);
        buf = nb;
        memcpy(buf + have, in + have, step);
        have += step;
        open = frame_available(&chunked, buf, have, &pos, &lim, &m);
    }
    free(buf);

    CHECK(chunked.n == whole.n);
    size_t n = whole.n < MAX_MSGS ? whole.n : MAX_MSGS;
    for (size_t i = 0; i < n; i++)
        CHECK(chunked.lens[i] == whole.lens[i]);
    CHECK(chunked.end == whole.end);
    CHECK(chunked.skipped == whole.skipped);
    sb_msg_reset(&m);
    return 0;
}
