/* workbench SDK: the one header a plugin includes.
 *   types.h    status codes, context, tensor info, feature specs
 *   params.h   parameter schemas (describe is data)
 *   module.h   backbone / neck / head / loss contract
 *   dataset.h  dataset contract
 *   transform.h  transform (augmentation) contract
 *   plugin.h   entry point, manifest, WB_PLUGIN_DEFINE
 *   host.h     the host API table
 *   ops.h      readable inline wrappers over the host table */
#ifndef WORKBENCH_WORKBENCH_H
#define WORKBENCH_WORKBENCH_H
#include "types.h"
#include "params.h"
#include "module.h"
#include "dataset.h"
#include "transform.h"
#include "plugin.h"
#include "host.h"
#include "ops.h"
#endif
