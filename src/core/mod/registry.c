/* SPDX-License-Identifier: BSD-2-Clause */
/* Module registry: lookup among linked modules, loadmodule, modparam, dependency order and the
 * lifecycle hooks. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb/base.h"
#include "sb/log.h"
#include "sb/mi.h"
#include "sb/mod.h"
#include "sb/stats.h"

extern const struct sb_module sb_module_core;

/* Strings that SB_MP_STR parameters point at. Written only by the control thread while a
 * configuration loads (before workers start); freed by sb_mod_params_free(). */
struct owned_str {
    struct owned_str *next;
    char s[];
};
static struct owned_str *owned_strs;

void sb_mod_params_free(void)
{
    struct owned_str *o = owned_strs, *next;
    for (; o; o = next) {
        next = o->next;
        free(o);
    }
    owned_strs = NULL;
}

static sb_str basename_noext(sb_str name)
{
    for (size_t i = name.len; i > 0; i--)
        if (name.p[i - 1] == '/') {
            name.p += i;
            name.len -= i;
            break;
        }
    if (name.len > 3 && memcmp(name.p + name.len - 3, ".so", 3) == 0)
        name.len -= 3;
    return name;
}

static bool name_is(const struct sb_module *m, sb_str name)
{
    return strlen(m->name) == name.len && memcmp(m->name, name.p, name.len) == 0;
}

const struct sb_module *sb_mod_find(sb_str name)
{
    name = basename_noext(name);
    if (name_is(&sb_module_core, name))
        return &sb_module_core;
    for (unsigned i = 0; i < sb_n_modules_builtin; i++)
        if (name_is(sb_modules_builtin[i], name))
            return sb_modules_builtin[i];
    return NULL;
}

void sb_modset_init(struct sb_modset *ms)
{
    ms->n = 0;
    ms->resolved = false;
    ms->mods[ms->n++] = &sb_module_core;
}

bool sb_modset_has(const struct sb_modset *ms, const char *name)
{
    for (unsigned i = 0; i < ms->n; i++)
        if (strcmp(ms->mods[i]->name, name) == 0)
            return true;
    return false;
}

int sb_modset_load(struct sb_modset *ms, sb_str name, struct sb_diag *d, const char *file,
                   uint32_t line, uint32_t col)
{
    const struct sb_module *m = sb_mod_find(name);
    if (!m) {
        sb_diag_error(d, file, line, col, "unknown module '" SB_STR_FMT "'", SB_STR_ARG(name));
        return SB_ENOENT;
    }
    if (m == &sb_module_core)
        return 0;
    for (unsigned i = 0; i < ms->n; i++)
        if (ms->mods[i] == m) {
            sb_diag_warn(d, file, line, col, "module '%s' loaded twice", m->name);
            return 0;
        }
    if (ms->n == SB_MODSET_MAX) {
        sb_diag_error(d, file, line, col, "too many modules");
        return SB_ELIMIT;
    }
    ms->mods[ms->n++] = m;
    ms->resolved = false;
    return 0;
}

static const struct sb_mod_param *param_find(const struct sb_module *m, sb_str name)
{
    for (const struct sb_mod_param *p = m->params; p && p->name; p++)
        if (strlen(p->name) == name.len && memcmp(p->name, name.p, name.len) == 0)
            return p;
    return NULL;
}

static const char *val_type_name(const struct sb_val *v)
{
    return v->type == SB_VAL_INT ? "an integer" : v->type == SB_VAL_STR ? "a string" : "NULL";
}

