/* Freeing what a two-stage head's predict returned (see two_stage.h). */
#include <stdlib.h>
#include <string.h>
#include "two_stage.h"

void ts_release_detections(void *inst, wb_detections *d) {
    (void)inst;
    free(d->boxes), free(d->scores), free(d->labels);
    memset(d, 0, sizeof *d);
}
