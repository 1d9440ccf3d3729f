# Writes a C++ source that holds every file of a template directory, so an installed
# new-kernel works with the source tree gone. Run as a script:
#   cmake -DTEMPLATE_DIR=... -DOUTPUT=... -P embed_templates.cmake
# Bytes are written as hex so any content (quotes, backslashes, raw-string delimiters) is safe.
cmake_minimum_required(VERSION 3.25)

file(GLOB_RECURSE template_files RELATIVE "${TEMPLATE_DIR}" "${TEMPLATE_DIR}/*")
list(SORT template_files)

set(arrays "")
set(entries "")
set(index 0)
foreach(relative IN LISTS template_files)
  file(READ "${TEMPLATE_DIR}/${relative}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  # One line per 16 bytes keeps the generated file readable in a debugger.
  string(REGEX REPLACE "(('[^']*',){16})" "\\1\n    " bytes "${bytes}")
  string(APPEND arrays "// ${relative}\nconstexpr char file_${index}[] = {\n    ${bytes}'\\0'};\n\n")
  string(APPEND entries "    {\"${relative}\", {file_${index}, ${size}}},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(content "// Generated from templates/kernel by generator/cmake/embed_templates.cmake. Do not edit.
#include \"embedded_templates.hpp\"

#include <array>

namespace new_kernel {

namespace {

${arrays}constexpr std::array<EmbeddedFile, ${index}> files{{
${entries}}};

}  // namespace

std::span<const EmbeddedFile> embedded_template_files() noexcept { return files; }

}  // namespace new_kernel
")

# Only touch the output when it changes, so an unchanged template set rebuilds nothing.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${content}")
