#ifndef GAS_CIMAGECODECS_H
#define GAS_CIMAGECODECS_H

/* PNG and JPEG decode/encode for GASMedia. libpng and libjpeg report errors by
 * longjmp, which Swift cannot survive, so every call into them happens here
 * behind setjmp and comes back as a status code plus a message. Nothing here
 * prints to stderr. */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (an anonymous enum so Swift imports them as plain Int constants). */
enum {
    GAS_IMG_OK = 0,
    GAS_IMG_TRUNCATED = 1,   /* the data ends before the image does */
    GAS_IMG_CORRUPT = 2,     /* malformed data, CRC error, decoder warning */
    GAS_IMG_TOO_LARGE = 3,   /* header dimensions over the caller's limits */
    GAS_IMG_UNSUPPORTED = 4, /* valid but not decodable here (e.g. a JPEG colour space) */
    GAS_IMG_NO_MEMORY = 5,
    GAS_IMG_INVALID_ARGUMENT = 6
};

typedef struct {
    int status;        /* one of GAS_IMG_* */
    char message[200]; /* NUL-terminated, empty when status is GAS_IMG_OK */
} gas_img_error;

/* A malloc'd byte buffer returned by the encoders; release with gas_img_buffer_free. */
typedef struct {
    uint8_t *data;
    size_t length;
} gas_img_buffer;

void gas_img_buffer_free(gas_img_buffer *buffer);

/* Header facts of a JPEG without decoding pixels (reads up to the first scan). */
typedef struct {
    uint32_t width;
    uint32_t height;
    int components;     /* 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK */
} gas_jpeg_header;

int gas_jpeg_read_header(const uint8_t *data, size_t length, gas_jpeg_header *out, gas_img_error *error);

/* Decode into a caller-owned RGB8 buffer of exactly width*height*3 bytes. The
 * caller reads the dimensions first, checks its limits and allocates; the
 * decoder refuses an image whose header disagrees with width/height. */
int gas_png_decode_rgb8(const uint8_t *data, size_t length, uint32_t width, uint32_t height,
                        uint8_t *pixels, size_t pixels_length, gas_img_error *error);
int gas_jpeg_decode_rgb8(const uint8_t *data, size_t length, uint32_t width, uint32_t height,
                         uint8_t *pixels, size_t pixels_length, gas_img_error *error);

/* Encode RGB8 as PNG: 8-bit RGB, not interlaced, zlib level 6, all filters,
 * no ancillary chunks, so equal pixels give equal bytes. */
int gas_png_encode_rgb8(const uint8_t *pixels, uint32_t width, uint32_t height,
                        gas_img_buffer *out, gas_img_error *error);

/* Encode as JPEG (JFIF, 4:2:0 for colour, optimized Huffman tables, integer DCT;
 * baseline unless progressive is non-zero) from 1 (gray), 3 (RGB) or 4
 * (Adobe-style inverted CMYK) components. */
int gas_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int components,
                    int quality, int progressive, gas_img_buffer *out, gas_img_error *error);

#ifdef __cplusplus
}
#endif

#endif
