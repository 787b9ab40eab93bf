/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading a script: global parameters, modules and their parameters, route tables (forward
 * references allowed), then checking and compiling every route; route lookup; freeing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "sb/base.h"

const struct sb_module *sb__script_extra_module;

/* ---- file names ---------------------------------------------------------------------------- */

/* File names outlive the syntax tree: compiled actions name their file in runtime errors, and
 * diagnostics borrow the name after a failed load. A process-lifetime table, grown by the
 * control thread while it loads scripts; the lock covers a reload racing a check in tests. */
struct iname {
    struct iname *next;
    char s[];
};
static pthread_mutex_t inames_lock = PTHREAD_MUTEX_INITIALIZER; /* guards inames */
static struct iname *inames;

const char *sb__script_file(const char *file)
{
    if (!file)
        return NULL;
    pthread_mutex_lock(&inames_lock);
    struct iname *n = inames;
    while (n && strcmp(n->s, file) != 0)
        n = n->next;
    if (!n) {
        size_t len = strlen(file);
        if ((n = malloc(sizeof(*n) + len + 1))) {
            memcpy(n->s, file, len + 1);
            n->next = inames;
            inames = n;
        }
    }
    pthread_mutex_unlock(&inames_lock);
    return n ? n->s : "<config>";
}

const char *sb__cc_file(struct sb__cc *cc, const char *file)
{
    if (file != cc->file_in || !cc->file_out) {
        cc->file_in = file;
        cc->file_out = sb__script_file(file);
    }
    return cc->file_out;
}

/* ---- route tables -------------------------------------------------------------------------- */

static const char *const rtype_names[SB__ROUTE_TYPES] = {
    "route",       "failure_route", "onreply_route", "branch_route", "error_route",
    "local_route", "startup_route", "timer_route",   "event_route",
};

const char *sb__rtype_name(uint32_t type)
{
    unsigned t = sb__rtype_index(type);
    return t < SB__ROUTE_TYPES ? rtype_names[t] : "?";
}

struct sb__route *sb__route_find(const struct sb_script *s, uint32_t type, sb_str name)
{
    unsigned t = sb__rtype_index(type);
    if (t >= SB__ROUTE_TYPES)
        return NULL;
    const struct sb__rtable *tb = &s->routes[t];
    for (uint32_t i = 0; i < tb->n; i++)
        if (strlen(tb->v[i].name) == name.len &&
            (name.len == 0 || memcmp(tb->v[i].name, name.p, name.len) == 0))
            return &tb->v[i];
    return NULL;
}

static bool valid_type(uint32_t type)
{
    return type && !(type & (type - 1)) && sb__rtype_index(type) < SB__ROUTE_TYPES;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static void add_route(struct sb__cc *cc, const struct sb_cfg_item *it)
{
    struct sb__rtable *tb = &cc->s->routes[sb__rtype_index(it->route_type)];
    sb_str name = it->name;
    if (it->route_type == SB_ROUTE_REQUEST && sb_str_eq(name, SB_STR("0")))
        name = SB_STR_NULL; /* route[0] is the main route */
    const char *file = sb__cc_file(cc, it->loc.file);
    const char *kw = sb__rtype_name(it->route_type);
    struct sb__route *old = sb__route_find(cc->s, it->route_type, name);
    if (old) {
        sb_diag_error(cc->d, file, it->loc.line, it->loc.col,
                      "duplicate %s (first defined at %s:%u)", old->label, base_name(old->file),
                      old->line);
        return;
    }
    struct sb__route *r = &tb->v[tb->n];
    char *n = sb__cc_strdup(cc, name.p, name.len);
    size_t llen = strlen(kw) + name.len + 3;
    char *label = sb__cc_alloc(cc, llen);
    if (!n || !label)
        return;
    if (name.len)
        snprintf(label, llen, "%s[%.*s]", kw, SB_STR_ARG(name));
    else
        snprintf(label, llen, "%s", kw);
    tb->n++;
    *r = (struct sb__route){.name = n,
                            .label = label,
                            .pv_name = name.len ? n : kw,
                            .type = it->route_type,
                            .interval = it->interval,
                            .file = file,
                            .line = it->loc.line,
                            .col = it->loc.col};
    if (it->route_type == SB_ROUTE_TIMER && it->interval <= 0)
        sb_diag_error(cc->d, file, it->loc.line, it->loc.col,
                      "%s needs an interval in seconds: timer_route[name, secs]", label);
}

/* Two passes: size each table, then fill it, so that routes never move (calls point at them). */
static void build_routes(struct sb__cc *cc, const struct sb_cfg *cfg)
{
    uint32_t count[SB__ROUTE_TYPES] = {0};
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next)
        if (it->kind == SB_CFG_ROUTE && valid_type(it->route_type))
            count[sb__rtype_index(it->route_type)]++;
    for (unsigned t = 0; t < SB__ROUTE_TYPES; t++)
        if (count[t] &&
            !(cc->s->routes[t].v = sb__cc_alloc(cc, count[t] * sizeof(struct sb__route))))
            return;
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next) {
        if (it->kind != SB_CFG_ROUTE)
            continue;
        if (!valid_type(it->route_type)) {
            sb_diag_error(cc->d, sb__cc_file(cc, it->loc.file), it->loc.line, it->loc.col,
                          "unknown route type");
            continue;
        }
        add_route(cc, it);
    }
}

