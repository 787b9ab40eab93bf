/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared fixture of the tests that need a transport: a core configuration with listeners on
 * loopback, the socket table, a worker with its loop, and a UDP socket on loopback that plays the
 * client and reads what the proxy sends it. One per test binary, in W. Include after <cmocka.h>
 * and fixture_script.h. */
#ifndef SB_TEST_FIXTURE_WORKER_H
#define SB_TEST_FIXTURE_WORKER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/core_cfg.h"
#include "sb/fwd.h"
#include "sb/loop.h"
#include "sb/tp.h"
#include "sb/worker.h"

struct wfx {
    struct sb_core_cfg core;
    struct sb_arena arena; /* the listeners */
    struct sb_worker worker;
    int client_fd; /* the client, when wfx_client_open() made it */
    uint16_t client_port;
    char reply[4096]; /* what wfx_recv() read */
};

static struct wfx W;

/* A port of <type> (SOCK_DGRAM, SOCK_STREAM) on 127.0.0.1 that was free a moment ago. */
SFX uint16_t wfx_free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Default core settings and no listeners yet. */
SFX void wfx_core_init(void)
{
    sb_arena_init(&W.arena, NULL, 0, 0);
    sb_core_cfg_defaults(&W.core);
}

/* Add the listener <spec> ("udp:127.0.0.1:5060 as host:port") to the core settings. */
SFX void wfx_listen(const char *spec)
{
    struct sb_listen *l = sb_arena_zalloc(&W.arena, sizeof(*l));
    assert_non_null(l);
    const char *err = NULL;
    if (sb_listen_parse(sb_str_cstr(spec), l, &W.arena, &err) != 0)
        fail_msg("listener %s: %s", spec, err ? err : "?");
    l->next = W.core.listeners;
    W.core.listeners = l;
}

/* The client: a UDP socket bound to a free port of 127.0.0.1. */
SFX void wfx_client_open(void)
{
    W.client_fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(W.client_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(W.client_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(W.client_fd, (struct sockaddr *)&a, &len), 0);
    W.client_port = ntohs(a.sin_port);
}

/* Open the sockets of the configured listeners. */
SFX void wfx_tp_init(void)
{
    assert_int_equal(sb_tp_init(&W.core), 0);
}

/* Make W.worker the current worker, with a loop, and start its transports. */
SFX void wfx_worker_start(void)
{
    W.worker.id = 0;
    W.worker.loop = sb_loop_new();
    assert_non_null(W.worker.loop);
    sb_worker_self = &W.worker;
    assert_int_equal(sb_tp_worker_start(&W.worker), 0);
}

/* The client, one UDP listener on a free port of 127.0.0.1 and a running worker. */
SFX void wfx_udp_start(void)
{
    wfx_client_open();
    wfx_core_init();
    char spec[64];
    snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", wfx_free_port(SOCK_DGRAM));
    wfx_listen(spec);
    wfx_tp_init();
    wfx_worker_start();
}

/* Undo whichever of the above ran. */
SFX void wfx_stop(void)
{
    if (W.worker.loop) {
        sb_tp_worker_exit(&W.worker);
        sb_worker_self = NULL;
        sb_loop_free(W.worker.loop);
        W.worker.loop = NULL;
    }
    sb_tp_destroy();
    sb_arena_deinit(&W.arena);
    if (W.client_port)
        close(W.client_fd);
    W.client_port = 0;
}

/* A receive context of the first socket for a request from the client. */
SFX void wfx_rcv_from_client(void)
{
    F.rcv.sock = sb_tp_socket(0);
    assert_non_null(F.rcv.sock);
    F.rcv.peer = (struct sb_peer){
        .src_ip = SB_STR("127.0.0.1"), .src_port = W.client_port, .proto = SB_PROTO_UDP};
    sb_addr_set(&F.rcv.src, SB_STR("127.0.0.1"), W.client_port);
}

/* Drop what the client got and nobody read (left behind by a failed test). */
SFX void wfx_drain(void)
{
    char junk[4096];
    while (recv(W.client_fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
        ;
}

/* The datagram the client got within <ms>, in W.reply; "" when none came. */
SFX const char *wfx_recv(int ms)
{
    struct pollfd p = {.fd = W.client_fd, .events = POLLIN};
    W.reply[0] = '\0';
    if (poll(&p, 1, ms) != 1)
        return W.reply;
    ssize_t n = recv(W.client_fd, W.reply, sizeof(W.reply) - 1, 0);
    assert_true(n > 0);
    W.reply[n] = '\0';
    return W.reply;
}

#endif
