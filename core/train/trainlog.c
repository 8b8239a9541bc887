#include "trainlog.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../runtime/log.h"

int wb_trainlog_open(wb_trainlog *l, const char *work_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/log.json", work_dir);
    /* O_NOFOLLOW: a log.json planted as a symlink must not append to the file it points at. */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    l->json = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (fd >= 0 && !l->json) close(fd);
    l->tty = isatty(STDERR_FILENO);
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
    if (!l->json) return;
    fprintf(l->json, "{\"mode\": \"train\", \"epoch\": %lld, \"iter\": %lld, \"lr\": %.6e, \"time\": %.5f, "
            "\"data_time\": %.5f, \"memory\": %.0f",
            (long long)s->epoch, (long long)s->iter_in_epoch, s->lr, s->time, s->data_time, s->memory_mb);
    /* lr stays the main group's for older readers; lr0..2 are YOLOv5's param_groups in its order. */
    fprintf(l->json, ", \"lr0\": %.6e, \"lr1\": %.6e, \"lr2\": %.6e", s->bias_lr, s->lr, s->lr);
    if (s->has_momentum) fprintf(l->json, ", \"momentum\": %.6f", s->momentum);
    for (int i = 0; i < s->n_terms; i++) fprintf(l->json, ", \"%s\": %.6f", s->names[i], s->values[i]);
    fprintf(l->json, ", \"loss\": %.6f, \"grad_norm\": %.6f}\n", s->total, s->grad_norm);
    fflush(l->json);
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
