# SPDX-License-Identifier: MIT
# cmake -DPREFIX=<install prefix> -DWORK_DIR=<dir> -DCONSUMER_DIR=<consumer/> -DC_COMPILER=<cc>
#       -DGENERATOR=<gen> [-DMAKE_PROGRAM=<prog>] [-DEXTRA_FLAGS="<flags>"]
#       [-DUSE_STATIC=ON|OFF] [-DEXPECTED_TYPE=STATIC_LIBRARY|SHARED_LIBRARY]
#       [-DEXPECT_VHOST_USER=ON] -DEXPECTED_VERSION=<x.y.z> -P find_package_test.cmake
# Configures, builds and runs the consumer project against the installed package
# (found in PREFIX only: the system paths are not searched). USE_STATIC sets
# virtio_USE_STATIC_LIBS; EXPECTED_TYPE is what virtio::virtio must be.

cmake_policy(VERSION 3.20)

function(run what)
	execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "${what} failed (${rc})")
	endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(args
	-S "${CONSUMER_DIR}"
	-B "${WORK_DIR}"
	-G "${GENERATOR}"
	-DCMAKE_PREFIX_PATH=${PREFIX}
	-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
	-DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF
	-DVIO_EXPECTED_PREFIX=${PREFIX}
	-DCMAKE_C_COMPILER=${C_COMPILER}
	-DCMAKE_BUILD_TYPE=Debug
	-DVIO_EXPECTED_VERSION=${EXPECTED_VERSION})
if(MAKE_PROGRAM)
	list(APPEND args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(DEFINED USE_STATIC)
	list(APPEND args -Dvirtio_USE_STATIC_LIBS=${USE_STATIC})
endif()
if(EXPECTED_TYPE)
	list(APPEND args -DVIO_EXPECTED_TYPE=${EXPECTED_TYPE})
endif()
if(EXPECT_VHOST_USER)
	list(APPEND args -DVIO_EXPECT_VHOST_USER=ON)
endif()
message(STATUS "consumer: ${C_COMPILER}, prefix ${PREFIX}")
if(EXTRA_FLAGS)
	list(APPEND args "-DCMAKE_C_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
endif()

run("configuring the consumer" "${CMAKE_COMMAND}" ${args})
run("building the consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}" --config Debug)
file(GLOB_RECURSE exe "${WORK_DIR}/vio_consumer" "${WORK_DIR}/vio_consumer.exe")
if(NOT exe)
	message(FATAL_ERROR "consumer executable not found in ${WORK_DIR}")
endif()
list(GET exe 0 exe)
run("running the consumer" "${exe}")
# virtio::vhost_user, where the package has it.
file(GLOB_RECURSE vu_exe "${WORK_DIR}/vio_consumer_vhost_user")
if(vu_exe)
	list(GET vu_exe 0 vu_exe)
	run("running the vhost-user consumer" "${vu_exe}")
elseif(EXPECT_VHOST_USER)
	message(FATAL_ERROR "vio_consumer_vhost_user was not built")
endif()
