#include "codec_common.h"

void gas_img_buffer_free(gas_img_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = 0;
}
