#ifndef GAS_CODEC_COMMON_H
#define GAS_CODEC_COMMON_H

#include "CImageCodecs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Record a status and a message; the first failure wins. */
static inline int gas_img_fail(gas_img_error *error, int status, const char *format, ...) {
    if (error != NULL && error->status == GAS_IMG_OK) {
        va_list args;
        va_start(args, format);
        error->status = status;
        vsnprintf(error->message, sizeof error->message, format, args);
        va_end(args);
    }
    return status;
}

static inline void gas_img_clear(gas_img_error *error) {
    if (error != NULL) {
        error->status = GAS_IMG_OK;
        error->message[0] = '\0';
    }
}

/* A growable output buffer used by the encoders. */
typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
    int failed;
} gas_growbuf;

static inline int gas_growbuf_append(gas_growbuf *b, const uint8_t *bytes, size_t n) {
    if (b->failed) return 0;
    if (n > SIZE_MAX - b->length) { b->failed = 1; return 0; }
    if (b->length + n > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 4096;
        while (cap < b->length + n) {
            if (cap > SIZE_MAX / 2) { b->failed = 1; return 0; }
            cap *= 2;
        }
        uint8_t *p = (uint8_t *)realloc(b->data, cap);
        if (p == NULL) { b->failed = 1; return 0; }
        b->data = p;
        b->capacity = cap;
    }
    memcpy(b->data + b->length, bytes, n);
    b->length += n;
    return 1;
}

#endif
