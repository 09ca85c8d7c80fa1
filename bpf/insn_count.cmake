# cmake -DOBJ=<linked .bpf.o> -DREADELF=<llvm-readelf> -DNAME=<name> -P insn_count.cmake
# Prints the size of every BPF program section in instructions (8 bytes each),
# so growth of the in-kernel work is visible in every build.
execute_process(COMMAND ${READELF} -S --wide ${OBJ} OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llvm-readelf failed on ${OBJ}")
endif()
string(REPLACE "\n" ";" lines "${sections}")
foreach(line ${lines})
  # [Nr] Name Type Address Off Size ES Flg ...; program sections are PROGBITS with flags AX.
  if(line MATCHES "\\] ([^ ]+) +PROGBITS +[0-9a-f]+ [0-9a-f]+ ([0-9a-f]+) [0-9a-f]+ +AX")
    set(section ${CMAKE_MATCH_1})
    math(EXPR insns "0x${CMAKE_MATCH_2} / 8")
    if(NOT section STREQUAL ".text" OR insns GREATER 0)
      message(STATUS "bpf ${NAME}: program section ${section}: ${insns} instructions")
    endif()
  endif()
endforeach()
