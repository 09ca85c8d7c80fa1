# golens_bpf_skeleton(<target> SOURCE <prog.bpf.c> NAME <skeleton name> [DEPENDS <headers...>])
#
# Compiles one BPF C program with CO-RE against a vmlinux.h generated at build
# time from the running kernel's BTF, links it with `bpftool gen object`,
# embeds it with `bpftool gen skeleton` (<name>.skel.h) and prints the
# programs' instruction counts. Yields an INTERFACE target <target> whose
# include path has the skeleton header and the repository root (bpf/abi.h).
# (After libbpf-bootstrap.)

find_program(GOLENS_BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(GOLENS_LLVM_READELF NAMES llvm-readelf llvm-readelf-14 REQUIRED)

set(GOLENS_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "Kernel BTF used to generate vmlinux.h")

function(golens_bpf_skeleton target)
  cmake_parse_arguments(BS "" "SOURCE;NAME" "DEPENDS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${target})
  file(MAKE_DIRECTORY ${out_dir})
  set(vmlinux_h ${out_dir}/vmlinux.h)
  set(obj ${out_dir}/${BS_NAME}.tmp.o)
  set(linked ${out_dir}/${BS_NAME}.bpf.o)
  set(skel ${out_dir}/${BS_NAME}.skel.h)

  add_custom_command(
    OUTPUT ${vmlinux_h}
    COMMAND ${BPFTOOL} btf dump file ${GOLENS_VMLINUX_BTF} format c > ${vmlinux_h}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${vmlinux_h}.tmp ${vmlinux_h}
    COMMENT "bpftool: vmlinux.h from ${GOLENS_VMLINUX_BTF}"
    VERBATIM)

  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${GOLENS_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
            -I${out_dir} -I${PROJECT_SOURCE_DIR} -c ${BS_SOURCE} -o ${obj}
    DEPENDS ${BS_SOURCE} ${vmlinux_h} ${BS_DEPENDS}
    COMMENT "clang -target bpf ${BS_NAME}"
    VERBATIM)

  # Link (bpftool gen object), embed (gen skeleton), then report the size of
  # every program section in BPF instructions (8 bytes each).
  add_custom_command(
    OUTPUT ${linked} ${skel}
    COMMAND ${BPFTOOL} gen object ${linked} ${obj}
    COMMAND ${BPFTOOL} gen skeleton ${linked} name ${BS_NAME} > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    COMMAND ${CMAKE_COMMAND} -DOBJ=${linked} -DREADELF=${GOLENS_LLVM_READELF} -DNAME=${BS_NAME}
            -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/insn_count.cmake
    DEPENDS ${obj}
    COMMENT "bpftool gen skeleton ${BS_NAME}"
    VERBATIM)

  add_custom_target(${target}_gen DEPENDS ${skel})
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_gen)
  target_include_directories(${target} INTERFACE ${out_dir} ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} INTERFACE PkgConfig::LIBBPF PkgConfig::LIBELF ZLIB::ZLIB)
endfunction()
