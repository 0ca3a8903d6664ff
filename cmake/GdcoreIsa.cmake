# gdcore_add_isa(<name> FLAGS <flags...>)
#
# Compiles every kernel source (GDCORE_KERNEL_SOURCES) once more, for one
# instruction set, into an OBJECT library gdcore_isa_<name>.  The sources see
# GDCORE_ISA=<name>, so everything they define lands in namespace gd::<name>
# and nothing from one ISA's translation units can be picked by the linker for
# another's.  An ISA whose flags the compiler rejects is skipped with a message.
# Appends <name> to GDCORE_ISAS (parent scope).
include(CheckCXXCompilerFlag)

set(GDCORE_KERNEL_FLAGS_GNU -O3 -fno-math-errno -ffp-contract=off
    -fno-semantic-interposition -fvisibility=hidden -fvisibility-inlines-hidden)

function(gdcore_add_isa name)
  cmake_parse_arguments(ARG "" "" "FLAGS" ${ARGN})
  if(ARG_FLAGS)
    string(REPLACE ";" " " _flag_string "${ARG_FLAGS}")
    string(MAKE_C_IDENTIFIER "GDCORE_HAS_FLAGS_${name}" _probe)
    check_cxx_compiler_flag("${_flag_string}" ${_probe})
    if(NOT ${_probe})
      message(STATUS "gdcore: compiler rejects ${_flag_string}; ISA path '${name}' not built")
      return()
    endif()
  endif()
  set(_target gdcore_isa_${name})
  add_library(${_target} OBJECT ${GDCORE_KERNEL_SOURCES})
  target_compile_features(${_target} PRIVATE cxx_std_17)
  target_compile_definitions(${_target} PRIVATE GDCORE_ISA=${name})
  target_include_directories(${_target} PRIVATE ${PROJECT_SOURCE_DIR}/csrc/include
                                                ${PROJECT_SOURCE_DIR}/csrc/kernels)
  set_target_properties(${_target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${_target} PRIVATE ${GDCORE_KERNEL_FLAGS_GNU} ${ARG_FLAGS})
  elseif(MSVC)
    target_compile_options(${_target} PRIVATE /O2 /fp:precise ${ARG_FLAGS})
  endif()
  set(GDCORE_ISAS ${GDCORE_ISAS} ${name} PARENT_SCOPE)
endfunction()
