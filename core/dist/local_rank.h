/* Which GPU a rank of a data-parallel job uses: one per rank, numbered by
 * the rank's place on its node (the launcher's local rank), as PyTorch's
 * --local_rank. */
#ifndef WB_CORE_DIST_LOCAL_RANK_H
#define WB_CORE_DIST_LOCAL_RANK_H

/* This process's local rank from its launcher's environment:
 * OMPI_COMM_WORLD_LOCAL_RANK (Open MPI's mpirun), MPI_LOCALRANKID (MPICH's
 * Hydra), SLURM_LOCALID (srun), LOCAL_RANK (torchrun's name, set by hand for
 * others), the first one set; -1 when none is set or it is no number in
 * 0..1023. lookup is getenv, or a test's own environment. */
int wb_launcher_local_rank(char *(*lookup)(const char *name));

/* The device of backend = "cuda": the local rank under a launcher, else 0
 * (cuda:N is N on every rank: the user chose). */
int wb_launcher_cuda_device(char *(*lookup)(const char *name));

#endif
