/* SPDX-License-Identifier: BSD-2-Clause */
/* Management interface: the JSON-RPC 2.0 envelope and its error codes, parameter recipes
 * (positional to named), 4.x aliases, the statistics commands, and the HTTP handler table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb/base.h"
#include "sb/httpd.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/mod.h"
#include "sb/stats.h"

/* ---- a test module's commands -------------------------------------------------------------- */

static json_t *last_params;

static json_t *t_echo(struct sb_mi_call *c)
{
    json_decref(last_params);
    last_params = json_deep_copy(c->params);
    return json_incref(c->params);
}

static json_t *t_fail(struct sb_mi_call *c)
{
    return sb_mi_error(c, 404, "nothing here: %d", 7);
}

static const struct sb_mi_cmd test_cmds[] = {
    {.name = "echo",
     .help = "returns its parameters",
     .recipes = {{.fn = t_echo, .params = {NULL}},
                 {.fn = t_echo, .params = {"a", NULL}},
                 {.fn = t_echo, .params = {"a", "b", NULL}}}},
    {.name = "fail", .alias = "testmod:broken", .recipes = {{.fn = t_fail, .params = {NULL}}}},
    {.name = NULL},
};

static sb_stat_t st_one, st_two, st_other, st_gauge;

static int setup(void **state)
{
    (void)state;
    sb_stats_destroy();
    if (sb_mi_init() != 0 || sb_mi_register("testmod", test_cmds) != 0)
        return -1;
    st_one = sb_stat_register("tg", "one", 0, NULL);
    st_two = sb_stat_register("tg", "two", 0, NULL);
    st_other = sb_stat_register("other", "one", 0, NULL);
    st_gauge = sb_stat_register("other", "level", SB_STAT_GAUGE | SB_STAT_NO_RESET, NULL);
    sb_stat_add(st_one, 5);
    sb_stat_add(st_two, 7);
    sb_stat_add(st_other, 11);
    sb_stat_add(st_gauge, 3);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sb_mi_destroy();
    sb_stats_destroy();
    json_decref(last_params);
    last_params = NULL;
    return 0;
}

/* Send <req> text through the envelope and parse the reply. */
static json_t *call_text(const char *req)
{
    char *out = sb_mi_handle(req, strlen(req));
    if (!out)
        return NULL;
    json_error_t e;
    json_t *r = json_loads(out, 0, &e);
    assert_non_null(r);
    free(out);
    return r;
}

static int err_code(json_t *reply)
{
    json_t *e = json_object_get(reply, "error");
    assert_non_null(e);
    assert_null(json_object_get(reply, "result"));
    return (int)json_integer_value(json_object_get(e, "code"));
}

static json_t *result(json_t *reply)
{
    assert_null(json_object_get(reply, "error"));
    json_t *r = json_object_get(reply, "result");
    assert_non_null(r);
    return r;
}

/* ---- envelope ------------------------------------------------------------------------------ */

static void test_parse_error(void **state)
{
    (void)state;
    json_t *r = call_text("{\"jsonrpc\":\"2.0\",\"method\":");
    assert_int_equal(err_code(r), -32700);
    assert_true(json_is_null(json_object_get(r, "id")));
    assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
    json_decref(r);
    r = call_text("");
    assert_int_equal(err_code(r), -32700);
    json_decref(r);
}

static void test_invalid_request(void **state)
{
    (void)state;
    const char *bad[] = {
        "42",
        "[]",
        "{\"method\":\"version\",\"id\":1}",
        "{\"jsonrpc\":\"1.0\",\"method\":\"version\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":3,\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":\"x\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":{\"a\":1}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *r = call_text(bad[i]);
        assert_non_null(r);
        if (err_code(r) != -32600)
            fail_msg("request %zu (%s) did not give -32600", i, bad[i]);
        json_decref(r);
    }
    /* the id is echoed when it could be read */
    json_t *r = call_text("{\"jsonrpc\":\"1.0\",\"method\":\"version\",\"id\":\"abc\"}");
    assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
    json_decref(r);
}

static void test_method_not_found(void **state)
{
    (void)state;
    json_t *r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"no_such\",\"id\":3}");
    assert_int_equal(err_code(r), -32601);
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
    json_decref(r);
    /* a module prefix does not make any name valid */
    r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"testmod:version\",\"id\":3}");
    assert_int_equal(err_code(r), -32601);
    json_decref(r);
}

