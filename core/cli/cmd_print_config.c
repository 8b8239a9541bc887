/* workbench print-config EXP.conf [--set key=value]... [--hyp FILE] */
#include <stdio.h>
#include "app/print_config.h"
#include "experiment_args.h"

const char wb_help_print_config[] =
    "Usage: workbench print-config EXP.conf [--set key=value]... [--hyp FILE]\n\n"
    "Prints the effective config of an experiment, as `run` would train it: the bases of its @include lines\n"
    "merged, the --set overrides and the --hyp file applied, every module's defaults filled in by validation.\n"
    "Each value is followed by where it comes from:\n"
    "  FILE:LINE           the experiment file or a base it includes\n"
    "  --set a.b=v         an override of this command line\n"
    "  hyp FILE:LINE       a YOLOv5 hyp file (--hyp)\n"
    "  default             the schema's default (`workbench describe TYPE`, docs/config-reference.md)\n"
    "The output is itself a valid experiment (the origins are # comments). Nothing is loaded or written; an\n"
    "invalid experiment prints its problems instead (exit 2).\n\n"
    "Example:\n"
    "  workbench print-config configs/quickstart.conf --set optimizer.lr=0.01 | grep optimizer -A8\n";

int wb_cmd_print_config(const wb_cli *cli, int argc, char **argv) {
    wb_cli_experiment x;
    int rc = wb_cli_parse_experiment("print-config", cli, argc, argv, false, &x);
    if (rc != WB_EXIT_OK) return rc;
    if (x.n_positional > 1) return wb_cli_usage_error("print-config", "unexpected argument '%s'", x.positional[1]);
    wb_experiment e;
    if (wb_experiment_open(&e, &x.args, stderr) != 0) {
        wb_experiment_close(&e);
        return WB_EXIT_USAGE;
    }
    wb_print_config(e.cfg, x.args.overrides, x.args.n_overrides, stdout);
    wb_experiment_close(&e);
    return WB_EXIT_OK;
}
