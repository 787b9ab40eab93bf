/* SPDX-License-Identifier: BSD-2-Clause */
/* UDP reply steering: the UDP sockets of one listening address are created for all workers at
 * once, in worker order, so that a socket's index in the kernel's SO_REUSEPORT group is its
 * worker's id; a classic BPF program on the group then hands a reply whose top Via branch names
 * one of our workers to that worker's socket, and leaves everything else to the kernel's hash. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/msg_build.h"
#include "sb/worker.h"
#include "tp/tp_int.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

/* ---- the program ------------------------------------------------------------------------------
 * For UDP the kernel runs it on the payload (the datagram after its UDP header); its return value
 * is an index in the group, and one past the group means "use the hash". A load past the end of
 * the datagram ends a classic program with 0 -- socket 0 -- so every load is preceded by a check
 * of the length. There are no backward jumps: the scan is unrolled, one aligned word every four
 * bytes, compared with the four words an occurrence of the cookie can put there. Positions are
 * grouped by 16 with one length check per group; a branch in the last few bytes of a datagram
 * falls back, which a reply never has (From, To, Call-ID and CSeq follow the Via). */

#define FIRST_POS   12 /* "SIP/2.0 NNN " comes first: the cookie cannot start before 9 */
#define GROUP_POS   16
#define GROUP_SLACK 16 /* bytes a group needs past its last position: the digits follow */
#define MAX_LABELS  512

struct asm_ {
    struct sock_filter *ins;
    unsigned n, cap;
    /* forward references: per instruction, the labels its jt / jf (or ja's k) go to */
    int *jt_lbl, *jf_lbl;
    int lbl_at[MAX_LABELS];
    unsigned n_lbl;
    int err;
};

#define NEXT (-1) /* a conditional jump's "fall through" */

static int new_label(struct asm_ *a)
{
    if (a->n_lbl >= MAX_LABELS) {
        a->err = SB_ELIMIT;
        return 0;
    }
    a->lbl_at[a->n_lbl] = -1;
    return (int)a->n_lbl++;
}

static void place(struct asm_ *a, int lbl)
{
    a->lbl_at[lbl] = (int)a->n;
}

static void op(struct asm_ *a, uint16_t code, uint32_t k, int jt, int jf)
{
    if (a->n >= a->cap) {
        a->err = SB_ELIMIT;
        return;
    }
    a->ins[a->n] = (struct sock_filter){.code = code, .k = k};
    a->jt_lbl[a->n] = jt;
    a->jf_lbl[a->n] = jf;
    a->n++;
}

static void stmt(struct asm_ *a, uint16_t code, uint32_t k)
{
    op(a, code, k, NEXT, NEXT);
}

/* Resolve the labels: conditional offsets must fit in 8 bits, and every jump goes forward. */
static void link_(struct asm_ *a)
{
    for (unsigned i = 0; i < a->n && !a->err; i++) {
        struct sock_filter *f = &a->ins[i];
        bool is_ja = f->code == (BPF_JMP | BPF_JA);
        for (int side = 0; side < 2; side++) {
            int lbl = side ? a->jf_lbl[i] : a->jt_lbl[i];
            if (lbl == NEXT)
                continue;
            int at = a->lbl_at[lbl];
            if (at <= (int)i) {
                a->err = SB_EINVAL;
                return;
            }
            unsigned off = (unsigned)at - i - 1;
            if (is_ja) {
                f->k = off;
            } else if (off > 255) {
                a->err = SB_ELIMIT;
                return;
            } else if (side) {
                f->jf = (uint8_t)off;
            } else {
                f->jt = (uint8_t)off;
            }
        }
    }
}

/* Big-endian word of the 4 bytes at <s>, as "ld [k]" reads them. */
static uint32_t be32(const char *s)
{
    return (uint32_t)(unsigned char)s[0] << 24 | (uint32_t)(unsigned char)s[1] << 16 |
           (uint32_t)(unsigned char)s[2] << 8 | (uint32_t)(unsigned char)s[3];
}

