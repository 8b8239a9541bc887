/* The contract between the core and a distributed-backend module
 * (libwb_dist_mpi.so): one entry point returning a table of collectives over
 * the job's ranks. The core never links the module's library (MPI); it opens
 * the module only when a launcher started the process (dist.h). */
#ifndef WB_DIST_MODULE_H
#define WB_DIST_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define WB_DIST_MODULE_ENTRY "wb_dist_module_open"
/* The table's version: a module older than the core (a smaller struct_size
 * or version) is refused with the reason. 2 added the non-blocking sums. */
#define WB_DIST_MODULE_VERSION 2

typedef struct wb_dist_module {
    uint32_t struct_size;
    int rank, world, local_rank;
    const char *name;  /* "Open MPI 4.1.4" */
    /* In-place sums over every rank; 0, or -1 with the message in err. */
    int (*sum_f32)(float *buf, int64_t n, char *err, size_t err_size);
    int (*sum_f64)(double *buf, int64_t n, char *err, size_t err_size);
    /* Rank `root`'s n bytes to every rank. */
    int (*broadcast)(void *buf, int64_t n, int root, char *err, size_t err_size);
    /* Every rank's n_mine bytes to rank 0, in rank order, into *all
     * (malloc'd there, NULL elsewhere); counts[world] gets each rank's n. */
    int (*gather)(const void *mine, int64_t n_mine, void **all, int64_t *counts, char *err, size_t err_size);
    /* Ends every rank of the job now (a rank that cannot go on: the others
     * would wait in a collective for ever). */
    void (*abort)(int code);
    void (*finalize)(void);
    /* Version 2: non-blocking in-place sums for the gradient buckets, on a
     * communicator of their own, so that their order against the blocking
     * collectives above (sync_bn's, the trainer's) does not matter, only
     * their order among themselves. *request: the handle for test / wait.
     * n at most INT_MAX. */
    uint32_t version;
    int (*isum_f32)(float *buf, int64_t n, void **request, char *err, size_t err_size);
    /* Moves the sums in flight on (MPI progresses non-blocking collectives
     * only inside MPI calls); 1 when this one is done, else 0. */
    int (*test)(void *request);
    /* Waits for it and frees the handle; 0, or -1 with the message in err. */
    int (*wait)(void *request, char *err, size_t err_size);
} wb_dist_module;

typedef const wb_dist_module *(*wb_dist_module_open_fn)(char *err, size_t err_size);
/* The module's entry point: joins the job (MPI_Init). NULL + err on failure. */
const wb_dist_module *wb_dist_module_open(char *err, size_t err_size);

#endif
