"""Runs every tests/parity/gen_*.py given on the command line (ctest fixture)."""
import importlib.util
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parity_io  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(parity_io.save)
    print(f"parity cases from {os.path.basename(path)} written to {os.environ['WB_PARITY_DIR']}")
