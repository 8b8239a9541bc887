#include "eval_table.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>
#include "coco_match.h"

void wb_coco_print_summary(FILE *f, const wb_coco_summary *s) {
    /* Which slice of the curves each of the 12 numbers averages (see summarize()). */
    static const struct {
        bool ap;
        const char *iou;
        int area, max_dets;
    } rows[WB_COCO_NUM_STATS] = {
        {true, "0.50:0.95", 0, 100}, {true, "0.50", 0, 100},       {true, "0.75", 0, 100},
        {true, "0.50:0.95", 1, 100}, {true, "0.50:0.95", 2, 100},  {true, "0.50:0.95", 3, 100},
        {false, "0.50:0.95", 0, 1},  {false, "0.50:0.95", 0, 10},  {false, "0.50:0.95", 0, 100},
        {false, "0.50:0.95", 1, 100}, {false, "0.50:0.95", 2, 100}, {false, "0.50:0.95", 3, 100},
    };
    for (int i = 0; i < WB_COCO_NUM_STATS; i++)
        fprintf(f, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                rows[i].ap ? "Average Precision" : "Average Recall", rows[i].ap ? "(AP)" : "(AR)", rows[i].iou,
                wb_coco_area_names[rows[i].area], rows[i].max_dets, s->stats[i]);
}

static const char *category_name(const wb_coco_gt *gt, int64_t id) {
    for (int k = 0; k < gt->n_categories; k++)
        if (gt->categories[k].id == id) return gt->categories[k].name;
    return "";
}

void wb_coco_print_category_table(FILE *f, const wb_coco_summary *s, const wb_coco_gt *gt) {
    fprintf(f, "%6s  %-24s %7s  %6s\n", "id", "category", "gts", "AP");
    for (int k = 0; k < s->n_categories; k++) {
        fprintf(f, "%6" PRId64 "  %-24s %7d  ", s->category_ids[k], category_name(gt, s->category_ids[k]),
                s->category_gt[k]);
        if (s->category_ap[k] > -1) fprintf(f, "%6.3f\n", s->category_ap[k]);
        else fprintf(f, "%6s\n", "-");
    }
}

char *wb_coco_summary_json(const wb_coco_summary *s, const wb_coco_gt *gt) {
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    for (int i = 0; ok && i < WB_COCO_NUM_STATS; i++)
        ok = cJSON_AddNumberToObject(root, wb_coco_stat_names[i], s->stats[i]) != NULL;
    cJSON *cats = ok ? cJSON_AddArrayToObject(root, "per_category") : NULL;
    ok = cats != NULL;
    for (int k = 0; ok && k < s->n_categories; k++) {
        cJSON *c = cJSON_CreateObject();
        ok = c && cJSON_AddItemToArray(cats, c) && cJSON_AddNumberToObject(c, "id", (double)s->category_ids[k]) &&
             cJSON_AddStringToObject(c, "name", category_name(gt, s->category_ids[k])) &&
             cJSON_AddNumberToObject(c, "num_gts", s->category_gt[k]) &&
             cJSON_AddNumberToObject(c, "AP", s->category_ap[k]);
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}

void wb_voc_print_table(FILE *f, const char *const *class_names, const wb_voc_class_result *per_class,
                        int n_classes, double mean_ap) {
    fprintf(f, "%-20s %6s %6s %7s %6s\n", "class", "gts", "dets", "recall", "ap");
    for (int c = 0; c < n_classes; c++)
        fprintf(f, "%-20s %6d %6d %7.3f %6.3f\n", class_names[c], per_class[c].num_gts, per_class[c].num_dets,
                per_class[c].recall, per_class[c].ap);
    fprintf(f, "%-20s %6s %6s %7s %6.3f\n", "mAP", "", "", "", mean_ap);
}
