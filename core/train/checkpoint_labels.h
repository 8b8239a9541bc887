/* What a checkpoint says about the data its model was trained for, in its
 * safetensors __metadata__, so that `infer` labels pictures without opening
 * the dataset's annotation files:
 *   "num_classes"   "3"
 *   "class_names"   JSON array of UTF-8 strings, ["RBC", "WBC", "Platelets"]
 *   "category_ids"  JSON array of integers, the dataset's ids of those classes
 *   "test_pipeline" libconfig text of the test-time input settings
 * A file is hostile until checked: counts and lengths are capped, names must
 * be UTF-8 without control characters, and both arrays must hold exactly
 * num_classes entries. */
#ifndef WB_CORE_CHECKPOINT_LABELS_H
#define WB_CORE_CHECKPOINT_LABELS_H

#include <stdint.h>
#include "../io/safetensors.h"

#define WB_LABEL_NAME_MAX 256         /* bytes of one class name, NUL included */
#define WB_TEST_PIPELINE_MAX (64 << 10) /* bytes of the test pipeline text */

typedef struct wb_checkpoint_labels {
    int num_classes;
    char **class_names;      /* num_classes UTF-8 names */
    int64_t *category_ids;   /* num_classes ids */
    char *test_pipeline;     /* NULL when not stored */
} wb_checkpoint_labels;

/* Adds the labels to a checkpoint's metadata. */
void wb_checkpoint_labels_write(const wb_checkpoint_labels *l, wb_st_writer *w);

/* The labels of a read file: 1 when present (l filled; free it), 0 when the
 * file has none (a checkpoint from before they were stored, a converted
 * file), -1 when they are damaged, with err naming the key and the fault. */
int wb_checkpoint_labels_read(const wb_st_file *f, wb_checkpoint_labels *l, char *err, size_t err_size);

void wb_checkpoint_labels_free(wb_checkpoint_labels *l);

#endif
