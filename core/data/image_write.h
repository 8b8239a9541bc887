/* Writing RGB images as JPEG (libjpeg-turbo), for pictures of detections. */
#ifndef WB_CORE_IMAGE_WRITE_H
#define WB_CORE_IMAGE_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

/* Writes atomically (temporary file, then rename). quality 1..100. */
wb_status wb_image_save_jpeg(const char *path, const uint8_t *rgb, int width, int height, int quality, char *err,
                             size_t err_size);

#endif
