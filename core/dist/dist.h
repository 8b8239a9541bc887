/* Data-parallel training across processes (`mpirun -np N workbench run`):
 * which rank this process is, and the collectives the trainer, the sampler
 * and evaluation need. A process started without a launcher is rank 0 of 1
 * and every collective is the identity. Under an MPI launcher
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment) the first
 * call opens the module libwb_dist_mpi.so, so the workbench binary itself
 * has no MPI dependency (docs/architecture.md, "Multi-process training"). */
#ifndef WB_CORE_DIST_H
#define WB_CORE_DIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

/* Joins the job when a launcher started this process (opening the module);
 * alone, does nothing. WB_OK, or an error naming what is missing. */
wb_status wb_dist_init(char *err, size_t err_size);
void wb_dist_finalize(void);

int wb_dist_rank(void);
int wb_dist_world(void);
static inline bool wb_dist_is_root(void) { return wb_dist_rank() == 0; }
/* "Open MPI 4.1.4", or "single process". */
const char *wb_dist_name(void);

/* Collectives: every rank calls them in the same order. WB_OK, or
 * WB_ERR_IO with the message in err. */
wb_status wb_dist_sum_f32(float *buf, int64_t n, char *err, size_t err_size);
wb_status wb_dist_sum_f64(double *buf, int64_t n, char *err, size_t err_size);
wb_status wb_dist_broadcast(void *buf, int64_t n, int root, char *err, size_t err_size);
/* Every rank's bytes to rank 0 in rank order (*all malloc'd there, NULL on
 * the others); counts[wb_dist_world()] gets each rank's byte count. */
wb_status wb_dist_gather(const void *mine, int64_t n_mine, void **all, int64_t *counts, char *err, size_t err_size);
/* A non-blocking in-place sum (the gradient buckets, started during the
 * backward): *request for wb_dist_test / wb_dist_wait, NULL when there is
 * nothing to wait for (alone). The buckets' sums are ordered among
 * themselves only: they use a communicator of their own. */
typedef void *wb_dist_request;
wb_status wb_dist_isum_f32(float *buf, int64_t n, wb_dist_request *request, char *err, size_t err_size);
/* Lets MPI move the sums in flight on; true when this one is done. */
bool wb_dist_test(wb_dist_request request);
/* Waits for the sum to land in its buffer; the request is NULL after. */
wb_status wb_dist_wait(wb_dist_request *request, char *err, size_t err_size);
/* Tests only: collectives from a table of the test's own (a fake world);
 * NULL goes back to a single process. */
struct wb_dist_module;
void wb_dist_use_module(const struct wb_dist_module *m);
/* Ends the whole job with `code` (alone: exit). */
void wb_dist_abort(int code);

/* Gradient sums on device buffers: with the CUDA backend and several ranks
 * the NCCL module (dist_device.h) is opened on top of the MPI module, and
 * the gradient buckets go to it without host staging. Everything else
 * (SyncBN, the trainer's checks, evaluation) stays on the MPI table's host
 * buffers. True when a backend on `device` in a job of `world` ranks takes
 * the NCCL table. */
bool wb_dist_wants_device_sums(wb_device device, int world);
/* Opens libwb_dist_nccl.so (WB_DIST_NCCL_MODULE, else beside the MPI module)
 * for GPU `gpu`, ordered on the CUDA backend's `compute_stream`. */
wb_status wb_dist_open_device(int gpu, void *compute_stream, char *err, size_t err_size);
/* Whether the gradient sums run on device buffers (the NCCL table is open). */
bool wb_dist_device_sums(void);
/* wb_dist_isum_f32 / _test / _wait on the NCCL table: buf is device memory. */
wb_status wb_dist_isum_device_f32(float *buf, int64_t n, wb_dist_request *request, char *err, size_t err_size);
bool wb_dist_test_device(wb_dist_request request);
wb_status wb_dist_wait_device(wb_dist_request *request, char *err, size_t err_size);
/* Tests only: a device table of the test's own (NULL: none). */
void wb_dist_use_device_module(const struct wb_dist_module *m);

#endif
