#include "image_write.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

wb_status wb_image_save_jpeg(const char *path, const uint8_t *rgb, int width, int height, int quality, char *err,
                             size_t n) {
    tjhandle tj = tjInitCompress();
    if (!tj) {
        snprintf(err, n, "%s: cannot start the JPEG encoder", path);
        return WB_ERR_INTERNAL;
    }
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    wb_status st = WB_OK;
    if (tjCompress2(tj, rgb, width, 0, height, TJPF_RGB, &jpeg, &size, TJSAMP_420, quality, TJFLAG_ACCURATEDCT) != 0) {
        snprintf(err, n, "%s: JPEG encoding failed: %s", path, tjGetErrorStr2(tj));
        st = WB_ERR_INTERNAL;
    } else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "wb");
        int ok = f && fwrite(jpeg, 1, size, f) == size;
        ok = f && fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) {
            snprintf(err, n, "%s: %s", path, strerror(errno ? errno : EIO));
            unlink(tmp);
            st = WB_ERR_IO;
        }
    }
    tjFree(jpeg);
    tjDestroy(tj);
    return st;
}
