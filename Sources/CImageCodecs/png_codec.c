/* PNG decode/encode with libpng behind setjmp. Errors come back as gas_img_error;
 * warnings are swallowed (libpng already downgrades benign problems to them). */

#include "codec_common.h"

#include <png.h>
#include <setjmp.h>

/* Ancillary chunks that only cost time or memory (text can be a zlib bomb):
 * treated as unknown and dropped unread. Five bytes each, NUL included. */
static const png_byte gas_png_skipped_chunks[] =
    "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0tIME\0eXIf\0";
enum { GAS_PNG_SKIPPED_COUNT = 7 };

/* Largest ancillary chunk libpng may allocate for. */
enum { GAS_PNG_CHUNK_MALLOC_MAX = 8 << 20 };

typedef struct {
    jmp_buf jump;
    const uint8_t *data;
    size_t length;
    size_t position;
    int truncated;     /* the read callback ran past the end */
    int status;        /* a status chosen by this file, else 0 */
    char message[160];
    png_bytep *rows;
    gas_growbuf out;   /* encoder output */
} gas_png_ctx;

static void gas_png_error_fn(png_structp png, png_const_charp message) {
    gas_png_ctx *ctx = (gas_png_ctx *)png_get_error_ptr(png);
    if (ctx->message[0] == '\0') {
        snprintf(ctx->message, sizeof ctx->message, "%s", message != NULL ? message : "libpng error");
    }
    longjmp(ctx->jump, 1);
}

static void gas_png_warning_fn(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void gas_png_read_fn(png_structp png, png_bytep out, size_t count) {
    gas_png_ctx *ctx = (gas_png_ctx *)png_get_io_ptr(png);
    if (count > ctx->length - ctx->position) {
        ctx->truncated = 1;
        png_error(png, "the data ends inside a chunk");
    }
    memcpy(out, ctx->data + ctx->position, count);
    ctx->position += count;
}

static void gas_png_write_fn(png_structp png, png_bytep bytes, size_t count) {
    gas_png_ctx *ctx = (gas_png_ctx *)png_get_io_ptr(png);
    if (!gas_growbuf_append(&ctx->out, bytes, count)) {
        ctx->status = GAS_IMG_NO_MEMORY;
        png_error(png, "out of memory while writing PNG");
    }
}

static void gas_png_flush_fn(png_structp png) { (void)png; }

/* Stop with a status of our own; the error callback longjmps. */
static void gas_png_fail(png_structp png, gas_png_ctx *ctx, int status, const char *message) {
    ctx->status = status;
    snprintf(ctx->message, sizeof ctx->message, "%s", message);
    png_error(png, message);
}

static int gas_png_classify(const gas_png_ctx *ctx) {
    if (ctx->status != 0) return ctx->status;
    if (ctx->truncated) return GAS_IMG_TRUNCATED;
    /* libpng's words when the IDAT stream stops before the last row. */
    if (strstr(ctx->message, "Not enough image data") != NULL) return GAS_IMG_TRUNCATED;
    if (strstr(ctx->message, "Out of memory") != NULL || strstr(ctx->message, "out of memory") != NULL) {
        return GAS_IMG_NO_MEMORY;
    }
    if (strstr(ctx->message, "exceeds user limit") != NULL) return GAS_IMG_TOO_LARGE;
    return GAS_IMG_CORRUPT;
}

int gas_png_decode_rgb8(const uint8_t *data, size_t length, uint32_t width, uint32_t height,
                        uint8_t *pixels, size_t pixels_length, gas_img_error *error) {
    gas_img_clear(error);
    if (data == NULL || pixels == NULL || width == 0 || height == 0) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "empty input or zero dimensions");
    }
    if ((size_t)width > SIZE_MAX / 3 / (size_t)height || pixels_length != (size_t)width * height * 3) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "pixel buffer does not match %ux%u", width, height);
    }

    gas_png_ctx *ctx = (gas_png_ctx *)calloc(1, sizeof *ctx);
    if (ctx == NULL) return gas_img_fail(error, GAS_IMG_NO_MEMORY, "out of memory");
    ctx->data = data;
    ctx->length = length;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, gas_png_error_fn, gas_png_warning_fn);
    if (png == NULL) {
        free(ctx);
        return gas_img_fail(error, GAS_IMG_NO_MEMORY, "cannot create the PNG reader");
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        free(ctx);
        return gas_img_fail(error, GAS_IMG_NO_MEMORY, "cannot create the PNG reader");
    }

    int status = GAS_IMG_OK;
    if (setjmp(ctx->jump)) {
        status = gas_png_classify(ctx);
        gas_img_fail(error, status, "%s", ctx->message);
        goto done;
    }

    png_set_read_fn(png, ctx, gas_png_read_fn);
    /* The caller already checked its limits against these; libpng refuses anything bigger. */
    png_set_user_limits(png, width, height);
    png_set_chunk_malloc_max(png, GAS_PNG_CHUNK_MALLOC_MAX);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, gas_png_skipped_chunks, GAS_PNG_SKIPPED_COUNT);

    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int bit_depth = 0, color_type = 0;
    png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, NULL, NULL, NULL);
    if (w != width || h != height) {
        gas_png_fail(png, ctx, GAS_IMG_INVALID_ARGUMENT, "the PNG header does not match the expected size");
    }

    /* Everything becomes 8-bit RGB: palette and low-depth gray expand, 16-bit scales
     * (rounded), alpha (including palette tRNS) is dropped, gray is replicated. */
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_scale_16(png);
    png_set_strip_alpha(png);
    if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != (size_t)width * 3) {
        gas_png_fail(png, ctx, GAS_IMG_UNSUPPORTED, "this PNG layout does not convert to 8-bit RGB");
    }

    ctx->rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
    if (ctx->rows == NULL) gas_png_fail(png, ctx, GAS_IMG_NO_MEMORY, "out of memory");
    for (size_t y = 0; y < height; y++) ctx->rows[y] = pixels + y * (size_t)width * 3;

    png_read_image(png, ctx->rows);
    /* Reads up to IEND, so a file cut after the pixel data still counts as truncated. */
    png_read_end(png, NULL);

