# SPDX-License-Identifier: MIT
# cmake -DREADME=<README.md> -DSOURCE=<file> -DNAME=<path shown in the README>
#       -P CheckReadmeSnippet.cmake
#
# README.md shows SOURCE verbatim: the fenced code block right after the line
# "<!-- snippet: NAME -->" must equal the file, byte for byte. Fails (and
# prints the first differing line) otherwise, so the README's example cannot
# drift from the program that CTest builds and runs.

cmake_policy(VERSION 3.20)

file(READ "${README}" readme)
file(READ "${SOURCE}" source)

set(marker "<!-- snippet: ${NAME} -->\n")
string(FIND "${readme}" "${marker}" at)
if(at EQUAL -1)
	message(FATAL_ERROR "${README} has no line '<!-- snippet: ${NAME} -->'")
endif()
string(LENGTH "${marker}" n)
math(EXPR at "${at} + ${n}")
string(SUBSTRING "${readme}" ${at} -1 rest)
if(NOT rest MATCHES "^```[a-z]*\n")
	message(FATAL_ERROR "${README}: no fenced code block right after the ${NAME} marker")
endif()
string(LENGTH "${CMAKE_MATCH_0}" n)
string(SUBSTRING "${rest}" ${n} -1 rest)
string(FIND "${rest}" "\n```" end)
if(end EQUAL -1)
	message(FATAL_ERROR "${README}: the ${NAME} code block is not closed")
endif()
math(EXPR end "${end} + 1")
string(SUBSTRING "${rest}" 0 ${end} shown)

if(NOT shown STREQUAL source)
	string(REPLACE "\n" ";" a "${shown}")
	string(REPLACE "\n" ";" b "${source}")
	list(LENGTH a na)
	list(LENGTH b nb)
	set(i 0)
	set(line_a "")
	set(line_b "")
	while(i LESS na AND i LESS nb)
		list(GET a ${i} line_a)
		list(GET b ${i} line_b)
		if(NOT line_a STREQUAL line_b)
			break()
		endif()
		math(EXPR i "${i} + 1")
	endwhile()
	math(EXPR line "${i} + 1")
	message(FATAL_ERROR "README.md's copy of ${NAME} differs from the file at line ${line}:\n"
		"  README: ${line_a}\n  file:   ${line_b}\n"
		"(${na} lines shown, ${nb} in the file). Paste the file into README.md again.")
endif()
message(STATUS "OK: README.md shows ${NAME} verbatim")
