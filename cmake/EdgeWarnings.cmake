# edge_set_warnings(<target>): the project's warning flags on one target.
function(edge_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
      $<$<BOOL:${EDGE_WARNINGS_AS_ERRORS}>:-Werror>)
  endif()
endfunction()
