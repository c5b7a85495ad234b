# SPDX-License-Identifier: MIT
# Check that every code snippet of a Markdown document is the code it claims
# to be, so the snippets compile because that code does.
#
#   cmake -DSOURCE_DIR=<repo> -DDOC=<doc relative to SOURCE_DIR> -P CheckDocSnippets.cmake
#
# A snippet is a line "<!-- snippet: <file>#<name> -->" followed by a ```c
# fenced block. <file> (relative to SOURCE_DIR) must hold the lines
#   /* [embedding:<name>] */  ...  /* [/embedding:<name>] */
# and the block must equal what lies between them, compared line by line
# with leading and trailing blanks removed and blank lines ignored.

if(NOT SOURCE_DIR OR NOT DOC)
	message(FATAL_ERROR "usage: cmake -DSOURCE_DIR=... -DDOC=... -P CheckDocSnippets.cmake")
endif()

# CMake lists split at ';' and treat '[' ']' specially: hide them.
function(_vio_hide out text)
	string(REPLACE ";" "<vio-semi>" text "${text}")
	string(REPLACE "[" "<vio-lb>" text "${text}")
	string(REPLACE "]" "<vio-rb>" text "${text}")
	set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Lines stripped, blank ones dropped, joined by newlines.
function(_vio_normalise out text)
	string(REPLACE "\n" ";" lines "${text}")
	set(result "")
	foreach(line IN LISTS lines)
		string(STRIP "${line}" line)
		if(NOT line STREQUAL "")
			string(APPEND result "${line}\n")
		endif()
	endforeach()
	set(${out} "${result}" PARENT_SCOPE)
endfunction()

file(READ "${SOURCE_DIR}/${DOC}" doc)
_vio_hide(doc "${doc}")
string(REGEX MATCHALL "<!-- snippet: [^ ]+ -->\n```c\n[^`]*```" blocks "${doc}")
list(LENGTH blocks count)
if(count EQUAL 0)
	message(FATAL_ERROR "${DOC}: no snippets found")
endif()

set(failures 0)
foreach(block IN LISTS blocks)
	string(REGEX MATCH "<!-- snippet: ([^#]+)#([^ ]+) -->" _ "${block}")
	set(file "${CMAKE_MATCH_1}")
	set(name "${CMAKE_MATCH_2}")
	string(REGEX REPLACE "^<!--[^\n]*\n```c\n" "" code "${block}")
	string(REGEX REPLACE "```$" "" code "${code}")

	if(NOT EXISTS "${SOURCE_DIR}/${file}")
		message(SEND_ERROR "${DOC}: snippet ${file}#${name}: no such file")
		math(EXPR failures "${failures} + 1")
		continue()
	endif()
	file(READ "${SOURCE_DIR}/${file}" src)
	_vio_hide(src "${src}")
	set(begin_tag "<vio-lb>embedding:${name}<vio-rb> */")
	set(end_tag "/* <vio-lb>/embedding:${name}<vio-rb>")
	string(FIND "${src}" "${begin_tag}" b)
	string(FIND "${src}" "${end_tag}" e)
	if(b EQUAL -1 OR e EQUAL -1 OR e LESS b)
		message(SEND_ERROR "${DOC}: snippet ${file}#${name}: markers not found")
		math(EXPR failures "${failures} + 1")
		continue()
	endif()
	string(LENGTH "${begin_tag}" blen)
	math(EXPR b "${b} + ${blen}")
	math(EXPR len "${e} - ${b}")
	string(SUBSTRING "${src}" ${b} ${len} region)

	_vio_normalise(want "${region}")
	_vio_normalise(got "${code}")
	if(NOT got STREQUAL want)
		string(REPLACE "<vio-semi>" ";" want "${want}")
		string(REPLACE "<vio-semi>" ";" got "${got}")
		message(SEND_ERROR "${DOC}: snippet ${file}#${name} differs from the source.\n"
			"--- source ---\n${want}--- doc ---\n${got}")
		math(EXPR failures "${failures} + 1")
	endif()
endforeach()

if(failures GREATER 0)
	message(FATAL_ERROR "${failures} of ${count} snippets do not match their source")
endif()
message(STATUS "${DOC}: ${count} snippets match their source")
