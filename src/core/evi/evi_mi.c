/* SPDX-License-Identifier: BSD-2-Clause */
/* Management commands of the event interface (OpenSIPS names): event_subscribe, events_list,
 * subscribers_list, raise_event. */
#include <stdlib.h>
#include <string.h>

#include "evi_int.h"
#include "sb/base.h"
#include "sb/mi.h"

static json_t *mi_subscribe(struct sb_mi_call *c)
{
    const char *ev = sb_mi_param_str(c, "event");
    const char *sock = sb_mi_param_str(c, "socket");
    if (!ev || !sock)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "event and socket must be strings");
    int64_t expire = SB_EVI_DEFAULT_EXPIRE;
    int rc = sb_mi_param_int(c, "expire", &expire);
    if (rc == SB_EINVAL || expire < 0 || expire > UINT32_MAX)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "bad expire");
    if (expire == 0) {
        /* as OpenSIPS: an expire of 0 removes the subscription */
        if (sb_evi_unsubscribe(sb_str_cstr(ev), sb_str_cstr(sock)) != 0)
            return sb_mi_error(c, SB_MI_SERVER_ERROR, "no such subscription");
        return json_string("OK");
    }
    const char *err = "cannot subscribe";
    rc = sb_evi_subscribe(sb_str_cstr(ev), sb_str_cstr(sock), (uint32_t)expire, &err);
    if (rc != 0)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "%s", err);
    return json_string("OK");
}

static json_t *mi_events_list(struct sb_mi_call *c)
{
    (void)c;
    json_t *list = json_array();
    unsigned n = sb_evi_count();
    for (sb_evi_id i = 1; i <= n; i++)
        json_array_append_new(list,
                              json_pack("{s:s, s:i}", "name", sb_evi_name(i), "id", (int)i - 1));
    return json_pack("{s:o}", "Events", list);
}

struct walk {
    json_t *events; /* array of {name, subscribers: [...]} */
};

static void add_sub(const char *event, const char *sock, int64_t expires_in, void *arg)
{
    struct walk *w = arg;
    json_t *entry = NULL;
    for (size_t i = 0; i < json_array_size(w->events); i++) {
        json_t *e = json_array_get(w->events, i);
        if (strcmp(json_string_value(json_object_get(e, "name")), event) == 0)
            entry = e;
    }
    if (!entry) {
        entry = json_pack("{s:s, s:[]}", "name", event, "subscribers");
        json_array_append_new(w->events, entry);
    }
    json_array_append_new(json_object_get(entry, "subscribers"),
                          json_pack("{s:s, s:I}", "socket", sock, "expire",
                                    (json_int_t)(expires_in > 0 ? expires_in : 0)));
}

static json_t *mi_subscribers_list(struct sb_mi_call *c)
{
    const char *ev = sb_mi_param_str(c, "event");
    const char *sock = sb_mi_param_str(c, "socket");
    sb_evi_id id = 0;
    if (ev && !(id = sb_evi_find(sb_str_cstr(ev))))
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "unknown event");
    struct walk w = {.events = json_array()};
    sb__evi_subs_walk(id, add_sub, &w);
    if (sock) {
        /* one subscriber: keep only that socket */
        for (size_t i = 0; i < json_array_size(w.events); i++) {
            json_t *subs = json_object_get(json_array_get(w.events, i), "subscribers");
            for (size_t j = json_array_size(subs); j-- > 0;)
                if (strcasecmp(
                        json_string_value(json_object_get(json_array_get(subs, j), "socket")),
                        sock) != 0)
                    json_array_remove(subs, j);
        }
    }
    return json_pack("{s:o}", "Events", w.events);
}

static json_t *mi_raise(struct sb_mi_call *c)
{
    const char *ev = sb_mi_param_str(c, "event");
    if (!ev)
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "event must be a string");
    sb_evi_id id = sb_evi_find(sb_str_cstr(ev));
    if (!id)
        return sb_mi_error(c, SB_MI_SERVER_ERROR, "unknown event");
    json_t *params = sb_mi_param(c, "params");
    if (params && !json_is_object(params))
        return sb_mi_error(c, SB_MI_INVALID_PARAMS, "params must be an object");
    struct sb_evi_params p = {0};
    char *texts[SB_EVI_MAX_PARAMS] = {0};
    const char *key;
    json_t *v;
    json_t *res = NULL;
    json_object_foreach(params, key, v)
    {
        int rc;
        if (json_is_integer(v)) {
            rc = sb_evi_param_int(&p, key, json_integer_value(v));
        } else if (json_is_string(v)) {
            rc =
                sb_evi_param_str(&p, key, sb_str_make(json_string_value(v), json_string_length(v)));
        } else {
            /* anything else goes as its JSON text */
            char *t =
                p.n < SB_EVI_MAX_PARAMS ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            texts[p.n] = t;
            rc = t ? sb_evi_param_str(&p, key, sb_str_cstr(t)) : SB_ELIMIT;
        }
        if (rc != 0) {
            res = sb_mi_error(c, SB_MI_INVALID_PARAMS, "too many parameters");
            goto out;
        }
    }
    if (sb_evi_raise(id, &p) != 0)
        res = sb_mi_error(c, SB_MI_SERVER_ERROR, "cannot raise the event");
    else
        res = json_string("OK");
out:
    for (unsigned i = 0; i < SB_EVI_MAX_PARAMS; i++)
        free(texts[i]);
    return res;
}

static const struct sb_mi_cmd cmds[] = {
    {.name = "event_subscribe",
     .help = "subscribe a socket (udp:IP:PORT, tcp:IP:PORT) to an event; expire 0 removes it",
     .recipes = {{mi_subscribe, {"event", "socket", NULL}},
                 {mi_subscribe, {"event", "socket", "expire", NULL}}}},
    {.name = "events_list",
     .help = "the events that can be raised",
     .recipes = {{mi_events_list, {NULL}}}},
    {.name = "subscribers_list",
     .help = "external subscribers, of every event or of one",
     .recipes = {{mi_subscribers_list, {NULL}},
                 {mi_subscribers_list, {"event", NULL}},
                 {mi_subscribers_list, {"event", "socket", NULL}}}},
    {.name = "raise_event",
     .help = "raise an event, with parameters given as an object",
     .recipes = {{mi_raise, {"event", NULL}}, {mi_raise, {"event", "params", NULL}}}},
    {.name = NULL},
};

int sb_evi_mi_register(void)
{
    if (sb_mi_find(SB_STR("events_list"), NULL))
        return 0;
    return sb_mi_register("evi", cmds);
}
