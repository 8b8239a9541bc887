/* Kernel family tables of the built-in backends. Each family's file defines
 * its accessor; a backend that lacks a family returns NULL and the CPU
 * backend then uses the reference table. */
#ifndef WB_CORE_BACKEND_FAMILIES_H
#define WB_CORE_BACKEND_FAMILIES_H

#include "backend.h"

const wb_conv_kernels *wb_ref_conv_kernels(void);
const wb_dense_kernels *wb_ref_dense_kernels(void);
const wb_pointwise_kernels *wb_ref_pointwise_kernels(void);
const wb_loss_kernels *wb_ref_loss_kernels(void);
const wb_optim_kernels *wb_ref_optim_kernels(void);
const wb_gather_kernels *wb_ref_gather_kernels(void);
const wb_norm_kernels *wb_ref_norm_kernels(void);
const wb_box_kernels *wb_ref_box_kernels(void);

const wb_conv_kernels *wb_cpu_conv_kernels(void);
const wb_dense_kernels *wb_cpu_dense_kernels(void);
const wb_pointwise_kernels *wb_cpu_pointwise_kernels(void);
const wb_loss_kernels *wb_cpu_loss_kernels(void);
const wb_optim_kernels *wb_cpu_optim_kernels(void);
const wb_gather_kernels *wb_cpu_gather_kernels(void);
const wb_norm_kernels *wb_cpu_norm_kernels(void);
const wb_layout_kernels *wb_cpu_layout_kernels(void);
/* The CPU runs the reference box kernels (a few thousand boxes per image). */

#endif
