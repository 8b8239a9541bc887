/* `workbench print-config`: the effective config of an experiment (bases
 * merged, --set and --hyp applied, defaults filled in by validation) as
 * libconfig text, each value followed by where it comes from: FILE:LINE of
 * an experiment file or base, "--set a.b=v", "hyp FILE:LINE", or "default"
 * (the schema's). The text is a valid experiment itself. */
#ifndef WB_CORE_APP_PRINT_CONFIG_H
#define WB_CORE_APP_PRINT_CONFIG_H

#include <stdio.h>
#include "../config/config.h"

/* overrides: the --set texts, in order (their origins' line numbers index them from 1). */
void wb_print_config(wb_config *cfg, const char *const *overrides, int n_overrides, FILE *out);

#endif
