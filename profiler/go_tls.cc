#include "profiler/go_tls.h"

#include <capstone/capstone.h>

#include <cstring>
#include <map>

#include "symbolizer/symbolizer.h"

namespace golens::profiler {
namespace {

// Offsets outside (-4096, 4096) are not plausible TLS slots (otel's bound).
bool Plausible(int64_t offset) { return offset > -4096 && offset < 4096 && offset != 0; }

// RAII for a Capstone handle with operand details on.
class Disassembler {
 public:
  Disassembler() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) handle_ = 0;
    if (handle_) cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Disassembler() {
    if (handle_) cs_close(&handle_);
  }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;
  csh get() const { return handle_; }

 private:
  csh handle_ = 0;
};

}  // namespace

std::optional<int64_t> DecodeGoTlsOffset(std::span<const uint8_t> code, uint64_t vaddr,
                                         const symbolizer::Binary* binary) {
  Disassembler dis;
  if (!dis.get() || code.empty()) return std::nullopt;
  cs_insn* insns = nullptr;
  size_t n = cs_disasm(dis.get(), code.data(), code.size(), vaddr, 8, &insns);
  std::optional<int64_t> result;
  // Values known to be in registers so far: `mov $imm, %reg` and
  // `mov X(%rip), %reg` (GOT slot holding the offset, static links only).
  std::map<unsigned, int64_t> reg_values;
  for (size_t i = 0; i < n && !result; ++i) {
    const cs_insn& insn = insns[i];
    const cs_x86& x86 = insn.detail->x86;
    if (insn.id != X86_INS_MOV || x86.op_count != 2) continue;
    const cs_x86_op& dst = x86.operands[0];
    const cs_x86_op& src = x86.operands[1];
    if (src.type == X86_OP_MEM && src.mem.segment == X86_REG_FS) {
      // mov %fs:disp, %reg            -> disp
      // mov %fs:(%reg), %reg2          -> value of %reg
      if (src.mem.base == X86_REG_INVALID && src.mem.index == X86_REG_INVALID) {
        result = src.mem.disp;
      } else if (src.mem.index == X86_REG_INVALID) {
        auto it = reg_values.find(src.mem.base);
        if (it != reg_values.end()) result = it->second + src.mem.disp;
      }
      break;  // the first FS access decides
    }
    if (dst.type != X86_OP_REG) continue;
    if (src.type == X86_OP_IMM) {
      reg_values[dst.reg] = src.imm;
    } else if (src.type == X86_OP_MEM && src.mem.base == X86_REG_RIP && binary != nullptr) {
      uint64_t slot = insn.address + insn.size + static_cast<uint64_t>(src.mem.disp);
      std::span<const uint8_t> bytes = binary->ReadVaddr(slot, 8);
      if (bytes.size() == 8) {
        int64_t value = 0;
        std::memcpy(&value, bytes.data(), 8);
        if (value != 0) reg_values[dst.reg] = value;  // 0: filled by ld.so at run time
      }
    }
  }
  if (insns) cs_free(insns, n);
  if (result && !Plausible(*result)) return std::nullopt;
  return result;
}

std::optional<int64_t> DetectGoTlsOffset(const symbolizer::Binary& binary) {
  for (const char* name : {"runtime.stackcheck.abi0", "runtime.stackcheck"}) {
    std::optional<symbolizer::Symbol> sym = binary.FindSymbol(name);
    if (!sym) continue;
    std::span<const uint8_t> code = binary.ReadVaddr(sym->vaddr, 64);
    if (code.empty()) continue;
    if (auto offset = DecodeGoTlsOffset(code, sym->vaddr, &binary)) return offset;
  }
  return std::nullopt;
}

}  // namespace golens::profiler