static void test_invalid_params(void **state)
{
    (void)state;
    /* three positional parameters: no recipe has three */
    json_t *r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1,2,3],\"id\":1}");
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    /* named parameters must match a recipe exactly */
    r = call_text(
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"a\":1,\"c\":2},\"id\":1}");
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"params\":[1],\"id\":1}");
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
    /* a handler's own check */
    r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"log_level\",\"params\":[\"loud\"],\"id\":1}");
    assert_int_equal(err_code(r), -32602);
    json_decref(r);
}

static void test_handler_error(void **state)
{
    (void)state;
    json_t *r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":1}");
    assert_int_equal(err_code(r), 404);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
                        "nothing here: 7");
    json_decref(r);
}

static void test_server_error_reload(void **state)
{
    (void)state;
    /* no server is running: the reload fails, with the diagnostics in "data" */
    json_t *r = call_text("{\"jsonrpc\":\"2.0\",\"method\":\"reload_routes\",\"id\":1}");
    assert_int_equal(err_code(r), -32000);
    json_t *data = json_object_get(json_object_get(r, "error"), "data");
    assert_true(json_is_array(data));
    assert_true(json_array_size(data) >= 1);
    assert_non_null(strstr(json_string_value(json_array_get(data, 0)), "not running"));
    json_decref(r);
}

static void test_positional_to_named(void **state)
{
    (void)state;
    json_t *r =
        call_text("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[\"x\",5],\"id\":1}");
    json_t *res = result(r);
    assert_string_equal(json_string_value(json_object_get(res, "a")), "x");
    assert_int_equal(json_integer_value(json_object_get(res, "b")), 5);
    assert_int_equal(json_object_size(res), 2);
    json_decref(r);

    r = call_text(
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"b\":2,\"a\":1},\"id\":2}");
    res = result(r);
    assert_int_equal(json_integer_value(json_object_get(last_params, "a")), 1);
    assert_int_equal(json_integer_value(json_object_get(last_params, "b")), 2);
    json_decref(r);

    /* no params, an empty array and an empty object all pick the recipe without parameters */
    const char *empty[] = {
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[],\"id\":1}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{},\"id\":1}",
    };
    for (size_t i = 0; i < 3; i++) {
        r = call_text(empty[i]);
        assert_int_equal(json_object_size(result(r)), 0);
        json_decref(r);
    }
}

static void test_notification_and_batch(void **state)
{
    (void)state;
    const char *note = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[9]}";
    char *out = sb_mi_handle(note, strlen(note));
    assert_null(out);
    assert_int_equal(json_integer_value(json_object_get(last_params, "a")), 9);

    json_t *r = call_text("[{\"jsonrpc\":\"2.0\",\"method\":\"version\",\"id\":1},"
                          "{\"jsonrpc\":\"2.0\",\"method\":\"echo\"},"
                          "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":2}]");
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(json_string_value(json_object_get(result(json_array_get(r, 0)), "Server")),
                        "Switchboard " SB_VERSION);
    assert_int_equal(err_code(json_array_get(r, 1)), -32601);
    json_decref(r);
}