static int param_set(const struct sb_module *m, const struct sb_mod_param *p,
                     const struct sb_val *v, struct sb_diag *d, const char *file, uint32_t line,
                     uint32_t col)
{
    const char *err = NULL;
    switch (p->type) {
    case SB_MP_INT:
        if (v->type != SB_VAL_INT)
            goto type_err;
        *(int *)((char *)m->conf + p->offset) = v->i;
        return 0;
    case SB_MP_STR: {
        if (v->type != SB_VAL_STR)
            goto type_err;
        struct owned_str *o = malloc(sizeof(*o) + v->s.len + 1);
        if (!o)
            return SB_ENOMEM;
        memcpy(o->s, v->s.p, v->s.len);
        o->s[v->s.len] = '\0';
        o->next = owned_strs;
        owned_strs = o;
        *(char **)((char *)m->conf + p->offset) = o->s;
        return 0;
    }
    case SB_MP_FUNC:
        if (p->accepts && !(p->accepts & (1u << v->type)))
            goto type_err;
        if (p->set(v, &err) != 0) {
            sb_diag_error(d, file, line, col, "modparam %s.%s: %s", m->name, p->name,
                          err ? err : "invalid value");
            return SB_EINVAL;
        }
        return 0;
    default: break;
    }
type_err:
    sb_diag_error(d, file, line, col, "modparam %s.%s expects %s, got %s", m->name, p->name,
                  p->type == SB_MP_INT   ? "an integer"
                  : p->type == SB_MP_STR ? "a string"
                                         : "another type",
                  val_type_name(v));
    return SB_EINVAL;
}

/* "tm", "auth_db|usrloc", or a regular expression over module names (OpenSIPS allows both). */
static bool mod_pattern_plain(sb_str pat)
{
    for (size_t i = 0; i < pat.len; i++)
        if (!(sb_is_alpha((unsigned char)pat.p[i]) || sb_is_digit((unsigned char)pat.p[i]) ||
              pat.p[i] == '_'))
            return false;
    return true;
}

int sb_modset_param(struct sb_modset *ms, sb_str mod, sb_str param, const struct sb_val *v,
                    struct sb_diag *d, const char *file, uint32_t line, uint32_t col)
{
    regex_t re;
    bool plain = mod_pattern_plain(mod);
    if (!plain) {
        char pat[512];
        if (mod.len > sizeof(pat) - 8) {
            sb_diag_error(d, file, line, col, "modparam: module pattern too long");
            return SB_EINVAL;
        }
        snprintf(pat, sizeof(pat), "^(" SB_STR_FMT ")$", SB_STR_ARG(mod));
        if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0) {
            sb_diag_error(d, file, line, col, "modparam: bad module pattern '" SB_STR_FMT "'",
                          SB_STR_ARG(mod));
            return SB_EINVAL;
        }
    }
    int matched = 0, rc = 0;
    for (unsigned i = 0; i < ms->n && rc == 0; i++) {
        const struct sb_module *m = ms->mods[i];
        if (plain ? !name_is(m, mod) : regexec(&re, m->name, 0, NULL, 0) != 0)
            continue;
        const struct sb_mod_param *p = param_find(m, param);
        if (!p) {
            if (plain) {
                sb_diag_error(d, file, line, col, "module '%s' has no parameter '" SB_STR_FMT "'",
                              m->name, SB_STR_ARG(param));
                rc = SB_ENOENT;
            }
            continue;
        }
        matched++;
        rc = param_set(m, p, v, d, file, line, col);
    }
    if (!plain)
        regfree(&re);
    if (rc == 0 && matched == 0) {
        if (plain && sb_mod_find(mod))
            sb_diag_error(d, file, line, col,
                          "modparam for module '" SB_STR_FMT "', which is not loaded (missing "
                          "loadmodule \"" SB_STR_FMT ".so\"?)",
                          SB_STR_ARG(mod), SB_STR_ARG(mod));
        else if (plain)
            sb_diag_error(d, file, line, col, "modparam for unknown module '" SB_STR_FMT "'",
                          SB_STR_ARG(mod));
        else
            sb_diag_error(d, file, line, col,
                          "modparam: no loaded module matching '" SB_STR_FMT
                          "' has parameter '" SB_STR_FMT "'",
                          SB_STR_ARG(mod), SB_STR_ARG(param));
        rc = SB_ENOENT;
    }
    return rc;
}

static int depth_first(const struct sb_modset *ms, unsigned i, uint8_t *state,
                       const struct sb_module **out, unsigned *n, struct sb_diag *d,
                       const char *file)
{
    if (state[i] == 2)
        return 0;
    if (state[i] == 1) {
        sb_diag_error(d, file, 0, 0, "module dependency cycle through '%s'", ms->mods[i]->name);
        return SB_EINVAL;
    }
    state[i] = 1;
    for (const char *const *dep = ms->mods[i]->deps; dep && *dep; dep++) {
        unsigned j = 0;
        while (j < ms->n && strcmp(ms->mods[j]->name, *dep) != 0)
            j++;
        if (j == ms->n) {
            sb_diag_error(d, file, 0, 0, "module '%s' needs module '%s' (loadmodule \"%s.so\")",
                          ms->mods[i]->name, *dep, *dep);
            return SB_ENOENT;
        }
        int rc = depth_first(ms, j, state, out, n, d, file);
        if (rc)
            return rc;
    }
    state[i] = 2;
    out[(*n)++] = ms->mods[i];
    return 0;
}

