/* Internal: mosaic9's layout with given choices, so tests can lay the tiles
 * out as YOLOv5's load_mosaic9 does with the same order and offset. */
#ifndef WB_CORE_DATA_TRANSFORMS_MOSAIC9_H
#define WB_CORE_DATA_TRANSFORMS_MOSAIC9_H

#include <workbench/params.h>
#include "sample.h"

/* tiles: the nine samples in laying order, s among them (s receives the
 * mosaic); (xc, yc): the output window's corner on the 3w x 3h canvas. */
wb_status wb_mosaic9_compose(const wb_params *params, wb_data_sample *s, wb_data_sample *const tiles[9], int xc,
                             int yc, char *err, size_t err_size);

#endif
