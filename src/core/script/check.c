/* SPDX-License-Identifier: BSD-2-Clause */
/* Checker, whole script: which top-level route types each sub-route runs under (through route()
 * calls), functions and variables used where they are not allowed, unused sub-routes. */
#include <stdio.h>
#include <string.h>

#include "action.h"

static bool is_sub_route(const struct sb__route *r)
{
    return r->type == SB_ROUTE_REQUEST && r->name[0];
}

/* Propagate route types along route() calls until nothing changes: a sub-route runs under every
 * type of every route that calls it. A dynamic call (route($var)) may reach any sub-route. */
static void propagate(struct sb__cc *cc)
{
    struct sb_script *s = cc->s;
    for (unsigned t = 0; t < SB__ROUTE_TYPES; t++)
        for (uint32_t i = 0; i < s->routes[t].n; i++) {
            struct sb__route *r = &s->routes[t].v[i];
            r->reach = is_sub_route(r) ? 0 : r->type;
        }
    struct sb__rtable *subs = &s->routes[sb__rtype_index(SB_ROUTE_REQUEST)];
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t k = 0; k < cc->n_edges; k++) {
            const struct sb__edge *e = &cc->edges[k];
            uint32_t from = e->from->reach;
            if (e->to) {
                if (is_sub_route(e->to) && (e->to->reach | from) != e->to->reach) {
                    e->to->reach |= from;
                    changed = true;
                }
                continue;
            }
            for (uint32_t i = 0; i < subs->n; i++)
                if (is_sub_route(&subs->v[i]) && (subs->v[i].reach | from) != subs->v[i].reach) {
                    subs->v[i].reach |= from;
                    changed = true;
                }
        }
    }
}

/* "startup_route, timer_route" */
static void type_list(uint32_t types, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned t = 0; t < SB__ROUTE_TYPES; t++)
        if (types & (1u << t)) {
            int w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", sb__rtype_name(1u << t));
            if (w < 0 || (size_t)w >= n - len)
                return;
            len += (size_t)w;
        }
}

static void check_sites(struct sb__cc *cc)
{
    for (uint32_t k = 0; k < cc->n_sites; k++) {
        const struct sb__site *st = &cc->sites[k];
        uint32_t bad = st->route->reach & ~st->allowed;
        if (!bad || !st->what)
            continue;
        char types[160];
        type_list(bad, types, sizeof(types));
        if (is_sub_route(st->route))
            sb_diag_error(cc->d, st->loc.file, st->loc.line, st->loc.col,
                          "%s cannot be used in %s (reached through %s)", st->what, types,
                          st->route->label);
        else
            sb_diag_error(cc->d, st->loc.file, st->loc.line, st->loc.col, "%s cannot be used in %s",
                          st->what, types);
    }
}

void sb__check_routes(struct sb__cc *cc)
{
    propagate(cc);
    check_sites(cc);
    struct sb__rtable *subs = &cc->s->routes[sb__rtype_index(SB_ROUTE_REQUEST)];
    for (uint32_t i = 0; i < subs->n; i++) {
        const struct sb__route *r = &subs->v[i];
        if (is_sub_route(r) && !r->called && !r->named && !cc->dynamic_routes)
            sb_diag_warn(cc->d, r->file, r->line, r->col, "%s is never used", r->label);
    }
}
