/* JPEG decode/encode with libjpeg(-turbo) behind setjmp. Unlike libjpeg's defaults,
 * every warning is fatal: on truncated data libjpeg only warns ("Premature end of
 * JPEG file") and pads the image with grey, which would silently feed a detector a
 * half-grey picture. Nothing is printed. */

#include "codec_common.h"

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>
#include <jerror.h>

/* A progressive JPEG may hold very many scans, each a full pass over the image:
 * a cheap way to burn CPU. Real files have about ten. */
enum { GAS_JPEG_MAX_SCANS = 256 };

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int status;      /* a status chosen by this file, else 0 */
    int ended_early; /* libjpeg ran out of data */
    char message[JMSG_LENGTH_MAX];
} gas_jpeg_error_mgr;

static void gas_jpeg_error_exit(j_common_ptr cinfo) {
    gas_jpeg_error_mgr *err = (gas_jpeg_error_mgr *)cinfo->err;
    if (err->message[0] == '\0') (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void gas_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/* level -1 is a warning (corrupt or missing data); higher levels are trace output. */
static void gas_jpeg_emit_message(j_common_ptr cinfo, int level) {
    gas_jpeg_error_mgr *err = (gas_jpeg_error_mgr *)cinfo->err;
    if (level >= 0) return;
    err->pub.num_warnings++;
    if (err->pub.msg_code == JWRN_JPEG_EOF) err->ended_early = 1;
    if (err->message[0] == '\0') (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void gas_jpeg_install_errors(gas_jpeg_error_mgr *err) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = gas_jpeg_error_exit;
    err->pub.output_message = gas_jpeg_output_message;
    err->pub.emit_message = gas_jpeg_emit_message;
}

/* Stop with a status of our own through the same longjmp path. */
static void gas_jpeg_fail(j_common_ptr cinfo, int status, const char *message) {
    gas_jpeg_error_mgr *err = (gas_jpeg_error_mgr *)cinfo->err;
    err->status = status;
    snprintf(err->message, sizeof err->message, "%s", message);
    longjmp(err->jump, 1);
}

static int gas_jpeg_classify(const gas_jpeg_error_mgr *err) {
    if (err->status != 0) return err->status;
    if (err->ended_early) return GAS_IMG_TRUNCATED;
    switch (err->pub.msg_code) {
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
        return GAS_IMG_TRUNCATED;
    case JERR_OUT_OF_MEMORY:
        return GAS_IMG_NO_MEMORY;
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_BAD_PRECISION:   /* 12-bit JPEG */
    case JERR_SOF_UNSUPPORTED: /* lossless and other rare processes */
    case JERR_ARITH_NOTIMPL:
        return GAS_IMG_UNSUPPORTED;
    default:
        return GAS_IMG_CORRUPT;
    }
}

static void gas_jpeg_progress(j_common_ptr cinfo) {
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > GAS_JPEG_MAX_SCANS) {
        gas_jpeg_fail(cinfo, GAS_IMG_CORRUPT, "the JPEG has more than 256 scans");
    }
}

typedef struct {
    struct jpeg_decompress_struct cinfo;
    gas_jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    uint8_t *row; /* CMYK scratch row */
} gas_jpeg_dec_ctx;

static gas_jpeg_dec_ctx *gas_jpeg_dec_new(void) {
    gas_jpeg_dec_ctx *ctx = (gas_jpeg_dec_ctx *)calloc(1, sizeof *ctx);
    if (ctx == NULL) return NULL;
    ctx->cinfo.err = &ctx->err.pub;
    gas_jpeg_install_errors(&ctx->err);
    ctx->progress.progress_monitor = gas_jpeg_progress;
    return ctx;
}

static void gas_jpeg_dec_free(gas_jpeg_dec_ctx *ctx) {
    jpeg_destroy_decompress(&ctx->cinfo);
    free(ctx->row);
    free(ctx);
}

int gas_jpeg_read_header(const uint8_t *data, size_t length, gas_jpeg_header *out, gas_img_error *error) {
    gas_img_clear(error);
    if (data == NULL || out == NULL) return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "no input");
    memset(out, 0, sizeof *out);

    gas_jpeg_dec_ctx *ctx = gas_jpeg_dec_new();
    if (ctx == NULL) return gas_img_fail(error, GAS_IMG_NO_MEMORY, "out of memory");

    int status = GAS_IMG_OK;
    if (setjmp(ctx->err.jump)) {
        status = gas_jpeg_classify(&ctx->err);
        gas_img_fail(error, status, "%s", ctx->err.message);
        gas_jpeg_dec_free(ctx);
        return status;
    }
    jpeg_create_decompress(&ctx->cinfo);
    ctx->cinfo.progress = &ctx->progress;
    jpeg_mem_src(&ctx->cinfo, data, (unsigned long)length);
    (void)jpeg_read_header(&ctx->cinfo, TRUE);
    out->width = ctx->cinfo.image_width;
    out->height = ctx->cinfo.image_height;
    out->components = ctx->cinfo.num_components;
    gas_jpeg_dec_free(ctx);
    return status;
}

/* Adobe (Photoshop) CMYK JPEGs store inverted values; others store plain ink. */
static inline uint8_t gas_cmyk_channel(unsigned ink, unsigned black, int inverted) {
    if (!inverted) {
        ink = 255 - ink;
        black = 255 - black;
    }
    return (uint8_t)((ink * black + 127) / 255);
}

int gas_jpeg_decode_rgb8(const uint8_t *data, size_t length, uint32_t width, uint32_t height,
                         uint8_t *pixels, size_t pixels_length, gas_img_error *error) {
    gas_img_clear(error);
    if (data == NULL || pixels == NULL || width == 0 || height == 0) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "empty input or zero dimensions");
    }
    if ((size_t)width > SIZE_MAX / 4 / (size_t)height || pixels_length != (size_t)width * height * 3) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "pixel buffer does not match %ux%u", width, height);
    }

    gas_jpeg_dec_ctx *ctx = gas_jpeg_dec_new();
    if (ctx == NULL) return gas_img_fail(error, GAS_IMG_NO_MEMORY, "out of memory");

    int status = GAS_IMG_OK;
    if (setjmp(ctx->err.jump)) {
        status = gas_jpeg_classify(&ctx->err);
        gas_img_fail(error, status, "%s", ctx->err.message);
        gas_jpeg_dec_free(ctx);
        return status;
    }
    j_decompress_ptr cinfo = &ctx->cinfo;
    jpeg_create_decompress(cinfo);
    cinfo->progress = &ctx->progress;
    jpeg_mem_src(cinfo, data, (unsigned long)length);
    (void)jpeg_read_header(cinfo, TRUE);
    if (cinfo->image_width != width || cinfo->image_height != height) {
        gas_jpeg_fail((j_common_ptr)cinfo, GAS_IMG_INVALID_ARGUMENT, "the JPEG header does not match the expected size");
    }

    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo->dct_method = JDCT_ISLOW;
    (void)jpeg_start_decompress(cinfo);

    int components = cmyk ? 4 : 3;
    if (cinfo->output_width != width || cinfo->output_height != height || cinfo->output_components != components) {
        gas_jpeg_fail((j_common_ptr)cinfo, GAS_IMG_UNSUPPORTED, "this JPEG layout does not convert to 8-bit RGB");
    }
    if (cmyk) {
        ctx->row = (uint8_t *)malloc((size_t)width * 4);
        if (ctx->row == NULL) gas_jpeg_fail((j_common_ptr)cinfo, GAS_IMG_NO_MEMORY, "out of memory");
    }
    int inverted = cinfo->saw_Adobe_marker;

    while (cinfo->output_scanline < cinfo->output_height) {
        size_t y = cinfo->output_scanline;
        uint8_t *target = pixels + y * (size_t)width * 3;
        JSAMPROW row = cmyk ? ctx->row : target;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
            gas_jpeg_fail((j_common_ptr)cinfo, GAS_IMG_CORRUPT, "the JPEG decoder made no progress");
        }
        if (cmyk) {
            for (size_t x = 0; x < width; x++) {
                const uint8_t *p = ctx->row + x * 4;
                target[x * 3 + 0] = gas_cmyk_channel(p[0], p[3], inverted);
                target[x * 3 + 1] = gas_cmyk_channel(p[1], p[3], inverted);
                target[x * 3 + 2] = gas_cmyk_channel(p[2], p[3], inverted);
            }
        }
    }
    /* Reads to EOI, so a file missing its tail is reported rather than accepted. */
    (void)jpeg_finish_decompress(cinfo);
    gas_jpeg_dec_free(ctx);
    return status;
}