/* A = base-32 value of the digit in A (either case), stored in M[<slot>]; else to <fail>. */
static void digit(struct asm_ *a, uint32_t slot, int fail)
{
    int alpha = new_label(a), done = new_label(a);
    op(a, BPF_JMP | BPF_JGE | BPF_K, TP_STEER_DIGITS[0], NEXT, fail);
    op(a, BPF_JMP | BPF_JGT | BPF_K, TP_STEER_DIGITS[9], alpha, NEXT);
    stmt(a, BPF_ALU | BPF_SUB | BPF_K, TP_STEER_DIGITS[0]);
    op(a, BPF_JMP | BPF_JA, 0, done, NEXT);
    place(a, alpha);
    /* digits already have bit 5 set: only letters change case */
    stmt(a, BPF_ALU | BPF_OR | BPF_K, 0x20);
    op(a, BPF_JMP | BPF_JGE | BPF_K, TP_STEER_DIGITS[10], NEXT, fail);
    op(a, BPF_JMP | BPF_JGT | BPF_K, TP_STEER_DIGITS[31], fail, NEXT);
    stmt(a, BPF_ALU | BPF_SUB | BPF_K, (uint32_t)TP_STEER_DIGITS[10] - 10);
    place(a, done);
    stmt(a, BPF_ST, slot);
}

