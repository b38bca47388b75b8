#include <isa-l/igzip_lib.h>

/// The size of the buffer ISA-L's deflate wants for `level` (its default for each; 0 for an unknown level).
static inline uint32_t arena_isal_level_buf_size(uint32_t level) {
    switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: return 0;
    }
}

/// Whether a stream has written its last bytes (trailer included).
static inline int arena_isal_deflate_finished(const struct isal_zstream *stream) {
    return stream->internal_state.state == ZSTATE_END;
}
