#ifndef ARENA_CTEXT_SHIM_H
#define ARENA_CTEXT_SHIM_H

/* Byte scans of the journal's JSON writer, in C for the vector instructions Swift's SIMD types did not compile to
   (their comparisons became a loop over the bytes). Inline: compiled into the Swift module that calls them. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The length of the longest prefix of `bytes` (`count` of them) with no byte that JSON must escape: a control
   character (below 0x20), a quotation mark or a backslash. `count` when there is none. Sixteen bytes at a time
   with SSE2 (every x86-64), eight at a time otherwise. */
static inline size_t arena_json_plain_prefix(const uint8_t *bytes, size_t count) {
    size_t index = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1F);
    for (; index + 16 <= count; index += 16) {
        __m128i block = _mm_loadu_si128((const __m128i *)(bytes + index));
        /* Unsigned `block <= 0x1F`: its minimum with 0x1F is itself. */
        __m128i found = _mm_or_si128(
            _mm_cmpeq_epi8(_mm_min_epu8(block, control), block),
            _mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)));
        int mask = _mm_movemask_epi8(found);
        if (mask != 0) return index + (size_t)__builtin_ctz((unsigned)mask);
    }
#else
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    for (; index + 8 <= count; index += 8) {
        uint64_t word;
        memcpy(&word, bytes + index, 8);
        uint64_t quote = word ^ (ones * 0x22), backslash = word ^ (ones * 0x5C);
        uint64_t found = (((word - ones * 0x20) & ~word) | ((quote - ones) & ~quote)
                          | ((backslash - ones) & ~backslash)) & high;
        /* A word with a flagged byte: the exact one is found below (a borrow can flag a byte above a true one). */
        if (found != 0) break;
    }
#endif
    for (; index < count; index++) {
        uint8_t byte = bytes[index];
        if (byte < 0x20 || byte == '"' || byte == '\\') return index;
    }
    return count;
}

#endif
