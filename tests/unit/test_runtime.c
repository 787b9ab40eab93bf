/* SPDX-License-Identifier: BSD-2-Clause */
/* The runtime: script publication and adoption by workers running real loops on threads, the
 * reload entry point, per-worker unique values, and the log line formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/loop.h"
#include "sb/runtime.h"
#include "sb/script.h"
#include "sb/worker.h"

/* ---- fake workers: a real loop on a thread, nothing else ------------------------------------ */

#define NW 3

struct fw {
    struct sb_worker *w;
    pthread_t th;
    pthread_barrier_t *started;
};

static struct sb_worker workers[NW];
static struct fw fws[NW];
static pthread_barrier_t started;

static void *fw_main(void *arg)
{
    struct fw *f = arg;
    sb_worker_self = f->w;
    f->w->loop = sb_loop_new();
    sb_worker_adopt_script(f->w);
    pthread_barrier_wait(f->started);
    sb_loop_run(f->w->loop);
    return NULL;
}

static void workers_start(void)
{
    memset(workers, 0, sizeof(workers));
    pthread_barrier_init(&started, NULL, NW + 1);
    for (unsigned i = 0; i < NW; i++) {
        workers[i].id = i;
        fws[i] = (struct fw){.w = &workers[i], .started = &started};
        assert_int_equal(pthread_create(&fws[i].th, NULL, fw_main, &fws[i]), 0);
    }
    pthread_barrier_wait(&started);
    sb_rt.workers = workers;
    sb_rt.n_workers = NW;
}

static void stop_job(void *arg)
{
    sb_loop_stop(arg);
}

static void workers_stop(void)
{
    for (unsigned i = 0; i < NW; i++)
        assert_int_equal(sb_loop_post(workers[i].loop, stop_job, NULL, workers[i].loop), 0);
    for (unsigned i = 0; i < NW; i++) {
        pthread_join(fws[i].th, NULL);
        sb_loop_free(workers[i].loop);
        workers[i].loop = NULL;
    }
    /* only now: a worker may still be inside pthread_barrier_wait() after the main thread left */
    pthread_barrier_destroy(&started);
    sb_rt.n_workers = 0;
    sb_rt.workers = NULL;
}

static struct sb_script *load(const char *text)
{
    struct sb_diag d;
    struct sb_script *s = NULL;
    sb_diag_init(&d);
    int rc = sb_script_load_text("t.cfg", text, strlen(text), &d, &s);
    if (rc != 0)
        sb_diag_print(&d, stderr);
    sb_diag_free(&d);
    assert_int_equal(rc, 0);
    assert_non_null(s);
    return s;
}

static int teardown(void **state)
{
    (void)state;
    sb__rt_scripts_free();
    sb_rt.n_workers = 0;
    sb_rt.workers = NULL;
    sb__rt_publish_wait_ms = 2000;
    return 0;
}

/* What a worker sees, asked through its own loop. */
struct probe {
    struct sb_worker *w;
    const struct sb_script *seen;
    _Atomic int done;
};

static void probe_job(void *arg)
{
    struct probe *p = arg;
    p->seen = sb_current_script();
    atomic_store(&p->done, 1);
}

static const struct sb_script *ask(struct sb_worker *w)
{
    struct probe p = {.w = w};
    assert_int_equal(sb_loop_post(w->loop, probe_job, NULL, &p), 0);
    for (int i = 0; i < 2000 && !atomic_load(&p.done); i++)
        usleep(1000);
    assert_true(atomic_load(&p.done));
    return p.seen;
}

