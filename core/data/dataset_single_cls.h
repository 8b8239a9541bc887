/* single_cls (YOLOv5 --single-cls): a dataset seen as one class. Every label
 * becomes 0, named "item" as YOLOv5 names it, with category id 1; training,
 * evaluation's ground truth and the checkpoint's class list all read the
 * dataset through this view, so they agree. */
#ifndef WB_CORE_DATA_DATASET_SINGLE_CLS_H
#define WB_CORE_DATA_DATASET_SINGLE_CLS_H

#include <workbench/dataset.h>

/* Wraps an open dataset: *view_vt / *view_ds replace vt / ds, and closing
 * the view closes the dataset. WB_ERR_NOMEM leaves them unchanged. */
wb_status wb_single_cls_wrap(const wb_dataset_vtable *vt, void *ds, const wb_dataset_vtable **view_vt,
                             void **view_ds);

#endif