static void test_aliases(void **state)
{
    (void)state;
    const char *names[] = {"version", "core:version"};
    for (size_t i = 0; i < 2; i++) {
        struct sb_mi_call c;
        json_t *res = sb_mi_run(names[i], NULL, &c);
        assert_non_null(res);
        assert_string_equal(json_string_value(json_object_get(res, "Server")),
                            "Switchboard " SB_VERSION);
        json_decref(res);
    }
    const char *owner = NULL;
    assert_ptr_equal(sb_mi_find(sb_str_cstr("statistics:get"), &owner),
                     sb_mi_find(sb_str_cstr("get_statistics"), NULL));
    assert_string_equal(owner, "core");
    assert_non_null(sb_mi_find(sb_str_cstr("tcp:list"), NULL));
    assert_ptr_equal(sb_mi_find(sb_str_cstr("testmod:echo"), &owner), &test_cmds[0]);
    assert_string_equal(owner, "testmod");
    assert_ptr_equal(sb_mi_find(sb_str_cstr("testmod:broken"), NULL), &test_cmds[1]);
    assert_null(sb_mi_find(sb_str_cstr("core:echo"), NULL));
    /* a second registration of a taken name is refused */
    assert_int_not_equal(sb_mi_register("dup", test_cmds), 0);
}

static void test_which_help(void **state)
{
    (void)state;
    struct sb_mi_call c;
    json_t *w = sb_mi_run("which", NULL, &c);
    assert_true(json_is_array(w));
    bool ps = false, echo = false;
    size_t i;
    json_t *v;
    json_array_foreach(w, i, v)
    {
        ps |= !strcmp(json_string_value(v), "ps");
        echo |= !strcmp(json_string_value(v), "echo");
    }
    assert_true(ps && echo);
    json_decref(w);

    json_t *p = json_pack("[s]", "echo");
    json_t *h = sb_mi_run("help", p, &c);
    json_decref(p);
    assert_string_equal(json_string_value(json_object_get(h, "Exported by")), "testmod");
    assert_string_equal(json_string_value(json_object_get(h, "Help")), "returns its parameters");
    assert_int_equal(json_array_size(json_object_get(h, "Params")), 3);
    json_decref(h);
}

static void test_log_level(void **state)
{
    (void)state;
    int saved = sb_log_level;
    struct sb_mi_call c;
    json_t *p = json_pack("[s]", "4"); /* FIFO clients send strings */
    json_t *r = sb_mi_run("log_level", p, &c);
    json_decref(p);
    assert_int_equal(json_integer_value(json_object_get(r, "New global log level")), 4);
    assert_int_equal(sb_log_level, 4);
    json_decref(r);
    r = sb_mi_run("log_level", NULL, &c);
    assert_int_equal(json_integer_value(json_object_get(r, "Log level")), 4);
    json_decref(r);
    p = json_pack("{s:i}", "level", 9);
    assert_null(sb_mi_run("log_level", p, &c));
    assert_int_equal(c.err_code, SB_MI_INVALID_PARAMS);
    json_decref(p);
    assert_int_equal(sb_log_level, 4);
    sb_log_level = saved;
}

/* ---- statistics ---------------------------------------------------------------------------- */

static json_t *stats_call(const char *method, json_t *sel, struct sb_mi_call *c)
{
    json_t *p = json_pack("{s:o}", "statistics", sel);
    json_t *r = sb_mi_run(method, p, c);
    json_decref(p);
    return r;
}

