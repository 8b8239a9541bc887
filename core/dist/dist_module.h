/* The contract between the core and a distributed-backend module
 * (libwb_dist_mpi.so): one entry point returning a table of collectives over
 * the job's ranks. The core never links the module's library (MPI); it opens
 * the module only when a launcher started the process (dist.h). */
#ifndef WB_DIST_MODULE_H
#define WB_DIST_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define WB_DIST_MODULE_ENTRY "wb_dist_module_open"

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
} wb_dist_module;

typedef const wb_dist_module *(*wb_dist_module_open_fn)(char *err, size_t err_size);
/* The module's entry point: joins the job (MPI_Init). NULL + err on failure. */
const wb_dist_module *wb_dist_module_open(char *err, size_t err_size);

#endif
