# SPDX-License-Identifier: MIT
# cmake -DNM=<nm> -DLIBRARY=<libvirtio.so> [-DOBJECTS_FILE=<file>] -P CheckSharedExports.cmake
#
# Fails unless the dynamic symbol table of LIBRARY defines only the public API:
# names that start with vio_ but not with vio__ (lib/virtio.map). With
# OBJECTS_FILE (one object file per line: the objects the library was linked
# from), also fails unless every global vio_* symbol they define is exported.

cmake_policy(VERSION 3.20)

if(NOT NM OR NOT LIBRARY)
	message(FATAL_ERROR "usage: cmake -DNM=<nm> -DLIBRARY=<lib.so> [-DOBJECTS_FILE=<file>] "
		"-P ${CMAKE_CURRENT_LIST_FILE}")
endif()
if(NOT EXISTS "${LIBRARY}")
	message(FATAL_ERROR "${LIBRARY} does not exist")
endif()

# defined_names(<out> <nm args...>): names of the defined symbols nm lists.
function(defined_names out)
	execute_process(COMMAND "${NM}" ${ARGN}
		OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "${NM} ${ARGN} failed: ${err}")
	endif()
	string(REPLACE "\n" ";" lines "${text}")
	set(names "")
	foreach(line IN LISTS lines)
		# "<value> <type> <name>"; undefined ("U", "w", "v") have no value.
		if(line MATCHES "^[0-9a-fA-F]+ ([A-Za-z]) ([^ ]+)$")
			string(REGEX REPLACE "@.*$" "" name "${CMAKE_MATCH_2}")
			list(APPEND names "${name}")
		endif()
	endforeach()
	list(REMOVE_DUPLICATES names)
	list(SORT names)
	set(${out} "${names}" PARENT_SCOPE)
endfunction()

defined_names(exported -D --defined-only "${LIBRARY}")
if(NOT exported)
	message(FATAL_ERROR "${LIBRARY} exports nothing")
endif()

set(internal "")
set(foreign "")
foreach(sym IN LISTS exported)
	if(sym MATCHES "^vio__")
		list(APPEND internal "${sym}")
	elseif(NOT sym MATCHES "^vio_")
		list(APPEND foreign "${sym}")
	endif()
endforeach()

set(missing "")
if(OBJECTS_FILE)
	file(STRINGS "${OBJECTS_FILE}" objects)
	if(NOT objects)
		message(FATAL_ERROR "${OBJECTS_FILE} lists no objects")
	endif()
	defined_names(object_syms -g --defined-only ${objects})
	foreach(sym IN LISTS object_syms)
		if(sym MATCHES "^vio_[^_]" AND NOT sym IN_LIST exported)
			list(APPEND missing "${sym}")
		endif()
	endforeach()
endif()

set(errors "")
if(internal)
	list(JOIN internal "\n  " t)
	string(APPEND errors "exports internal (vio__) symbols:\n  ${t}\n")
endif()
if(foreign)
	list(JOIN foreign "\n  " t)
	string(APPEND errors "exports symbols outside the vio_ API:\n  ${t}\n")
endif()
if(missing)
	list(JOIN missing "\n  " t)
	string(APPEND errors "does not export these public symbols of its objects:\n  ${t}\n")
endif()
if(errors)
	message(FATAL_ERROR "${LIBRARY} ${errors}")
endif()
list(LENGTH exported n)
message(STATUS "OK: ${LIBRARY} exports ${n} symbols, all public API (vio_*, no vio__*)")