typedef struct {
    struct jpeg_compress_struct cinfo;
    gas_jpeg_error_mgr err;
    unsigned char *buffer;
    unsigned long length;
} gas_jpeg_enc_ctx;

int gas_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int components,
                    int quality, int progressive, gas_img_buffer *out, gas_img_error *error) {
    gas_img_clear(error);
    if (out == NULL) return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "no output buffer");
    out->data = NULL;
    out->length = 0;
    if (pixels == NULL || width == 0 || height == 0) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "zero dimensions");
    }
    if (width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "JPEG allows at most %d pixels per side", JPEG_MAX_DIMENSION);
    }
    if (components != 1 && components != 3 && components != 4) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "components must be 1, 3 or 4");
    }
    if (quality < 1 || quality > 100) {
        return gas_img_fail(error, GAS_IMG_INVALID_ARGUMENT, "quality must be between 1 and 100");
    }

    gas_jpeg_enc_ctx *ctx = (gas_jpeg_enc_ctx *)calloc(1, sizeof *ctx);
    if (ctx == NULL) return gas_img_fail(error, GAS_IMG_NO_MEMORY, "out of memory");
    ctx->cinfo.err = &ctx->err.pub;
    gas_jpeg_install_errors(&ctx->err);

    int status = GAS_IMG_OK;
    if (setjmp(ctx->err.jump)) {
        status = ctx->err.status != 0 ? ctx->err.status
               : ctx->err.pub.msg_code == JERR_OUT_OF_MEMORY ? GAS_IMG_NO_MEMORY : GAS_IMG_INVALID_ARGUMENT;
        gas_img_fail(error, status, "%s", ctx->err.message);
        jpeg_destroy_compress(&ctx->cinfo);
        free(ctx->buffer);
        free(ctx);
        return status;
    }
    j_compress_ptr cinfo = &ctx->cinfo;
    jpeg_create_compress(cinfo);
    jpeg_mem_dest(cinfo, &ctx->buffer, &ctx->length);
    cinfo->image_width = width;
    cinfo->image_height = height;
    cinfo->input_components = components;
    cinfo->in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    /* Fixed, platform-independent choices so equal pixels give equal bytes. */
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->optimize_coding = TRUE;
    if (progressive) jpeg_simple_progression(cinfo);
    jpeg_start_compress(cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    while (cinfo->next_scanline < cinfo->image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * stride);
        (void)jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    jpeg_destroy_compress(cinfo);

    out->data = ctx->buffer;
    out->length = (size_t)ctx->length;
    free(ctx);
    return status;
}
