/* Loader throughput on coco128 (../shared/datasets/coco128, COCO format):
 * images/s of the YOLO pipeline (mosaic 640, affine, HSV, flip) and of the
 * mmdetection pipeline (resize 1333x800 keep-ratio, flip, normalize, pad 32)
 * with 1 and 2 workers, then the same decode + resize + flip in PIL
 * (bench/data/pil_pipeline.py, run by /usr/bin/python3) and the ratios.
 * Run from the checkout root: build/bench/bench_loader [epochs] [--no-pil]
 * [--only yolo|mmdet]. Not a test. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/experiment.h"
#include "config/params.h"
#include "data/loader.h"
#include "runtime/context.h"

static const char *const pipelines[2][2] = {
    {"yolo", "( { type = \"mosaic\"; size = [640, 640]; }, { type = \"random_affine\"; }, { type = \"yolo_hsv\"; },"
             "  { type = \"random_flip\"; prob = 0.5; } )"},
    {"mmdet", "( { type = \"resize\"; scale = [1333, 800]; keep_ratio = true; }, { type = \"random_flip\"; prob = 0.5; },"
              "  { type = \"normalize\"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; },"
              "  { type = \"pad\"; size_divisor = 32; } )"},
};

static double clock_seconds(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }

/* images/s over `epochs` epochs after one warm-up epoch, < 0 on error, and
 * the process's CPU milliseconds per image over the same time (all threads:
 * the work itself, whatever else the machine runs). */
static double measure(const char *pipeline, int workers, int epochs, double *cpu_ms) {
    const char *conf_path = "/tmp/wb_bench_loader.conf";
    FILE *f = fopen(conf_path, "w");
    if (!f) return -1;
    fprintf(f, "@include \"%s/configs/_base_/default_runtime.conf\"\n@include \"%s/configs/_base_/datasets/coco128.conf\"\n"
               "model = { backbone = { type = \"tiny_cnn\"; }; head = { type = \"center_head\"; num_classes = 80; }; };\n"
               "data = { batch_size = 8; workers = %d; train = { pipeline = %s; }; };\n",
            WB_SOURCE_DIR, WB_SOURCE_DIR, workers, pipeline);
    fclose(f);
    const char *dirs[1] = {WB_PLUGIN_BUILD_DIR};
    wb_experiment_args a = {.path = conf_path, .plugin_dirs = dirs, .n_plugin_dirs = 1};
    wb_experiment e;
    double rate = -1;
    if (wb_experiment_open(&e, &a, stderr) != 0) {
        wb_experiment_close(&e);
        return -1;
    }
    const wb_params *dp = wb_config_params(e.cfg, "data.train.dataset");
    const wb_dataset_vtable *vt = wb_registry_find(e.reg, WB_KIND_DATASET, wb_params_string(dp, "type"))->dataset;
    wb_session *s = wb_session_create(NULL, 0);
    wb_context c;
    wb_context_init(&c, s, "bench", false);
    void *ds = NULL;
    config_setting_t *list = config_lookup(wb_config_tree(e.cfg), "data.train.pipeline");
    const wb_params *steps[16];
    int n = config_setting_length(list);
    for (int i = 0; i < n; i++) steps[i] = wb_params_of(config_setting_get_elem(list, (unsigned)i));
    char err[1024];
    wb_pipeline *pipe = wb_pipeline_create(steps, n, err, sizeof err);
    if (pipe && vt->open(&c.pub, dp, &ds) == WB_OK) {
        wb_loader_opts lo = {.batch_size = 8, .workers = workers, .shuffle = true, .size_divisor = 32,
                             .seed = 1, .max_epochs = epochs + 1, .pipeline = pipe};
        wb_loader *l = wb_loader_create(&lo, vt, ds, err, sizeof err);
        wb_batch *b = NULL;
        int64_t images = 0;
        double t0 = 0, cpu0 = 0;
        /* The first epoch warms the page cache and the threads; the rest is timed. */
        int64_t per_epoch = l ? wb_loader_batches_per_epoch(l) : 0, k = 0;
        while (l && wb_loader_next(l, &b) == WB_OK && b) {
            if (k++ == per_epoch) t0 = now(), cpu0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
            if (k > per_epoch) images += b->n;
            wb_loader_release(l, b);
        }
        if (images) rate = (double)images / (now() - t0);
        if (images) *cpu_ms = 1e3 * (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (double)images;
        if (l) wb_loader_destroy(l);
        vt->close(ds);
    } else {
        fprintf(stderr, "bench_loader: %s\n", pipe ? c.msg : err);
    }
    if (pipe) wb_pipeline_destroy(pipe);
    wb_session_destroy(s);
    wb_experiment_close(&e);
    return rate;
}

/* images/s of PIL for a pipeline and worker count, from pil_pipeline.py. */
static double pil_rate(const char *pipeline, int workers, int epochs) {
    char cmd[1024], line[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/bench/data/pil_pipeline.py %s %d %d %s/../shared/datasets/coco128",
             WB_SOURCE_DIR, pipeline, workers, epochs, WB_SOURCE_DIR);
    FILE *p = popen(cmd, "r");
    double rate = -1;
    while (p && fgets(line, sizeof line, p)) sscanf(line, "PIL %lf", &rate);
    if (p) pclose(p);
    return rate;
}

int main(int argc, char **argv) {
    int epochs = 3;
    bool with_pil = true;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-pil") == 0)
            with_pil = false;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else
            epochs = atoi(argv[i]);
    }
    printf("%-8s %8s %14s %14s %8s %16s\n", "pipeline", "workers", "ours img/s", "PIL img/s", "ratio",
           "ours CPU ms/img");
    for (int p = 0; p < 2; p++)
        for (int w = 1; w <= 2; w++) {
            if (only && strcmp(only, pipelines[p][0]) != 0) continue;
            double cpu_ms = 0, ours = measure(pipelines[p][1], w, epochs, &cpu_ms);
            double pil = with_pil ? pil_rate(pipelines[p][0], w, epochs) : 0.0;
            printf("%-8s %8d %14.1f %14.1f %8.2f %16.2f\n", pipelines[p][0], w, ours, pil, pil > 0 ? ours / pil : 0.0,
                   cpu_ms);
            fflush(stdout);
        }
    return 0;
}
