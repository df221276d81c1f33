# Outside programs the tests use to check output with real parsers:
#   EDGE_TEST_PYTHON  a python3 that can import prometheus_client (Debian's
#                     python3-prometheus-client, from tools/install-deps.sh)
#   EDGE_PROMTOOL     Prometheus' promtool, if installed (optional: the
#                     prometheus package is large)
# A python3 found first on PATH (pyenv, a virtualenv) often lacks Debian's
# modules, so every candidate is asked whether it can import the parser.
if(NOT EDGE_TEST_PYTHON)
  set(candidates /usr/bin/python3)
  find_program(EDGE_PATH_PYTHON3 python3)
  if(EDGE_PATH_PYTHON3)
    list(APPEND candidates ${EDGE_PATH_PYTHON3})
  endif()
  foreach(candidate IN LISTS candidates)
    if(EXISTS ${candidate})
      execute_process(COMMAND ${candidate} -c "import prometheus_client.parser"
        RESULT_VARIABLE result OUTPUT_QUIET ERROR_QUIET)
      if(result EQUAL 0)
        set(EDGE_TEST_PYTHON ${candidate} CACHE FILEPATH
          "python3 with prometheus_client, for the /metrics format tests")
        break()
      endif()
    endif()
  endforeach()
  if(NOT EDGE_TEST_PYTHON)
    # The test then fails and says what to install.
    message(WARNING "No python3 can import prometheus_client: the /metrics format test will fail "
                    "(install python3-prometheus-client, see tools/install-deps.sh)")
    set(EDGE_TEST_PYTHON "")
  endif()
endif()
find_program(EDGE_PROMTOOL promtool)
if(NOT EDGE_PROMTOOL)
  set(EDGE_PROMTOOL "")
endif()
