# SPDX-License-Identifier: MIT
# cmake -DSOURCE_DIR=<libvirtio> -DWORK_DIR=<dir> -DC_COMPILER=<cc> [-DOTHER_C_COMPILER=<cc>]
#       -DGENERATOR=<gen> [-DMAKE_PROGRAM=<prog>] -DCPACK=<cpack> -DDPKG_DEB=<dpkg-deb>
#       -DNM=<nm> -DREADELF=<readelf> [-DPKG_CONFIG=<pkg-config>] -DEXPECTED_VERSION=<x.y.z>
#       -DTESTS_DIR=<tests/package> -P deb_test.cmake
#
# The Debian package, from a build of its own: Release with link-time
# optimisation (what the `release` preset does), static and shared
# (VIO_BUILD_STATIC_AND_SHARED). Then:
#   - `cpack -G DEB` makes libvirtio-dev_<version>_<arch>.deb;
#   - `dpkg-deb -f` / `-c`: its name, version, and files: every public header,
#     libvirtio.a, libvirtio.so and its soname links, the CMake and pkg-config
#     files, the licence, and nothing outside /usr;
#   - `dpkg-deb -x` into a directory; there, every member of libvirtio.a holds
#     machine code (not only LTO bytecode or bitcode: any compiler can link
#     it) and libvirtio.so exports the public API only;
#   - with C_COMPILER and OTHER_C_COMPILER: find_package(virtio) from the
#     extracted tree, static and shared, and pkg-config.

cmake_policy(VERSION 3.20)

function(run what)
	execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "${what} failed (${rc})")
	endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(build "${WORK_DIR}/build")
set(args
	-S "${SOURCE_DIR}"
	-B "${build}"
	-G "${GENERATOR}"
	-DCMAKE_C_COMPILER=${C_COMPILER}
	-DCMAKE_BUILD_TYPE=Release
	"-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG"
	-DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON
	-DVIO_BUILD_STATIC_AND_SHARED=ON
	-DVIO_WERROR=ON
	-DVIO_BUILD_TESTS=OFF
	-DVIO_BUILD_EXAMPLES=OFF
	-DVIO_BUILD_BENCH=OFF
	-DVIO_BUILD_DOCS=OFF
	-DVIO_CHECK_FREESTANDING=OFF)
