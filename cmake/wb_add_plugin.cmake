# wb_add_plugin(NAME src...): a plugin shared object that sees only the SDK.
# Hidden visibility keeps everything but the entry point private, and
# -z defs proves the plugin links no core symbol. Warnings are on by default:
# set WB_PLUGIN_WARNINGS (a list of flags, may be empty) before the call to
# choose others.
if(NOT DEFINED WB_PLUGIN_WARNINGS)
  set(WB_PLUGIN_WARNINGS -Wall -Wextra)
endif()

function(wb_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE workbench::sdk m)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY "${WB_PLUGIN_BUILD_DIR}")
  if(WB_PLUGIN_WARNINGS)
    target_compile_options(${name} PRIVATE ${WB_PLUGIN_WARNINGS})
  endif()
  target_link_options(${name} PRIVATE "-Wl,-z,defs")
  install(TARGETS ${name} LIBRARY DESTINATION "${WB_PLUGIN_INSTALL_DIR}")
endfunction()