static void compile_routes(struct sb__cc *cc, const struct sb_cfg *cfg)
{
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next) {
        if (it->kind != SB_CFG_ROUTE || !valid_type(it->route_type))
            continue;
        sb_str name = it->name;
        if (it->route_type == SB_ROUTE_REQUEST && sb_str_eq(name, SB_STR("0")))
            name = SB_STR_NULL;
        struct sb__route *r = sb__route_find(cc->s, it->route_type, name);
        /* a duplicate was reported; check its body anyway, against a scratch route */
        struct sb__route dup;
        if (r && (r->line != it->loc.line || r->file != sb__cc_file(cc, it->loc.file))) {
            dup = *r;
            r = &dup;
        }
        if (r)
            sb__compile_route(cc, r, it->body);
    }
}

/* ---- globals and modules ------------------------------------------------------------------- */

/* A parameter value: a number, a string (or a bare word / address), NULL, or a negated number. */
static bool ast_value(const struct sb_ast *a, struct sb_val *out)
{
    memset(out, 0, sizeof(*out));
    if (!a)
        return false;
    switch (a->kind) {
    case SB_AST_INT:
        out->type = SB_VAL_INT;
        out->i = a->num;
        return true;
    case SB_AST_STR:
    case SB_AST_ID:
    case SB_AST_IPNET:
        out->type = SB_VAL_STR;
        out->s = a->str;
        return true;
    case SB_AST_NULL: return true;
    case SB_AST_UNOP:
        if (a->op != SB_OP_NEG || !a->a || a->a->kind != SB_AST_INT)
            return false;
        out->type = SB_VAL_INT;
        out->i = (int32_t)(0u - (uint32_t)a->a->num);
        return true;
    default: return false;
    }
}

static void load_module(struct sb__cc *cc, const struct sb_cfg_item *it, const char *file,
                        const struct sb_script *live)
{
    struct sb_val v;
    if (!ast_value(it->value, &v) || v.type != SB_VAL_STR) {
        sb_diag_error(cc->d, file, it->loc.line, it->loc.col, "loadmodule needs a module name");
        return;
    }
    if (!live) {
        sb_modset_load(&cc->s->mods, v.s, cc->d, file, it->loc.line, it->loc.col);
        return;
    }
    /* a reload keeps the running module set: modules start and stop only with the process */
    const struct sb_module *m = sb_mod_find(v.s);
    if (!m)
        sb_diag_error(cc->d, file, it->loc.line, it->loc.col, "unknown module '%.*s'",
                      SB_STR_ARG(v.s));
    else if (!sb_modset_has(&live->mods, m->name))
        sb_diag_error(cc->d, file, it->loc.line, it->loc.col,
                      "module '%s' is not loaded in the running configuration: a reload cannot "
                      "add modules (restart instead)",
                      m->name);
}

