/* Autoanchor (YOLOv5's check_anchors) before training: for a head whose
 * validated section declares pixel anchors (`anchors`, a list of (w, h)
 * pairs, and `anchor_t`, the shape-ratio limit of its target assignment),
 * the best possible recall of those anchors over the training set's boxes
 * at the training size; below 0.98, anchors from k-means and a genetic
 * refinement replace them when their recall is higher. The result goes into
 * the experiment's config (model.head.anchors), so the model is built with
 * it and the effective config records it. `autoanchor = false` turns it off. */
#ifndef WB_CORE_ANCHORS_AUTOANCHOR_H
#define WB_CORE_ANCHORS_AUTOANCHOR_H

#include "../app/experiment.h"

#define WB_AUTOANCHOR_MIN_BPR 0.98
#define WB_AUTOANCHOR_GENERATIONS 1000

/* The training image size YOLOv5 calls imgsz: the larger side of the first
 * step of data.train.pipeline that sets the size (letterbox size, resize
 * scale, mosaic tile); 0 when none does. */
int wb_autoanchor_image_size(wb_experiment *e);

/* Checks and, when it helps, replaces the head's anchors. Returns 0 (also
 * when the head has no pixel anchors or autoanchor is off), 1 when the
 * training set cannot be read (the message logged). */
int wb_autoanchor(wb_experiment *e);

#endif
