#include "evolve.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../config/params.h"
#include "../runtime/context.h"
#include "../runtime/log.h"
#include "evolve_child.h"
#include "evolve_csv.h"
#include "evolve_metrics.h"
#include "work_dir.h"

#define WHO "evolve"

/* WORK/hyp_evolve.yaml: the fittest generation's hyperparameters. */
static int write_best(const char *work_dir, const wb_evolve_rows *rows, char *err, size_t n) {
    int b = wb_evolve_best(rows);
    if (b < 0) return 0;
    const double *r = rows->v[b];
    char path[PATH_MAX], header[PATH_MAX + 1024];
    snprintf(path, sizeof path, "%s/hyp_evolve.yaml", work_dir);
    snprintf(header, sizeof header,
             "# YOLOv5 hyperparameter evolution results (workbench evolve)\n# Best generation: %d of %d\n"
             "# fitness %.5g: precision %.5g, recall %.5g, mAP_0.5 %.5g, mAP_0.5:0.95 %.5g\n"
             "# Train with them: workbench run EXP.conf --hyp %s\n\n",
             b + 1, rows->n, wb_evolve_fitness(r), r[0], r[1], r[2], r[3], path);
    return wb_evolve_hyp_write(path, header, r + WB_EVOLVE_N_RESULTS, err, n);
}

/* The child's command line: [globals] run EXP --hyp HYP [--set ...] --work-dir DIR. */
static char **child_argv(const wb_evolve_args *a, const char *hyp, const char *dir, char *epochs_set,
                         char *interval_set) {
    int cap = 8 + a->n_global_args + 2 * a->n_overrides + 4, n = 0;
    char **argv = calloc((size_t)cap, sizeof *argv);
    if (!argv) return NULL;
    argv[n++] = "workbench";
    for (int i = 0; i < a->n_global_args; i++) argv[n++] = (char *)a->global_args[i];
    argv[n++] = "run";
    argv[n++] = (char *)a->exp_path;
    argv[n++] = "--hyp";
    argv[n++] = (char *)hyp;
    for (int i = 0; i < a->n_overrides; i++) argv[n++] = "--set", argv[n++] = (char *)a->overrides[i];
    if (a->epochs > 0) { /* YOLOv5 evolves with --noval: only the end of each run is evaluated */
        argv[n++] = "--set", argv[n++] = epochs_set;
        argv[n++] = "--set", argv[n++] = interval_set;
    }
    argv[n++] = "--work-dir";
    argv[n++] = (char *)dir;
    return argv;
}

/* Trains generation g (1-based) with hyp; its results into row. Returns an exit code; *stopped tells a stop
 * asked by a signal (Ctrl-C's code is 0, yet the evolution ends). */
static int run_generation(const wb_evolve_args *a, const char *work_dir, int g, const double *hyp, double *row,
                          bool *stopped) {
    char dir[PATH_MAX], hyp_path[PATH_MAX], log_json[PATH_MAX], err[PATH_MAX + 512];
    if (snprintf(dir, sizeof dir, "%s/gen_%d", work_dir, g) >= (int)sizeof dir ||
        snprintf(hyp_path, sizeof hyp_path, "%s/hyp.yaml", dir) >= (int)sizeof hyp_path ||
        snprintf(log_json, sizeof log_json, "%s/log.json", dir) >= (int)sizeof log_json) {
        wb_logf(WB_LOG_ERROR, WHO, "the work dir's path is too long: %s", work_dir);
        return 2;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        wb_logf(WB_LOG_ERROR, WHO, "cannot create %s: %s", dir, strerror(errno));
        return 1;
    }
    /* A generation stopped earlier starts again: its log must not lend this run an old validation. */
    if (unlink(log_json) != 0 && errno != ENOENT) {
        wb_logf(WB_LOG_ERROR, WHO, "cannot remove the stale %s: %s", log_json, strerror(errno));
        return 1;
    }
    if (wb_evolve_hyp_write(hyp_path, "# workbench evolve: this generation's hyperparameters\n", hyp, err,
                            sizeof err) != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "%s", err);
        return 1;
    }
    char epochs_set[64], interval_set[64];
    snprintf(epochs_set, sizeof epochs_set, "schedule.max_epochs=%d", a->epochs);
    snprintf(interval_set, sizeof interval_set, "evaluation.interval=%d", a->epochs);
    char **argv = child_argv(a, hyp_path, dir, epochs_set, interval_set);
    wb_child_result r;
    if (!argv || wb_run_child(argv, &r, err, sizeof err) != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "%s", argv ? err : "out of memory");
        free(argv);
        return 1;
    }
    free(argv);
    if (r.stop_signal) {
        *stopped = true;
        wb_logf(WB_LOG_WARN, WHO, "stopped during generation %d (%s); evolve.csv keeps the %d finished generations: "
                "run the same command again to continue with generation %d", g, strsignal(r.stop_signal), g - 1, g);
        return r.stop_signal == SIGINT ? 0 : 128 + r.stop_signal;
    }
    if (r.exit_code != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "generation %d: `workbench run` exited with %d; its output is above and its work "
                "dir is %s", g, r.exit_code, dir);
        return 1;
    }
    char missing[512];
    if (wb_evolve_read_results(log_json, row, missing, sizeof missing, err, sizeof err) != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "generation %d: %s", g, err);
        return 1;
    }
    if (missing[0] && g == 1)
        wb_logf(WB_LOG_INFO, WHO, "the runs do not log %s: written as 0 in evolve.csv (fitness uses only the mAPs)",
                missing);
    memcpy(row + WB_EVOLVE_N_RESULTS, hyp, sizeof *hyp * WB_EVOLVE_N_HYP);
    return 0;
}

