# SPDX-License-Identifier: MIT
# cmake -DVIO_SOURCE_DIR=<libvirtio> -DCONSUMER_DIR=<subdir_consumer/> -DWORK_DIR=<dir>
#       -DC_COMPILER=<cc> -DGENERATOR=<gen> [-DMAKE_PROGRAM=<prog>] [-DEXTRA_FLAGS="<flags>"]
#       -P subdir_test.cmake
# A project that vendors libvirtio with add_subdirectory(): builds and runs its
# program, installs it, and checks that the install holds that program and no
# libvirtio file (VIO_INSTALL defaults to OFF below the top level); then again
# with -DVIO_INSTALL=ON, which must install libvirtio too.

cmake_policy(VERSION 3.20)

function(run what)
	execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "${what} failed (${rc})")
	endif()
endfunction()

# installed_files(<out> <prefix>): every file and link below <prefix>, relative.
function(installed_files out prefix)
	file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${prefix}" "${prefix}/*")
	list(SORT files)
	set(${out} "${files}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(build "${WORK_DIR}/build")
set(args
	-S "${CONSUMER_DIR}"
	-B "${build}"
	-G "${GENERATOR}"
	-DVIO_SOURCE_DIR=${VIO_SOURCE_DIR}
	-DCMAKE_C_COMPILER=${C_COMPILER}
	-DCMAKE_BUILD_TYPE=Debug)
if(MAKE_PROGRAM)
	list(APPEND args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(EXTRA_FLAGS)
	list(APPEND args "-DCMAKE_C_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
endif()

# 1. Defaults: only the project's own program is installed.
run("configuring the consumer" "${CMAKE_COMMAND}" ${args})
run("building the consumer" "${CMAKE_COMMAND}" --build "${build}")
run("running the consumer" "${build}/vio_consumer")
set(prefix "${WORK_DIR}/prefix-default")
run("installing the consumer" "${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
installed_files(files "${prefix}")
message(STATUS "installed with the defaults: ${files}")
if(NOT "bin/vio_consumer" IN_LIST files)
	message(FATAL_ERROR "the consumer's own program was not installed: ${files}")
endif()
set(leaked "${files}")
list(FILTER leaked INCLUDE REGEX "virtio|vio_[^c]")
if(leaked)
	message(FATAL_ERROR "add_subdirectory(libvirtio) installed its files although "
		"VIO_INSTALL defaults to OFF there: ${leaked}")
endif()

# 2. -DVIO_INSTALL=ON: libvirtio installs itself along.
run("configuring with VIO_INSTALL=ON" "${CMAKE_COMMAND}" ${args} -DVIO_INSTALL=ON)
run("building" "${CMAKE_COMMAND}" --build "${build}")
set(prefix "${WORK_DIR}/prefix-install-on")
run("installing" "${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
installed_files(files "${prefix}")
foreach(want "bin/vio_consumer" "include/virtio/virtio.h" "lib/cmake/virtio/virtioConfig.cmake"
		"lib/pkgconfig/virtio.pc" "share/doc/virtio/LICENSE")
	if(NOT want IN_LIST files)
		message(FATAL_ERROR "with VIO_INSTALL=ON the install lacks ${want}: ${files}")
	endif()
endforeach()
message(STATUS "OK: libvirtio installs with its parent only when VIO_INSTALL=ON")
