# SPDX-License-Identifier: MIT
# cmake -DPREFIX=<install prefix> -DLIBDIR=<rel libdir> -DWORK_DIR=<dir> -DSOURCE=<main.c>
#       -DC_COMPILER=<cc> -DPKG_CONFIG=<pkg-config> [-DEXTRA_FLAGS="<flags>"]
#       [-DVHOST_USER_SOURCE=<vhost_user_main.c>] -DEXPECTED_VERSION=<x.y.z>
#       -P pkg_config_test.cmake
# Compiles SOURCE with `cc $(pkg-config --cflags --libs virtio)` and runs it;
# with VHOST_USER_SOURCE, the same with virtio-vhost-user.

cmake_policy(VERSION 3.20)

set(pcdir "${PREFIX}/${LIBDIR}/pkgconfig")
if(NOT EXISTS "${pcdir}/virtio.pc")
	message(FATAL_ERROR "${pcdir}/virtio.pc not installed")
endif()
set(ENV{PKG_CONFIG_PATH} "${pcdir}")
unset(ENV{PKG_CONFIG_LIBDIR})

execute_process(COMMAND "${PKG_CONFIG}" --modversion virtio
	OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "pkg-config does not find virtio in ${pcdir}")
endif()
if(NOT version STREQUAL EXPECTED_VERSION)
	message(FATAL_ERROR "pkg-config says version ${version}, expected ${EXPECTED_VERSION}")
endif()

execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs virtio
	OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "pkg-config --cflags --libs virtio failed")
endif()
message(STATUS "pkg-config --cflags --libs virtio: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(extra UNIX_COMMAND "${EXTRA_FLAGS}")

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(exe "${WORK_DIR}/vio_consumer_pc")
execute_process(COMMAND "${C_COMPILER}" -std=c11 ${extra} "-DVIO_EXPECTED_VERSION=\"${EXPECTED_VERSION}\""
		"${SOURCE}" ${flags} -o "${exe}"
	RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "compiling against pkg-config flags failed")
endif()

# A shared libvirtio is found through LD_LIBRARY_PATH (no rpath from pkg-config).
set(ENV{LD_LIBRARY_PATH} "${PREFIX}/${LIBDIR}")
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "the pkg-config consumer failed (${rc})")
endif()

if(VHOST_USER_SOURCE)
	if(NOT EXISTS "${pcdir}/virtio-vhost-user.pc")
		message(FATAL_ERROR "${pcdir}/virtio-vhost-user.pc not installed")
	endif()
	execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs virtio-vhost-user
		OUTPUT_VARIABLE vflags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "pkg-config --cflags --libs virtio-vhost-user failed")
	endif()
	message(STATUS "pkg-config --cflags --libs virtio-vhost-user: ${vflags}")
	separate_arguments(vflags UNIX_COMMAND "${vflags}")
	set(vexe "${WORK_DIR}/vio_consumer_vhost_user_pc")
	execute_process(COMMAND "${C_COMPILER}" -std=c11 ${extra} "${VHOST_USER_SOURCE}" ${vflags}
			-o "${vexe}"
		RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "compiling against virtio-vhost-user's pkg-config flags failed")
	endif()
	execute_process(COMMAND "${vexe}" RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "the virtio-vhost-user pkg-config consumer failed (${rc})")
	endif()
endif()
