/* One plugin carries every basic loss: they share their glue (weight
 * convention, reduction, loss_weight) and are all thin wrappers over the SDK's
 * loss primitives, so separate plugins would only repeat it. */
#include "loss_module.h"

extern const wb_module_desc focal_loss_desc, cross_entropy_desc, l1_desc, smooth_l1_desc, iou_desc, giou_desc,
    diou_desc, ciou_desc;

WB_PLUGIN_DEFINE("basic_losses", "0.1.0", "MIT", &focal_loss_desc, &cross_entropy_desc, &l1_desc, &smooth_l1_desc,
                 &iou_desc, &giou_desc, &diou_desc, &ciou_desc)
