# SPDX-License-Identifier: MIT
# cmake -DCLANG_FORMAT=<clang-format> -DSOURCE_DIR=<repo> [-DFIX=ON] -P FormatCheck.cmake
#
# Checks (or with FIX=ON rewrites) every *.c / *.h under include/ lib/ tests/
# examples/ bench/ fuzz/ against .clang-format. Files are listed when the
# check runs, so new files are covered without re-running CMake.

cmake_policy(VERSION 3.20)

if(NOT CLANG_FORMAT OR NOT SOURCE_DIR)
	message(FATAL_ERROR "usage: cmake -DCLANG_FORMAT=<exe> -DSOURCE_DIR=<dir> [-DFIX=ON] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
set(globs "")
foreach(dir include lib tests examples bench fuzz)
	list(APPEND globs "${SOURCE_DIR}/${dir}/*.c" "${SOURCE_DIR}/${dir}/*.h")
endforeach()
file(GLOB_RECURSE files LIST_DIRECTORIES false ${globs})
list(FILTER files EXCLUDE REGEX "/fuzz/corpus/")
list(SORT files)

if(NOT files)
	message(STATUS "no C sources found")
	return()
endif()

if(FIX)
	set(mode -i)
else()
	set(mode --dry-run --Werror)
endif()

execute_process(COMMAND "${CLANG_FORMAT}" ${mode} --style=file ${files}
	WORKING_DIRECTORY "${SOURCE_DIR}"
	RESULT_VARIABLE rc)
list(LENGTH files n)
if(FIX AND NOT rc EQUAL 0)
	message(FATAL_ERROR "clang-format -i failed (${rc})")
elseif(NOT rc EQUAL 0)
	message(FATAL_ERROR "clang-format: the files above differ from .clang-format. Fix with\n"
		"  cmake --build <builddir> --target format\n"
		"or from the source tree:\n"
		"  cmake -DCLANG_FORMAT=clang-format -DSOURCE_DIR=. -DFIX=ON -P cmake/FormatCheck.cmake")
endif()
if(FIX)
	message(STATUS "${n} file(s) formatted")
else()
	message(STATUS "${n} file(s) formatted correctly")
endif()
