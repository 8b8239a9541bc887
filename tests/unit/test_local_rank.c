/* One GPU per rank: the launcher's local rank from each launcher's variable,
 * the first one set winning, garbage refused; backend = "cuda" follows it,
 * and alone (no launcher) is cuda:0. */
#include <string.h>
#include "dist/local_rank.h"
#include "wbtest.h"

/* A fake environment: NAME=VALUE pairs. */
static const char *const *g_env;

static char *fake_getenv(const char *name) {
    size_t n = strlen(name);
    for (const char *const *e = g_env; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return (char *)*e + n + 1;
    return NULL;
}

static int local_rank_of(const char *const *env) {
    g_env = env;
    return wb_launcher_local_rank(fake_getenv);
}

START_TEST(test_each_launchers_variable) {
    ck_assert_int_eq(local_rank_of((const char *const[]){"OMPI_COMM_WORLD_LOCAL_RANK=3", NULL}), 3);
    ck_assert_int_eq(local_rank_of((const char *const[]){"MPI_LOCALRANKID=2", NULL}), 2);
    ck_assert_int_eq(local_rank_of((const char *const[]){"SLURM_LOCALID=7", NULL}), 7);
    ck_assert_int_eq(local_rank_of((const char *const[]){"LOCAL_RANK=1", NULL}), 1);
    ck_assert_int_eq(local_rank_of((const char *const[]){"OMPI_COMM_WORLD_RANK=5", NULL}), -1);
    ck_assert_int_eq(local_rank_of((const char *const[]){NULL}), -1);
}
END_TEST

/* mpirun's own variable wins over a LOCAL_RANK left in the environment; an empty one is not set. */
START_TEST(test_the_mpi_launchers_variable_wins) {
    ck_assert_int_eq(local_rank_of((const char *const[]){"LOCAL_RANK=0", "OMPI_COMM_WORLD_LOCAL_RANK=1", NULL}), 1);
    ck_assert_int_eq(local_rank_of((const char *const[]){"OMPI_COMM_WORLD_LOCAL_RANK=", "LOCAL_RANK=4", NULL}), 4);
}
END_TEST

START_TEST(test_garbage_is_no_local_rank) {
    ck_assert_int_eq(local_rank_of((const char *const[]){"OMPI_COMM_WORLD_LOCAL_RANK=1x", NULL}), -1);
    ck_assert_int_eq(local_rank_of((const char *const[]){"LOCAL_RANK=-1", NULL}), -1);
    ck_assert_int_eq(local_rank_of((const char *const[]){"LOCAL_RANK=1024", NULL}), -1);
    ck_assert_int_eq(local_rank_of((const char *const[]){"LOCAL_RANK=1023", NULL}), 1023);
}
END_TEST

START_TEST(test_cuda_is_the_local_ranks_gpu_or_cuda_0) {
    g_env = (const char *const[]){"OMPI_COMM_WORLD_LOCAL_RANK=2", NULL};
    ck_assert_int_eq(wb_launcher_cuda_device(fake_getenv), 2);
    g_env = (const char *const[]){NULL};
    ck_assert_int_eq(wb_launcher_cuda_device(fake_getenv), 0);
    g_env = (const char *const[]){"LOCAL_RANK=x", NULL};
    ck_assert_int_eq(wb_launcher_cuda_device(fake_getenv), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("local_rank");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_each_launchers_variable);
    tcase_add_test(tc, test_the_mpi_launchers_variable_wins);
    tcase_add_test(tc, test_garbage_is_no_local_rank);
    tcase_add_test(tc, test_cuda_is_the_local_ranks_gpu_or_cuda_0);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
