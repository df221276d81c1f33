# Installs headers, edge::core, edge::sdk, edge-host, the plugin helper and a
# CMake package, so an outside project can
#   find_package(edge CONFIG REQUIRED)
# and link edge::core (to embed the host) or use edge::sdk + edge_add_plugin
# (to write a plugin).
include(CMakePackageConfigHelpers)

install(DIRECTORY sdk/include/edge DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk)
install(DIRECTORY host/include/edge DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT devel)
install(TARGETS edge_sdk edge_core EXPORT edgeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime)
install(TARGETS edge-host RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS edge-worker RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/edge COMPONENT runtime)
install(FILES config/demo.yaml config/minimal.yaml config/README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/edge/config COMPONENT runtime)

set(EDGE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/edge)
install(EXPORT edgeTargets NAMESPACE edge:: DESTINATION ${EDGE_CMAKE_DIR} COMPONENT devel)
configure_package_config_file(cmake/edgeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/edgeConfig.cmake INSTALL_DESTINATION ${EDGE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/edgeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/edgeConfig.cmake ${PROJECT_BINARY_DIR}/edgeConfigVersion.cmake
  cmake/EdgePlugin.cmake cmake/EdgeWarnings.cmake
  DESTINATION ${EDGE_CMAKE_DIR} COMPONENT devel)
