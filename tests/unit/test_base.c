/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of base helpers. The refcounted buffers and their per-thread reuse: a released buffer
 * comes back for the next one of its size, in the releasing thread only, within the bounds; big
 * ones are not kept; a thread's kept buffers go with it (the leak checker of the sanitizer build
 * watches that). The byte hash: a function of the bytes, which every byte and the length change.
 * Per-thread values: the destructor gets each exiting thread's value, and only a set one.
 * The case-insensitive compare: the same answer as sb_lower byte by byte, for every pair of bytes
 * at every position of a word and in the tail. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sb/base.h"
#include "sb/buf.h"
#include "sb/tkey.h"

static int setup(void **state)
{
    (void)state;
    sb_buf_cache_drain();
    return 0;
}

static void test_new_fields(void **state)
{
    (void)state;
    struct sb_buf *b = sb_buf_new(1000);
    assert_non_null(b);
    assert_int_equal(b->refs, 1);
    assert_int_equal(b->len, 0);
    assert_true(b->cap >= 1000);
    /* the whole capacity and the NUL after it are writable */
    memset(b->data, 'x', b->cap);
    b->data[b->cap] = '\0';
    sb_buf_unref(b);
    sb_buf_unref(NULL);
}

static void test_reuse_same_size(void **state)
{
    (void)state;
    struct sb_buf *a = sb_buf_new(900);
    char *seen = (char *)a;
    sb_buf_unref(a);
    /* a little smaller or larger, still the same size class: the same memory, reset */
    struct sb_buf *b = sb_buf_new(880);
    assert_ptr_equal((char *)b, seen);
    assert_int_equal(b->refs, 1);
    assert_int_equal(b->len, 0);
    assert_true(b->cap >= 900);
    /* another size class does not take it */
    struct sb_buf *c = sb_buf_new(3000);
    assert_ptr_not_equal((char *)c, seen);
    sb_buf_unref(b);
    sb_buf_unref(c);
}

static void test_refs_hold(void **state)
{
    (void)state;
    struct sb_buf *a = sb_buf_new(500);
    sb_buf_ref(a);
    sb_buf_unref(a); /* one holder left: not released */
    struct sb_buf *b = sb_buf_new(500);
    assert_ptr_not_equal(a, b);
    memset(a->data, 'a', 500); /* still valid */
    sb_buf_unref(a);
    sb_buf_unref(b);
}

static void test_big_not_kept(void **state)
{
    (void)state;
    struct sb_buf *a = sb_buf_new(60000);
    assert_non_null(a);
    assert_int_equal(a->cap, 60000);
    memset(a->data, 'z', 60000);
    sb_buf_unref(a); /* freed at once; ASan would report a later use */
    struct sb_buf *b = sb_buf_new(60000);
    assert_non_null(b);
    sb_buf_unref(b);
}

/* Releasing more of one size than a thread keeps: the extra ones are freed, every buffer handed
 * out afterwards is distinct and whole. */
static void test_bounded(void **state)
{
    (void)state;
    enum { N = 100 };
    struct sb_buf *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = sb_buf_new(1200);
        assert_non_null(v[i]);
        memset(v[i]->data, i, 1200);
    }
    for (int i = 0; i < N; i++)
        sb_buf_unref(v[i]);
    for (int i = 0; i < N; i++) {
        v[i] = sb_buf_new(1200);
        assert_non_null(v[i]);
        memset(v[i]->data, 0xee, 1200);
        for (int k = 0; k < i; k++)
            assert_ptr_not_equal(v[i], v[k]);
    }
    for (int i = 0; i < N; i++)
        sb_buf_unref(v[i]);
    sb_buf_cache_drain();
}

struct handoff {
    struct sb_buf *in;  /* made by the main thread, released by the worker */
    struct sb_buf *out; /* the worker's next buffer of that size */
    char *released;
};

static void *worker(void *arg)
{
    struct handoff *h = arg;
    h->released = (char *)h->in;
    sb_buf_unref(h->in);
    h->out = sb_buf_new(700);
    /* keep a few more in this thread's cache: they must go when it exits */
    for (int i = 0; i < 5; i++)
        sb_buf_unref(sb_buf_new(100 + 300 * (size_t)i));
    return NULL;
}

static void test_cross_thread(void **state)
{
    (void)state;
    sb_buf_cache_drain();
    struct handoff h = {.in = sb_buf_new(700)};
    assert_non_null(h.in);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, worker, &h), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    /* the worker reused what it released; this thread had nothing kept of that size */
    assert_ptr_equal((char *)h.out, h.released);
    struct sb_buf *mine = sb_buf_new(700);
    assert_ptr_not_equal((char *)mine, h.released);
    sb_buf_unref(h.out);
    sb_buf_unref(mine);
}

