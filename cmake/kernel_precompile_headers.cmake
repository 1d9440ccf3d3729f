# kernel_precompile_headers(<target>...)
#
# Compiles the headers every kernel source includes (<kernel/kernel.hpp> and
# <kernel/testing.hpp>, which bring nlohmann/json, spdlog, fmt and the standard headers they
# use) once per build directory, and makes each <target> use that instead of parsing them
# again: a few seconds less per source. They are compiled by a target of their own,
# kernel_precompiled_headers, made by the first call in the calling directory, with its
# options: give targets compiled with the same ones (a precompiled header serves only sources
# compiled like it: another build type or -O level, or a macro defined for it but not for the
# source, makes the compiler refuse it, and -Winvalid-pch says so). The header is compiled
# again whenever one of the headers it holds changes, the runtime's installed ones included: it
# never goes stale.
#
# The headers come first in every source of those targets: a macro that configures one of them
# (SPDLOG_ACTIVE_LEVEL, JSON_DIAGNOSTICS) belongs on the target (target_compile_definitions),
# not in a source before its #include. -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON builds without.
function(kernel_precompile_headers)
  if(NOT TARGET kernel_precompiled_headers)
    # An object library that only carries the header (CMake wants a source: an empty one).
    # Of the kernel's own targets none could: a macro one defines, such as its version,
    # would then have to be defined for every target that reuses the header.
    set(source "${CMAKE_CURRENT_BINARY_DIR}/kernel_precompiled_headers.cpp")
    file(CONFIGURE OUTPUT "${source}" CONTENT "// kernel_precompile_headers(): the header is this target's work.\n")
    add_library(kernel_precompiled_headers OBJECT "${source}")
    target_link_libraries(kernel_precompiled_headers PRIVATE kernel::runtime)
    target_precompile_headers(kernel_precompiled_headers PRIVATE <kernel/kernel.hpp> <kernel/testing.hpp>)
  endif()
  foreach(target IN LISTS ARGN)
    if(NOT TARGET ${target})
      message(FATAL_ERROR "kernel_precompile_headers: ${target} is not a target")
    endif()
    target_precompile_headers(${target} REUSE_FROM kernel_precompiled_headers)
  endforeach()
endfunction()
