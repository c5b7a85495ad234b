# SPDX-License-Identifier: MIT
# cmake -DBUILD_DIR=<build> -DPREFIX=<dir> -DLIBDIR=<rel> -DINCLUDEDIR=<rel> -DDOCDIR=<rel>
#       -DKIND=Static|Shared [-DCONFIG=<cfg>] -P install_test.cmake
# Installs the build tree into a fresh PREFIX and checks the expected files.

cmake_policy(VERSION 3.20)

file(REMOVE_RECURSE "${PREFIX}")
set(config_args "")
if(CONFIG)
	set(config_args --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
	RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "cmake --install failed (${rc})")
endif()

foreach(f
		"${INCLUDEDIR}/virtio/virtio.h"
		"${LIBDIR}/cmake/virtio/virtioConfig.cmake"
		"${LIBDIR}/cmake/virtio/virtioConfigVersion.cmake"
		"${LIBDIR}/cmake/virtio/virtio${KIND}Targets.cmake"
		"${LIBDIR}/pkgconfig/virtio.pc"
		"${DOCDIR}/LICENSE")
	if(NOT EXISTS "${PREFIX}/${f}")
		message(FATAL_ERROR "installed tree lacks ${f}")
	endif()
endforeach()
file(GLOB libs "${PREFIX}/${LIBDIR}/libvirtio.*")
if(NOT libs)
	message(FATAL_ERROR "installed tree lacks ${LIBDIR}/libvirtio.*")
endif()
message(STATUS "installed into ${PREFIX}")
