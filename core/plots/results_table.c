#include "results_table.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* YOLOv5's four metrics lead the metric columns, in its order. */
static const char *const k_yolo_metrics[] = {"precision", "recall", "mAP_0.5", "mAP_0.5:0.95"};
/* Keys of a train line that are not loss terms. */
static const char *const k_not_terms[] = {"mode", "epoch", "iter", "time", "data_time", "memory", "grad_norm",
                                          "momentum"};

static bool is_lr(const char *key) { return strncmp(key, "lr", 2) == 0; }

static bool is_term(const char *key) {
    for (size_t i = 0; i < sizeof k_not_terms / sizeof *k_not_terms; i++)
        if (!strcmp(key, k_not_terms[i])) return false;
    return !is_lr(key);
}

int wb_results_col(const wb_results_table *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i], name)) return i;
    return -1;
}

/* Per-epoch sums while reading; columns are added as keys first appear. */
typedef struct acc {
    wb_results_table *t;
    int rows_cap;
    double *weight;   /* n_rows x n_cols: iterations summed into a train column */
    int64_t *last_iter;
} acc;

static int col_of(acc *a, const char *prefix, const char *key) {
    char name[64];
    snprintf(name, sizeof name, "%s/%s", prefix, key);
    int c = wb_results_col(a->t, name);
    if (c >= 0 || a->t->n_cols == WB_RESULTS_MAX_COLS) return c;
    c = a->t->n_cols++;
    snprintf(a->t->cols[c], sizeof a->t->cols[c], "%s", name);
    for (int r = 0; r < a->t->n_rows; r++) a->t->values[(size_t)r * WB_RESULTS_MAX_COLS + c] = NAN;
    return c;
}

static int row_of(acc *a, int64_t epoch) {
    wb_results_table *t = a->t;
    for (int r = 0; r < t->n_rows; r++)
        if (t->epoch[r] == epoch) return r;
    if (t->n_rows == a->rows_cap) {
        int cap = a->rows_cap ? 2 * a->rows_cap : 64;
        int64_t *e = realloc(t->epoch, (size_t)cap * sizeof *e);
        if (e) t->epoch = e;
        double *v = realloc(t->values, (size_t)cap * WB_RESULTS_MAX_COLS * sizeof *v);
        if (v) t->values = v;
        double *w = realloc(a->weight, (size_t)cap * WB_RESULTS_MAX_COLS * sizeof *w);
        if (w) a->weight = w;
        int64_t *li = realloc(a->last_iter, (size_t)cap * sizeof *li);
        if (li) a->last_iter = li;
        if (!e || !v || !w || !li) return -1;
        a->rows_cap = cap;
    }
    int r = t->n_rows++;
    t->epoch[r] = epoch, a->last_iter[r] = 0;
    for (int c = 0; c < WB_RESULTS_MAX_COLS; c++)
        t->values[(size_t)r * WB_RESULTS_MAX_COLS + c] = NAN, a->weight[(size_t)r * WB_RESULTS_MAX_COLS + c] = 0;
    return r;
}

static bool train_line(acc *a, const cJSON *j, int64_t epoch) {
    const cJSON *iter = cJSON_GetObjectItemCaseSensitive(j, "iter");
    int64_t it = cJSON_IsNumber(iter) ? (int64_t)iter->valuedouble : 0;
    int r = row_of(a, epoch);
    if (r < 0) return false;
    double *v = a->t->values + (size_t)r * WB_RESULTS_MAX_COLS, *w = a->weight + (size_t)r * WB_RESULTS_MAX_COLS;
    if (it <= a->last_iter[r]) /* the epoch again, from a resumed run: its lines replace the earlier ones */
        for (int c = 0; c < WB_RESULTS_MAX_COLS; c++)
            if (w[c] > 0) v[c] = NAN, w[c] = 0;
    if (it <= a->last_iter[r]) a->last_iter[r] = 0;
    double covers = it > a->last_iter[r] ? (double)(it - a->last_iter[r]) : 1.0;
    a->last_iter[r] = it;
    const cJSON *item;
    cJSON_ArrayForEach(item, j) {
        if (!cJSON_IsNumber(item)) continue;
        if (is_lr(item->string)) {
            int c = col_of(a, "x", item->string);
            if (c >= 0) v[c] = item->valuedouble;
        } else if (is_term(item->string)) {
            int c = col_of(a, "train", item->string);
            if (c < 0) continue;
            v[c] = (w[c] > 0 ? v[c] * w[c] : 0.0) + item->valuedouble * covers; /* a weighted sum until the end */
            w[c] += covers;
            v[c] /= w[c];
        }
    }
    return true;
}

