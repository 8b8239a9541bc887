/* safetensors files: an 8-byte little-endian header length, a JSON header
 * {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
 *  "__metadata__": {"key": "string"}} and the raw tensor bytes. Used for
 * checkpoints, converted weights and test fixtures. The writer writes F32
 * (checkpoints, resume state included, stay float32), and F16 for published
 * weights (`workbench publish --fp16`); the reader also
 * takes F16 and BF16 tensors (torch's .half() and .bfloat16() exports) and
 * widens them to float32, exactly (every half value is a float value).
 *
 * The reader accepts exactly the format (https://github.com/huggingface/
 * safetensors): one JSON object, names unique, `__metadata__` at most once
 * and string to string, dims integers whose product fits, offsets that tile
 * the data buffer in order from 0 to its end; a header of at most 16 MiB.
 * Anything else is refused with a message naming the file and the fault. */
#ifndef WB_CORE_SAFETENSORS_H
#define WB_CORE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

typedef enum wb_st_dtype { WB_ST_F32, WB_ST_F16, WB_ST_BF16 } wb_st_dtype;

typedef struct wb_st_tensor {
    char *name;
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    int64_t numel;
    wb_st_dtype dtype; /* as stored in the file */
    float *data;       /* float32 whatever the stored dtype; points into the file's data buffer */
} wb_st_tensor;

typedef struct wb_st_file {
    wb_st_tensor *tensors;  /* in file order */
    int count;
    wb_st_tensor **by_name; /* the same sorted by name, for lookups */
    char **meta_keys, **meta_values;
    int n_meta;
    unsigned char *data;    /* the data buffer the tensors point into (widened to float32) */
    size_t data_size;
} wb_st_file;

/* Reads and validates a whole file (a regular file only: a FIFO or a
 * directory is refused, not waited on). On failure returns non-OK and writes
 * a message naming the file and the problem into err. */
wb_status wb_st_read(const char *path, wb_st_file *out, char *err, size_t err_size);
/* Only the header, validated as by wb_st_read (names, shapes, metadata);
 * no tensor data is read (every data pointer is NULL). */
wb_status wb_st_read_header(const char *path, wb_st_file *out, char *err, size_t err_size);
/* The same over a file's bytes already in memory (copied; name is for
 * messages). */
wb_status wb_st_parse(const unsigned char *bytes, size_t size, const char *name, wb_st_file *out, char *err,
                      size_t err_size);
const wb_st_tensor *wb_st_find(const wb_st_file *f, const char *name);
const char *wb_st_meta(const wb_st_file *f, const char *key);
void wb_st_free(wb_st_file *f);

/* Writer: add tensors (data copied when written), then write. */
typedef struct wb_st_writer wb_st_writer;
wb_st_writer *wb_st_writer_new(void);
void wb_st_writer_add(wb_st_writer *w, const char *name, int ndim, const int64_t *shape,
                      const float *data);
/* A tensor already in dtype ("F32", "F16"), elem_size bytes an element, stored as given. */
void wb_st_writer_add_raw(wb_st_writer *w, const char *name, const char *dtype, size_t elem_size, int ndim,
                          const int64_t *shape, const void *data);
void wb_st_writer_meta(wb_st_writer *w, const char *key, const char *value);
/* Writes to path + ".tmp", fsyncs, renames over path: a crash at any moment
 * leaves either the old file or the new one. */
wb_status wb_st_writer_save(wb_st_writer *w, const char *path, char *err, size_t err_size);
void wb_st_writer_free(wb_st_writer *w);

#endif
