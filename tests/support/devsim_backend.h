/* The device simulator: a test backend whose memory the host cannot read.
 * Its allocations are mappings kept PROT_NONE except while one of its own
 * entry points (a kernel, upload, download, copy, zero) runs, so core code
 * that dereferences a tensor's data instead of crossing the boundary dies
 * with SIGSEGV. Its kernels are the reference backend's, so a run on it must
 * give the reference's numbers bit for bit. It reports WB_DEVICE_CUDA, the
 * SDK's one device that is not the CPU. Test support, never in the product. */
#ifndef WB_TEST_DEVSIM_BACKEND_H
#define WB_TEST_DEVSIM_BACKEND_H

#include <stddef.h>
#include "backends/backend.h"

const wb_backend *wbt_devsim_backend(void);
/* Bytes of devsim memory allocated now (leak checks). */
size_t wbt_devsim_live_bytes(void);

#endif
