/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP send batching: what a worker sends while it handles a receive batch leaves in one sendmmsg
 * at the end of the batch, in order and with the bytes it had when it was queued; a destination
 * not reached before is sent to at once (its errors reach the caller), and so is a send outside a
 * receive batch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture_script.h"
#include "fixture_worker.h"

#include "sb/buf.h"

static unsigned n_got, echo_sent, echo_seen_in_batch;

/* Echo every datagram back from inside the receive callback, then count the echoes the client
 * already has: loopback delivers a direct send before sendmsg returns. */
static void echo_receiver(struct sb_rcv *r, struct sb_buf *b, uint32_t len)
{
    n_got++;
    struct sb_dest d = {.proto = SB_PROTO_UDP, .sock = r->sock};
    assert_int_equal(sb_addr_set(&d.to, r->peer.src_ip, r->peer.src_port), 0);
    char head[16];
    memcpy(head, "re:", 3);
    struct iovec iov[2] = {{.iov_base = head, .iov_len = 3}, {.iov_base = b->data, .iov_len = len}};
    assert_int_equal(sb_tp_send(&d, iov, 2), 0);
    echo_sent++;
    /* the caller may reuse its buffers at once */
    memset(head, 'X', sizeof(head));
    char tmp[256];
    ssize_t n;
    while ((n = recv(W.client_fd, tmp, sizeof(tmp) - 1, MSG_DONTWAIT)) > 0) {
        tmp[n] = '\0';
        char want[32];
        snprintf(want, sizeof(want), "re:dgram %u", echo_seen_in_batch);
        assert_string_equal(tmp, want);
        echo_seen_in_batch++;
    }
}

static void pump(unsigned want, unsigned ms)
{
    uint64_t end = sb_now_ms() + ms;
    while (n_got < want && sb_now_ms() < end)
        sb_loop_run_once(W.worker.loop, 10);
}

static void to_server(const char *text)
{
    struct sockaddr_in srv = {.sin_family = AF_INET,
                              .sin_port = htons(sb_tp_socket(0)->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    size_t len = strlen(text);
    assert_int_equal(sendto(W.client_fd, text, len, 0, (struct sockaddr *)&srv, sizeof(srv)),
                     (ssize_t)len);
}

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    wfx_udp_start();
    /* the counters are summed over the runtime's workers */
    sb_rt.n_workers = 1;
    sb_rt.workers = &W.worker;
    sb_tp_set_receiver(echo_receiver);
    n_got = echo_sent = echo_seen_in_batch = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_tp_set_receiver(NULL);
    wfx_stop();
    sb_rt.n_workers = 0;
    sb_rt.workers = NULL;
    return 0;
}

static void test_udp_send_batched(void **state)
{
    (void)state;
    enum { N = 8 };
    /* one datagram first, so that the client is a destination already reached */
    to_server("dgram 0");
    pump(1, 2000);
    assert_int_equal(echo_sent, 1);
    if (echo_seen_in_batch == 0) {
        /* a new destination is sent to at once; the kernel may still defer the delivery */
        assert_string_equal(wfx_recv(2000), "re:dgram 0");
        echo_seen_in_batch = 1;
    }
    assert_int_equal(echo_seen_in_batch, 1);
    char text[N][16];
    for (unsigned i = 1; i < N; i++) {
        snprintf(text[i], sizeof(text[i]), "dgram %u", i);
        to_server(text[i]);
    }
    pump(N, 2000);
    assert_int_equal(echo_sent, N);
    /* the rest came in one batch and was queued: nothing of it had arrived while it was handled */
    assert_int_equal(echo_seen_in_batch, 1);
    for (unsigned i = 1; i < N; i++) {
        char want[32];
        snprintf(want, sizeof(want), "re:%s", text[i]);
        assert_string_equal(wfx_recv(2000), want);
    }
    struct sb_tp_stats st;
    sb_tp_stats(&st);
    assert_int_equal(st.snd_msgs, N);
}

/* Outside a receive batch (a timer, a task posted by another worker) a send leaves at once. */
static void test_udp_send_outside_batch(void **state)
{
    (void)state;
    struct sb_dest d = {.proto = SB_PROTO_UDP};
    assert_int_equal(sb_addr_set(&d.to, SB_STR("127.0.0.1"), W.client_port), 0);
    for (int i = 0; i < 3; i++) {
        /* no loop turn in between: a send left queued here would never arrive */
        assert_int_equal(sb_tp_send_buf(&d, "ping", 4), 0);
        assert_string_equal(wfx_recv(2000), "ping");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_udp_send_batched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_send_outside_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
