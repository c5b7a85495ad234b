/* SPDX-License-Identifier: MIT */
/*
 * Everything the libFuzzer harnesses and fuzz/gen_corpus.c share, one header
 * per job (see fuzz/README.md, "Files"):
 *   invariants.h    FZ_CHECK / fz_fail, FZ_TRACE, checks several harnesses run
 *   input.h         the input reader
 *   input_format.h  op codes and flag bits shared with the seed generator
 *   guarded_mem.h   guarded guest memory and the library's memory callbacks
 *   ring_geom.h     queue sizes, ring part sizes, packed ring positions
 *   engine_devq.h   the device-half engine (fuzz_devq_*)
 *   engine_vq.h     the driver-half engine (fuzz_vq_*)
 */
#ifndef VIO_FUZZ_COMMON_H
#define VIO_FUZZ_COMMON_H

#include "engine_devq.h"
#include "engine_vq.h"
#include "guarded_mem.h"
#include "input.h"
#include "input_format.h"
#include "invariants.h"
#include "ring_geom.h"

#endif /* VIO_FUZZ_COMMON_H */
