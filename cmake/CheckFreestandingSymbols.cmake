# SPDX-License-Identifier: MIT
# cmake -DNM=<nm> -DLIBRARY=<libvirtio.a|.so> [-DSHARED=ON] -P CheckFreestandingSymbols.cmake
#
# Fails if the library references any external symbol other than the few a
# freestanding C implementation must provide anyway (memcpy, memset, memmove).
# For a static library, symbols defined by another member of the archive are
# not external. For a shared library only strong undefined symbols count
# (weak ones such as __gmon_start__ come from the toolchain's startup code).

cmake_policy(VERSION 3.20)

if(NOT NM OR NOT LIBRARY)
	message(FATAL_ERROR "usage: cmake -DNM=<nm> -DLIBRARY=<lib> [-DSHARED=ON] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
if(NOT EXISTS "${LIBRARY}")
	message(FATAL_ERROR "${LIBRARY} does not exist")
endif()

set(allowed memcpy memset memmove)
# Provided by the linker, not a library (PIC code on some targets).
set(linker_symbols _GLOBAL_OFFSET_TABLE_ __dso_handle)

if(SHARED)
	set(nm_args -D)
else()
	set(nm_args "")
endif()

execute_process(COMMAND "${NM}" ${nm_args} "${LIBRARY}"
	OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "${NM} failed on ${LIBRARY}: ${err}")
endif()

string(REPLACE "\n" ";" lines "${out}")
set(defined "")
set(undefined "")
foreach(line IN LISTS lines)
	# "<value> <type> <name>" or "                 U <name>"
	if(line MATCHES "^[0-9a-fA-F ]* ([A-Za-z]) ([^ ]+)$")
		set(type "${CMAKE_MATCH_1}")
		set(name "${CMAKE_MATCH_2}")
		string(REGEX REPLACE "@.*$" "" name "${name}")
		if(type STREQUAL "U")
			list(APPEND undefined "${name}")
		elseif(NOT type MATCHES "^[wv]$")
			list(APPEND defined "${name}")
		endif()
	endif()
endforeach()

list(REMOVE_DUPLICATES undefined)
set(bad "")
foreach(sym IN LISTS undefined)
	if(sym IN_LIST allowed OR sym IN_LIST defined OR sym IN_LIST linker_symbols)
		continue()
	endif()
	list(APPEND bad "${sym}")
endforeach()

if(bad)
	list(JOIN bad "\n  " bad_text)
	message(FATAL_ERROR "${LIBRARY} references symbols a freestanding environment "
		"does not provide (allowed: ${allowed}):\n  ${bad_text}")
endif()
list(LENGTH undefined n)
message(STATUS "OK: ${LIBRARY}: ${n} distinct undefined symbol(s), all allowed or internal")