static void test_get_statistics_groups(void **state)
{
    (void)state;
    struct sb_mi_call c;
    json_t *r = stats_call("get_statistics", json_pack("[s]", "tg:"), &c);
    assert_int_equal(json_object_size(r), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "tg:one")), 5);
    assert_int_equal(json_integer_value(json_object_get(r, "tg:two")), 7);
    json_decref(r);

    /* a bare name matches in every group */
    r = stats_call("statistics:get", json_pack("[s]", "one"), &c);
    assert_int_equal(json_object_size(r), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "other:one")), 11);
    json_decref(r);

    r = stats_call("get_statistics", json_pack("[s,s]", "other:level", "tg:two"), &c);
    assert_int_equal(json_object_size(r), 2);
    assert_int_equal(json_integer_value(json_object_get(r, "other:level")), 3);
    json_decref(r);

    r = stats_call("get_statistics", json_pack("[s]", "all"), &c);
    assert_int_equal(json_object_size(r), sb_stat_count());
    json_decref(r);

    /* a plain string is taken as a one-element list */
    r = stats_call("get_statistics", json_string("tg:one"), &c);
    assert_int_equal(json_object_size(r), 1);
    json_decref(r);

    r = stats_call("get_statistics", json_pack("[s]", "tg:three"), &c);
    assert_null(r);
    assert_int_equal(c.err_code, SB_MI_SERVER_ERROR);
    r = stats_call("get_statistics", json_pack("[i]", 3), &c);
    assert_null(r);
    assert_int_equal(c.err_code, SB_MI_INVALID_PARAMS);
}

static void test_core_stat_groups(void **state)
{
    (void)state;
    assert_int_equal(sb_mi_modset_start(NULL), 0);
    struct sb_mi_call c;
    json_t *r = stats_call("get_statistics", json_pack("[s,s,s]", "core:", "shmem:", "net:"), &c);
    assert_non_null(r);
    assert_true(json_is_integer(json_object_get(r, "core:rcv_requests")));
    assert_true(json_is_integer(json_object_get(r, "core:bad_URIs_rcvd")));
    assert_true(json_is_integer(json_object_get(r, "shmem:used_size")));
    assert_true(json_is_integer(json_object_get(r, "shmem:total_size")));
    assert_true(json_is_integer(json_object_get(r, "net:rcv_msgs")));
    json_decref(r);
    r = stats_call("list_statistics", json_pack("[s,s]", "shmem:used_size", "core:rcv_replies"),
                   &c);
    assert_string_equal(json_string_value(json_object_get(r, "shmem:used_size")),
                        "non-incremental");
    assert_string_equal(json_string_value(json_object_get(r, "core:rcv_replies")), "incremental");
    json_decref(r);
    /* the registration is idempotent: a second start keeps one entry per name */
    unsigned n = sb_stat_count();
    assert_int_equal(sb_mi_modset_start(NULL), 0);
    assert_int_equal(sb_stat_count(), n);
}

static void test_reset_and_list(void **state)
{
    (void)state;
    struct sb_mi_call c;
    json_t *r = stats_call("reset_statistics", json_pack("[s,s]", "tg:one", "other:"), &c);
    assert_string_equal(json_string_value(r), "OK");
    json_decref(r);
    assert_int_equal(sb_stat_get(st_one), 0);
    assert_int_equal(sb_stat_get(st_two), 7);
    assert_int_equal(sb_stat_get(st_other), 0);
    assert_int_equal(sb_stat_get(st_gauge), 3); /* no_reset */
    sb_stat_add(st_one, 2);
    assert_int_equal(sb_stat_get(st_one), 2);

    r = sb_mi_run("list_statistics", NULL, &c);
    assert_string_equal(json_string_value(json_object_get(r, "tg:one")), "incremental");
    assert_string_equal(json_string_value(json_object_get(r, "other:level")), "non-incremental");
    json_decref(r);
    r = stats_call("reset_statistics", json_pack("[s]", "nope:"), &c);
    assert_null(r);
    assert_int_equal(c.err_code, SB_MI_SERVER_ERROR);
}

