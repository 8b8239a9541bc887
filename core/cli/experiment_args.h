/* Parsing shared by the commands that take an experiment:
 *   EXP.conf [--set key=value]... [--work-dir DIR] [--resume [CKPT]] */
#ifndef WB_CLI_EXPERIMENT_ARGS_H
#define WB_CLI_EXPERIMENT_ARGS_H

#include "app/experiment.h"
#include "model/model.h"
#include "commands.h"

#define WB_CLI_MAX_OVERRIDES 64
#define WB_CLI_MAX_POSITIONAL 256

typedef struct wb_cli_experiment {
    wb_experiment_args args;
    const char *overrides[WB_CLI_MAX_OVERRIDES];
    const char *work_dir;
    const char *resume;      /* NULL, "auto" or a path */
    const char *positional[WB_CLI_MAX_POSITIONAL];
    int n_positional;
} wb_cli_experiment;

/* Returns WB_EXIT_OK or the usage error's exit code. allow_run_options
 * enables --work-dir and --resume. */
int wb_cli_parse_experiment(const char *cmd, const wb_cli *cli, int argc, char **argv, bool allow_run_options,
                            wb_cli_experiment *out);

/* A checkpoint named on the command line (--resume, eval, infer) must be a
 * regular file: a FIFO would block its reader, a directory reads as empty.
 * WB_EXIT_OK, or WB_EXIT_FAILURE with "workbench CMD: PATH: why" printed. */
int wb_cli_check_checkpoint(const char *cmd, const char *path);

/* An experiment with the trained model of `checkpoint`, for eval and infer. */
typedef struct wb_cli_trained {
    wb_experiment e;
    wb_session *s;
    wb_model *m;
} wb_cli_trained;

/* WB_EXIT_OK, or the exit code to return (problems printed on stderr). */
int wb_cli_open_trained(const wb_cli *cli, const wb_cli_experiment *x, const char *checkpoint, wb_cli_trained *t);
void wb_cli_close_trained(wb_cli_trained *t);

#endif
