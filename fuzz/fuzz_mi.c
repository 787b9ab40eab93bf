/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer target for the JSON-RPC 2.0 envelope of the management interface, sb_mi_handle():
 * every input gets either no answer (notifications only) or a well-formed reply (an object, or
 * a non-empty array of objects for a batch), each with "jsonrpc":"2.0", an "id", and exactly one
 * of "result" and "error" with a known code. The core's commands run for real, except those that
 * change the process for every later input (kill, reload_routes, event_subscribe). */
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/mi.h"

#include "fuzz_check.h"

#define MAX_INPUT 65536
#define MAX_CMDS  64

/* kill signals the process, reload_routes reads a config file, event_subscribe keeps state
 * (and would send events out) */
static const char *const unsafe[] = {"kill", "reload_routes", "event_subscribe", NULL};

static struct sb_mi_cmd safe_cmds[MAX_CMDS + 8];

static bool is_unsafe(const char *name)
{
    for (unsigned i = 0; unsafe[i]; i++)
        if (!strcmp(name, unsafe[i]))
            return true;
    return false;
}

/* Register the core's commands (and statistics) minus the unsafe ones: each owner's commands
 * are copied into safe_cmds as one NULL-terminated run, then registered again. */
static void setup(void)
{
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0)
        sb_log_set_fd(devnull);
    CHECK(sb_mi_modset_start(NULL) == 0);
    const char *owners[8];
    unsigned n_owners = 0, n = sb_mi_count();
    CHECK(n > 0 && n <= MAX_CMDS);
    struct {
        const char *owner;
        struct sb_mi_cmd cmd;
    } all[MAX_CMDS];
    for (unsigned i = 0; i < n; i++) {
        all[i].cmd = *sb_mi_at(i, &all[i].owner);
        bool seen = false;
        for (unsigned k = 0; k < n_owners; k++)
            seen = seen || !strcmp(owners[k], all[i].owner);
        if (!seen) {
            CHECK(n_owners < SB_ARRAY_LEN(owners));
            owners[n_owners++] = all[i].owner;
        }
    }
    sb_mi_destroy();
    unsigned out = 0;
    for (unsigned k = 0; k < n_owners; k++) {
        unsigned first = out;
        for (unsigned i = 0; i < n; i++)
            if (!strcmp(all[i].owner, owners[k]) && !is_unsafe(all[i].cmd.name))
                safe_cmds[out++] = all[i].cmd;
        safe_cmds[out++] = (struct sb_mi_cmd){.name = NULL};
        CHECK(sb_mi_register(owners[k], &safe_cmds[first]) == 0);
    }
    for (unsigned i = 0; unsafe[i]; i++)
        CHECK(sb_mi_find(sb_str_cstr(unsafe[i]), NULL) == NULL);
    CHECK(sb_mi_find(SB_STR("get_statistics"), NULL) != NULL);
}

static bool known_code(json_int_t code)
{
    return code == SB_MI_PARSE_ERROR || code == SB_MI_INVALID_REQUEST ||
           code == SB_MI_METHOD_NOT_FOUND || code == SB_MI_INVALID_PARAMS ||
           code == SB_MI_SERVER_ERROR;
}

static void check_reply(json_t *r)
{
    CHECK(json_is_object(r));
    json_t *ver = json_object_get(r, "jsonrpc");
    CHECK(json_is_string(ver) && !strcmp(json_string_value(ver), "2.0"));
    json_t *id = json_object_get(r, "id");
    CHECK(json_is_null(id) || json_is_string(id) || json_is_integer(id) || json_is_real(id));
    json_t *res = json_object_get(r, "result");
    json_t *err = json_object_get(r, "error");
    CHECK((res != NULL) != (err != NULL));
    CHECK(json_object_size(r) == 3);
    if (err) {
        CHECK(json_is_object(err));
        json_t *code = json_object_get(err, "code");
        CHECK(json_is_integer(code) && known_code(json_integer_value(code)));
        CHECK(json_is_string(json_object_get(err, "message")));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    if (size > MAX_INPUT)
        return 0;
    int level = sb_log_level;
    char *reply = sb_mi_handle((const char *)data, size);
    /* log_level may have changed it: every input starts from the same level */
    sb_log_level = level;

    json_error_t e;
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (!reply) {
        /* nothing to answer: only for notifications, which need a request that parsed */
        CHECK(in && (json_is_object(in) || json_is_array(in)));
        CHECK(!json_is_object(in) || !json_object_get(in, "id"));
        json_decref(in);
        return 0;
    }
    json_t *out = json_loads(reply, 0, &e);
    CHECK(out != NULL);
    if (!in) {
        check_reply(out);
        json_t *code = json_object_get(json_object_get(out, "error"), "code");
        CHECK(json_integer_value(code) == SB_MI_PARSE_ERROR);
        CHECK(json_is_null(json_object_get(out, "id")));
    } else if (json_is_array(in) && json_array_size(in) > 0) {
        /* a batch: one reply per request that is not a notification, never more */
        CHECK(json_is_array(out) && json_array_size(out) > 0);
        CHECK(json_array_size(out) <= json_array_size(in));
        size_t i;
        json_t *r;
        json_array_foreach(out, i, r) check_reply(r);
    } else {
        check_reply(out);
        /* a request with a usable id is answered with that id */
        json_t *id = json_is_object(in) ? json_object_get(in, "id") : NULL;
        if (json_is_string(id) || json_is_integer(id))
            CHECK(json_equal(id, json_object_get(out, "id")));
    }
    json_decref(out);
    json_decref(in);
    free(reply);
    return 0;
}
