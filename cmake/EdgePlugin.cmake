# edge_add_plugin(<name> SOURCES <files>... [OUTPUT_DIRECTORY <dir>])
#
# Builds an edge function plugin: a shared library named exactly <name>.so
# (no "lib" prefix), exporting only the SDK entry symbol (everything else is
# hidden), linked against the SDK headers. Usable inside this tree and, after
# `find_package(edge CONFIG)`, from any outside project.
function(edge_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIRECTORY" "SOURCES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "edge_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE edge::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED EDGE_PLUGIN_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${EDGE_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  if(NOT CMAKE_SYSTEM_NAME STREQUAL "Darwin")
    # A plugin must not depend on symbols of the host: fail at link time.
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
    # Hidden visibility does not reach libstdc++'s inline templates: e.g.
    # std::to_string leaves a STB_GNU_UNIQUE symbol in the dynamic table, and
    # glibc never unloads a library whose unique symbol got bound (dlclose
    # becomes a no-op, so a replaced plugin version would stay mapped). The
    # version script makes the entry symbol the only exported one.
    set(script ${CMAKE_BINARY_DIR}/edge_plugin.map)
    if(NOT EXISTS ${script})
      file(WRITE ${script} "{\n  global: edge_plugin_entry;\n  local: *;\n};\n")
    endif()
    target_link_options(${name} PRIVATE -Wl,--version-script=${script})
    set_target_properties(${name} PROPERTIES LINK_DEPENDS ${script})
  endif()
endfunction()