int sb_modset_resolve(struct sb_modset *ms, struct sb_diag *d, const char *file)
{
    uint8_t state[SB_MODSET_MAX] = {0};
    const struct sb_module *order[SB_MODSET_MAX];
    unsigned n = 0;
    int rc = 0;
    for (unsigned i = 0; i < ms->n; i++) {
        int r = depth_first(ms, i, state, order, &n, d, file);
        if (r) {
            rc = r;
            state[i] = 2; /* report each missing dependency once, keep checking the others */
        }
    }
    if (rc)
        return rc;
    memcpy(ms->mods, order, n * sizeof(order[0]));
    ms->resolved = true;
    return 0;
}

static const struct sb_mod_fn *fn_in(const struct sb_module *m, sb_str name)
{
    for (const struct sb_mod_fn *f = m->fns; f && f->name; f++)
        if (strlen(f->name) == name.len && memcmp(f->name, name.p, name.len) == 0)
            return f;
    return NULL;
}

const struct sb_mod_fn *sb_modset_fn(const struct sb_modset *ms, sb_str name,
                                     const struct sb_module **owner)
{
    for (unsigned i = 0; i < ms->n; i++) {
        const struct sb_mod_fn *f = fn_in(ms->mods[i], name);
        if (f) {
            if (owner)
                *owner = ms->mods[i];
            return f;
        }
    }
    return NULL;
}

const struct sb_module *sb_mod_exporting(sb_str name)
{
    for (unsigned i = 0; i < sb_n_modules_builtin; i++)
        if (fn_in(sb_modules_builtin[i], name))
            return sb_modules_builtin[i];
    return NULL;
}

int sb_modset_start(const struct sb_modset *ms)
{
    /* statistics first, so that init (and the workers) can count from the start */
    for (unsigned i = 0; i < ms->n; i++)
        if (ms->mods[i]->stats && sb_stat_register_defs(ms->mods[i]->name, ms->mods[i]->stats)) {
            SB_ERR("module %s: cannot register its statistics", ms->mods[i]->name);
            return SB_ENOMEM;
        }
    /* management commands and the core statistics before init: modules' init may use them */
    if (sb_mi_modset_start(ms) != 0) {
        SB_ERR("cannot register the management commands");
        return SB_EINVAL;
    }
    for (unsigned i = 0; i < ms->n; i++)
        if (ms->mods[i]->init && ms->mods[i]->init() != 0) {
            SB_ERR("module %s failed to initialise", ms->mods[i]->name);
            for (unsigned j = i; j-- > 0;)
                if (ms->mods[j]->destroy)
                    ms->mods[j]->destroy();
            return SB_EINVAL;
        }
    return 0;
}

int sb_modset_start_worker(const struct sb_modset *ms, unsigned worker)
{
    for (unsigned i = 0; i < ms->n; i++)
        if (ms->mods[i]->init_worker && ms->mods[i]->init_worker(worker) != 0) {
            SB_ERR("module %s failed to initialise worker %u", ms->mods[i]->name, worker);
            for (unsigned j = i; j-- > 0;)
                if (ms->mods[j]->exit_worker)
                    ms->mods[j]->exit_worker(worker);
            return SB_EINVAL;
        }
    return 0;
}

void sb_modset_stop_worker(const struct sb_modset *ms, unsigned worker)
{
    for (unsigned i = ms->n; i-- > 0;)
        if (ms->mods[i]->exit_worker)
            ms->mods[i]->exit_worker(worker);
}

void sb_modset_stop(const struct sb_modset *ms)
{
    for (unsigned i = ms->n; i-- > 0;)
        if (ms->mods[i]->destroy)
            ms->mods[i]->destroy();
}
