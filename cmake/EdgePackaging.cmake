# The edge-host Debian package: `cpack -G DEB` in a build directory.
#
#   /usr/bin/edge-host, /usr/bin/edgectl       components runtime
#   /usr/lib/edge/plugins/*.so                  plugins
#   /usr/share/edge/config/*.yaml               runtime (examples)
#   /etc/edge/topology.yaml (a conffile)        package
#   /lib/systemd/system/edge-host.service       package
#   /usr/share/doc/edge-host/                   package
#
# The package component is EXCLUDE_FROM_ALL: its destinations are absolute
# (/etc, /lib/systemd), and a plain `cmake --install` into a prefix must not
# write outside that prefix. Only CPack installs it. Headers, the static
# library and the CMake package (components sdk, devel) are not in this
# package: it is for running the host, not for building against it.
include_guard(GLOBAL)

set(EDGE_PACKAGE_PREFIX /usr)
# The plugin directory the shipped topology must name: where the package
# puts the plugins. config/package-topology.yaml says /usr/lib/edge/plugins;
# a build whose libdir differs (e.g. configured with
# -DCMAKE_INSTALL_PREFIX=/usr, libdir lib/x86_64-linux-gnu) gets its own path
# substituted, so the package is always consistent with itself.
set(EDGE_PACKAGE_PLUGIN_DIR ${EDGE_PACKAGE_PREFIX}/${EDGE_INSTALL_PLUGINDIR})
file(READ ${PROJECT_SOURCE_DIR}/config/package-topology.yaml edge_package_topology)
string(REPLACE "plugin_dir: /usr/lib/edge/plugins" "plugin_dir: ${EDGE_PACKAGE_PLUGIN_DIR}"
       edge_package_topology "${edge_package_topology}")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/packaging/topology.yaml CONTENT "${edge_package_topology}"
     @ONLY)
# dpkg keeps a conffile the administrator changed, on upgrade and on remove
# (until purge).
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "/etc/edge/topology.yaml\n")

install(FILES ${PROJECT_BINARY_DIR}/packaging/topology.yaml
        DESTINATION /etc/edge COMPONENT package EXCLUDE_FROM_ALL)
install(FILES config/edge-host.service
        DESTINATION /lib/systemd/system COMPONENT package EXCLUDE_FROM_ALL)
install(FILES README.md docs/http-api.md docs/operations.md
        DESTINATION ${EDGE_PACKAGE_PREFIX}/share/doc/edge-host COMPONENT package EXCLUDE_FROM_ALL)
install(FILES config/README.md RENAME config-README.md
        DESTINATION ${EDGE_PACKAGE_PREFIX}/share/doc/edge-host COMPONENT package EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME edge-host)
set(CPACK_PACKAGE_VENDOR "edge")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Edge-function plugin host")
set(CPACK_PACKAGING_INSTALL_PREFIX ${EDGE_PACKAGE_PREFIX})
set(CPACK_GENERATOR DEB)
# Release packages carry no debug information (a dbgsym package would).
set(CPACK_STRIP_FILES ON)

# One .deb holding exactly these components.
set(CPACK_COMPONENTS_ALL runtime plugins package)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)

set(CPACK_DEBIAN_PACKAGE_NAME edge-host)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # edge-host_<version>_<arch>.deb
set(EDGE_PACKAGE_MAINTAINER "Edge maintainers <edge@example.org>"
    CACHE STRING "Maintainer field of the edge-host Debian package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${EDGE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The long description; CPack puts the summary above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Runs small functions, built as C ABI plugins (.so), on the nodes of an\nedge cluster described by a YAML topology, and serves an HTTP API with\nPrometheus metrics. Includes edgectl, the command-line client, example\nplugins, and a systemd unit (not enabled on install).")
# Depends from the ELF files' needs (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/conffiles
    ${PROJECT_SOURCE_DIR}/cmake/packaging/postinst
    ${PROJECT_SOURCE_DIR}/cmake/packaging/prerm
    ${PROJECT_SOURCE_DIR}/cmake/packaging/postrm)

include(CPack)
