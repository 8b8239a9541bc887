#include "trainlog.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../runtime/log.h"
#include "../tblog/tb_run.h"

/* One number of a log line: its log.json key, printf format and value. */
typedef struct kv {
    const char *key, *fmt;
    double value;
} kv;

/* {"mode": "resume", ...}: where this stretch of a resumed run starts. */
static void write_resume_marker(FILE *json, const char *checkpoint, int64_t iteration) {
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "mode", "resume");
    cJSON_AddNumberToObject(j, "iteration", (double)iteration);
    cJSON_AddStringToObject(j, "checkpoint", checkpoint);
    cJSON_AddStringToObject(j, "time", stamp);
    char *text = cJSON_PrintUnformatted(j);
    if (text) fprintf(json, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(j);
    fflush(json);
}

int wb_trainlog_open(wb_trainlog *l, const char *work_dir, const char *resumed_from, int64_t start_iter) {
    *l = (wb_trainlog){.logged_iter = start_iter};
    char path[4096];
    snprintf(path, sizeof path, "%s/log.json", work_dir);
    /* O_NOFOLLOW: a log.json planted as a symlink must not append to the file it points at. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    l->json = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (fd >= 0 && !l->json) close(fd);
    l->tty = isatty(STDERR_FILENO);
    if (l->json && resumed_from) write_resume_marker(l->json, resumed_from, start_iter);
    return l->json != NULL;
}

void wb_format_eta(double seconds, char *buf, size_t size) {
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    long days = s / 86400;
    s %= 86400;
    if (days > 0)
        snprintf(buf, size, "%ld day%s, %ld:%02ld:%02ld", days, days > 1 ? "s" : "", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

/* The numbers of a train line in log.json's order; returns their count. */
static int train_numbers(const wb_iter_stats *s, kv *out) {
    int n = 0;
    out[n++] = (kv){"lr", "%.6e", s->lr};
    out[n++] = (kv){"time", "%.5f", s->time};
    out[n++] = (kv){"data_time", "%.5f", s->data_time};
    out[n++] = (kv){"memory", "%.0f", s->memory_mb};
    /* lr stays the main group's for older readers; lr0..2 are YOLOv5's param_groups in its order. */
    out[n++] = (kv){"lr0", "%.6e", s->bias_lr};
    out[n++] = (kv){"lr1", "%.6e", s->lr};
    out[n++] = (kv){"lr2", "%.6e", s->lr};
    if (s->has_momentum) out[n++] = (kv){"momentum", "%.6f", s->momentum};
    for (int i = 0; i < s->n_terms; i++) out[n++] = (kv){s->names[i], "%.6f", s->values[i]};
    out[n++] = (kv){"loss", "%.6f", s->total};
    out[n++] = (kv){"grad_norm", "%.6f", s->grad_norm};
    return n;
}

/* "train/<key>" (or "<prefix>/<key>") as a TensorBoard tag. */
static void tag_of(char *tag, size_t size, const char *prefix, const char *key) {
    snprintf(tag, size, "%s/%s", prefix, key);
}

static void add_to_epoch(wb_epoch_means *e, const kv *nums, int n, int64_t iters) {
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < e->n && strcmp(e->keys[k], nums[i].key) != 0) k++;
        if (k == e->n) {
            if (e->n == WB_TRAINLOG_MAX_KEYS) continue;
            snprintf(e->keys[e->n++], WB_NAME_MAX, "%s", nums[i].key);
        }
        e->sums[k] += nums[i].value * (double)iters;
    }
    e->iters += iters;
}

/* At an epoch's end: its means as train_epoch/<key> at step = epoch. */
static void write_epoch_means(wb_epoch_means *e, int64_t epoch) {
    wb_event_file *tb = wb_tb_run_events();
    char tag[2 * WB_NAME_MAX];
    for (int k = 0; tb && e->iters > 0 && k < e->n; k++) {
        tag_of(tag, sizeof tag, "train_epoch", e->keys[k]);
        wb_event_file_scalar(tb, tag, epoch, e->sums[k] / (double)e->iters);
    }
    *e = (wb_epoch_means){0};
}

