/* `check --fix-to DIR` promises never to touch the originals: the folder a
 * split's cleaned files go to must not be, lie inside, or hold the files
 * and folders the split's dataset is read from. */
#ifndef WB_CHECK_FIX_TARGET_H
#define WB_CHECK_FIX_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include "config/params.h"

/* out: DIR/<split>; p: the split's dataset section. false with
 * "--fix-to ...: why; what to do" in err when out overlaps an input. */
bool wb_fix_target_ok(const char *out, const wb_params *p, char *err, size_t err_size);

#endif
