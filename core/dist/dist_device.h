/* The distributed module for device memory (libwb_dist_nccl.so, NCCL):
 * opened on top of the MPI module when the CUDA backend trains under a
 * launcher. Its table is dist_module.h's, with one difference: sum_f32,
 * sum_f64 and isum_f32 take device buffers of the CUDA backend and are
 * ordered on its compute stream (no host staging, no host synchronisation);
 * broadcast, gather and abort are the MPI module's, on host memory. */
#ifndef WB_DIST_DEVICE_H
#define WB_DIST_DEVICE_H

#include <stddef.h>
#include "dist_module.h"

#define WB_DIST_NCCL_ENTRY "wb_dist_nccl_open"

/* host: the MPI module's table (the communicator's id travels by its
 * broadcast); device: this rank's GPU; compute_stream: the CUDA backend's
 * compute stream (a cudaStream_t) that the sums are ordered after and before.
 * NULL + err (naming the rank) on failure. */
typedef const wb_dist_module *(*wb_dist_nccl_open_fn)(const wb_dist_module *host, int device, void *compute_stream,
                                                      char *err, size_t err_size);
const wb_dist_module *wb_dist_nccl_open(const wb_dist_module *host, int device, void *compute_stream, char *err,
                                        size_t err_size);

#endif