void wb_trainlog_iter(wb_trainlog *l, const wb_iter_stats *s) {
    char eta[48], line[1024];
    wb_format_eta(s->eta_seconds, eta, sizeof eta);
    int off = l->by_epoch ? snprintf(line, sizeof line, "Epoch [%lld][%lld/%lld]\t", (long long)s->epoch,
                                     (long long)s->iter_in_epoch, (long long)s->iters_per_epoch)
                          : snprintf(line, sizeof line, "Iter [%lld/%lld]\t", (long long)s->iteration,
                                     (long long)s->max_iters);
    off += snprintf(line + off, sizeof line - (size_t)off, "lr: %.3e, eta: %s, time: %.3f, data_time: %.3f, memory: %.0f",
                    s->lr, eta, s->time, s->data_time, s->memory_mb);
    for (int i = 0; i < s->n_terms && off < (int)sizeof line; i++)
        off += snprintf(line + off, sizeof line - (size_t)off, ", %s: %.4f", s->names[i], s->values[i]);
    if (off < (int)sizeof line)
        snprintf(line + off, sizeof line - (size_t)off, ", loss: %.4f, grad_norm: %.4f", s->total, s->grad_norm);
    if (l->tty) fputs("\r\033[K", stderr);
    wb_logf(WB_LOG_INFO, NULL, "%s", line);

    kv nums[WB_TRAINLOG_MAX_KEYS];
    int n = train_numbers(s, nums);
    if (l->json) {
        fprintf(l->json, "{\"mode\": \"train\", \"epoch\": %lld, \"iter\": %lld", (long long)s->epoch,
                (long long)s->iter_in_epoch);
        for (int i = 0; i < n; i++) {
            fprintf(l->json, ", \"%s\": ", nums[i].key);
            fprintf(l->json, nums[i].fmt, nums[i].value);
        }
        fputs("}\n", l->json);
        fflush(l->json);
    }
    wb_event_file *tb = wb_tb_run_events();
    char tag[2 * WB_NAME_MAX];
    for (int i = 0; tb && i < n; i++) {
        tag_of(tag, sizeof tag, "train", nums[i].key);
        wb_event_file_scalar(tb, tag, s->iteration, nums[i].value);
    }
    if (l->by_epoch) {
        add_to_epoch(&l->epoch, nums, n, s->iteration - l->logged_iter);
        if (s->iter_in_epoch == s->iters_per_epoch) write_epoch_means(&l->epoch, s->epoch);
    }
    l->logged_iter = s->iteration;
    wb_event_file_flush(tb);
}

void wb_trainlog_progress(wb_trainlog *l, const wb_iter_stats *s) {
    if (!l->tty) return;
    enum { WIDTH = 30 };
    int filled = s->iters_per_epoch > 0 ? (int)(WIDTH * s->iter_in_epoch / s->iters_per_epoch) : 0;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    char eta[48];
    wb_format_eta(s->eta_seconds, eta, sizeof eta);
    fprintf(stderr, "\r\033[Kepoch %lld [%s] %lld/%lld  loss %.4f  eta %s", (long long)s->epoch, bar,
            (long long)s->iter_in_epoch, (long long)s->iters_per_epoch, s->total, eta);
    fflush(stderr);
}

void wb_trainlog_val(wb_trainlog *l, const char *unit, int64_t done, int n, const char (*names)[48],
                     const double *values) {
    char line[2048];
    int off = snprintf(line, sizeof line, "%s(val) [%lld]\t", strcmp(unit, "epoch") == 0 ? "Epoch" : "Iter",
                       (long long)done);
    for (int i = 0; i < n && off < (int)sizeof line; i++)
        off += snprintf(line + off, sizeof line - (size_t)off, "%s%s: %.4f", i ? ", " : "", names[i], values[i]);
    if (l->tty) fputs("\r\033[K", stderr);
    wb_logf(WB_LOG_INFO, NULL, "%s", line);
    /* val/<metric> at step = the log's unit (epoch or iteration); validation losses are already val/<term>. */
    wb_event_file *tb = wb_tb_run_events();
    char tag[2 * WB_NAME_MAX];
    for (int i = 0; tb && i < n; i++) {
        if (strncmp(names[i], "val/", 4) == 0) snprintf(tag, sizeof tag, "%s", names[i]);
        else tag_of(tag, sizeof tag, "val", names[i]);
        wb_event_file_scalar(tb, tag, done, values[i]);
    }
    wb_event_file_flush(tb);
    if (!l->json) return;
    fprintf(l->json, "{\"mode\": \"val\", \"%s\": %lld", unit, (long long)done);
    for (int i = 0; i < n; i++) fprintf(l->json, ", \"%s\": %.6f", names[i], values[i]);
    fputs("}\n", l->json);
    fflush(l->json);
}

void wb_trainlog_close(wb_trainlog *l) {
    if (l->tty) fputs("\r\033[K", stderr);
    if (l->json) fclose(l->json);
    l->json = NULL;
}
