# Sourced by the mpi_*.sh tests: skips (77) without mpirun or the MPI module,
# and the settings Open MPI needs on a CI machine (root, more ranks than
# cores, no network but loopback).
if ! command -v mpirun >/dev/null; then
  echo "SKIP: mpirun is not installed (Debian: apt-get install openmpi-bin libopenmpi-dev, as scripts/setup.sh does)"
  exit 77
fi
if [ ! -f "$(dirname "$wb")/../lib/workbench/libwb_dist_mpi.so" ]; then
  echo "SKIP: $(dirname "$wb")/../lib/workbench/libwb_dist_mpi.so was not built (libopenmpi-dev missing at cmake time)"
  exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
mpi() { local np=$1; shift; mpirun --oversubscribe --bind-to none -np "$np" "$@"; }
# The tiny detector on synthetic images with exactly one shape each, BN frozen: every image has one positive
# cell (center_radius 0), so a rank's loss normalised by its positives averages to the whole batch's.
tiny=(configs/tiny/center_tiny_synthetic.conf --threads 1 --set data.workers=1
      --set data.train.dataset.max_objects=1 --set data.val.dataset.max_objects=1
      --set model.backbone.frozen_bn=true --set model.head.center_radius=0.0 --set schedule.warmup_iters=4
      --set "schedule.milestones=[100]")