if(MAKE_PROGRAM)
	list(APPEND args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
run("configuring libvirtio (Release, LTO, static and shared)" "${CMAKE_COMMAND}" ${args})
run("building libvirtio" "${CMAKE_COMMAND}" --build "${build}")
run("cpack -G DEB" "${CPACK}" -G DEB --config "${build}/CPackConfig.cmake" -B "${WORK_DIR}/out")

file(GLOB debs "${WORK_DIR}/out/libvirtio-dev_${EXPECTED_VERSION}_*.deb")
list(LENGTH debs ndebs)
if(NOT ndebs EQUAL 1)
	file(GLOB all "${WORK_DIR}/out/*")
	message(FATAL_ERROR "expected one libvirtio-dev_${EXPECTED_VERSION}_<arch>.deb, found: ${all}")
endif()
message(STATUS "package: ${debs}")

# Control fields.
foreach(field_value "Package=libvirtio-dev" "Version=${EXPECTED_VERSION}" "Section=libdevel")
	string(REPLACE "=" ";" fv "${field_value}")
	list(GET fv 0 field)
	list(GET fv 1 want)
	execute_process(COMMAND "${DPKG_DEB}" -f "${debs}" ${field}
		OUTPUT_VARIABLE got OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0 OR NOT got STREQUAL want)
		message(FATAL_ERROR "dpkg-deb -f ${field}: '${got}', expected '${want}'")
	endif()
endforeach()

# Contents: "<mode> <owner> <size> <date> <time> ./path[ -> target]" per line.
execute_process(COMMAND "${DPKG_DEB}" -c "${debs}"
	OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "dpkg-deb -c failed")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(paths "")
foreach(line IN LISTS lines)
	if(line MATCHES " \\./([^ ]*)( -> .*)?$")
		list(APPEND paths "${CMAKE_MATCH_1}")
	endif()
endforeach()
message(STATUS "dpkg-deb -c:\n${listing}")

string(REPLACE "." ";" v "${EXPECTED_VERSION}")
list(GET v 0 major)
list(GET v 1 minor)
if(major EQUAL 0)
	set(soversion "${major}.${minor}")
else()
	set(soversion "${major}")
endif()

set(wanted
	usr/lib/libvirtio.a
	usr/lib/libvirtio.so
	usr/lib/libvirtio.so.${soversion}
	usr/lib/libvirtio.so.${EXPECTED_VERSION}
	usr/lib/cmake/virtio/virtioConfig.cmake
	usr/lib/cmake/virtio/virtioConfigVersion.cmake
	usr/lib/cmake/virtio/virtioStaticTargets.cmake
	usr/lib/cmake/virtio/virtioSharedTargets.cmake
	usr/lib/pkgconfig/virtio.pc
	usr/share/doc/virtio/LICENSE)
# libvirtio-vhost-user: built by default on Linux.
if(CMAKE_HOST_SYSTEM_NAME STREQUAL "Linux")
	list(APPEND wanted
		usr/lib/libvirtio-vhost-user.a
		usr/lib/libvirtio-vhost-user.so
		usr/lib/pkgconfig/virtio-vhost-user.pc)
endif()
file(GLOB headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/virtio/*.h")
foreach(h IN LISTS headers)
	list(APPEND wanted "usr/include/${h}")
endforeach()
set(missing "")
foreach(f IN LISTS wanted)
	if(NOT f IN_LIST paths)
		list(APPEND missing "${f}")
	endif()
endforeach()
if(missing)
	message(FATAL_ERROR "the package lacks: ${missing}")
endif()
set(outside "${paths}")
list(FILTER outside EXCLUDE REGEX "^(usr/.*)?$")
if(outside)
	message(FATAL_ERROR "the package installs outside /usr: ${outside}")
endif()

# Extract and check the libraries themselves.
set(root "${WORK_DIR}/root")
run("dpkg-deb -x" "${DPKG_DEB}" -x "${debs}" "${root}")
set(prefix "${root}/usr")

# Every archive member has a non-empty .text section: machine code, which any
# compiler's linker can use (GCC's slim LTO objects have none; clang's LTO
# output is LLVM bitcode, which readelf does not read).
execute_process(COMMAND "${READELF}" -S -W "${prefix}/lib/libvirtio.a"
	OUTPUT_VARIABLE sections ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "readelf cannot read libvirtio.a (bitcode?): ${err}")
endif()
string(REPLACE "\n" ";" lines "${sections}")
set(member "")
set(no_code "")
set(nmembers 0)
foreach(line IN LISTS lines)
	if(line MATCHES "^File: .*\\((.*)\\)$")
		if(member AND NOT member_has_text)
			list(APPEND no_code "${member}")
		endif()
		set(member "${CMAKE_MATCH_1}")
		set(member_has_text OFF)
		math(EXPR nmembers "${nmembers} + 1")
	elseif(line MATCHES "\\] \\.text +PROGBITS +[0-9a-f]+ [0-9a-f]+ ([0-9a-f]+) ")
		if(NOT CMAKE_MATCH_1 MATCHES "^0+$")
			set(member_has_text ON)
		endif()
	endif()
endforeach()
if(member AND NOT member_has_text)
	list(APPEND no_code "${member}")
endif()
if(nmembers EQUAL 0 OR no_code)
	message(FATAL_ERROR "libvirtio.a: ${nmembers} members; without machine code: ${no_code}")
endif()
message(STATUS "libvirtio.a: all ${nmembers} members hold machine code")

run("checking the exports of libvirtio.so" "${CMAKE_COMMAND}" -DNM=${NM}
	-DLIBRARY=${prefix}/lib/libvirtio.so
	-P "${TESTS_DIR}/../../cmake/CheckSharedExports.cmake")

# Consume the extracted tree with each compiler: find_package, static and
# shared, and pkg-config.
set(compilers "${C_COMPILER}")
if(OTHER_C_COMPILER)
	list(APPEND compilers "${OTHER_C_COMPILER}")
else()
	message(STATUS "no second compiler: the package is consumed with ${C_COMPILER} only")
endif()
set(n 0)
foreach(cc IN LISTS compilers)
	math(EXPR n "${n} + 1")
	foreach(kind static shared)
		if(kind STREQUAL "static")
			set(use_static ON)
			set(type STATIC_LIBRARY)
		else()
			set(use_static OFF)
			set(type SHARED_LIBRARY)
		endif()
		run("find_package consumer (${cc}, ${kind})" "${CMAKE_COMMAND}"
			-DPREFIX=${prefix}
			-DWORK_DIR=${WORK_DIR}/find_package_${n}_${kind}
			-DCONSUMER_DIR=${TESTS_DIR}/consumer
			-DC_COMPILER=${cc}
			-DGENERATOR=${GENERATOR}
			-DMAKE_PROGRAM=${MAKE_PROGRAM}
			-DUSE_STATIC=${use_static}
			-DEXPECTED_TYPE=${type}
			-DEXPECTED_VERSION=${EXPECTED_VERSION}
			-P "${TESTS_DIR}/find_package_test.cmake")
	endforeach()
	if(PKG_CONFIG)
		run("pkg-config consumer (${cc})" "${CMAKE_COMMAND}"
			-DPREFIX=${prefix}
			-DLIBDIR=lib
			-DWORK_DIR=${WORK_DIR}/pkg_config_${n}
			-DSOURCE=${TESTS_DIR}/consumer/main.c
			-DC_COMPILER=${cc}
			-DPKG_CONFIG=${PKG_CONFIG}
			-DEXPECTED_VERSION=${EXPECTED_VERSION}
			-P "${TESTS_DIR}/pkg_config_test.cmake")
	endif()
endforeach()
message(STATUS "OK: ${debs}")