static int add_row(const char *csv, wb_evolve_rows *rows, const double *row, char *err, size_t n) {
    if (wb_evolve_csv_append(csv, row, err, n) != 0) return -1;
    /* as it reads back: the file keeps 5 significant digits, and parents come from the file */
    wb_evolve_rows_free(rows);
    return wb_evolve_csv_read(csv, rows, err, n);
}

static int evolve_in(wb_experiment *e, const wb_evolve_args *a, const char *work_dir) {
    char csv[PATH_MAX], err[PATH_MAX + 512] = "";
    snprintf(csv, sizeof csv, "%s/evolve.csv", work_dir);
    double start[WB_EVOLVE_N_HYP];
    int rc = wb_evolve_hyp_start(a->hyp, start, err, sizeof err);
    if (rc != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "%s", err);
        return rc;
    }
    wb_evolve_rows rows;
    if (wb_evolve_csv_read(csv, &rows, err, sizeof err) != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "%s", err);
        return 1;
    }
    if (rows.n > 0)
        wb_logf(WB_LOG_INFO, WHO, "%s holds %d generation%s: continuing with generation %d of %d", csv, rows.n,
                rows.n == 1 ? "" : "s",
                rows.n + 1, a->generations);
    uint64_t seed = (uint64_t)wb_params_int(wb_config_params(e->cfg, ""), "seed");
    bool stopped = false;
    for (int g = rows.n + 1; rc == 0 && !stopped && g <= a->generations; g++) {
        /* each generation's draws depend on the seed and its number alone, so a continued evolution repeats them */
        char stream[32];
        snprintf(stream, sizeof stream, "evolve/%d", g);
        uint64_t rng = wb_rng_seed_for(seed, stream);
        double hyp[WB_EVOLVE_N_HYP], row[WB_EVOLVE_N_COLS];
        if (rows.n == 0) memcpy(hyp, start, sizeof hyp);
        else wb_evolve_mutate(wb_evolve_select_parent(&rows, &rng) + WB_EVOLVE_N_RESULTS, hyp, &rng);
        wb_evolve_constrain(hyp);
        wb_logf(WB_LOG_INFO, WHO, "generation %d of %d: %s/gen_%d", g, a->generations, work_dir, g);
        rc = run_generation(a, work_dir, g, hyp, row, &stopped);
        if (stopped) break;
        if (rc == 0 && add_row(csv, &rows, row, err, sizeof err) != 0) rc = 1;
        if (rc == 0 && write_best(work_dir, &rows, err, sizeof err) != 0) rc = 1;
        if (rc == 1 && err[0]) wb_logf(WB_LOG_ERROR, WHO, "%s", err);
        if (rc == 0) {
            int b = wb_evolve_best(&rows);
            wb_logf(WB_LOG_INFO, WHO, "generation %d of %d: fitness %.5g (mAP_0.5 %.5g, mAP_0.5:0.95 %.5g); best: "
                    "generation %d, fitness %.5g", g, a->generations, wb_evolve_fitness(row), row[2], row[3], b + 1,
                    wb_evolve_fitness(rows.v[b]));
        }
        err[0] = 0;
    }
    if (rc == 0 && !stopped && write_best(work_dir, &rows, err, sizeof err) != 0) {
        wb_logf(WB_LOG_ERROR, WHO, "%s", err);
        rc = 1;
    }
    if (rc == 0 && !stopped)
        wb_logf(WB_LOG_INFO, WHO, "%d generations in %s; the best hyperparameters: %s/hyp_evolve.yaml", rows.n, csv,
                work_dir);
    wb_evolve_rows_free(&rows);
    return rc;
}

int wb_evolve(wb_experiment *e, const wb_evolve_args *a) {
    const char *work_dir = a->work_dir ? a->work_dir : wb_params_string(wb_config_params(e->cfg, ""), "work_dir");
    char err[PATH_MAX + 512];
    wb_work_dir wd;
    int rc = wb_work_dir_open(&wd, work_dir, e->cfg, err, sizeof err);
    if (rc != 0) wb_logf(WB_LOG_ERROR, NULL, "%s", err);
    else rc = evolve_in(e, a, work_dir);
    wb_work_dir_close(&wd);
    return rc;
}
