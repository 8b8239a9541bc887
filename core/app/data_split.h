/* One split of an experiment's data section opened for work: the dataset
 * plugin instance, its transform pipeline and a loader. Training shuffles and
 * streams epochs; evaluation reads every image once, in order. */
#ifndef WB_CORE_DATA_SPLIT_H
#define WB_CORE_DATA_SPLIT_H

#include "../data/loader.h"
#include "experiment.h"

typedef struct wb_data_split {
    const char *name;               /* "train", "val", "test" */
    const wb_module_desc *desc;
    const wb_dataset_vtable *vt;
    void *ds;
    const wb_params *params;        /* data.<split>.dataset */
    wb_pipeline *pipeline;
    wb_pipeline *late_pipeline;     /* close_mosaic's, or NULL */
    wb_loader *loader;
} wb_data_split;

typedef struct wb_split_opts {
    bool training;          /* shuffle, endless epochs from start_epoch */
    int64_t start_epoch;
    bool close_mosaic;           /* training: switch to the pipeline without mosaic / mixup ... */
    int64_t close_mosaic_from;   /* ... at this epoch (0-based; see data.close_mosaic) */
    wb_bad_sample_policy on_bad_sample;
    int batch_size;              /* images per batch (per rank); 0: data.batch_size */
    int rank, world;             /* data-parallel shard (sampler.h); 0 / 0 or 1 alone */
    bool no_pipeline;            /* images and boxes as the dataset gives them (browse-dataset) */
    bool dataset_only;           /* open the dataset alone: no pipeline, no loader (dataset-stats) */
} wb_split_opts;

/* What the data section asks of the rest of the experiment, before anything
 * is loaded: data.<split>.rect a letterbox step to take the shapes from,
 * data.single_cls a head of one class. 0, or -1 with what to change in err. */
int wb_data_split_check(wb_experiment *e, const char *split, char *err, size_t n);
/* true when the experiment has a data.<split> section. */
bool wb_data_split_exists(wb_experiment *e, const char *split);
/* The transform pipeline of data.<split> (empty when it has none). NULL and
 * "data.<split>.pipeline: why" in err for a bad step or too many steps. */
wb_pipeline *wb_data_split_pipeline(wb_experiment *e, const char *split, char *err, size_t err_size);
wb_status wb_data_split_open(wb_data_split *d, wb_experiment *e, wb_session *s, const char *split,
                             const wb_split_opts *o, char *err, size_t err_size);
void wb_data_split_close(wb_data_split *d);

#endif
