/* One scanner per annotation format for `workbench check`. Each reads the
 * annotation files itself (not through the dataset plugin, which tolerates
 * and hides defects while loading), records every defect in r, and with
 * fix_dir writes cleaned annotations there, never touching the originals.
 * p is the split's `dataset` group. Returns false (err set) only when the
 * scan itself cannot go on: out of memory, or --fix-to cannot be written. */
#ifndef WB_CHECK_SCANNERS_H
#define WB_CHECK_SCANNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <workbench/types.h>
#include "report.h"

typedef bool (*wb_scanner_fn)(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err,
                              size_t err_size);

bool wb_scan_coco(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size);
bool wb_scan_voc(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size);
bool wb_scan_yolo(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size);

/* A string parameter, or def when the group lacks it. */
const char *wb_scan_param(const wb_params *p, const char *key, const char *def);
/* A path parameter resolved against the section's data_root, into buf. */
const char *wb_scan_path(const wb_params *p, const char *key, const char *def, char *buf, size_t size);

#endif
