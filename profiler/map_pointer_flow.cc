#include "profiler/map_pointer_flow.h"

#include <capstone/capstone.h>

#include <deque>
#include <optional>
#include <unordered_map>

namespace golens::profiler {
namespace {

constexpr int kUnknownSp = -1;

// What holds at one PC on every path that reaches it.
struct FlowState {
  bool in_register = true;  // the home register still holds the map pointer
  bool in_slot = false;     // the spill slot holds it
  bool frame = false;       // RBP is this function's frame (after `mov rbp, rsp`, before `pop rbp`)
  int sp_below_bp = kUnknownSp;  // RBP - RSP while frame is set, else unknown

  bool operator==(const FlowState&) const = default;
  FlowState Meet(const FlowState& o) const {
    FlowState m;
    m.in_register = in_register && o.in_register;
    m.in_slot = in_slot && o.in_slot;
    m.frame = frame && o.frame;
    m.sp_below_bp = sp_below_bp == o.sp_below_bp ? sp_below_bp : kUnknownSp;
    return m;
  }
};

bool IsHomeRegister(unsigned reg, uint8_t where) {
  if (where == GOLENS_MAP_PTR_RBX) {
    return reg == X86_REG_RBX || reg == X86_REG_EBX || reg == X86_REG_BX || reg == X86_REG_BL || reg == X86_REG_BH;
  }
  return reg == X86_REG_RAX || reg == X86_REG_EAX || reg == X86_REG_AX || reg == X86_REG_AL || reg == X86_REG_AH;
}

bool IsReg(const cs_x86_op& op, unsigned reg) { return op.type == X86_OP_REG && op.reg == reg; }

// The RBP-relative offset a memory operand addresses, when it is known.
std::optional<int64_t> BpOffset(const cs_x86_op& op, const FlowState& s) {
  if (op.type != X86_OP_MEM || op.mem.index != X86_REG_INVALID || op.mem.segment != X86_REG_INVALID) {
    return std::nullopt;
  }
  if (op.mem.base == X86_REG_RBP && s.frame) return op.mem.disp;
  if (op.mem.base == X86_REG_RSP && s.frame && s.sp_below_bp != kUnknownSp) return op.mem.disp - s.sp_below_bp;
  return std::nullopt;
}

// The state after `insn`, given the state before it.
FlowState Step(csh handle, const cs_insn& insn, FlowState s, MapPointerHome home) {
  const cs_x86& x86 = insn.detail->x86;
  const unsigned home_reg = home.where == GOLENS_MAP_PTR_RBX ? X86_REG_RBX : X86_REG_RAX;

  // Frame setup and teardown.
  if (insn.id == X86_INS_MOV && x86.op_count == 2 && IsReg(x86.operands[0], X86_REG_RBP) &&
      IsReg(x86.operands[1], X86_REG_RSP)) {
    s.frame = true;
    s.sp_below_bp = 0;
    return s;
  }
  if (insn.id == X86_INS_POP && x86.op_count == 1 && IsReg(x86.operands[0], X86_REG_RBP)) {
    s.frame = false;
    s.sp_below_bp = kUnknownSp;
    return s;
  }
  if ((insn.id == X86_INS_SUB || insn.id == X86_INS_ADD) && x86.op_count == 2 &&
      IsReg(x86.operands[0], X86_REG_RSP)) {
    if (s.frame && s.sp_below_bp != kUnknownSp && x86.operands[1].type == X86_OP_IMM) {
      s.sp_below_bp += static_cast<int>(insn.id == X86_INS_SUB ? x86.operands[1].imm : -x86.operands[1].imm);
    } else {
      s.sp_below_bp = kUnknownSp;
    }
    return s;
  }

  // Stores to the spill slot: the pointer itself, or anything else.
  for (uint8_t i = 0; i < x86.op_count; ++i) {
    const cs_x86_op& op = x86.operands[i];
    if (op.type != X86_OP_MEM || !(op.access & CS_AC_WRITE)) continue;
    std::optional<int64_t> at = BpOffset(op, s);
    if (!at) continue;
    const int64_t slot = home.slot;
    if (*at + op.size <= slot || *at >= slot + 8) continue;
    s.in_slot = insn.id == X86_INS_MOV && *at == slot && op.size == 8 && x86.op_count == 2 &&
                IsReg(x86.operands[1], home_reg) && s.in_register;
  }

  // Register writes. A reload from the slot puts the pointer back.
  if (insn.id == X86_INS_CALL) {
    s.in_register = false;  // Go's ABI: every register is caller-saved
    return s;
  }
  cs_regs read, written;
  uint8_t nread = 0, nwritten = 0;
  if (cs_regs_access(handle, &insn, read, &nread, written, &nwritten) != CS_ERR_OK) {
    s.in_register = false;
    return s;
  }
  for (uint8_t i = 0; i < nwritten; ++i) {
    if (!IsHomeRegister(written[i], home.where)) continue;
    bool reload = insn.id == X86_INS_MOV && x86.op_count == 2 && IsReg(x86.operands[0], home_reg) &&
                  x86.operands[1].type == X86_OP_MEM && BpOffset(x86.operands[1], s) == int64_t{home.slot} &&
                  s.in_slot;
    s.in_register = reload;
  }
  return s;
}

}  // namespace

std::vector<MapPointerRange> TraceMapPointer(std::span<const uint8_t> code, uint64_t entry, MapPointerHome home) {
  std::vector<MapPointerRange> ranges;
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return ranges;
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn* insns = nullptr;
  const size_t n = cs_disasm(handle, code.data(), code.size(), entry, 0, &insns);
  std::unordered_map<uint64_t, size_t> index;
  for (size_t i = 0; i < n; ++i) index.emplace(insns[i].address, i);

  std::vector<std::optional<FlowState>> in(n);
  std::deque<size_t> work;
  auto reach = [&](size_t i, const FlowState& s) {
    FlowState next = in[i] ? in[i]->Meet(s) : s;
    if (in[i] && *in[i] == next) return;
    in[i] = next;
    work.push_back(i);
  };
  if (n > 0) reach(0, FlowState{});
  while (!work.empty()) {
    size_t i = work.front();
    work.pop_front();
    const cs_insn& insn = insns[i];
    FlowState out = Step(handle, insn, *in[i], home);
    const cs_x86& x86 = insn.detail->x86;
    const bool jump = cs_insn_group(handle, &insn, CS_GRP_JUMP);
    if (jump && x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM) {
      // A jump back to the entry is the stack-growth path starting the
      // function over with its arguments reloaded: a new call, not a path
      // into it. Jumps outside the function are tail calls.
      auto target = index.find(static_cast<uint64_t>(x86.operands[0].imm));
      if (target != index.end() && target->second != 0) reach(target->second, out);
    }
    const bool falls_through = insn.id != X86_INS_JMP && insn.id != X86_INS_RET && insn.id != X86_INS_UD2 &&
                               insn.id != X86_INS_INT3;
    if (falls_through && i + 1 < n) reach(i + 1, out);
  }

  for (size_t i = 0; i < n; ++i) {
    MapPointerRange r{insns[i].address, insns[i].address + insns[i].size, GOLENS_MAP_PTR_NONE, 0};
    if (in[i]) {
      if (in[i]->frame && in[i]->in_slot) {
        r.where = GOLENS_MAP_PTR_FRAME;
        r.slot = home.slot;
      } else if (in[i]->in_register) {
        r.where = home.where;
      }
    }
    if (r.where == GOLENS_MAP_PTR_NONE) continue;
    if (!ranges.empty() && ranges.back().end == r.start && ranges.back().where == r.where &&
        ranges.back().slot == r.slot) {
      ranges.back().end = r.end;
    } else {
      ranges.push_back(r);
    }
  }
  if (insns) cs_free(insns, n);
  cs_close(&handle);
  return ranges;
}

}  // namespace golens::profiler
