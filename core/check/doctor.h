/* The dataset doctor behind `workbench check`: scans the splits of an
 * experiment's data section with the scanner of each dataset type, or,
 * for a type without one, through the dataset plugin itself. */
#ifndef WB_CHECK_DOCTOR_H
#define WB_CHECK_DOCTOR_H

#include <stdio.h>
#include "config/config.h"
#include "plugin/registry.h"
#include "runtime/session.h"
#include "report.h"

#define WB_CHECK_MAX_SPLITS 3

typedef struct wb_doctor_opts {
    const char *split;    /* "train", "val", "test" or NULL / "all" */
    const char *fix_dir;  /* NULL: report only; else cleaned annotations go to fix_dir/<split>/ */
    /* Where dataset plugins are found and run, for types without a format
     * scanner; NULL: such splits are reported as not checked. */
    wb_registry *reg;
    wb_session *session;
} wb_doctor_opts;

/* Scans and prints a report per split and the summary table to out.
 * Returns the number of splits scanned (reports[0..n)), or -1 with err set
 * when the scan could not finish (unknown split, out of memory, --fix-to
 * not writable). */
int wb_doctor_run(wb_config *cfg, const wb_doctor_opts *o, wb_check_report reports[WB_CHECK_MAX_SPLITS], FILE *out,
                  char *err, size_t err_size);

#endif
