/* `workbench validate`: schema validation has passed when this runs; it then
 * builds the model (shape negotiation) and runs one forward on a blank image
 * to prove every module returns what it declared. No data is loaded and
 * nothing is written. */
#ifndef WB_CORE_VALIDATE_RUN_H
#define WB_CORE_VALIDATE_RUN_H

#include <stdio.h>
#include "experiment.h"

/* Prints the model summary to out; returns a process exit code. */
int wb_validate_run(wb_experiment *e, int input_size, FILE *out);

#endif
