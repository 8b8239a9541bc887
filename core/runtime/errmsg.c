#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>

wb_status wb_fail_msg(char *err, size_t err_size, wb_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return status;
}
