# wb_add_plugin(NAME src...): a plugin shared object that sees only the SDK.
# Hidden visibility keeps everything but the entry point private, and
# -z defs proves the plugin links no core symbol.
function(wb_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE workbench::sdk m)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY "${WB_PLUGIN_BUILD_DIR}")
  target_link_options(${name} PRIVATE "-Wl,-z,defs")
  install(TARGETS ${name} LIBRARY DESTINATION "${WB_PLUGIN_INSTALL_DIR}")
endfunction()
