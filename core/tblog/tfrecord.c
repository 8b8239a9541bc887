#include "tfrecord.h"

#include <isa-l/crc.h>
#include <limits.h>

uint32_t wb_crc32c(const void *data, size_t len) {
    /* crc32_iscsi takes an int length and neither inverts its seed nor its result. */
    uint32_t crc = 0xffffffffu;
    const unsigned char *p = data;
    while (len > 0) {
        int part = len > (size_t)INT_MAX ? INT_MAX : (int)len;
        crc = crc32_iscsi((unsigned char *)p, part, crc);
        p += part;
        len -= (size_t)part;
    }
    return crc ^ 0xffffffffu;
}

uint32_t wb_crc32c_masked(const void *data, size_t len) {
    uint32_t crc = wb_crc32c(data, len);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static void put_le(unsigned char *out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) out[i] = (unsigned char)(v >> (8 * i));
}

int wb_tfrecord_write(FILE *f, const void *data, size_t len) {
    unsigned char head[12], tail[4];
    put_le(head, (uint64_t)len, 8);
    put_le(head + 8, wb_crc32c_masked(head, 8), 4);
    put_le(tail, wb_crc32c_masked(data, len), 4);
    if (fwrite(head, 1, sizeof head, f) != sizeof head) return -1;
    if (len > 0 && fwrite(data, 1, len, f) != len) return -1;
    return fwrite(tail, 1, sizeof tail, f) == sizeof tail ? 0 : -1;
}