static void test_publish_idle_workers_adopt_promptly(void **state)
{
    (void)state;
    struct sb_script *a = load("route { exit; }");
    struct sb_script *b = load("route { drop; }\nroute[x] { exit; }");
    struct sb_script *c = load("route { exit; }\nroute[y] { exit; }");
    assert_int_equal(sb_publish_script(a), 0);
    workers_start();
    for (unsigned i = 0; i < NW; i++)
        assert_ptr_equal(ask(&workers[i]), a);
    uint64_t gen0 = atomic_load(&sb_rt.script_gen);

    /* the workers sit in epoll: only the wake-up job makes them adopt within the wait */
    uint64_t t0 = sb_now_ms();
    assert_int_equal(sb_publish_script(b), 0);
    uint64_t took = sb_now_ms() - t0;
    assert_true(took < 1000);
    assert_int_equal(atomic_load(&sb_rt.script_gen), gen0 + 1);
    for (unsigned i = 0; i < NW; i++) {
        assert_int_equal(atomic_load(&workers[i].script_gen), gen0 + 1);
        assert_ptr_equal(workers[i].script, b);
        assert_ptr_equal(ask(&workers[i]), b);
    }
    /* off the workers: the published one */
    assert_ptr_equal(sb_current_script(), b);

    assert_int_equal(sb_publish_script(c), 0); /* frees b: every worker moved past it */
    for (unsigned i = 0; i < NW; i++)
        assert_ptr_equal(ask(&workers[i]), c);
    /* the first script stays: the sockets and modules of the running server come from it */
    assert_int_equal(sb_script_route(a, SB_ROUTE_REQUEST, SB_STR_NULL), 0);
    workers_stop();
}

/* A worker busy in one long job: the publisher gives up waiting and must keep the script that
 * worker still runs. */
struct stuck {
    _Atomic int release;
    _Atomic int in_job;
    _Atomic int done;
    const struct sb_script *seen;
    int route;
};

static void stuck_job(void *arg)
{
    struct stuck *s = arg;
    atomic_store(&s->in_job, 1);
    while (!atomic_load(&s->release))
        usleep(1000);
    /* still the old script (adoption happens between jobs); under ASan a freed one aborts */
    s->seen = sb_current_script();
    s->route = sb_script_route(s->seen, SB_ROUTE_REQUEST, sb_str_cstr("old"));
    atomic_store(&s->done, 1);
}

static void test_publish_stuck_worker_keeps_old_script(void **state)
{
    (void)state;
    struct sb_script *a = load("route { exit; }");
    struct sb_script *b = load("route { exit; }\nroute[old] { exit; }");
    struct sb_script *c = load("route { exit; }\nroute[new] { exit; }");
    struct sb_script *d = load("route { exit; }");
    assert_int_equal(sb_publish_script(a), 0);
    workers_start();
    assert_int_equal(sb_publish_script(b), 0);
    for (unsigned i = 0; i < NW; i++)
        assert_ptr_equal(ask(&workers[i]), b);

    struct stuck st = {0};
    assert_int_equal(sb_loop_post(workers[1].loop, stuck_job, NULL, &st), 0);
    while (!atomic_load(&st.in_job))
        usleep(1000);
    sb__rt_publish_wait_ms = 100;
    uint64_t t0 = sb_now_ms();
    assert_int_equal(sb_publish_script(c), 0);
    uint64_t took = sb_now_ms() - t0;
    assert_true(took >= 100 && took < 1500);
    uint64_t gen = atomic_load(&sb_rt.script_gen);
    assert_true(atomic_load(&workers[1].script_gen) < gen);
    assert_int_equal(atomic_load(&workers[0].script_gen), gen);

    atomic_store(&st.release, 1);
    while (!atomic_load(&st.done))
        usleep(1000);
    assert_ptr_equal(st.seen, b);
    assert_true(st.route > 0); /* route[old] exists only in b */
    /* the queued wake-up runs after the long job */
    assert_ptr_equal(ask(&workers[1]), c);

    sb__rt_publish_wait_ms = 2000;
    assert_int_equal(sb_publish_script(d), 0); /* now b and c can go */
    for (unsigned i = 0; i < NW; i++)
        assert_ptr_equal(ask(&workers[i]), d);
    workers_stop();
}

