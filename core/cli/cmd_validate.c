#include <stdio.h>
#include <stdlib.h>
#include "app/validate_run.h"
#include "experiment_args.h"

const char wb_help_validate[] =
    "Usage: workbench validate EXP.conf [--set key=value]...\n\n"
    "Checks an experiment without loading data or writing anything: the config against the core's schema and\n"
    "every module's parameter schema (all problems, each with file:line and a suggestion), that load_from names\n"
    "a readable file, then builds the model (shape negotiation between backbone, neck and head) and runs one\n"
    "forward on a blank 256x256 image, module by module, checking each module's outputs against its declared\n"
    "specs before the next module reads them (an error names the module that broke them). Prints every module\n"
    "with its plugin file, parameters, sub-modules (a head's losses) and outputs. Exit 0 when valid, 1 when this\n"
    "machine lacks what it asks for (backend = \"cuda\" without a CUDA device), 2 otherwise.\n\n"
    "Example:\n"
    "  workbench validate configs/quickstart.conf --set model.head.num_classes=5\n";

int wb_cmd_validate(const wb_cli *cli, int argc, char **argv) {
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("validate", cli, argc, argv, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    wb_experiment e;
    rc = wb_experiment_open(&e, &x.args, stderr) != 0 ? WB_EXIT_USAGE : wb_validate_run(&e, 256, stdout);
    wb_experiment_close(&e);
    return rc;
}
