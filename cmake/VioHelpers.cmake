# SPDX-License-Identifier: MIT
# Helper functions shared by the libvirtio CMake files.

include_guard(GLOBAL)

# vio_target_warnings(<target> [RELAXED] [NO_MISSING_PROTOTYPES])
#
# Applies the project warning set to <target> (PRIVATE). RELAXED drops
# -Wconversion/-Wsign-conversion (tests, examples, benchmarks, fuzzers).
# NO_MISSING_PROTOTYPES drops -Wmissing-prototypes (fuzz harnesses, whose
# LLVMFuzzerTestOneInput has no header). -Werror follows VIO_WERROR.
function(vio_target_warnings target)
	cmake_parse_arguments(ARG "RELAXED;NO_MISSING_PROTOTYPES" "" "" ${ARGN})
	if(NOT CMAKE_C_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
		return()
	endif()
	set(flags
		-Wall
		-Wextra
		-Wpedantic
		-Wshadow
		-Wstrict-prototypes
		-Wcast-align
		-Wundef)
	if(NOT ARG_NO_MISSING_PROTOTYPES)
		list(APPEND flags -Wmissing-prototypes)
	endif()
	if(NOT ARG_RELAXED)
		list(APPEND flags -Wconversion -Wsign-conversion)
	endif()
	if(VIO_WERROR)
		list(APPEND flags -Werror)
	endif()
	target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:C>:${flags}>")
endfunction()

# vio_consumer_target(<target>)
#
# Settings for programs built on top of the library (tests, examples,
# benchmarks, fuzzers): C11 with GNU extensions so POSIX declarations
# (clock_gettime, nanosleep, opendir, ...) are visible without every file
# defining feature-test macros. The library itself stays strict C11.
function(vio_consumer_target target)
	set_target_properties(${target} PROPERTIES
		C_STANDARD 11
		C_STANDARD_REQUIRED ON
		C_EXTENSIONS ON)
endfunction()