static void test_ps_uptime_mem(void **state)
{
    (void)state;
    struct sb_mi_call c;
    sb_mi_thread_register("TEST");
    json_t *r = sb_mi_run("core:ps", NULL, &c);
    json_t *list = json_object_get(r, "Processes");
    assert_true(json_array_size(list) >= 2);
    json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "Type")), "main/control");
    assert_int_equal(json_integer_value(json_object_get(first, "PID")), getpid());
    bool seen = false;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        assert_int_equal(json_integer_value(json_object_get(v, "ID")), (json_int_t)i);
        if (!strcmp(json_string_value(json_object_get(v, "Type")), "TEST"))
            seen = json_integer_value(json_object_get(v, "PID")) == gettid();
    }
    assert_true(seen);
    json_decref(r);
    sb_mi_thread_gone();

    r = sb_mi_run("uptime", NULL, &c);
    assert_non_null(strstr(json_string_value(json_object_get(r, "Up time")), "[sec]"));
    assert_non_null(json_object_get(r, "Now"));
    assert_non_null(json_object_get(r, "Up since"));
    json_decref(r);

    r = sb_mi_run("mem_info", NULL, &c);
    assert_true(json_integer_value(json_object_get(json_object_get(r, "Process"), "RSS")) > 0);
    json_decref(r);

    r = sb_mi_run("list_tcp_conns", NULL, &c);
    assert_true(json_is_array(json_object_get(r, "Connections")));
    json_decref(r);
}

/* ---- HTTP handler table -------------------------------------------------------------------- */

static void h_tag(const struct sb_http_req *req, struct sb_http_resp *resp, void *arg)
{
    (void)req;
    resp->body = strdup(arg);
    resp->body_len = strlen(arg);
}

static struct sb_http_resp dispatch(const char *method, const char *path)
{
    struct sb_http_req req = {.method = method, .path = path, .body = ""};
    struct sb_http_resp resp = {0};
    sb_httpd_dispatch(&req, &resp);
    return resp;
}

static void expect(const char *method, const char *path, int status, const char *body)
{
    struct sb_http_resp r = dispatch(method, path);
    if (r.status != status || (body && (!r.body || strcmp(r.body, body) != 0)))
        fail_msg("%s %s: got %d '%s', expected %d '%s'", method, path, r.status,
                 r.body ? r.body : "", status, body ? body : "");
    free(r.body);
}

static void test_httpd_table(void **state)
{
    (void)state;
    sb_httpd_reset();
    assert_int_equal(sb_httpd_register("POST", "/mi/", h_tag, "mi"), 0);
    assert_int_equal(sb_httpd_register("GET", "/metrics", h_tag, "metrics"), 0);
    assert_int_equal(sb_httpd_register("GET", "/mi/special", h_tag, "special"), 0);
    assert_int_equal(sb_httpd_register("POST", "/mi", h_tag, "again"), SB_EINVAL);
    assert_int_equal(sb_httpd_register("GET", "relative", h_tag, "x"), SB_EINVAL);

    expect("POST", "/mi", 200, "mi");
    expect("POST", "/mi/ps", 200, "mi");
    expect("post", "/mi", 200, "mi");
    expect("GET", "/mi/special/x", 200, "special");
    expect("GET", "/metrics", 200, "metrics");
    expect("GET", "/mi", 405, NULL);
    expect("GET", "/min", 404, NULL);
    expect("GET", "/", 404, NULL);
    /* unregistering takes the exact method and prefix; the others stay in place */
    assert_int_equal(sb_httpd_unregister("POST", "/mi/special"), SB_ENOENT);
    assert_int_equal(sb_httpd_unregister("GET", "/metrics/"), 0);
    assert_int_equal(sb_httpd_unregister("GET", "/metrics"), SB_ENOENT);
    expect("GET", "/metrics", 404, NULL);
    expect("GET", "/mi/special/x", 200, "special");
    expect("POST", "/mi", 200, "mi");
    assert_int_equal(sb_httpd_register("GET", "/metrics", h_tag, "back"), 0);
    expect("GET", "/metrics", 200, "back");
    sb_httpd_reset();
    expect("POST", "/mi", 404, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_error_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positional_to_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notification_and_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_which_help, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_statistics_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_core_stat_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ps_uptime_mem, setup, teardown),
        cmocka_unit_test(test_httpd_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