static bool val_line(acc *a, const cJSON *j, int64_t epoch) {
    int r = row_of(a, epoch);
    if (r < 0) return false;
    for (size_t k = 0; k < sizeof k_yolo_metrics / sizeof *k_yolo_metrics; k++) /* their columns first */
        if (cJSON_GetObjectItemCaseSensitive(j, k_yolo_metrics[k])) col_of(a, "metrics", k_yolo_metrics[k]);
    const cJSON *item;
    cJSON_ArrayForEach(item, j) {
        if (!cJSON_IsNumber(item) || !strcmp(item->string, "epoch")) continue;
        bool loss = strncmp(item->string, "val/", 4) == 0; /* the key is the column's name */
        int c = col_of(a, loss ? "val" : "metrics", item->string + (loss ? 4 : 0));
        if (c >= 0) a->t->values[(size_t)r * WB_RESULTS_MAX_COLS + c] = item->valuedouble;
    }
    return true;
}

/* Columns in the table's order: train, metrics, val, x (YOLOv5's). */
static int group(const char *col) { return col[0] == 't' ? 0 : col[0] == 'm' ? 1 : col[0] == 'v' ? 2 : 3; }

static void order_columns(wb_results_table *t) {
    int order[WB_RESULTS_MAX_COLS], n = 0;
    for (int g = 0; g < 4; g++)
        for (int c = 0; c < t->n_cols; c++)
            if (group(t->cols[c]) == g) order[n++] = c;
    char cols[WB_RESULTS_MAX_COLS][64];
    memcpy(cols, t->cols, sizeof cols);
    for (int c = 0; c < n; c++) memcpy(t->cols[c], cols[order[c]], sizeof cols[0]);
    for (int r = 0; r < t->n_rows; r++) {
        double *v = t->values + (size_t)r * WB_RESULTS_MAX_COLS, row[WB_RESULTS_MAX_COLS];
        memcpy(row, v, sizeof row);
        for (int c = 0; c < n; c++) v[c] = row[order[c]];
    }
}

wb_status wb_results_from_log(const char *log_path, wb_results_table *t, char *err, size_t n) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(log_path, "r");
    if (!f) {
        snprintf(err, n, "cannot read %s: %s", log_path, strerror(errno));
        return WB_ERR_IO;
    }
    acc a = {t, 0, NULL, NULL};
    char *line = NULL;
    size_t cap = 0;
    bool ok = true;
    while (ok && getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(j, "mode");
        const cJSON *epoch = cJSON_GetObjectItemCaseSensitive(j, "epoch");
        if (cJSON_IsString(mode) && cJSON_IsNumber(epoch)) {
            if (!strcmp(mode->valuestring, "train")) ok = train_line(&a, j, (int64_t)epoch->valuedouble);
            else if (!strcmp(mode->valuestring, "val")) ok = val_line(&a, j, (int64_t)epoch->valuedouble);
        }
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    free(a.weight), free(a.last_iter);
    if (!ok) {
        snprintf(err, n, "out of memory reading %s", log_path);
        wb_results_free(t);
        return WB_ERR_NOMEM;
    }
    order_columns(t);
    return WB_OK;
}

wb_status wb_results_write_csv(const wb_results_table *t, const char *path, char *err, size_t n) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, n, "cannot write %s: %s", tmp, strerror(errno));
        return WB_ERR_IO;
    }
    fputs("epoch", f);
    for (int c = 0; c < t->n_cols; c++) fprintf(f, ",%s", t->cols[c]);
    fputc('\n', f);
    for (int r = 0; r < t->n_rows; r++) {
        fprintf(f, "%lld", (long long)t->epoch[r]);
        for (int c = 0; c < t->n_cols; c++) {
            double v = t->values[(size_t)r * WB_RESULTS_MAX_COLS + c];
            if (isnan(v)) fputc(',', f);
            else fprintf(f, ",%.10g", v);
        }
        fputc('\n', f);
    }
    bool ok = fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        return WB_ERR_IO;
    }
    return WB_OK;
}

void wb_results_free(wb_results_table *t) {
    free(t->epoch), free(t->values);
    memset(t, 0, sizeof *t);
}
