# CMake package config for ferrovec, installed by `make install PREFIX=...` to
# <prefix>/lib/cmake/ferrovec/. Relocatable: paths are derived from this file's location.
#
#   find_package(ferrovec 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE ferrovec::ferrovec)         # shared libferrovec.so
#   target_link_libraries(app PRIVATE ferrovec::ferrovec_static)  # static libferrovec.a
#
# Both targets carry the include directory (ferrovec.h and the C++ wrapper ferrovec.hpp).

get_filename_component(_ferrovec_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

set(ferrovec_INCLUDE_DIR "${_ferrovec_prefix}/include")
if(NOT EXISTS "${ferrovec_INCLUDE_DIR}/ferrovec.h")
  set(ferrovec_FOUND FALSE)
  set(ferrovec_NOT_FOUND_MESSAGE "ferrovec.h not found under ${ferrovec_INCLUDE_DIR}")
  return()
endif()

if(NOT TARGET ferrovec::ferrovec_static AND EXISTS "${_ferrovec_prefix}/lib/libferrovec.a")
  find_package(Threads REQUIRED)
  add_library(ferrovec::ferrovec_static STATIC IMPORTED)
  set_target_properties(ferrovec::ferrovec_static PROPERTIES
    IMPORTED_LOCATION "${_ferrovec_prefix}/lib/libferrovec.a"
    INTERFACE_INCLUDE_DIRECTORIES "${ferrovec_INCLUDE_DIR}"
    # What the Rust standard library in the archive needs from the system.
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
endif()

if(NOT TARGET ferrovec::ferrovec_shared)
  if(APPLE)
    set(_ferrovec_shared "${_ferrovec_prefix}/lib/libferrovec.dylib")
  else()
    set(_ferrovec_shared "${_ferrovec_prefix}/lib/libferrovec.so")
  endif()
  if(EXISTS "${_ferrovec_shared}")
    add_library(ferrovec::ferrovec_shared SHARED IMPORTED)
    set_target_properties(ferrovec::ferrovec_shared PROPERTIES
      IMPORTED_LOCATION "${_ferrovec_shared}"
      # The library has no SONAME; link it by its file name.
      IMPORTED_NO_SONAME TRUE
      INTERFACE_INCLUDE_DIRECTORIES "${ferrovec_INCLUDE_DIR}")
  endif()
  unset(_ferrovec_shared)
endif()

if(NOT TARGET ferrovec::ferrovec)
  if(TARGET ferrovec::ferrovec_shared)
    add_library(ferrovec::ferrovec INTERFACE IMPORTED)
    set_target_properties(ferrovec::ferrovec PROPERTIES
      INTERFACE_LINK_LIBRARIES ferrovec::ferrovec_shared)
  elseif(TARGET ferrovec::ferrovec_static)
    add_library(ferrovec::ferrovec INTERFACE IMPORTED)
    set_target_properties(ferrovec::ferrovec PROPERTIES
      INTERFACE_LINK_LIBRARIES ferrovec::ferrovec_static)
  else()
    set(ferrovec_FOUND FALSE)
    set(ferrovec_NOT_FOUND_MESSAGE "neither libferrovec.so nor libferrovec.a under ${_ferrovec_prefix}/lib")
    return()
  endif()
endif()

unset(_ferrovec_prefix)
