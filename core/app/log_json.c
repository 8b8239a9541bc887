#include "log_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../io/file_read.h"

static const char *mode_of(const cJSON *j) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mode");
    return cJSON_IsString(m) ? m->valuestring : "";
}

static int64_t int_of(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int wb_log_json_read(wb_log_json *l, const char *path, char *err, size_t n) {
    *l = (wb_log_json){0};
    size_t size = 0;
    char *text = wb_read_file(path, (size_t)1 << 30, "log", &size, err, n);
    if (!text) return 1;
    l->path = strdup(path);
    int line_no = 0, rc = 0;
    for (char *line = text, *next; line && *line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        if (line[strspn(line, " \t\r")] == '\0') continue;
        cJSON *j = cJSON_Parse(line);
        if (!cJSON_IsObject(j)) {
            snprintf(err, n, "%s:%d: not a JSON object; is this a workbench log.json?", path, line_no);
            cJSON_Delete(j);
            rc = 1;
            break;
        }
        const char *mode = mode_of(j);
        int train = strcmp(mode, "train") == 0, val = strcmp(mode, "val") == 0;
        if (!train && !val) { /* resume markers */
            cJSON_Delete(j);
            continue;
        }
        cJSON **grown = realloc(l->lines, (size_t)(l->n + 1) * sizeof *grown);
        if (!grown) {
            snprintf(err, n, "%s: out of memory", path);
            cJSON_Delete(j);
            rc = 1;
            break;
        }
        l->lines = grown;
        l->lines[l->n++] = j;
        if (train && int_of(j, "iter") > l->per_epoch) l->per_epoch = int_of(j, "iter");
        if (val && !cJSON_GetObjectItemCaseSensitive(j, "epoch")) l->by_iter = 1;
    }
    free(text);
    if (rc != 0) wb_log_json_free(l);
    return rc;
}

void wb_log_json_free(wb_log_json *l) {
    for (int i = 0; i < l->n; i++) cJSON_Delete(l->lines[i]);
    free(l->lines);
    free(l->path);
    *l = (wb_log_json){0};
}

int wb_log_json_is_train(const wb_log_json *l, int i) { return strcmp(mode_of(l->lines[i]), "train") == 0; }

double wb_log_json_x(const wb_log_json *l, int i) {
    const cJSON *j = l->lines[i];
    double per = l->per_epoch > 0 ? (double)l->per_epoch : 1.0;
    if (!wb_log_json_is_train(l, i)) return (double)int_of(j, l->by_iter ? "iter" : "epoch");
    double epoch = (double)int_of(j, "epoch"), iter = (double)int_of(j, "iter");
    return l->by_iter ? (epoch - 1) * per + iter : epoch - 1 + iter / per;
}

int wb_log_json_number(const wb_log_json *l, int i, const char *key, double *value) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(l->lines[i], key);
    if (!cJSON_IsNumber(v)) return 0;
    *value = v->valuedouble;
    return 1;
}
