/* Scans a dataset of a type without a format scanner (a third party's
 * plugin) through its own vtable: every sample it gives is read, its image
 * decoded in full, its boxes and labels checked. Defects the plugin hides
 * while loading (entries it skips) cannot be seen from here, and there is
 * no annotation format to write a cleaned copy in. */
#include "scan_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include "data/image.h"
#include "plugin/plugin_guard.h"
#include "scan_common.h"

static int compare_ids(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Decodes the sample's image (file, bytes or pixels); false when it cannot be. */
static bool sample_image(wb_check_report *r, const wb_sample *smp, const char *where, int *width, int *height) {
    if (smp->image_path) return wb_scan_image(r, smp->image_path, where, width, height);
    if (smp->encoded) {
        wb_image img;
        char err[512];
        if (wb_image_decode_memory(smp->encoded, smp->encoded_size, &wb_scan_decode_opts, &img, err, sizeof err) !=
            WB_OK) {
            wb_check_add(r, WB_DEFECT_BAD_IMAGE, where, "%s", err);
            return false;
        }
        *width = img.orig_width, *height = img.orig_height;
        wb_image_free(&img);
        return true;
    }
    if (smp->pixels && smp->width > 0 && smp->height > 0) {
        *width = smp->width, *height = smp->height;
        return true;
    }
    wb_check_add(r, WB_DEFECT_BAD_IMAGE, where, "the sample has no image (no path, bytes or pixels)");
    return false;
}

static void scan_sample(wb_check_report *r, const wb_sample *smp, int num_classes, const char *where) {
    int width = 0, height = 0;
    if (sample_image(r, smp, where, &width, &height) && smp->width > 0 &&
        (smp->width != width || smp->height != height))
        wb_check_add(r, WB_DEFECT_SIZE_MISMATCH, where, "the dataset says %dx%d, the image is %dx%d", smp->width,
                     smp->height, width, height);
    r->boxes += smp->num_boxes;
    if (smp->num_boxes == 0) wb_check_add(r, WB_DEFECT_NO_OBJECTS, where, "no objects");
    for (int k = 0; k < smp->num_boxes; k++) {
        const float *b = smp->boxes + 4 * k;
        double box[4] = {b[0], b[1], b[2], b[3]};
        wb_scan_box(r, where, box, width, height);
        if (smp->labels[k] < 0 || smp->labels[k] >= num_classes)
            wb_check_add(r, WB_DEFECT_BAD_LABEL, where, "label %d of box %d is outside 0..%d", smp->labels[k], k,
                         num_classes - 1);
    }
}

bool wb_scan_through_plugin(const wb_dataset_vtable *vt, void *ds, wb_context *c, wb_check_report *r, char *err,
                            size_t err_size) {
    int64_t n = vt->length(ds);
    int num_classes = vt->num_classes(ds);
    int64_t *ids = malloc((size_t)(n > 0 ? n : 1) * sizeof *ids);
    if (!ids) {
        snprintf(err, err_size, "out of memory for %lld image ids", (long long)n);
        return false;
    }
    int64_t n_ids = 0;
    for (int64_t i = 0; i < n; i++) {
        wb_sample smp = {.struct_size = sizeof smp};
        char where[512];
        snprintf(where, sizeof where, "sample %lld", (long long)i);
        wb_status got;
        WB_PLUGIN_CALL_AT(vt, NULL, "dataset get", "check", got = vt->get(ds, &c->pub, i, &smp));
        if (got != WB_OK) {
            wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, where, "%s", c->msg[0] ? c->msg : "the plugin gave no message");
            wb_ctx_clear_error(c);
            continue;
        }
        r->images++;
        if (smp.image_path) snprintf(where, sizeof where, "sample %lld (%s)", (long long)i, smp.image_path);
        scan_sample(r, &smp, num_classes, where);
        ids[n_ids++] = smp.image_id;
        vt->release_sample(ds, &smp);
    }
    qsort(ids, (size_t)n_ids, sizeof *ids, compare_ids);
    for (int64_t i = 1; i < n_ids; i++)
        if (ids[i] == ids[i - 1] && (i == 1 || ids[i - 2] != ids[i]))
            wb_check_add(r, WB_DEFECT_DUPLICATE_ID, NULL, "image id %lld is given to more than one sample",
                         (long long)ids[i]);
    free(ids);
    return true;
}
