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

int wb_ranks_check_data(wb_config *cfg, bool training) {
    if (wb_dist_world() == 1) return 0;
    bool weights = training && wb_params_bool(wb_config_params(cfg, "data"), "image_weights");
    const char *what = weights ? "data.image_weights" : NULL;
    static const char *const splits[] = {"data.train", "data.val", "data.test"};
    for (int i = 0; i < 3 && !what; i++) {
        const wb_params *sp = wb_config_params(cfg, splits[i]);
        if (sp && wb_params_bool(sp, "rect")) what = splits[i];
    }
    if (!what) return 0;
    wb_logf(WB_LOG_ERROR, "data", "%s%s is not supported with %d ranks yet: its batches are not dealt out over ranks "
            "(the sampler shards plain shuffled or ordered epochs); turn it off, or run one process", what,
            strcmp(what, "data.image_weights") == 0 ? "" : ".rect", wb_dist_world());
    return 2;
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
