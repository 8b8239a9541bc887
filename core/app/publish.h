/* `workbench publish`: a checkpoint made into a file to hand out, as
 * mmdetection's publish_model and YOLOv5's strip_optimizer do: the optimizer
 * state and the trainer state go, the EMA weights (what validation measured
 * during training) replace the raw ones when the file has them, the weights
 * may be stored as float16, and the file's name carries the first 8 hex
 * digits of its SHA-256 (OUT-1a2b3c4d.safetensors). Class names and test-time
 * settings stay, so `infer` still labels its pictures. */
#ifndef WB_CORE_APP_PUBLISH_H
#define WB_CORE_APP_PUBLISH_H

#include <stdbool.h>
#include <stdio.h>

typedef struct wb_publish_opts {
    const char *checkpoint;
    const char *out;        /* the name before the hash; a .safetensors ending is taken off first */
    bool fp16;              /* weights as IEEE float16 (round to nearest even) */
    bool raw_weights;       /* keep the raw weights even when the file has EMA ones */
} wb_publish_opts;

/* Writes the file and prints its name and hash to out. Returns an exit code:
 * 0, 1 (an unreadable checkpoint, a weight that float16 cannot hold, a
 * failed write). */
int wb_publish(const wb_publish_opts *o, FILE *out);

/* IEEE binary16 nearest to f (ties to even; overflow to infinity). */
unsigned short wb_float_to_half(float f);

#endif