done:
    png_destroy_read_struct(&png, &info, NULL);
    free(ctx->rows);
    free(ctx);
    return status;
}

int gas_png_encode_rgb8(const uint8_t *pixels, uint32_t width, uint32_t height,
                        gas_img_buffer *out, gas_img_error *error) {
    gas_img_clear(error);
    if (out == NULL) return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "no output buffer");
    out->data = NULL;
    out->length = 0;
    if (pixels == NULL || width == 0 || height == 0) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "zero dimensions");
    }
    if (width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX || (size_t)width > SIZE_MAX / 3 / (size_t)height) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "dimensions too large for PNG");
    }

    gas_png_ctx *ctx = (gas_png_ctx *)calloc(1, sizeof *ctx);
    if (ctx == NULL) return gas_img_fail(error, GAS_IMG_NO_MEMORY, "out of memory");

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, gas_png_error_fn, gas_png_warning_fn);
    if (png == NULL) {
        free(ctx);
        return gas_img_fail(error, GAS_IMG_NO_MEMORY, "cannot create the PNG writer");
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        free(ctx);
        return gas_img_fail(error, GAS_IMG_NO_MEMORY, "cannot create the PNG writer");
    }

    int status = GAS_IMG_OK;
    if (setjmp(ctx->jump)) {
        status = ctx->status != 0 ? ctx->status : GAS_IMG_INVALID_ARGUMENT;
        gas_img_fail(error, status, "%s", ctx->message);
        goto done;
    }

    png_set_write_fn(png, ctx, gas_png_write_fn, gas_png_flush_fn);
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* Fixed settings so that equal pixels give equal bytes; no tIME or text chunks are written. */
    png_set_compression_level(png, 6);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
    png_write_info(png, info);

    ctx->rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)height);
    if (ctx->rows == NULL) gas_png_fail(png, ctx, GAS_IMG_NO_MEMORY, "out of memory");
    for (size_t y = 0; y < height; y++) ctx->rows[y] = (png_bytep)(pixels + y * (size_t)width * 3);
    png_write_image(png, ctx->rows);
    png_write_end(png, NULL);

    out->data = ctx->out.data;
    out->length = ctx->out.length;
    ctx->out.data = NULL;

done:
    png_destroy_write_struct(&png, &info);
    free(ctx->out.data);
    free(ctx->rows);
    free(ctx);
    return status;
}
