#include "checkpoint_labels.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <workbench/params.h>

#define MAX_EXACT 9007199254740992.0 /* 2^53: larger JSON numbers are no exact integers */

void wb_checkpoint_labels_write(const wb_checkpoint_labels *l, wb_st_writer *w) {
    char num[32];
    snprintf(num, sizeof num, "%d", l->num_classes);
    wb_st_writer_meta(w, "num_classes", num);
    cJSON *names = cJSON_CreateArray(), *ids = cJSON_CreateArray();
    for (int k = 0; names && ids && k < l->num_classes; k++) {
        cJSON_AddItemToArray(names, cJSON_CreateString(l->class_names[k]));
        cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)l->category_ids[k]));
    }
    char *names_text = names ? cJSON_PrintUnformatted(names) : NULL, *ids_text = ids ? cJSON_PrintUnformatted(ids) : NULL;
    if (names_text && ids_text) {
        wb_st_writer_meta(w, "class_names", names_text);
        wb_st_writer_meta(w, "category_ids", ids_text);
    }
    if (l->test_pipeline) wb_st_writer_meta(w, "test_pipeline", l->test_pipeline);
    free(names_text), free(ids_text);
    cJSON_Delete(names), cJSON_Delete(ids);
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) of at most max bytes, without control characters when
 * names_only (a class name is one line of a picture's label). */
static bool utf8_ok(const char *s, size_t max, bool names_only) {
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    if (len >= max) return false;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || i + (size_t)extra >= len) return false; /* a sequence cut short by the end */
        unsigned cp = extra == 0 ? c : c & (0x3f >> extra);
        for (int k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        static const unsigned least[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        if (names_only && (cp < 0x20 || cp == 0x7f)) return false;
        if (!names_only && cp < 0x20 && cp != '\n' && cp != '\t') return false;
        i += (size_t)extra + 1;
    }
    return true;
}

static int damaged(char *err, size_t n, const char *key, const char *why) {
    snprintf(err, n, "__metadata__.%s %s; the file is damaged or was not written by workbench", key, why);
    return -1;
}

/* A JSON array of exactly count entries, NULL with err otherwise. */
static cJSON *array_of(const wb_st_file *f, const char *key, int count, char *err, size_t n) {
    const char *text = wb_st_meta(f, key);
    if (!text) return damaged(err, n, key, "is missing while num_classes is there"), NULL;
    cJSON *a = cJSON_Parse(text);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != count) {
        char why[96];
        snprintf(why, sizeof why, "is not a JSON array of num_classes = %d entries", count);
        cJSON_Delete(a);
        return damaged(err, n, key, why), NULL;
    }
    return a;
}

static int read_count(const wb_st_file *f, int *count, char *err, size_t n) {
    const char *v = wb_st_meta(f, "num_classes");
    size_t digits = strspn(v, "0123456789");
    long x = digits > 0 && digits <= 6 && v[digits] == '\0' ? strtol(v, NULL, 10) : -1;
    if (x < 1 || x > WB_MAX_CLASSES) {
        char why[64];
        snprintf(why, sizeof why, "is not an integer from 1 to %d", WB_MAX_CLASSES);
        return damaged(err, n, "num_classes", why);
    }
    *count = (int)x;
    return 0;
}

static int read_names(const cJSON *a, wb_checkpoint_labels *l, char *err, size_t n) {
    int k = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, a) {
        if (!cJSON_IsString(item) || !utf8_ok(item->valuestring, WB_LABEL_NAME_MAX, true)) {
            char why[128];
            snprintf(why, sizeof why, "entry %d is not a UTF-8 string of at most %d bytes without control characters",
                     k, WB_LABEL_NAME_MAX - 1);
            return damaged(err, n, "class_names", why);
        }
        if (!(l->class_names[k++] = strdup(item->valuestring))) return snprintf(err, n, "out of memory"), -1;
    }
    return 0;
}

static int read_ids(const cJSON *a, wb_checkpoint_labels *l, char *err, size_t n) {
    int k = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, a) {
        double d = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
        if (!(d >= 0.0 && d <= MAX_EXACT) || d != (double)(int64_t)d) {
            char why[96];
            snprintf(why, sizeof why, "entry %d is not an integer from 0 to 2^53", k);
            return damaged(err, n, "category_ids", why);
        }
        l->category_ids[k++] = (int64_t)d;
    }
    return 0;
}

int wb_checkpoint_labels_read(const wb_st_file *f, wb_checkpoint_labels *l, char *err, size_t n) {
    memset(l, 0, sizeof *l);
    if (!wb_st_meta(f, "num_classes")) return 0;
    int count = 0;
    if (read_count(f, &count, err, n) != 0) return -1;
    cJSON *names = array_of(f, "class_names", count, err, n);
    cJSON *ids = names ? array_of(f, "category_ids", count, err, n) : NULL;
    l->class_names = calloc((size_t)count, sizeof *l->class_names);
    l->category_ids = calloc((size_t)count, sizeof *l->category_ids);
    l->num_classes = count;
    int rc = !names || !ids ? -1 : !l->class_names || !l->category_ids ? (snprintf(err, n, "out of memory"), -1) : 0;
    if (rc == 0) rc = read_names(names, l, err, n);
    if (rc == 0) rc = read_ids(ids, l, err, n);
    const char *pipeline = wb_st_meta(f, "test_pipeline");
    if (rc == 0 && pipeline && !utf8_ok(pipeline, WB_TEST_PIPELINE_MAX, false)) {
        char why[96];
        snprintf(why, sizeof why, "is not UTF-8 text of at most %d bytes", WB_TEST_PIPELINE_MAX - 1);
        rc = damaged(err, n, "test_pipeline", why);
    }
    if (rc == 0 && pipeline && !(l->test_pipeline = strdup(pipeline))) rc = (snprintf(err, n, "out of memory"), -1);
    cJSON_Delete(names), cJSON_Delete(ids);
    if (rc != 0) wb_checkpoint_labels_free(l);
    return rc == 0 ? 1 : -1;
}

void wb_checkpoint_labels_free(wb_checkpoint_labels *l) {
    for (int k = 0; l->class_names && k < l->num_classes; k++) free(l->class_names[k]);
    free(l->class_names);
    free(l->category_ids);
    free(l->test_pipeline);
    memset(l, 0, sizeof *l);
}
