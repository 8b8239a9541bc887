#include "local_rank.h"

#include <stdlib.h>

int wb_launcher_local_rank(char *(*lookup)(const char *name)) {
    static const char *const names[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID",
                                        "LOCAL_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = lookup(names[i]);
        if (!value || !value[0]) continue;
        char *end;
        long n = strtol(value, &end, 10);
        return *end || n < 0 || n > 1023 ? -1 : (int)n;
    }
    return -1;
}

int wb_launcher_cuda_device(char *(*lookup)(const char *name)) {
    int local = wb_launcher_local_rank(lookup);
    return local >= 0 ? local : 0;
}
