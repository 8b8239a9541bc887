/* A YOLOv5 hyperparameter file (hyp.scratch-low.yaml and friends): a YAML
 * mapping of names to numbers, read with libyaml. Only the reading; what each
 * name sets in an experiment is hyp_apply's business. */
#ifndef WB_CORE_CONFIG_HYP_FILE_H
#define WB_CORE_CONFIG_HYP_FILE_H

#include <stddef.h>

/* More entries than this is not a hyp file. */
#define WB_HYP_MAX_ENTRIES 256

typedef struct wb_hyp_entry {
    char name[64];
    double value;
    unsigned line; /* 1-based */
} wb_hyp_entry;

typedef struct wb_hyp_file {
    wb_hyp_entry entries[WB_HYP_MAX_ENTRIES];
    int n;
} wb_hyp_file;

/* Parses YAML text. 0, or -1 with "line N: why" in err. */
int wb_hyp_parse(const char *text, size_t len, wb_hyp_file *out, char *err, size_t err_size);
/* Reads and parses path. 0, or -1 with "PATH: why" (with the line when there is one). */
int wb_hyp_read(const char *path, wb_hyp_file *out, char *err, size_t err_size);

#endif
