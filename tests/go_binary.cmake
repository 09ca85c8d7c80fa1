# golens_go_binary(<target>
#   SOURCE_DIR <dir with go.mod>   OUTPUT <absolute path of the binary>
#   [GO_VERSION <1.22.12 | local>] [CGO] [STRIP]
#   [BUILD_FLAGS <go build flags...>])
#
# Builds a Go program during the build (fixtures are never committed).
# GO_VERSION other than "local" is fetched by the go command through the
# module proxy (GOTOOLCHAIN=go<version>). STRIP runs `strip` on the output.
function(golens_go_binary target)
  cmake_parse_arguments(GB "CGO;STRIP" "SOURCE_DIR;OUTPUT;GO_VERSION" "BUILD_FLAGS" ${ARGN})
  if(NOT GB_GO_VERSION OR GB_GO_VERSION STREQUAL "local")
    set(toolchain local)
  else()
    set(toolchain go${GB_GO_VERSION})
  endif()
  if(GB_CGO)
    set(cgo 1)
  else()
    set(cgo 0)
  endif()
  file(GLOB_RECURSE go_sources CONFIGURE_DEPENDS ${GB_SOURCE_DIR}/*.go ${GB_SOURCE_DIR}/*.c
       ${GB_SOURCE_DIR}/*.h ${GB_SOURCE_DIR}/go.mod)
  set(strip_cmd)
  if(GB_STRIP)
    set(strip_cmd COMMAND strip ${GB_OUTPUT})
  endif()
  add_custom_command(
    OUTPUT ${GB_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -E env GOTOOLCHAIN=${toolchain} CGO_ENABLED=${cgo} GOFLAGS=-buildvcs=false
            ${GO_EXECUTABLE} build ${GB_BUILD_FLAGS} -o ${GB_OUTPUT} .
    ${strip_cmd}
    WORKING_DIRECTORY ${GB_SOURCE_DIR}
    DEPENDS ${go_sources}
    COMMENT "go build ${target} (${toolchain})"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${GB_OUTPUT})
endfunction()
