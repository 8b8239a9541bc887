/* libwb_dist_nccl.so: sums of the CUDA backend's device buffers with NCCL
 * (dist_device.h). Every sum runs on a communication stream of its own that
 * first waits for an event recorded on the compute stream (the gradients are
 * final there), and the compute stream waits for the event recorded after the
 * sum before it reads the buffer again: the host never synchronises, and
 * backward kernels overlap the buckets' sums as with MPI. */
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <cuda_runtime_api.h>
#include "../dist_device.h"

static wb_dist_module g_mod;
static const wb_dist_module *g_host;
static ncclComm_t g_comm;
static cudaStream_t g_compute, g_comm_stream;
static char g_name[96];

typedef struct nccl_request {
    cudaEvent_t done;
} nccl_request;

static int cuda_failed(cudaError_t rc, const char *what, char *err, size_t size) {
    if (rc == cudaSuccess) return 0;
    snprintf(err, size, "%s failed on rank %d: %s", what, g_mod.rank, cudaGetErrorString(rc));
    return -1;
}

static int nccl_failed(ncclResult_t rc, const char *what, char *err, size_t size) {
    if (rc == ncclSuccess) return 0;
    snprintf(err, size, "%s failed on rank %d: %s (%s)", what, g_mod.rank, ncclGetErrorString(rc),
             ncclGetLastError(g_comm));
    return -1;
}

/* Starts the in-place sum of n elements at buf after the compute stream's work so far; *done is recorded after
 * it on the communication stream. */
static int start_sum(void *buf, int64_t n, ncclDataType_t type, cudaEvent_t *done, char *err, size_t size) {
    cudaEvent_t ready;
    if (cuda_failed(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), "cudaEventCreate", err, size))
        return -1;
    int rc = cuda_failed(cudaEventRecord(ready, g_compute), "cudaEventRecord on the compute stream", err, size);
    if (!rc) rc = cuda_failed(cudaStreamWaitEvent(g_comm_stream, ready, 0), "cudaStreamWaitEvent", err, size);
    cudaEventDestroy(ready); /* released once recorded work is done */
    if (!rc) rc = nccl_failed(ncclAllReduce(buf, buf, (size_t)n, type, ncclSum, g_comm, g_comm_stream),
                              "ncclAllReduce", err, size);
    if (!rc) rc = cuda_failed(cudaEventCreateWithFlags(done, cudaEventDisableTiming), "cudaEventCreate", err, size);
    if (!rc) rc = cuda_failed(cudaEventRecord(*done, g_comm_stream), "cudaEventRecord after the sum", err, size);
    return rc;
}

/* Later kernels on the compute stream see the sum; the host does not wait. A peer lost in an earlier sum shows
 * as the communicator's asynchronous error. */
static int finish_sum(cudaEvent_t done, char *err, size_t size) {
    int rc = cuda_failed(cudaStreamWaitEvent(g_compute, done, 0), "cudaStreamWaitEvent on the compute stream", err,
                         size);
    cudaEventDestroy(done);
    ncclResult_t async = ncclSuccess;
    if (!rc && ncclCommGetAsyncError(g_comm, &async) == ncclSuccess) rc = nccl_failed(async, "a sum", err, size);
    return rc;
}

static int sum_blocking(void *buf, int64_t n, ncclDataType_t type, char *err, size_t size) {
    cudaEvent_t done;
    if (start_sum(buf, n, type, &done, err, size)) return -1;
    return finish_sum(done, err, size);
}

static int sum_f32(float *buf, int64_t n, char *err, size_t size) {
    return sum_blocking(buf, n, ncclFloat32, err, size);
}

static int sum_f64(double *buf, int64_t n, char *err, size_t size) {
    return sum_blocking(buf, n, ncclFloat64, err, size);
}

static int isum_f32(float *buf, int64_t n, void **request, char *err, size_t size) {
    nccl_request *r = malloc(sizeof *r);
    if (!r) {
        snprintf(err, size, "out of memory for a gradient bucket's request on rank %d", g_mod.rank);
        return -1;
    }
    if (start_sum(buf, n, ncclFloat32, &r->done, err, size)) {
        free(r);
        return -1;
    }
    *request = r;
    return 0;
}

/* NCCL progresses on the GPU by itself: testing only asks whether the sum's event has passed. */
static int test(void *request) { return cudaEventQuery(((nccl_request *)request)->done) == cudaSuccess; }

static int wait_request(void *request, char *err, size_t size) {
    nccl_request *r = request;
    int rc = finish_sum(r->done, err, size);
    free(r);
    return rc;
}

static int broadcast(void *buf, int64_t n, int root, char *err, size_t size) {
    return g_host->broadcast(buf, n, root, err, size);
}

static int gather(const void *mine, int64_t n_mine, void **all, int64_t *counts, char *err, size_t size) {
    return g_host->gather(mine, n_mine, all, counts, err, size);
}

/* A rank that stops must not leave the others inside a kernel waiting for it: NCCL's first, then the job. */
static void abort_job(int code) {
    ncclCommAbort(g_comm);
    g_host->abort(code);
}

static void finalize(void) {
    cudaStreamSynchronize(g_comm_stream);
    ncclCommDestroy(g_comm);
    cudaStreamDestroy(g_comm_stream);
}

/* The module's one export (the rest is hidden). */
__attribute__((visibility("default"))) const wb_dist_module *
wb_dist_nccl_open(const wb_dist_module *host, int device, void *compute_stream, char *err, size_t size) {
    g_host = host;
    g_compute = compute_stream;
    g_mod = (wb_dist_module){.struct_size = sizeof g_mod, .rank = host->rank, .world = host->world,
                             .local_rank = host->local_rank, .sum_f32 = sum_f32, .sum_f64 = sum_f64,
                             .broadcast = broadcast, .gather = gather, .abort = abort_job, .finalize = finalize,
                             .version = WB_DIST_MODULE_VERSION, .isum_f32 = isum_f32, .test = test,
                             .wait = wait_request};
    char what[64];
    snprintf(what, sizeof what, "cudaSetDevice(%d)", device);
    if (cuda_failed(cudaSetDevice(device), what, err, size)) return NULL;
    /* Rank 0's outcome travels with the id: no rank goes on to wait in ncclCommInitRank for a rank 0 that
     * could not make one. */
    struct {
        ncclUniqueId id;
        int rc;
    } setup = {.rc = ncclSuccess};
    if (host->rank == 0) setup.rc = ncclGetUniqueId(&setup.id);
    if (host->broadcast(&setup, (int64_t)sizeof setup, 0, err, size)) return NULL;
    if (setup.rc != ncclSuccess) {
        snprintf(err, size, "ncclGetUniqueId failed on rank 0: %s (rank %d stops too)",
                 ncclGetErrorString((ncclResult_t)setup.rc), host->rank);
        return NULL;
    }
    if (nccl_failed(ncclCommInitRank(&g_comm, host->world, setup.id, host->rank), "ncclCommInitRank", err, size))
        return NULL;
    if (cuda_failed(cudaStreamCreateWithFlags(&g_comm_stream, cudaStreamNonBlocking), "cudaStreamCreate", err,
                    size)) {
        ncclCommDestroy(g_comm);
        return NULL;
    }
    int version = 0;
    ncclGetVersion(&version);
    snprintf(g_name, sizeof g_name, "NCCL %d.%d.%d on cuda:%d, %s", version / 10000, version / 100 % 100,
             version % 100, device, host->name);
    g_mod.name = g_name;
    return &g_mod;
}