int sb__tp_steer_prog(struct sock_filter *out, unsigned cap, unsigned n_workers, unsigned window)
{
    if (n_workers < 1 || n_workers > SB_BRANCH_MAX_WORKER + 1 || window < FIRST_POS + 4)
        return SB_EINVAL;
    struct asm_ a = {.ins = out, .cap = cap};
    a.jt_lbl = malloc(cap * sizeof(int));
    a.jf_lbl = malloc(cap * sizeof(int));
    if (!a.jt_lbl || !a.jf_lbl) {
        free(a.jt_lbl);
        free(a.jf_lbl);
        return SB_ENOMEM;
    }
    /* The cookie and the letters of the mark compared in lower case, as sb_branch_worker takes
     * either: OR 0x20 lowers letters and leaves the cookie's digits as they are. */
    char cookie[8];
    for (int i = 0; i < 7; i++)
        cookie[i] = (char)(TP_STEER_COOKIE[i] | 0x20);
    cookie[7] = '\0';
    uint32_t word[4];
    for (int j = 0; j < 4; j++)
        word[j] = be32(cookie + j);
    const uint32_t fb = TP_STEER_FALLBACK;
    int decode[4], fail = new_label(&a);
    for (int j = 0; j < 4; j++)
        decode[j] = new_label(&a);

    /* replies only: a request belongs to whoever the hash picks */
    int not_reply = new_label(&a), scan = new_label(&a);
    stmt(&a, BPF_LD | BPF_W | BPF_LEN, 0);
    op(&a, BPF_JMP | BPF_JGE | BPF_K, FIRST_POS + GROUP_SLACK, NEXT, not_reply);
    stmt(&a, BPF_LD | BPF_W | BPF_ABS, 0);
    op(&a, BPF_JMP | BPF_JEQ | BPF_K, be32("SIP/"), scan, NEXT);
    place(&a, not_reply);
    stmt(&a, BPF_RET | BPF_K, fb);
    place(&a, scan);

    unsigned pos = FIRST_POS;
    while (pos + 4 <= window && !a.err) {
        unsigned last = pos + 4 * (GROUP_POS - 1);
        if (last + 4 > window)
            last = pos + (window - 4 - pos) / 4 * 4;
        int stub[4], gfail = new_label(&a), next_group = new_label(&a);
        for (int j = 0; j < 4; j++)
            stub[j] = new_label(&a);
        stmt(&a, BPF_LD | BPF_W | BPF_LEN, 0);
        op(&a, BPF_JMP | BPF_JGE | BPF_K, last + GROUP_SLACK, NEXT, gfail);
        for (; pos <= last; pos += 4) {
            /* X = the word's offset; the cookie starts j bytes before it for match j */
            stmt(&a, BPF_LDX | BPF_W | BPF_IMM, pos);
            stmt(&a, BPF_LD | BPF_W | BPF_IND, 0);
            stmt(&a, BPF_ALU | BPF_OR | BPF_K, 0x20202020);
            for (int j = 0; j < 4; j++)
                op(&a, BPF_JMP | BPF_JEQ | BPF_K, word[j], stub[j], NEXT);
        }
        op(&a, BPF_JMP | BPF_JA, 0, next_group, NEXT);
        for (int j = 0; j < 4; j++) {
            place(&a, stub[j]);
            op(&a, BPF_JMP | BPF_JA, 0, decode[j], NEXT);
        }
        place(&a, gfail);
        stmt(&a, BPF_RET | BPF_K, fb);
        place(&a, next_group);
    }
    /* nothing in the window */
    stmt(&a, BPF_RET | BPF_K, fb);

    /* X = start of the cookie: one less per byte of misalignment */
    for (int j = 3; j >= 1; j--) {
        place(&a, decode[j]);
        stmt(&a, BPF_MISC | BPF_TXA, 0);
        stmt(&a, BPF_ALU | BPF_SUB | BPF_K, 1);
        stmt(&a, BPF_MISC | BPF_TAX, 0);
    }
    place(&a, decode[0]);
    /* the whole cookie and the mark: the scan saw only four bytes of it */
    stmt(&a, BPF_LD | BPF_W | BPF_IND, 0);
    stmt(&a, BPF_ALU | BPF_OR | BPF_K, 0x20202020);
    op(&a, BPF_JMP | BPF_JEQ | BPF_K, be32(cookie), NEXT, fail);
    stmt(&a, BPF_LD | BPF_H | BPF_IND, 4);
    stmt(&a, BPF_ALU | BPF_OR | BPF_K, 0x2020);
    op(&a, BPF_JMP | BPF_JEQ | BPF_K, be32(cookie + 4) >> 16, NEXT, fail);
    stmt(&a, BPF_LD | BPF_B | BPF_IND, 6);
    stmt(&a, BPF_ALU | BPF_OR | BPF_K, 0x20);
    op(&a, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)cookie[6], NEXT, fail);
    stmt(&a, BPF_LD | BPF_H | BPF_IND, 7);
    stmt(&a, BPF_ALU | BPF_OR | BPF_K, 0x2020);
    op(&a, BPF_JMP | BPF_JEQ | BPF_K,
       (uint32_t)((TP_STEER_MARK[0] | 0x20) << 8 | (TP_STEER_MARK[1] | 0x20)), NEXT, fail);
    stmt(&a, BPF_LD | BPF_B | BPF_IND, 9);
    digit(&a, 0, fail);
    stmt(&a, BPF_LD | BPF_B | BPF_IND, 10);
    digit(&a, 1, fail);
    /* worker = first digit * 32 + second (sb_branch_make) = its socket's index in the group */
    stmt(&a, BPF_LD | BPF_MEM, 0);
    stmt(&a, BPF_ALU | BPF_LSH | BPF_K, 5);
    stmt(&a, BPF_LDX | BPF_MEM, 1);
    stmt(&a, BPF_ALU | BPF_ADD | BPF_X, 0);
    op(&a, BPF_JMP | BPF_JGE | BPF_K, n_workers, fail, NEXT);
    stmt(&a, BPF_RET | BPF_A, 0);
    place(&a, fail);
    stmt(&a, BPF_RET | BPF_K, fb);

    if (!a.err)
        link_(&a);
    free(a.jt_lbl);
    free(a.jf_lbl);
    return a.err ? a.err : (int)a.n;
}

/* ---- the groups ------------------------------------------------------------------------------ */

#define STEER_WINDOW  1024
#define PROBE_WAIT_MS 200
#define PROBE_BUF     512

/* Sockets made ahead for the workers: [n_socks][n_pre], -1 where none is (or taken). */
static pthread_mutex_t pre_lock = PTHREAD_MUTEX_INITIALIZER;
static int *pre_fds;
static unsigned pre_n;
static bool pre_done;

