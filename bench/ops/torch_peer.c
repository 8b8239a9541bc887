/* The torch side-process of bench_ops (see torch_peer.h). */
#include "torch_peer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool torch_peer_start(torch_peer *t, const char *script, int threads, int reps) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) return false;
    t->pid = fork();
    if (t->pid < 0) return false;
    if (t->pid == 0) {
        dup2(down[0], STDIN_FILENO);
        dup2(up[1], STDOUT_FILENO);
        close(down[1]), close(up[0]);
        char path[1024], nthreads[16], nreps[16];
        snprintf(path, sizeof path, "%s/bench/ops/%s", WB_SOURCE_DIR, script);
        snprintf(nthreads, sizeof nthreads, "%d", threads);
        snprintf(nreps, sizeof nreps, "%d", reps);
        execl("/usr/bin/python3", "python3", path, "--threads", nthreads, "--reps", nreps, (char *)NULL);
        perror("bench_ops: cannot run /usr/bin/python3");
        _exit(127);
    }
    close(down[0]), close(up[1]);
    t->to = fdopen(down[1], "w");
    t->from = fdopen(up[0], "r");
    return t->to && t->from;
}

bool torch_peer_query(torch_peer *t, const char *line, int idx, const char *const *passes, int n, double *ms) {
    fprintf(t->to, "%s\n", line);
    fflush(t->to);
    char answer[256];
    for (int got = 0; got < n;) {
        if (!fgets(answer, sizeof answer, t->from)) return false;
        int i;
        char pass[32];
        double v;
        if (sscanf(answer, "TORCH %d %31s %lf", &i, pass, &v) != 3 || i != idx) continue;
        for (int q = 0; q < n; q++)
            if (strcmp(pass, passes[q]) == 0) ms[q] = v, got++;
    }
    return true;
}

void torch_peer_stop(torch_peer *t) {
    if (t->to) fclose(t->to);
    if (t->from) fclose(t->from);
    if (t->pid > 0) waitpid(t->pid, NULL, 0);
    *t = (torch_peer){0};
}
