/* SPDX-License-Identifier: BSD-2-Clause */
/* The core pseudo-module: script functions that belong to no loadable module (xlog, seturi ...).
 * Always loaded. */
#include "sb/mod-t.h"

extern const struct sb_mod_fn sb__core_fns[];

const struct sb_module sb_module_core = {
    .name = "core",
    .summary = "core script functions",
    .fns = sb__core_fns,
};