int sb__tp_udp_bind(const struct sb_socket *s)
{
    int fd = sb__tp_bind_fd(s, SOCK_DGRAM);
    if (fd < 0)
        return fd;
    /* bursts of requests must not be dropped by a small default buffer: past net.core.rmem_max
     * when privileged, else the kernel clamps to it */
    int sz = sb__tp.rcvbuf > 0 ? sb__tp.rcvbuf : 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) != 0)
        SB_WARN("udp %s:%u: SO_RCVBUF %d: %s", s->ip, s->port, sz, strerror(errno));
    return fd;
}

static int attach(int fd, struct sock_filter *ins, unsigned n)
{
    struct sock_fprog fp = {.len = (unsigned short)n, .filter = ins};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp, sizeof(fp)) == 0 ? 0 : -errno;
}

/* Where a probe to <s> goes: its address, or loopback for a wildcard one. */
static void probe_dest(const struct sb_socket *s, struct sb_addr *to)
{
    *to = s->addr;
    if (sb_addr_family(to) == AF_INET && to->u.sin.sin_addr.s_addr == htonl(INADDR_ANY))
        to->u.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (sb_addr_family(to) == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&to->u.sin6.sin6_addr))
        to->u.sin6.sin6_addr = in6addr_loopback;
}

/* Send a reply for worker <w> to <s> and find which of <fds>[n] receives it: its index, -1 when
 * none did in time (a peer's datagram queued ahead of it hides it too: inconclusive, not wrong).
 * The probe is taken out of the queue it reached. */
