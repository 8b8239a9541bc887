/* `workbench check --fix-to` for COCO: rewrites the annotation file's text
 * with entries dropped and boxes clipped, copying everything else byte for
 * byte (unknown keys, segmentations, formatting), so nothing the checks did
 * not judge is changed. */
#ifndef WB_CHECK_COCO_FIX_H
#define WB_CHECK_COCO_FIX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum coco_fix_verdict { COCO_FIX_KEEP = 0, COCO_FIX_DROP, COCO_FIX_CLIP } coco_fix_verdict;

/* Per entry index of "images" and "annotations". */
typedef struct coco_fix_plan {
    int n_images, n_annotations;
    bool *drop_image;
    coco_fix_verdict *annotation;
    double (*bbox)[4];  /* the clipped [x, y, w, h] where COCO_FIX_CLIP */
} coco_fix_plan;

void coco_fix_plan_free(coco_fix_plan *plan);

/* Writes text (a file the COCO reader accepted) with the plan applied to
 * fix_dir/<basename of ann_file>. false with err set when it cannot. */
bool coco_fix_write(const char *text, size_t n, const coco_fix_plan *plan, const char *ann_file,
                    const char *fix_dir, char *err, size_t err_size);

#endif
