/* SPDX-License-Identifier: BSD-2-Clause */
/* sbctl mi CMD [args], and the shortcuts ps, stats, version, uptime: build the JSON-RPC request,
 * send it (mi_client.c), print the result for people or, with --json, for scripts. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sbctl.h"

/* Commands whose one parameter is a list: every positional word goes into that list (as
 * opensips-cli does), so that `mi get_statistics core: net:` works. */
static const char *const list_cmds[] = {
    "get_statistics",
    "list_statistics",
    "reset_statistics",
    "statistics:get",
    "statistics:list",
    "statistics:reset",
    NULL,
};

static bool is_list_cmd(const char *cmd)
{
    for (unsigned i = 0; list_cmds[i]; i++)
        if (!strcmp(cmd, list_cmds[i]))
            return true;
    return false;
}

/* "name=value" with a parameter-like name; *eq gets the '='. A value such as
 * "sip:a@b;transport=udp" has no such name, so it stays positional. */
static bool is_named(const char *arg, const char **eq)
{
    const char *e = strchr(arg, '=');
    if (!e || e == arg || !(isalpha((unsigned char)arg[0]) || arg[0] == '_'))
        return false;
    for (const char *p = arg; p < e; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    *eq = e;
    return true;
}

static json_t *named_params(int argc, char **argv)
{
    json_t *obj = json_object();
    for (int i = 0; obj && i < argc; i++) {
        const char *eq;
        if (!is_named(argv[i], &eq)) {
            fprintf(stderr,
                    "sbctl: '%s': named (k=v) and positional parameters cannot be mixed "
                    "(use -j for anything else)\n",
                    argv[i]);
            json_decref(obj);
            return NULL;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
        json_t *val = json_string(eq + 1);
        json_t *old = json_object_get(obj, key);
        if (!val) {
            fprintf(stderr, "sbctl: '%s' is not valid UTF-8\n", argv[i]);
            json_decref(obj);
            return NULL;
        }
        /* a repeated name collects its values into a list */
        if (json_is_array(old)) {
            json_array_append_new(old, val);
        } else if (old) {
            json_object_set_new(obj, key, json_pack("[O, o]", old, val));
        } else {
            json_object_set_new(obj, key, val);
        }
    }
    return obj;
}

/* The "params" member from the words after CMD and an optional -j JSON text. Returns 0 with
 * *out NULL (no params) or set; 2 on a usage error (printed). */
static int build_params(const char *cmd, int argc, char **argv, const char *jtext, json_t **out)
{
    *out = NULL;
    if (jtext) {
        if (argc) {
            fprintf(stderr, "sbctl: -j takes every parameter; '%s' is one too many\n", argv[0]);
            return 2;
        }
        json_error_t e;
        *out = json_loads(jtext, 0, &e);
        if (!json_is_array(*out) && !json_is_object(*out)) {
            if (*out)
                fprintf(stderr, "sbctl: -j: expected a JSON object or array\n");
            else
                fprintf(stderr, "sbctl: -j: %s (column %d)\n", e.text, e.column);
            json_decref(*out);
            *out = NULL;
            return 2;
        }
        return 0;
    }
    if (argc == 0)
        return 0;
    const char *eq;
    if (is_named(argv[0], &eq)) {
        *out = named_params(argc, argv);
        return *out ? 0 : 2;
    }
    json_t *arr = json_array();
    for (int i = 0; arr && i < argc; i++) {
        json_t *v = json_string(argv[i]);
        if (!v) {
            fprintf(stderr, "sbctl: '%s' is not valid UTF-8\n", argv[i]);
            json_decref(arr);
            return 2;
        }
        json_array_append_new(arr, v);
    }
    *out = is_list_cmd(cmd) ? json_pack("[o]", arr) : arr;
    return *out ? 0 : 1;
}

void sbctl_print_json(const json_t *v, bool compact)
{
    size_t flags = JSON_ENCODE_ANY | (compact ? JSON_COMPACT : JSON_INDENT(4));
    char *s = json_dumps(v, flags);
    if (s)
        printf("%s\n", s);
    free(s);
}

/* Print a JSON-RPC error as "error CODE: MESSAGE", then its data (diagnostic lines as they are). */
static void print_error(const json_t *err)
{
    json_t *code = json_object_get(err, "code");
    const char *msg = json_string_value(json_object_get(err, "message"));
    fprintf(stderr, "error %lld: %s\n", (long long)json_integer_value(code), msg ? msg : "");
    json_t *data = json_object_get(err, "data");
    size_t i;
    json_t *v;
    if (json_is_array(data)) {
        json_array_foreach(data, i, v)
        {
            if (json_is_string(v)) {
                fprintf(stderr, "%s\n", json_string_value(v));
            } else {
                char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                fprintf(stderr, "%s\n", s ? s : "");
                free(s);
            }
        }
    } else if (data) {
        char *s = json_dumps(data, JSON_ENCODE_ANY | JSON_INDENT(4));
        fprintf(stderr, "%s\n", s ? s : "");
        free(s);
    }
}

int sbctl_mi_result(struct sbctl *c, const char *method, json_t *params, json_t **result)
{
    *result = NULL;
    json_t *req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", method, "id", 1);
    if (!req) {
        fprintf(stderr, "sbctl: '%s' is not a valid method name\n", method);
        json_decref(req);
        return 1;
    }
    if (params)
        json_object_set(req, "params", params);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return 1;
    char *reply = NULL;
    int rc = sbctl_mi_call(c, text, &reply);
    free(text);
    if (rc != 0)
        return 1;
    if (!reply) {
        fprintf(stderr, "sbctl: the server sent no reply\n");
        return 1;
    }
    json_error_t e;
    json_t *r = json_loads(reply, JSON_DECODE_ANY, &e);
    free(reply);
    json_t *err = json_object_get(r, "error");
    int status = 1;
    if (json_is_object(err)) {
        if (c->json)
            sbctl_print_json(err, true);
        print_error(err);
    } else if (json_object_get(r, "result")) {
        *result = json_incref(json_object_get(r, "result"));
        status = 0;
    } else {
        fprintf(stderr, "sbctl: the reply is not a JSON-RPC response%s%s\n", r ? "" : ": ",
                r ? "" : e.text);
    }
    json_decref(r);
    return status;
}

/* ---- shortcuts ----------------------------------------------------------------------------- */

const char *sbctl_field_text(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(buf, cap, "%s", s ? s : "");
    free(s);
    return buf;
}

static int print_ps(json_t *res)
{
    json_t *list = json_object_get(res, "Processes");
    if (!json_is_array(list)) {
        sbctl_print_json(res, false);
        return 0;
    }
    int wid = 2, wpid = 3;
    size_t i;
    json_t *p;
    char a[64], b[64];
    json_array_foreach(list, i, p)
    {
        int n = (int)strlen(sbctl_field_text(json_object_get(p, "ID"), a, sizeof(a)));
        wid = n > wid ? n : wid;
        n = (int)strlen(sbctl_field_text(json_object_get(p, "PID"), b, sizeof(b)));
        wpid = n > wpid ? n : wpid;
    }
    printf("%-*s  %-*s  %s\n", wid, "ID", wpid, "PID", "Type");
    json_array_foreach(list, i, p)
    {
        char t[256];
        printf("%-*s  %-*s  %s\n", wid, sbctl_field_text(json_object_get(p, "ID"), a, sizeof(a)),
               wpid, sbctl_field_text(json_object_get(p, "PID"), b, sizeof(b)),
               sbctl_field_text(json_object_get(p, "Type"), t, sizeof(t)));
    }
    return 0;
}

/* An object of scalars as "key<sep>value" lines; anything else as JSON. */
static void print_lines(json_t *res, const char *sep)
{
    if (!json_is_object(res)) {
        sbctl_print_json(res, false);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(res, k, v)
    {
        char buf[4096];
        printf("%s%s%s\n", k, sep, sbctl_field_text(v, buf, sizeof(buf)));
    }
}

static int shortcut(struct sbctl *c, const char *word, int argc, char **argv)
{
    json_t *params = NULL, *res;
    const char *method = word;
    if (!strcmp(word, "reload")) {
        method = "reload_routes";
        if (argc) {
            fprintf(stderr, "sbctl: reload takes no arguments\n");
            return 2;
        }
    } else if (!strcmp(word, "stats")) {
        method = "get_statistics";
        json_t *sel = json_array();
        for (int i = 0; i < argc; i++)
            json_array_append_new(sel, json_string(argv[i]));
        if (argc == 0)
            json_array_append_new(sel, json_string("all"));
        params = json_pack("{s:o}", "statistics", sel);
    } else if (argc) {
        fprintf(stderr, "sbctl: %s takes no arguments\n", word);
        return 2;
    }
    int rc = sbctl_mi_result(c, method, params, &res);
    json_decref(params);
    if (rc != 0)
        return rc;
    if (c->json)
        sbctl_print_json(res, true);
    else if (!strcmp(word, "ps"))
        print_ps(res);
    else if (!strcmp(word, "stats"))
        print_lines(res, " = ");
    else if (!strcmp(word, "reload") && json_is_string(res))
        printf("%s\n", json_string_value(res));
    else if (!strcmp(word, "version") && json_is_string(json_object_get(res, "Server")))
        printf("%s\n", json_string_value(json_object_get(res, "Server")));
    else
        print_lines(res, ": ");
    json_decref(res);
    return 0;
}

int sbctl_mi_cmd(struct sbctl *c, int argc, char **argv)
{
    if (!strcmp(argv[0], "ul"))
        return sbctl_ul(c, argc - 1, argv + 1);
    if (strcmp(argv[0], "mi") != 0)
        return shortcut(c, argv[0], argc - 1, argv + 1);
    const char *jtext = NULL;
    int n = 0;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    if (!rest)
        return 1;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json-params")) && i + 1 < argc)
            jtext = argv[++i];
        else
            rest[n++] = argv[i];
    }
    int rc = 2;
    json_t *params = NULL, *res = NULL;
    if (n == 0) {
        fprintf(stderr, "usage: sbctl mi COMMAND [ARG... | NAME=VALUE... | -j JSON]\n");
        goto out;
    }
    rc = build_params(rest[0], n - 1, rest + 1, jtext, &params);
    if (rc != 0)
        goto out;
    rc = sbctl_mi_result(c, rest[0], params, &res);
    if (rc == 0)
        sbctl_print_json(res, c->json);
out:
    json_decref(params);
    json_decref(res);
    free(rest);
    return rc;
}
