# Install layout for plugin authors (the binary, headers and plugins install
# themselves): P/lib/pkgconfig/workbench.pc and P/lib/cmake/workbench/.
# Both files locate the prefix relative to themselves, so
# `cmake --install build --prefix P` works for any P.
include(CMakePackageConfigHelpers)

set(WB_PKGCONFIG_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
set(WB_CMAKECONFIG_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/workbench")
file(RELATIVE_PATH WB_PC_TO_PREFIX "/p/${WB_PKGCONFIG_INSTALL_DIR}" "/p")
file(RELATIVE_PATH WB_CONFIG_TO_PREFIX "/p/${WB_CMAKECONFIG_INSTALL_DIR}" "/p")

configure_file(${CMAKE_CURRENT_LIST_DIR}/workbench.pc.in ${CMAKE_BINARY_DIR}/install/workbench.pc @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/workbench-config.cmake.in
               ${CMAKE_BINARY_DIR}/install/workbench-config.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/install/workbench-config-version.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)

install(FILES ${CMAKE_BINARY_DIR}/install/workbench.pc DESTINATION ${WB_PKGCONFIG_INSTALL_DIR})
install(FILES ${CMAKE_BINARY_DIR}/install/workbench-config.cmake
              ${CMAKE_BINARY_DIR}/install/workbench-config-version.cmake
              ${CMAKE_CURRENT_LIST_DIR}/wb_add_plugin.cmake
        DESTINATION ${WB_CMAKECONFIG_INSTALL_DIR})

# For plugin authors working from an installation: the docs
# (P/share/doc/workbench) and the example plugins with their experiments
# (P/share/workbench/examples), each buildable on its own against P.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DATADIR}/workbench/examples)
