// Where a Go map operation keeps the map pointer, PC by PC, decided once per
// function by disassembly (Capstone) and a small forward data-flow pass.
//
// Why a flow pass and not a "spill PC": a map function receives the map in a
// register (RBX for runtime.mapaccess1 & co., RAX for the receiver of the
// internal/runtime/maps.(*Map) methods) and spills it to its argument spill
// slot in the caller's frame ([RBP+0x18] / [RBP+0x10] once its own frame is
// set up) only on the paths that call the key's hash function. Other paths
// (the early return for an empty map, Go 1.24+'s small-map path) reuse the
// register for something else without ever spilling, and they are laid out
// after the spill in address order. So each PC gets what holds on every path
// that reaches it: the slot (spilled on all of them, frame set up), the
// register (not overwritten on any of them), or nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bpf/abi.h"

namespace golens::profiler {

// The register the pointer arrives in and its spill slot (offset from the
// function's RBP once the frame is set up).
struct MapPointerHome {
  uint8_t where = GOLENS_MAP_PTR_RBX;  // GOLENS_MAP_PTR_RBX or GOLENS_MAP_PTR_RAX
  int8_t slot = 0x18;
};

inline constexpr MapPointerHome kMapEntryHome{GOLENS_MAP_PTR_RBX, 0x18};   // runtime.mapaccess1(t, m, key)
inline constexpr MapPointerHome kMapMethodHome{GOLENS_MAP_PTR_RAX, 0x10};  // (m *maps.Map).getWithKey(typ, key)

struct MapPointerRange {
  uint64_t start = 0;  // vaddr, inclusive
  uint64_t end = 0;    // vaddr, exclusive
  uint8_t where = GOLENS_MAP_PTR_NONE;
  int8_t slot = 0;     // GOLENS_MAP_PTR_FRAME: offset from RBP
  bool operator==(const MapPointerRange&) const = default;
};

// The ranges of one x86-64 function (code at `entry`) where the pointer is
// recoverable, in address order, adjacent ranges of the same kind merged.
// PCs not covered: the pointer is not known there.
std::vector<MapPointerRange> TraceMapPointer(std::span<const uint8_t> code, uint64_t entry, MapPointerHome home);

}  // namespace golens::profiler
