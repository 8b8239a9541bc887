/* The CPU backend's convolution (conv_dnnl.c): what tests set besides the
 * kernel tables (wb_cpu_conv_kernels in backends/families.h). */
#ifndef WB_CORE_CONV_DNNL_H
#define WB_CORE_CONV_DNNL_H

#include <stddef.h>

/* Sets the scratch size above which a call runs a group of images at a
 * time (64 MiB) and returns the previous one: tests compare grouped and
 * whole-batch runs on small shapes with it. */
size_t wb_cpu_conv_set_group_limit(size_t bytes);

#endif