static int probe(const struct sb_socket *s, const int *fds, unsigned n, unsigned w)
{
    char branch[SB_BRANCH_LEN + 1];
    if (!sb_branch_make(branch, sizeof(branch), w, (uint64_t)random() << 31 ^ (uint64_t)random()))
        return -1;
    char msg[PROBE_BUF];
    int len = snprintf(msg, sizeof(msg),
                       "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=%s\r\n"
                       "From: <sip:steer@invalid>;tag=1\r\nTo: <sip:steer@invalid>;tag=2\r\n"
                       "Call-ID: %s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                       branch, branch);
    if (len <= 0 || len >= (int)sizeof(msg))
        return -1;
    struct sb_addr to;
    probe_dest(s, &to);
    int ps = socket(sb_addr_family(&to), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (ps < 0)
        return -1;
    int found = -1;
    struct pollfd *pf = calloc(n, sizeof(*pf));
    if (!pf || sendto(ps, msg, (size_t)len, 0, &to.u.sa, to.len) != len)
        goto out;
    for (unsigned i = 0; i < n; i++)
        pf[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    uint64_t deadline = sb_now_ms() + PROBE_WAIT_MS;
    while (found < 0) {
        uint64_t now = sb_now_ms();
        if (now >= deadline || poll(pf, n, (int)(deadline - now)) <= 0)
            break;
        for (unsigned i = 0; i < n && found < 0; i++) {
            if (!(pf[i].revents & POLLIN))
                continue;
            char got[PROBE_BUF];
            ssize_t r = recv(pf[i].fd, got, sizeof(got), MSG_PEEK | MSG_DONTWAIT);
            if (r == len && memcmp(got, msg, (size_t)len) == 0) {
                (void)recv(pf[i].fd, got, sizeof(got), MSG_DONTWAIT);
                found = (int)i;
            } else {
                pf[i].fd = -1; /* someone else's datagram heads this queue: not ours to take */
            }
        }
    }
out:
    free(pf);
    close(ps);
    return found;
}

enum { STEER_ON, STEER_UNVERIFIED, STEER_OFF };

/* Attach the program to the group of <fds>[n] (socket <s>) and check, with a probe per worker,
 * that it picks each worker's socket. A wrong pick turns steering off for the group. */
static int steer_group(const struct sb_socket *s, const int *fds, unsigned n,
                       struct sock_filter *ins, unsigned n_ins, const char **why)
{
    int rc = attach(fds[0], ins, n_ins);
    if (rc != 0) {
        *why = strerror(-rc);
        return STEER_OFF;
    }
    bool unverified = false;
    for (unsigned w = 0; w < n; w++) {
        int got = probe(s, fds, n, w);
        if (got < 0) {
            /* unreachable from here (a filter, no loopback): the others would wait as long */
            unverified = true;
            break;
        } else if ((unsigned)got != w) {
            /* the group holds a socket that is not ours, or the kernel orders it otherwise:
             * steering would move more replies than it saves */
            struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, TP_STEER_FALLBACK);
            if (attach(fds[0], &none, 1) != 0)
                SB_WARN("udp %s:%u: cannot detach the steering program: %s", s->ip, s->port,
                        strerror(errno));
            *why = "a probe for one worker reached another";
            return STEER_OFF;
        }
    }
    return unverified ? STEER_UNVERIFIED : STEER_ON;
}

static void pre_close_locked(void)
{
    for (unsigned i = 0; pre_fds && i < sb__tp.n_socks * pre_n; i++)
        if (pre_fds[i] >= 0)
            close(pre_fds[i]);
    free(pre_fds);
    pre_fds = NULL;
    pre_n = 0;
    pre_done = false;
}

/* Bind every worker's socket of every UDP address, in worker order, and steer each group. */
static int pre_create_locked(unsigned n)
{
    pre_fds = malloc((size_t)sb__tp.n_socks * n * sizeof(int));
    if (!pre_fds)
        return SB_ENOMEM;
    pre_n = n;
    for (unsigned i = 0; i < sb__tp.n_socks * n; i++)
        pre_fds[i] = -1;
    struct sock_filter *ins = malloc(BPF_MAXINSNS * sizeof(*ins));
    int n_ins = ins ? sb__tp_steer_prog(ins, BPF_MAXINSNS, n, STEER_WINDOW) : SB_ENOMEM;
    int rc = 0;
    for (unsigned i = 0; i < sb__tp.n_socks && rc == 0; i++) {
        const struct sb_socket *s = &sb__tp.socks[i];
        if (s->proto != SB_PROTO_UDP)
            continue;
        int *fds = &pre_fds[i * n];
        for (unsigned w = 0; w < n && rc == 0; w++) {
            fds[w] = sb__tp_udp_bind(s);
            if (fds[w] < 0) {
                rc = fds[w];
                fds[w] = -1;
            }
        }
        if (rc != 0)
            break;
        const char *why = "cannot build the program";
        int st = n_ins > 0 ? steer_group(s, fds, n, ins, (unsigned)n_ins, &why) : STEER_OFF;
        if (st == STEER_ON)
            SB_NOTICE("udp %s:%u: replies steered to their transaction's worker (%u workers, "
                      "checked)",
                      s->ip, s->port, n);
        else if (st == STEER_UNVERIFIED)
            SB_NOTICE("udp %s:%u: replies steered to their transaction's worker (%u workers; "
                      "probe not seen, socket order assumed)",
                      s->ip, s->port, n);
        else
            SB_NOTICE("udp %s:%u: reply steering off (%s): replies reach their worker through "
                      "the cross-worker queue",
                      s->ip, s->port, why);
    }
    free(ins);
    return rc;
}

int sb__tp_udp_fd(unsigned wid, const struct sb_socket *s)
{
    unsigned n = sb_rt.n_workers;
    if (!sb__tp.steer || n < 2 || wid >= n || !sb_rt.workers)
        return sb__tp_udp_bind(s);
    pthread_mutex_lock(&pre_lock);
    int rc = 0;
    if (!pre_done) {
        pre_done = true;
        rc = pre_create_locked(n);
    }
    int fd = -1;
    if (rc == 0 && pre_fds && pre_n == n && s->id < sb__tp.n_socks) {
        fd = pre_fds[s->id * n + wid];
        pre_fds[s->id * n + wid] = -1;
    }
    pthread_mutex_unlock(&pre_lock);
    if (rc != 0)
        return rc;
    /* taken already (a worker started again): its own socket, joining the group last */
    return fd >= 0 ? fd : sb__tp_udp_bind(s);
}

void sb__tp_steer_reset(void)
{
    pthread_mutex_lock(&pre_lock);
    pre_close_locked();
    pthread_mutex_unlock(&pre_lock);
}
