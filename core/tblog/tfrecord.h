/* TFRecord framing, the container of TensorBoard's event files: each record
 * is its length (uint64, little-endian), the masked CRC32C of those 8 bytes,
 * the data, and the masked CRC32C of the data. Readers (TensorBoard's
 * included) refuse a record whose checksums do not match. */
#ifndef WB_CORE_TBLOG_TFRECORD_H
#define WB_CORE_TBLOG_TFRECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CRC32C (Castagnoli) of data, through ISA-L's hardware-accelerated crc32_iscsi. */
uint32_t wb_crc32c(const void *data, size_t len);
/* TFRecord's masking: rotate right by 15 bits and add 0xa282ead8, so that a
 * CRC stored inside CRC-checked data does not checksum to a constant. */
uint32_t wb_crc32c_masked(const void *data, size_t len);
/* Appends one record; 0, or -1 when the stream failed (errno set). */
int wb_tfrecord_write(FILE *f, const void *data, size_t len);

#endif
