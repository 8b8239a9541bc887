/* YOLOv5 hyp files (--hyp FILE) on arbitrary bytes: the libyaml reader must
 * refuse or return entries that are named, terminated and within the cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/hyp_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static wb_hyp_file hyp; /* 20 KiB: off the fuzzer's stack */
    char err[512];
    if (wb_hyp_parse((const char *)data, size, &hyp, err, sizeof err) != 0) {
        if (!memchr(err, '\0', sizeof err) || !err[0]) abort(); /* a refusal always says why */
        return 0;
    }
    if (hyp.n < 0 || hyp.n > WB_HYP_MAX_ENTRIES) abort();
    for (int i = 0; i < hyp.n; i++)
        if (!memchr(hyp.entries[i].name, '\0', sizeof hyp.entries[i].name) || !hyp.entries[i].name[0] ||
            hyp.entries[i].line == 0)
            abort();
    return 0;
}
