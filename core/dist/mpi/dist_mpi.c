/* libwb_dist_mpi.so: the distributed module on MPI (Open MPI on Debian).
 * Only the training thread calls MPI (MPI_THREAD_FUNNELED). Errors are
 * fatal to the job (MPI's default handler): a rank that cannot take part in
 * a collective ends every rank instead of leaving them waiting. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../dist_module.h"

static wb_dist_module g_mod;
static char g_name[MPI_MAX_LIBRARY_VERSION_STRING + 8];
static MPI_Comm g_buckets = MPI_COMM_NULL; /* the gradient buckets' own communicator (dist_module.h) */

/* MPI counts are int: long buffers go in pieces. */
static int sum_chunked(void *buf, int64_t n, MPI_Datatype type, size_t elem, char *err, size_t size) {
    for (int64_t at = 0; at < n; at += INT_MAX) {
        int count = n - at < INT_MAX ? (int)(n - at) : INT_MAX;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * (int64_t)elem, count, type, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            snprintf(err, size, "MPI_Allreduce failed (error %d) on rank %d", rc, g_mod.rank);
            return -1;
        }
    }
    return 0;
}

static int sum_f32(float *buf, int64_t n, char *err, size_t size) {
    return sum_chunked(buf, n, MPI_FLOAT, sizeof *buf, err, size);
}

static int sum_f64(double *buf, int64_t n, char *err, size_t size) {
    return sum_chunked(buf, n, MPI_DOUBLE, sizeof *buf, err, size);
}

static int broadcast(void *buf, int64_t n, int root, char *err, size_t size) {
    for (int64_t at = 0; at < n; at += INT_MAX) {
        int count = n - at < INT_MAX ? (int)(n - at) : INT_MAX;
        if (MPI_Bcast((char *)buf + at, count, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS) {
            snprintf(err, size, "MPI_Bcast failed on rank %d", g_mod.rank);
            return -1;
        }
    }
    return 0;
}

static int gather(const void *mine, int64_t n_mine, void **all, int64_t *counts, char *err, size_t size) {
    *all = NULL;
    if (n_mine > INT_MAX) {
        snprintf(err, size, "rank %d: %lld bytes to gather, more than MPI's int count", g_mod.rank,
                 (long long)n_mine);
        return -1;
    }
    int world = g_mod.world, mine_count = (int)n_mine;
    int *c = calloc((size_t)world, sizeof *c), *displ = calloc((size_t)world, sizeof *displ);
    int rc = c && displ ? MPI_Gather(&mine_count, 1, MPI_INT, c, 1, MPI_INT, 0, MPI_COMM_WORLD) : -1;
    int64_t total = 0;
    for (int r = 0; rc == MPI_SUCCESS && r < world && g_mod.rank == 0; r++) {
        displ[r] = (int)total;
        counts[r] = c[r];
        total += c[r];
    }
    if (rc == MPI_SUCCESS && g_mod.rank == 0 && (total > INT_MAX || !(*all = malloc(total ? (size_t)total : 1))))
        rc = -1; /* the others are already sending: end the job below */
    if (rc == MPI_SUCCESS)
        rc = MPI_Gatherv(mine, mine_count, MPI_BYTE, *all, c, displ, MPI_BYTE, 0, MPI_COMM_WORLD);
    free(c), free(displ);
    if (rc != MPI_SUCCESS) {
        snprintf(err, size, "rank %d: gathering %lld bytes failed", g_mod.rank, (long long)n_mine);
        free(*all);
        *all = NULL;
        MPI_Abort(MPI_COMM_WORLD, 1);
        return -1;
    }
    return 0;
}

static int isum_f32(float *buf, int64_t n, void **request, char *err, size_t size) {
    MPI_Request *r = malloc(sizeof *r);
    *request = r;
    if (!r || n > INT_MAX) {
        snprintf(err, size, "rank %d: %s for a non-blocking sum of %lld floats", g_mod.rank,
                 r ? "more than MPI's int count" : "out of memory", (long long)n);
        free(r);
        *request = NULL;
        return -1;
    }
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, g_buckets, r);
    if (rc == MPI_SUCCESS) return 0;
    snprintf(err, size, "MPI_Iallreduce failed (error %d) on rank %d", rc, g_mod.rank);
    free(r);
    *request = NULL;
    return -1;
}

static int test(void *request) {
    int done = 0;
    MPI_Test(request, &done, MPI_STATUS_IGNORE); /* a completed request becomes MPI_REQUEST_NULL: wait returns at once */
    return done;
}

static int wait_request(void *request, char *err, size_t size) {
    int rc = MPI_Wait(request, MPI_STATUS_IGNORE);
    free(request);
    if (rc == MPI_SUCCESS) return 0;
    snprintf(err, size, "MPI_Wait on a gradient bucket's sum failed (error %d) on rank %d", rc, g_mod.rank);
    return -1;
}

static void abort_job(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static void finalize(void) {
    int done = 0;
    MPI_Finalized(&done);
    if (done) return;
    if (g_buckets != MPI_COMM_NULL) MPI_Comm_free(&g_buckets);
    MPI_Finalize();
}

const wb_dist_module *wb_dist_module_open(char *err, size_t size) {
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(err, size, "MPI_Init_thread failed");
        return NULL;
    }
    MPI_Comm node;
    g_mod = (wb_dist_module){.struct_size = sizeof g_mod, .sum_f32 = sum_f32, .sum_f64 = sum_f64,
                             .broadcast = broadcast, .gather = gather, .abort = abort_job, .finalize = finalize,
                             .version = WB_DIST_MODULE_VERSION, .isum_f32 = isum_f32, .test = test,
                             .wait = wait_request};
    MPI_Comm_rank(MPI_COMM_WORLD, &g_mod.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_mod.world);
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_mod.rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &g_mod.local_rank);
    MPI_Comm_free(&node);
    MPI_Comm_dup(MPI_COMM_WORLD, &g_buckets);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    version[strcspn(version, ",\n")] = '\0'; /* "Open MPI v4.1.4, package: ..." */
    snprintf(g_name, sizeof g_name, "%s", version);
    g_mod.name = g_name;
    return &g_mod;
}
