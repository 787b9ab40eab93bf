/* SPDX-License-Identifier: BSD-2-Clause */
/* The cross-worker index of INVITE server transactions (src/core/tx/tx_xidx.c): keys of the
 * RFC 3261 matching rules, counted entries per worker, and keys that share a shard and a bucket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sb/msg.h"
#include "tx/tx_int.h"

static uint64_t key_of(const char *text)
{
    struct sb_msg m;
    sb_msg_init(&m, NULL);
    assert_true(sb_msg_parse(&m, text, strlen(text), 0) >= 0);
    uint64_t k = sb__tx_xkey(&m);
    sb_msg_deinit(&m);
    return k;
}

#define REQ(method, via, cseq)                                                                     \
    method " sip:b@example.com SIP/2.0\r\n"                                                        \
           "Via: SIP/2.0/UDP " via "\r\n"                                                          \
           "From: <sip:a@example.com>;tag=ft1\r\n"                                                 \
           "To: <sip:b@example.com>\r\n"                                                           \
           "Call-ID: c1@example.com\r\n"                                                           \
           "CSeq: " cseq "\r\n"                                                                    \
           "Content-Length: 0\r\n\r\n"

static void test_keys(void **state)
{
    (void)state;
    uint64_t inv = key_of(REQ("INVITE", "10.0.0.1:5060;branch=z9hG4bKabc", "1 INVITE"));
    /* RFC3261-17.2.3: its CANCEL and the ACK of a non-2xx carry the same branch and sent-by */
    assert_int_equal(inv, key_of(REQ("CANCEL", "10.0.0.1:5060;branch=z9hG4bKabc", "1 CANCEL")));
    assert_int_equal(inv, key_of(REQ("ACK", "10.0.0.1:5060;branch=z9hg4bKABC", "1 ACK")));
    assert_int_not_equal(inv, key_of(REQ("ACK", "10.0.0.1:5060;branch=z9hG4bKabd", "1 ACK")));
    assert_int_not_equal(inv, key_of(REQ("ACK", "10.0.0.1:5061;branch=z9hG4bKabc", "1 ACK")));
    assert_int_not_equal(inv, key_of(REQ("ACK", "10.0.0.2:5060;branch=z9hG4bKabc", "1 ACK")));
    /* RFC 2543 branches: Call-ID, From tag and CSeq number */
    uint64_t old = key_of(REQ("INVITE", "10.0.0.1:5060;branch=1", "7 INVITE"));
    assert_int_equal(old, key_of(REQ("CANCEL", "10.0.0.1:5060;branch=2", "7 CANCEL")));
    assert_int_not_equal(old, key_of(REQ("CANCEL", "10.0.0.1:5060;branch=2", "8 CANCEL")));
}

static void test_counted(void **state)
{
    (void)state;
    const uint64_t k = 0x1234567890abcdefULL;
    assert_int_equal(sb__tx_xidx_find(k, 0), -1);
    sb__tx_xidx_add(k, 1);
    assert_int_equal(sb__tx_xidx_find(k, 0), 1);
    assert_int_equal(sb__tx_xidx_find(k, 1), -1); /* the asking worker's own entry is not news */
    sb__tx_xidx_add(k, 1);
    sb__tx_xidx_del(k, 1);
    assert_int_equal(sb__tx_xidx_find(k, 0), 1);
    sb__tx_xidx_add(k, 2);
    sb__tx_xidx_del(k, 1);
    assert_int_equal(sb__tx_xidx_find(k, 0), 2);
    assert_int_equal(sb__tx_xidx_find(k, 2), -1);
    sb__tx_xidx_del(k, 2);
    assert_int_equal(sb__tx_xidx_find(k, 0), -1);
    sb__tx_xidx_del(k, 2); /* not there: nothing happens */
    assert_int_equal(sb__tx_xidx_find(k, 0), -1);
}

static void test_many(void **state)
{
    (void)state;
    enum { N = 6000 };
    /* every key of the first half shares one shard and one bucket (one chain) */
    static uint64_t keys[N];
    for (unsigned i = 0; i < N; i++)
        keys[i] = i < N / 2 ? 5 + (uint64_t)i * 64 * 1024 : 0x9e3779b97f4a7c15ULL * (i + 1);
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < N; i++)
            sb__tx_xidx_add(keys[i], i % 3);
        for (unsigned i = 0; i < N; i++) {
            assert_int_equal(sb__tx_xidx_find(keys[i], 99), (int)(i % 3));
            assert_int_equal(sb__tx_xidx_find(keys[i], i % 3), -1);
        }
        assert_int_equal(sb__tx_xidx_find(5 + (uint64_t)N * 64 * 1024, 99), -1);
        /* every other one goes; the rest stays findable (the second round reuses entries) */
        for (unsigned i = 0; i < N; i += 2)
            sb__tx_xidx_del(keys[i], i % 3);
        for (unsigned i = 0; i < N; i++)
            assert_int_equal(sb__tx_xidx_find(keys[i], 99), i % 2 ? (int)(i % 3) : -1);
        for (unsigned i = 1; i < N; i += 2)
            sb__tx_xidx_del(keys[i], i % 3);
        for (unsigned i = 0; i < N; i++)
            assert_int_equal(sb__tx_xidx_find(keys[i], 99), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_counted),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
