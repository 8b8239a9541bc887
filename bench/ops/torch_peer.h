/* A PyTorch script that bench_ops runs beside itself in lock-step: we send
 * it one shape per line, it times torch on it and answers with
 * "TORCH <index> <pass> <ms>" lines before we time ours, so both sides see
 * the same machine load. */
#ifndef WB_BENCH_TORCH_PEER_H
#define WB_BENCH_TORCH_PEER_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct torch_peer {
    FILE *to, *from;
    pid_t pid;
} torch_peer;

/* Runs /usr/bin/python3 WB_SOURCE_DIR/bench/ops/<script> --threads N --reps N. */
bool torch_peer_start(torch_peer *t, const char *script, int threads, int reps);
/* Sends `line`, then fills ms[q] for each of the n pass names from the
 * answers for `idx`; false when the script is gone. */
bool torch_peer_query(torch_peer *t, const char *line, int idx, const char *const *passes, int n, double *ms);
void torch_peer_stop(torch_peer *t);

#endif
