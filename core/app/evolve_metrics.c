#include "evolve_metrics.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* log.json keys of each result column, preferred first. */
static const char *const k_sources[WB_EVOLVE_N_RESULTS][3] = {
    {"precision", NULL, NULL},
    {"recall", NULL, NULL},
    {"mAP_0.5", "bbox_mAP_50", "mAP"},
    {"mAP_0.5:0.95", "bbox_mAP", NULL},
    /* the head's val losses (a yolov5_head's terms; 0 for a head without such a term) */
    {"val/loss_box", NULL, NULL},
    {"val/loss_obj", NULL, NULL},
    {"val/loss_cls", NULL, NULL},
};

static bool is_val_line(const cJSON *j) {
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(j, "mode");
    return cJSON_IsString(mode) && strcmp(mode->valuestring, "val") == 0;
}

/* The value of column c in a val line; false when the line has none. */
static bool column_value(const cJSON *j, int c, double *out) {
    for (int k = 0; k < 3 && k_sources[c][k]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k_sources[c][k]);
        if (cJSON_IsNumber(v)) {
            *out = v->valuedouble;
            return true;
        }
    }
    return false;
}

int wb_evolve_read_results(const char *log_json, double *results, char *missing, size_t missing_size, char *err,
                           size_t n) {
    FILE *f = fopen(log_json, "r");
    if (!f) {
        snprintf(err, n, "cannot read %s: %s", log_json, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    cJSON *last = NULL;
    while (getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        if (j && is_val_line(j)) {
            cJSON_Delete(last);
            last = j;
        } else {
            cJSON_Delete(j);
        }
    }
    free(line);
    fclose(f);
    size_t at = 0;
    if (missing && missing_size) missing[0] = 0;
    bool has_map = false;
    for (int c = 0; c < WB_EVOLVE_N_RESULTS; c++) {
        results[c] = 0;
        if (last && column_value(last, c, &results[c])) {
            has_map |= c == 2 || c == 3;
        } else if (missing && at < missing_size) {
            at += (size_t)snprintf(missing + at, missing_size - at, "%s%s", at ? ", " : "", wb_evolve_result_names[c]);
        }
    }
    cJSON_Delete(last);
    if (!has_map) {
        snprintf(err, n, "%s has no validation line with an mAP: evolution needs data.val and an evaluation at the "
                 "end of each run", log_json);
        return -1;
    }
    return 0;
}
