#include "train_ranks.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "../config/params.h"
#include "../dist/dist.h"
#include "../runtime/log.h"

int wb_ranks_begin(void) {
    char err[PATH_MAX + 512];
    if (wb_dist_init(err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, NULL, "%s", err);
        return 1;
    }
    if (wb_dist_world() == 1) return 0;
    if (wb_dist_is_root())
        wb_logf(WB_LOG_INFO, NULL, "data-parallel training on %d ranks (%s); rank 0 writes the work dir and the log",
                wb_dist_world(), wb_dist_name());
    else
        wb_log_set_level(WB_LOG_WARN);
    return 0;
}

/* Training deals image weights' draws and rect's whole batches out over the
 * ranks (sampler.h); evaluation's shards interleave images, which rect's
 * batches of fixed images cannot. */
int wb_ranks_check_data(wb_config *cfg) {
    if (wb_dist_world() == 1) return 0;
    static const char *const splits[] = {"data.val", "data.test"};
    for (int i = 0; i < 2; i++) {
        const wb_params *sp = wb_config_params(cfg, splits[i]);
        if (!sp || !wb_params_bool(sp, "rect")) continue;
        wb_logf(WB_LOG_ERROR, "data", "%s.rect is not supported with %d ranks yet: evaluation deals images out over "
                "the ranks, and rect batches are fixed groups of images; turn it off, or evaluate in one process",
                splits[i], wb_dist_world());
        return 2;
    }
    return 0;
}

int wb_ranks_share_work_dir(int rc, char *work_dir, size_t work_dir_size, char *path, size_t path_size) {
    if (wb_dist_world() == 1) return rc;
    struct {
        int rc;
        char work_dir[PATH_MAX], path[PATH_MAX];
    } setup = {rc, "", ""};
    if (wb_dist_is_root()) {
        snprintf(setup.work_dir, sizeof setup.work_dir, "%s", work_dir);
        snprintf(setup.path, sizeof setup.path, "%s", rc == 0 ? path : "");
    }
    char err[256];
    if (wb_dist_broadcast(&setup, (int64_t)sizeof setup, 0, err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, NULL, "%s", err);
        return 1;
    }
    if (!wb_dist_is_root()) {
        snprintf(work_dir, work_dir_size, "%s", setup.work_dir);
        snprintf(path, path_size, "%s", setup.path);
    }
    return setup.rc;
}

int wb_ranks_end(int rc) {
    if (wb_dist_world() > 1 && rc != 0 && rc < 128) { /* 128 + a signal: every rank stopped together */
        wb_logf(WB_LOG_ERROR, NULL, "rank %d of %d ends with exit code %d, and with it the job", wb_dist_rank(),
                wb_dist_world(), rc);
        wb_dist_abort(rc);
    }
    wb_dist_finalize();
    return rc;
}
