/* `workbench check` for a dataset type that has no format scanner: the
 * samples as the dataset plugin gives them (see scan_plugin.c). */
#ifndef WB_CHECK_SCAN_PLUGIN_H
#define WB_CHECK_SCAN_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <workbench/dataset.h>
#include "report.h"
#include "runtime/context.h"

/* Records every defect of the open dataset ds in r. c is the context the
 * plugin's get() runs in. false (err set) only when out of memory. */
bool wb_scan_through_plugin(const wb_dataset_vtable *vt, void *ds, wb_context *c, wb_check_report *r, char *err,
                            size_t err_size);

#endif