static void apply_items(struct sb__cc *cc, const struct sb_cfg *cfg, const struct sb_script *live)
{
    struct sb_script *s = cc->s;
    for (const struct sb_cfg_item *it = cfg->items; it; it = it->next) {
        const char *file = sb__cc_file(cc, it->loc.file);
        struct sb_val v;
        switch (it->kind) {
        case SB_CFG_GLOBAL:
        case SB_CFG_MPATH:
            if (!ast_value(it->value, &v)) {
                sb_diag_error(cc->d, file, it->loc.line, it->loc.col,
                              "expected a number or a string");
                break;
            }
            sb_core_cfg_set(&s->core, &s->arena,
                            it->kind == SB_CFG_MPATH ? SB_STR("mpath") : it->name, &v, cc->d, file,
                            it->loc.line, it->loc.col);
            break;
        case SB_CFG_LOADMODULE: load_module(cc, it, file, live); break;
        case SB_CFG_MODPARAM:
            if (live)
                break; /* modules keep the parameters of the first load */
            if (!ast_value(it->value, &v)) {
                sb_diag_error(cc->d, file, it->loc.line, it->loc.col,
                              "modparam value must be a number or a string");
                break;
            }
            sb_modset_param(&s->mods, it->name, it->param, &v, cc->d, file, it->loc.line,
                            it->loc.col);
            break;
        default: break;
        }
    }
}

/* Module pseudo-variables and transformations join the engine's tables once per process. */
#define MAX_REGISTERED 256
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards registered, n_registered */
static const void *registered[MAX_REGISTERED];
static unsigned n_registered;

static bool register_once(const void *table)
{
    bool fresh = true;
    pthread_mutex_lock(&reg_lock);
    for (unsigned i = 0; i < n_registered && fresh; i++)
        fresh = registered[i] != table;
    if (fresh && n_registered < MAX_REGISTERED)
        registered[n_registered++] = table;
    pthread_mutex_unlock(&reg_lock);
    return fresh;
}

static void register_module_names(struct sb__cc *cc)
{
    const struct sb_modset *ms = &cc->s->mods;
    for (unsigned i = 0; i < ms->n; i++) {
        const struct sb_module *m = ms->mods[i];
        if (m->pvs && m->pvs->name && register_once(m->pvs) &&
            sb_pv_lookup(sb_str_cstr(m->pvs->name)) != m->pvs && sb_pv_register(m->pvs) < 0)
            sb_diag_error(cc->d, cc->s->main_file, 0, 0,
                          "module '%s': its pseudo-variables clash with existing ones", m->name);
        if (m->trs && m->trs->name && register_once(m->trs) && sb_tr_register(m->trs) < 0)
            sb_diag_error(cc->d, cc->s->main_file, 0, 0,
                          "module '%s': its transformations clash with existing ones", m->name);
    }
}

static void modset_prepare(struct sb__cc *cc, const struct sb_script *live)
{
    if (live) {
        cc->s->mods = live->mods;
        return;
    }
    sb_modset_init(&cc->s->mods);
    if (sb__script_extra_module && cc->s->mods.n < SB_MODSET_MAX)
        cc->s->mods.mods[cc->s->mods.n++] = sb__script_extra_module;
}

/* ---- load ---------------------------------------------------------------------------------- */

/* Diagnostics borrow file names: point those of the syntax tree at the interned copies. */
static void remap_diag(struct sb_diag *d, const struct sb_cfg *cfg)
{
    for (struct sb_diag_entry *e = d->head; e; e = e->next)
        for (uint32_t i = 0; i < cfg->n_files; i++)
            if (e->file && e->file == cfg->files[i]) {
                e->file = sb__script_file(e->file);
                break;
            }
}

