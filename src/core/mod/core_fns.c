/* SPDX-License-Identifier: BSD-2-Clause */
/* Core script functions. */
#include "sb/mod-t.h"

const struct sb_mod_fn sb__core_fns[] = {
    {.name = NULL},
};
