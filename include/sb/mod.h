/* SPDX-License-Identifier: BSD-2-Clause */
/* The module registry: modules linked into the binary, the set a script loads, modparams, and
 * lifecycle. See docs/internals/modules.md. Control thread, except init_worker/exit_worker. */
#ifndef SB_MOD_H
#define SB_MOD_H

#include "sb/diag.h"
#include "sb/mod-t.h"

/* Every module linked into the binary, from the generated list (src/modules/<name>/). */
extern const struct sb_module *const sb_modules_builtin[];
extern const unsigned sb_n_modules_builtin;

/* Find a linked module by the name given to loadmodule: "tm", "tm.so" or "/any/path/tm.so". */
const struct sb_module *sb_mod_find(sb_str name);

#define SB_MODSET_MAX 128

/* The modules a configuration loads, in load order, then in dependency order after
 * sb_modset_resolve(). */
struct sb_modset {
    const struct sb_module *mods[SB_MODSET_MAX];
    unsigned n;
    bool resolved;
};

void sb_modset_init(struct sb_modset *ms);
/* loadmodule: an unknown module, or one loaded twice, is reported at <file:line:col>. The core
 * module ("core": functions such as xlog and seturi) is always present. */
int sb_modset_load(struct sb_modset *ms, sb_str name, struct sb_diag *d, const char *file,
                   uint32_t line, uint32_t col);
/* modparam("mod" or "mod1|mod2" or a regular expression, "param", value): applies <v> to every
 * loaded module whose name matches; a type mismatch, an unknown parameter or no matching module
 * is an error at the given position. */
int sb_modset_param(struct sb_modset *ms, sb_str mod, sb_str param, const struct sb_val *v,
                    struct sb_diag *d, const char *file, uint32_t line, uint32_t col);
/* Check dependencies (a missing one is an error naming both) and order the set so that every
 * module comes after the ones it depends on. */
int sb_modset_resolve(struct sb_modset *ms, struct sb_diag *d, const char *file);
/* Find a script function among the loaded modules; *owner (if non-NULL) gets its module. */
const struct sb_mod_fn *sb_modset_fn(const struct sb_modset *ms, sb_str name,
                                     const struct sb_module **owner);
/* Which linked (but not loaded) module exports function <name>? For "is loadmodule missing?". */
const struct sb_module *sb_mod_exporting(sb_str name);
bool sb_modset_has(const struct sb_modset *ms, const char *name);

/* Lifecycle in dependency order (destroy and exit_worker in reverse). init stops at the first
 * failure and reports which module failed. */
int sb_modset_start(const struct sb_modset *ms);
int sb_modset_start_worker(const struct sb_modset *ms, unsigned worker);
void sb_modset_stop_worker(const struct sb_modset *ms, unsigned worker);
void sb_modset_stop(const struct sb_modset *ms);

/* Free the strings that SB_MP_STR module parameters point at (at shutdown, after destroy). */
void sb_mod_params_free(void);

#endif