static void test_hash_bytes(void **state)
{
    (void)state;
    enum { N = 40 };
    /* exact-size heap copies: a read past the end is an ASan error */
    char *a = malloc(N), *b = malloc(N);
    assert_non_null(a);
    assert_non_null(b);
    for (int i = 0; i < N; i++)
        a[i] = (char)('a' + i % 26);
    uint64_t h[N + 1];
    for (int len = 0; len <= N; len++) {
        char *x = malloc(len ? (size_t)len : 1);
        assert_non_null(x);
        memcpy(x, a, (size_t)len);
        h[len] = sb_hash_bytes(x, (size_t)len);
        assert_true(h[len] == sb_hash_bytes(a, (size_t)len)); /* the bytes, not their address */
        free(x);
        for (int k = 0; k < len; k++) /* every prefix length gives another hash */
            assert_true(h[k] != h[len]);
    }
    /* one flipped bit anywhere, in the tail or in a whole word, changes it */
    memcpy(b, a, N);
    for (int i = 0; i < N; i++) {
        b[i] ^= 1;
        assert_true(sb_hash_bytes(b, N) != h[N]);
        b[i] ^= 1;
    }
    assert_true(sb_hash_bytes(b, N) == h[N]);
    free(a);
    free(b);
}

/* The definition: equal lengths and sb_lower equal at every byte. */
static bool caseeq_ref(sb_str a, sb_str b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (sb_lower((unsigned char)a.p[i]) != sb_lower((unsigned char)b.p[i]))
            return false;
    return true;
}

static void test_caseeq_every_byte_pair(void **state)
{
    (void)state;
    /* 11 bytes: one whole word and a tail of three; the pair under test sits at position 2 (in the
     * word) and at position 9 (in the tail), among bytes that differ only in case */
    char x[11], y[11];
    const char *base = "zB9-kQ.aXy~";
    for (int pos = 0; pos < 2; pos++) {
        int at = pos ? 9 : 2;
        for (int c = 0; c < 256; c++) {
            for (int d = 0; d < 256; d++) {
                memcpy(x, base, 11);
                memcpy(y, base, 11);
                for (int k = 0; k < 11; k++)
                    if (y[k] >= 'a' && y[k] <= 'z')
                        y[k] = (char)(y[k] - 32);
                x[at] = (char)c;
                y[at] = (char)d;
                sb_str a = {x, 11}, b = {y, 11};
                if (sb_str_caseeq(a, b) != caseeq_ref(a, b))
                    fail_msg("bytes 0x%02x and 0x%02x at %d: %d", c, d, at, sb_str_caseeq(a, b));
            }
        }
    }
    /* every length up to three words, equal, case-flipped and with the last byte changed */
    char m[25], n[25];
    for (size_t len = 0; len <= 24; len++) {
        for (size_t k = 0; k < len; k++) {
            m[k] = (char)('a' + (int)(k * 7 % 26));
            n[k] = (char)(m[k] - 32);
        }
        assert_true(sb_str_caseeq((sb_str){m, len}, (sb_str){n, len}));
        if (len) {
            n[len - 1] = '@'; /* 'A' - 1: not the same letter in either case */
            assert_false(sb_str_caseeq((sb_str){m, len}, (sb_str){n, len}));
        }
        if (len < 24)
            assert_false(sb_str_caseeq((sb_str){m, len}, (sb_str){m, len + 1}));
    }
}

static atomic_int tk_freed, tk_sum;

static void tk_dtor(void *p)
{
    atomic_fetch_add(&tk_freed, 1);
    atomic_fetch_add(&tk_sum, *(int *)p);
    free(p);
}

static struct sb_tkey tk = SB_TKEY_INIT(tk_dtor);

/* Threads 0-5 set a value of 1 << i (the odd ones then clear it): the key is made once however
 * many threads race to make it, and the destructor sees exactly the values still set. */
static void *tk_thread(void *arg)
{
    int i = (int)(intptr_t)arg;
    int *v = malloc(sizeof(*v));
    *v = 1 << i;
    if (sb_tkey_set(&tk, v) != 0)
        return (void *)1;
    if (i % 2) {
        free(v);
        if (sb_tkey_set(&tk, NULL) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_tkey(void **state)
{
    (void)state;
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, tk_thread, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 6; i++) {
        void *rc;
        assert_int_equal(pthread_join(t[i], &rc), 0);
        assert_null(rc);
    }
    assert_int_equal(atomic_load(&tk_freed), 3);
    assert_int_equal(atomic_load(&tk_sum), 1 + 4 + 16);
    assert_int_equal(atomic_load(&tk.state), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_new_fields, setup),
        cmocka_unit_test_setup(test_reuse_same_size, setup),
        cmocka_unit_test_setup(test_refs_hold, setup),
        cmocka_unit_test_setup(test_big_not_kept, setup),
        cmocka_unit_test_setup(test_bounded, setup),
        cmocka_unit_test_setup(test_cross_thread, setup),
        cmocka_unit_test(test_hash_bytes),
        cmocka_unit_test(test_caseeq_every_byte_pair),
        cmocka_unit_test(test_tkey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
