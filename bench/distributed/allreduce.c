/* MPI_Allreduce of n floats (in place, MPI_SUM) timed on its own: a barrier
 * before each call keeps waiting for a slower rank out of the time. Prints,
 * on rank 0, the best and median of `reps` calls and the bandwidth they
 * imply under the ring model, 2 (N - 1) / N x bytes / time.
 *   mpicc -O2 allreduce.c -o allreduce && mpirun -np 2 ./allreduce 19813000 20 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, world;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    long n = argc > 1 ? atol(argv[1]) : 19813000;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    float *buf = malloc((size_t)n * sizeof *buf);
    double *t = malloc((size_t)reps * sizeof *t);
    for (long i = 0; i < n; i++) buf[i] = 1e-6f * (float)(i % 1000);
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t[r] = MPI_Wtime() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, by_value);
    if (rank == 0) {
        double bytes = 4.0 * (double)n, moved = 2.0 * (world - 1) / world * bytes;
        printf("allreduce of %.1f MB over %d ranks: best %.1f ms, median %.1f ms (ring bandwidth %.2f GB/s from the "
               "best)\n", bytes / 1e6, world, 1e3 * t[0], 1e3 * t[reps / 2], moved / t[0] / 1e9);
    }
    free(buf), free(t);
    MPI_Finalize();
    return 0;
}
