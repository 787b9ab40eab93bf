/* SPDX-License-Identifier: BSD-2-Clause */
/* reload_routes: compile the script file again against the running one and publish it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sb/log.h"
#include "sb/runtime.h"
#include "sb/script.h"
#include "sb/worker.h"

static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static char *script_path;

void sb_runtime_set_script_path(const char *path)
{
    pthread_mutex_lock(&reload_lock);
    free(script_path);
    script_path = path ? strdup(path) : NULL;
    pthread_mutex_unlock(&reload_lock);
}

int sb_reload_routes(struct sb_diag *d)
{
    int rc;
    struct sb_script *next = NULL;
    pthread_mutex_lock(&reload_lock);
    /* the live script is only freed by a publish, which runs under this lock */
    const struct sb_script *live = atomic_load_explicit(&sb_rt.script, memory_order_acquire);
    if (!script_path || !live) {
        sb_diag_error(d, NULL, 0, 0, "reload_routes: the server is not running a script");
        rc = SB_EINVAL;
        goto out;
    }
    rc = sb_script_load_routes(script_path, live, d, &next);
    if (rc != 0) {
        SB_ERR("reload_routes: %s has %u error(s); the running script is kept", script_path,
               d->n_errors);
        goto out;
    }
    rc = sb_publish_script(next);
    if (rc == 0)
        SB_NOTICE("reload_routes: %s reloaded (script generation %llu)", script_path,
                  (unsigned long long)atomic_load(&sb_rt.script_gen));
out:
    pthread_mutex_unlock(&reload_lock);
    return rc;
}
