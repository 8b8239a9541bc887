#include "ds_table.h"
#include "ds_text.h"

#include <stdlib.h>
#include <string.h>

static int grow(void **ptr, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 1;
    int64_t n = *cap ? *cap * 2 : 64;
    while (n < need) n *= 2;
    void *p = realloc(*ptr, (size_t)n * elem);
    if (!p) return 0;
    *ptr = p;
    *cap = n;
    return 1;
}

ds_image *ds_table_add_image(ds_table *t, const char *path, int width, int height, int64_t image_id) {
    int64_t cap = t->cap_images;
    if (!grow((void **)&t->images, &cap, t->n_images + 1, sizeof(ds_image))) return NULL;
    t->cap_images = cap;
    char *copy = strdup(path);
    if (!copy) return NULL;
    ds_image *im = &t->images[t->n_images++];
    *im = (ds_image){copy, width, height, image_id, t->n_boxes, 0};
    return im;
}

int ds_table_add_box(ds_table *t, const float xyxy[4], int label, int ignore) {
    int64_t need = t->n_boxes + 1, cap = t->cap_boxes;
    if (!grow((void **)&t->boxes, &cap, need, 4 * sizeof(float))) return 0;
    cap = t->cap_boxes;
    if (!grow((void **)&t->labels, &cap, need, sizeof(int))) return 0;
    cap = t->cap_boxes;
    if (!grow((void **)&t->ignore, &cap, need, 1)) return 0;
    t->cap_boxes = cap;
    memcpy(t->boxes + 4 * t->n_boxes, xyxy, 4 * sizeof(float));
    t->labels[t->n_boxes] = label;
    t->ignore[t->n_boxes] = (uint8_t)(ignore != 0);
    t->n_boxes++;
    t->images[t->n_images - 1].num_boxes++;
    return 1;
}

int ds_table_set_classes(ds_table *t, const char *const *names, int n) {
    t->class_names = calloc((size_t)(n ? n : 1), sizeof(char *));
    if (!t->class_names) return 0;
    t->n_classes = n;
    for (int i = 0; i < n; i++)
        if (!(t->class_names[i] = strdup(names[i]))) return 0;
    return 1;
}

int ds_table_class_index(const ds_table *t, const char *name) {
    for (int i = 0; i < t->n_classes; i++)
        if (strcmp(t->class_names[i], name) == 0) return i;
    return -1;
}

void ds_table_filter(ds_table *t, const uint8_t *keep) {
    int64_t out_img = 0, out_box = 0;
    for (int64_t i = 0; i < t->n_images; i++) {
        ds_image im = t->images[i];
        if (!keep[i]) {
            free(im.path);
            continue;
        }
        memmove(t->boxes + 4 * out_box, t->boxes + 4 * im.first_box, (size_t)im.num_boxes * 4 * sizeof(float));
        memmove(t->labels + out_box, t->labels + im.first_box, (size_t)im.num_boxes * sizeof(int));
        memmove(t->ignore + out_box, t->ignore + im.first_box, (size_t)im.num_boxes);
        im.first_box = out_box;
        out_box += im.num_boxes;
        t->images[out_img++] = im;
    }
    t->n_images = out_img;
    t->n_boxes = out_box;
}

void ds_table_free(ds_table *t) {
    for (int64_t i = 0; i < t->n_images; i++) free(t->images[i].path);
    ds_free_strings(t->class_names, t->n_classes);
    free(t->images);
    free(t->boxes);
    free(t->labels);
    free(t->ignore);
    memset(t, 0, sizeof *t);
}

wb_status ds_table_fill_sample(const ds_table *t, int64_t i, wb_sample *s) {
    const ds_image *im = &t->images[i];
    int n = im->num_boxes;
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    s->image_path = im->path;
    s->width = im->width;
    s->height = im->height;
    s->image_id = im->image_id;
    s->num_boxes = n;
    /* Copies: the caller may edit them while other threads read the table. */
    s->boxes = malloc(sizeof(float) * 4 * (size_t)(n ? n : 1));
    s->labels = malloc(sizeof(int) * (size_t)(n ? n : 1));
    s->ignore = malloc((size_t)(n ? n : 1));
    if (!s->boxes || !s->labels || !s->ignore) {
        ds_table_release_sample(s);
        return WB_ERR_NOMEM;
    }
    memcpy(s->boxes, t->boxes + 4 * im->first_box, sizeof(float) * 4 * (size_t)n);
    memcpy(s->labels, t->labels + im->first_box, sizeof(int) * (size_t)n);
    memcpy(s->ignore, t->ignore + im->first_box, (size_t)n);
    return WB_OK;
}

void ds_table_release_sample(wb_sample *s) {
    free(s->boxes);
    free(s->labels);
    free(s->ignore);
    s->boxes = NULL;
    s->labels = NULL;
    s->ignore = NULL;
    s->num_boxes = 0;
}

char **ds_param_strings(const wb_host_api *host, const wb_params *p, const char *key, int *n) {
    *n = host->param_has(p, key) ? host->param_list_len(p, key) : 0;
    if (*n <= 0) {
        *n = 0;
        return NULL;
    }
    char **list = calloc((size_t)*n, sizeof(char *));
    for (int i = 0; list && i < *n; i++) {
        const char *v = host->param_string_at(p, key, i);
        if (!(list[i] = strdup(v ? v : ""))) {
            ds_free_strings(list, i);
            return NULL;
        }
    }
    return list;
}

void ds_free_strings(char **list, int n) {
    for (int i = 0; list && i < n; i++) free(list[i]);
    free(list);
}

char *ds_param_path(const wb_host_api *host, const wb_params *p, const char *key) {
    const char *v = host->param_has(p, key) ? host->param_string(p, key) : NULL;
    if (!v) return NULL;
    const char *root = host->param_has(p, "data_root") ? host->param_string(p, "data_root") : NULL;
    return ds_path_join(root, v);
}
