/* Formats an error message into a caller's buffer and returns the status:
 *   return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: not found", path); */
#ifndef WB_CORE_ERRMSG_H
#define WB_CORE_ERRMSG_H

#include <stddef.h>
#include <workbench/types.h>

wb_status wb_fail_msg(char *err, size_t err_size, wb_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