static void test_publish_without_workers(void **state)
{
    (void)state;
    struct sb_script *a = load("route { exit; }");
    struct sb_script *b = load("route { exit; }");
    struct sb_script *c = load("route { exit; }");
    uint64_t g = atomic_load(&sb_rt.script_gen);
    assert_int_equal(sb_publish_script(a), 0);
    assert_int_equal(sb_publish_script(b), 0);
    assert_int_equal(sb_publish_script(c), 0);
    assert_int_equal(atomic_load(&sb_rt.script_gen), g + 3);
    assert_ptr_equal(sb_current_script(), c);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_reload_routes(void **state)
{
    (void)state;
    char path[] = "/tmp/sb_test_runtime_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "route { exit; }\n");
    struct sb_diag d;
    sb_diag_init(&d);
    struct sb_script *first = NULL;
    assert_int_equal(sb_script_load(path, &d, &first), 0);
    sb_diag_free(&d);
    assert_int_equal(sb_publish_script(first), 0);

    /* nothing to reload before the server has a script path */
    sb_runtime_set_script_path(NULL);
    sb_diag_init(&d);
    assert_true(sb_reload_routes(&d) < 0);
    assert_true(d.n_errors > 0);
    sb_diag_free(&d);

    sb_runtime_set_script_path(path);
    write_file(path, "route { exit; }\nroute[added] { exit; }\n");
    sb_diag_init(&d);
    assert_int_equal(sb_reload_routes(&d), 0);
    assert_int_equal(d.n_errors, 0);
    sb_diag_free(&d);
    const struct sb_script *now = sb_current_script();
    assert_ptr_not_equal(now, first);
    assert_true(sb_script_route(now, SB_ROUTE_REQUEST, sb_str_cstr("added")) >= 0);

    write_file(path, "route { exit; \n");
    sb_diag_init(&d);
    assert_true(sb_reload_routes(&d) < 0);
    assert_true(d.n_errors > 0);
    assert_string_equal(d.head->file, path);
    sb_diag_free(&d);
    assert_ptr_equal(sb_current_script(), now); /* a failed reload changes nothing */

    sb_runtime_set_script_path(NULL);
    unlink(path);
}

struct uniq {
    struct sb_worker *w;
    uint64_t v[100];
};

static void *uniq_main(void *arg)
{
    struct uniq *u = arg;
    sb_worker_self = u->w;
    for (int i = 0; i < 100; i++)
        u->v[i] = sb_worker_unique();
    sb_worker_self = NULL;
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_worker_unique(void **state)
{
    (void)state;
    struct sb_worker w[2] = {{.id = 0}, {.id = 7}};
    struct uniq u[2] = {{.w = &w[0]}, {.w = &w[1]}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, uniq_main, &u[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t all[300];
    for (int i = 0; i < 100; i++) {
        assert_int_equal(u[0].v[i] >> 56, 0);
        assert_int_equal(u[1].v[i] >> 56, 7);
        all[i] = u[0].v[i];
        all[100 + i] = u[1].v[i];
        all[200 + i] = sb_worker_unique(); /* control thread */
        assert_int_equal(all[200 + i] >> 56, 0xff);
    }
    qsort(all, 300, sizeof(all[0]), cmp_u64);
    for (int i = 1; i < 300; i++)
        assert_true(all[i] != all[i - 1]);
}

/* ---- logging --------------------------------------------------------------------------------- */

static void esc_is(const char *in, size_t len, const char *want)
{
    char out[256];
    size_t n = sb_log_json_escape(out, sizeof(out), in, len);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_json_escape(void **state)
{
    (void)state;
    esc_is("plain", 5, "plain");
    esc_is("a\"b\\c", 5, "a\\\"b\\\\c");
    esc_is("l1\nl2\r\t", 7, "l1\\nl2\\r\\t");
    esc_is("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
    esc_is("nul\0x", 5, "nul\\u0000x");
    esc_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e", 14,
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e");
    /* broken UTF-8: a lone continuation byte, a truncated sequence, an overlong form, a
     * surrogate */
    esc_is("\x80", 1, "\\u0080");
    esc_is("\xc3", 1, "\\u00c3");
    esc_is("\xc0\xaf", 2, "\\u00c0\\u00af");
    esc_is("\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080");

    /* truncation never cuts an escape in half */
    char small[8];
    size_t n = sb_log_json_escape(small, sizeof(small), "ab\n\"cd", 6);
    assert_string_equal(small, "ab\\n\\\"c");
    assert_int_equal(n, 7);
    n = sb_log_json_escape(small, sizeof(small), "abcdef\"", 7);
    assert_string_equal(small, "abcdef");
    assert_int_equal(n, 6);
    n = sb_log_json_escape(small, sizeof(small), "abcde\x01", 6);
    assert_string_equal(small, "abcde");
    assert_int_equal(n, 5);
}

static char *capture(int level, int worker, const char *msg)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    sb_log_set_fd(p[1]);
    sb_log_set_worker(worker);
    sb_log(level, "%s", msg);
    sb_log_set_worker(-1);
    sb_log_set_fd(2);
    close(p[1]);
    static char buf[4096];
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    return buf;
}

static void test_log_json_line(void **state)
{
    (void)state;
    struct sb_log_cfg c = {.to_stderr = true, .json = true, .prefix = "edge1: "};
    assert_int_equal(sb_log_setup(&c), 0);
    char *line = capture(SB_LOG_ERR, 3, "bad \"From\"\nheader\\");
    char want[128];
    snprintf(want, sizeof(want), "\"level\":\"ERROR\",\"pid\":%d,\"worker\":3,", (int)getpid());
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, ",\"msg\":\"edge1: bad \\\"From\\\"\\nheader\\\\\"}\n"));
    assert_true(strncmp(line, "{\"time\":\"", 9) == 0);
    assert_int_equal(line[9 + 4], '-');                            /* 2024-... */
    assert_int_equal(line[9 + 23], 'Z');                           /* ...T12:00:00.000Z */
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */

    line = capture(SB_LOG_NOTICE, -1, "no worker");
    assert_null(strstr(line, "\"worker\""));
    assert_non_null(strstr(line, "\"level\":\"NOTICE\""));

    /* an over-long message stays one valid line */
    char big[3000];
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    line = capture(SB_LOG_WARN, 0, big);
    size_t len = strlen(line);
    assert_true(len < 4096);
    assert_string_equal(line + len - 3, "\"}\n");
    assert_ptr_equal(strchr(line, '\n'), line + len - 1);

    c = (struct sb_log_cfg){.to_stderr = true};
    assert_int_equal(sb_log_setup(&c), 0);
}

static void test_log_plain_line(void **state)
{
    (void)state;
    struct sb_log_cfg c = {.to_stderr = true};
    assert_int_equal(sb_log_setup(&c), 0);
    char want[64];
    snprintf(want, sizeof(want), " [%d] w2 WARNING: disk \"full\"\n", (int)getpid());
    char *line = capture(SB_LOG_WARN, 2, "disk \"full\"\n");
    assert_non_null(strstr(line, want));
    snprintf(want, sizeof(want), " [%d] CRITICAL: x\n", (int)getpid());
    assert_non_null(strstr(capture(SB_LOG_CRIT, -1, "x"), want));
}

static void test_log_facility(void **state)
{
    (void)state;
    int f = -1;
    assert_int_equal(sb_log_facility_parse("LOG_LOCAL0", &f), 0);
    assert_int_equal(f, 16 << 3);
    assert_int_equal(sb_log_facility_parse("daemon", &f), 0);
    assert_int_equal(f, 3 << 3);
    assert_int_equal(sb_log_facility_parse("LOG_NOPE", &f), SB_EINVAL);
}

/* SB_BUG_ON: the condition, file:line and a backtrace on stderr, then abort(). */
static void test_bug_on_aborts_with_backtrace(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        int broken = 1;
        SB_BUG_ON(broken == 1);
        _exit(0);
    }
    close(p[1]);
    char buf[8192];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(buf) - 1 && (r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    assert_non_null(strstr(buf, "CRITICAL: BUG: "));
    assert_non_null(strstr(buf, "test_runtime.c:"));
    assert_non_null(strstr(buf, ": broken == 1\n"));
    assert_non_null(strstr(buf, "backtrace:\n"));
    assert_non_null(strstr(buf, "test_runtime")); /* a frame of this binary */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_publish_idle_workers_adopt_promptly, teardown),
        cmocka_unit_test_teardown(test_publish_stuck_worker_keeps_old_script, teardown),
        cmocka_unit_test_teardown(test_publish_without_workers, teardown),
        cmocka_unit_test_teardown(test_reload_routes, teardown),
        cmocka_unit_test(test_worker_unique),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_log_json_line),
        cmocka_unit_test(test_log_plain_line),
        cmocka_unit_test(test_log_facility),
        cmocka_unit_test(test_bug_on_aborts_with_backtrace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