static int load_cfg(struct sb_cfg *cfg, const struct sb_script *live, struct sb_diag *d,
                    struct sb_script **out)
{
    unsigned errors = d->n_errors;
    struct sb_script *s = calloc(1, sizeof(*s));
    if (!s) {
        sb_cfg_free(cfg);
        return SB_ENOMEM;
    }
    sb_arena_init(&s->arena, NULL, 0, 0);
    sb_core_cfg_defaults(&s->core);
    struct sb__cc cc = {.s = s, .d = d};
    s->main_file = sb__cc_file(&cc, cfg->n_files ? cfg->files[0] : "<config>");
    modset_prepare(&cc, live);
    apply_items(&cc, cfg, live);
    if (!live)
        sb_modset_resolve(&s->mods, d, s->main_file);
    register_module_names(&cc);
    build_routes(&cc, cfg);
    compile_routes(&cc, cfg);
    sb__check_routes(&cc);
    free(cc.edges);
    free(cc.sites);
    remap_diag(d, cfg);
    sb_cfg_free(cfg);
    if (d->n_errors > errors || cc.oom) {
        sb_script_free(s);
        *out = NULL;
        return cc.oom ? cc.oom : SB_EINVAL;
    }
    *out = s;
    return 0;
}

int sb_script_load(const char *path, struct sb_diag *d, struct sb_script **out)
{
    return sb_script_load_routes(path, NULL, d, out);
}

int sb_script_load_text(const char *name, const char *text, size_t len, struct sb_diag *d,
                        struct sb_script **out)
{
    return sb_script_load_routes_text(name, text, len, NULL, d, out);
}

int sb_script_load_routes(const char *path, const struct sb_script *live, struct sb_diag *d,
                          struct sb_script **out)
{
    struct sb_cfg *cfg = NULL;
    *out = NULL;
    int rc = sb_cfg_parse_file(path, d, &cfg);
    if (rc < 0 || !cfg)
        return rc < 0 ? rc : SB_EINVAL;
    return load_cfg(cfg, live, d, out);
}

int sb_script_load_routes_text(const char *name, const char *text, size_t len,
                               const struct sb_script *live, struct sb_diag *d,
                               struct sb_script **out)
{
    struct sb_cfg *cfg = NULL;
    *out = NULL;
    int rc = sb_cfg_parse_text(name, text, len, d, &cfg);
    if (rc < 0 || !cfg)
        return rc < 0 ? rc : SB_EINVAL;
    return load_cfg(cfg, live, d, out);
}

void sb_script_free(struct sb_script *s)
{
    if (!s)
        return;
    for (struct sb__owned *o = s->owned; o; o = o->next)
        o->free_fn(o->p);
    sb_arena_deinit(&s->arena);
    free(s);
}

/* ---- queries ------------------------------------------------------------------------------- */

int sb_script_route(const struct sb_script *s, uint32_t type, sb_str name)
{
    if (!valid_type(type))
        return -1;
    if (type == SB_ROUTE_REQUEST && sb_str_eq(name, SB_STR("0")))
        name = SB_STR_NULL;
    const struct sb__route *r = sb__route_find(s, type, name);
    return r ? (int)(r - s->routes[sb__rtype_index(type)].v) : -1;
}

unsigned sb_script_n_routes(const struct sb_script *s, uint32_t type)
{
    return valid_type(type) ? s->routes[sb__rtype_index(type)].n : 0;
}

const char *sb_script_route_name(const struct sb_script *s, uint32_t type, int idx)
{
    if (!valid_type(type) || idx < 0 || (uint32_t)idx >= s->routes[sb__rtype_index(type)].n)
        return NULL;
    return s->routes[sb__rtype_index(type)].v[idx].name;
}

int sb_script_timer_interval(const struct sb_script *s, int idx)
{
    const struct sb__rtable *t = &s->routes[sb__rtype_index(SB_ROUTE_TIMER)];
    return idx >= 0 && (uint32_t)idx < t->n ? t->v[idx].interval : -1;
}

const struct sb_core_cfg *sb_script_core(const struct sb_script *s)
{
    return &s->core;
}

const struct sb_modset *sb_script_modset(const struct sb_script *s)
{
    return &s->mods;
}
