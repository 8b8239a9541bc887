/* COCO bbox evaluation with pycocotools' exact semantics (COCOeval with
 * iouType 'bbox' and default Params): per image and category greedy matching
 * at IoU .50:.05:.95 with crowd regions, area ranges all/small/medium/large,
 * maxDets 1/10/100, 101-point interpolated precision, and the 12 numbers of
 * COCOeval.summarize(). The numbers equal pycocotools' to rounding of the
 * final means (tests/eval checks 1e-6 on coco128).
 *
 * Ground truth comes from an instances JSON (coco_json.h) or is filled in
 * memory; detections are plain arrays, so the trainer can evaluate its own
 * predictions without writing a file. */
#ifndef WB_EVAL_COCO_EVAL_H
#define WB_EVAL_COCO_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

typedef struct wb_coco_category {
    int64_t id;    /* the dataset's own id (COCO: 1..90 with gaps) */
    char *name;    /* owned by the wb_coco_gt */
} wb_coco_category;

typedef struct wb_coco_annotation {
    int64_t id, image_id, category_id;
    double bbox[4];   /* x, y, w, h */
    double area;      /* the annotation's `area` field (segment area in COCO), not w*h */
    int iscrowd;
} wb_coco_annotation;

typedef struct wb_coco_gt {
    int64_t *image_ids;   /* every image evaluated, including those without objects */
    int n_images;
    wb_coco_category *categories;
    int n_categories;
    wb_coco_annotation *annotations;
    int n_annotations;
} wb_coco_gt;

/* One detection, the fields of a COCO results file entry. */
typedef struct wb_coco_detection {
    int64_t image_id, category_id;
    double x, y, w, h;
    double score;
} wb_coco_detection;

enum { WB_COCO_NUM_STATS = 12 };

/* Names of the 12 numbers in order: AP, AP50, AP75, APs, APm, APl, AR1, AR10,
 * AR100, ARs, ARm, ARl. */
extern const char *const wb_coco_stat_names[WB_COCO_NUM_STATS];

typedef struct wb_coco_summary {
    double stats[WB_COCO_NUM_STATS];  /* -1 where no ground truth, as pycocotools */
    int n_categories;                 /* the ground truth's categories, sorted by id */
    int64_t *category_ids;
    double *category_ap;              /* AP@[.50:.95], area all, maxDets 100; -1 without ground truth */
    int *category_gt;                 /* non-crowd ground-truth objects per category */
    int64_t n_detections_used;
    int64_t n_detections_unknown_category; /* dropped silently by pycocotools; reported here */
} wb_coco_summary;

/* Evaluates detections against gt. Detections on images that are not in gt
 * are an error (pycocotools asserts); detections of categories not in gt are
 * dropped and counted. On failure returns non-OK with a message in err. */
wb_status wb_coco_evaluate(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets,
                           wb_coco_summary *out, char *err, size_t err_size);

void wb_coco_summary_free(wb_coco_summary *s);
void wb_coco_gt_free(wb_coco_gt *gt);

#endif
