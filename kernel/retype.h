/* Where a retyped object goes inside its Untyped, and how big each object
 * type is.  Pure logic: unit-tested on the host (tests/unit/test_retype.c). */
#ifndef RETYPE_H
#define RETYPE_H

#include <stdint.h>

/* log2 of the bytes an object of this type and size_bits occupies, or a
 * negative berth_error if type or size_bits is invalid. */
int object_bits(uint64_t type, uint64_t size_bits);

/* Place an object of 2^obj_bits bytes in an untyped of 2^ut_bits bytes whose
 * first `watermark` bytes are in use.  offset is RETYPE_NEXT_FREE or an
 * explicit byte offset.  Returns E_OK and *placed, or an error. */
int retype_place(unsigned ut_bits, uint64_t watermark, unsigned obj_bits,
                 uint64_t offset, uint64_t *placed);

#endif
