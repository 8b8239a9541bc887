/* What `workbench check` found in one split: a count per defect kind and the
 * first few examples of each (file[:line] and what is wrong). */
#ifndef WB_CHECK_REPORT_H
#define WB_CHECK_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum wb_defect {
    WB_DEFECT_MISSING_IMAGE = 0,
    WB_DEFECT_BAD_IMAGE,
    WB_DEFECT_SIZE_MISMATCH,
    WB_DEFECT_BOX_OUTSIDE,
    WB_DEFECT_BOX_EMPTY,
    WB_DEFECT_BOX_NAN,
    WB_DEFECT_BAD_LABEL,
    WB_DEFECT_DUPLICATE_ID,
    WB_DEFECT_BAD_LINE,
    WB_DEFECT_ORPHAN_LABEL,
    WB_DEFECT_BAD_ANNOTATION,
    WB_DEFECT_MISSING_ANNOTATION,
    /* Notes: listed, but a dataset with only these is clean (background images are legitimate). */
    WB_DEFECT_NO_OBJECTS,
    WB_DEFECT_NO_LABEL_FILE,
    WB_DEFECT_COUNT
} wb_defect;

#define WB_CHECK_EXAMPLES 5

typedef struct wb_check_report {
    char split[16];
    char source[512];            /* "voc ../shared/datasets/bccd" */
    bool scanned;                /* false: nothing to scan (synthetic) or no scanner */
    int64_t images, boxes;       /* what the annotations declare */
    int64_t count[WB_DEFECT_COUNT];
    char example[WB_DEFECT_COUNT][WB_CHECK_EXAMPLES][512];
} wb_check_report;

/* Short human name of a kind ("missing image file"). */
const char *wb_defect_name(wb_defect kind);
bool wb_defect_is_note(wb_defect kind);

/* Counts one defect; where is "file" or "file:line" (may be NULL). */
void wb_check_add(wb_check_report *r, wb_defect kind, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Defects that make the dataset unclean (notes excluded). */
int64_t wb_check_errors(const wb_check_report *r);

/* Per split: counts and examples. Then one table of every kind by split. */
void wb_check_print(const wb_check_report *r, FILE *out);
void wb_check_print_summary(const wb_check_report *reports, int n, FILE *out);

#endif
