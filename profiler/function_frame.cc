#include "profiler/function_frame.h"

#include <capstone/capstone.h>

namespace golens::profiler {

ReturnAddressAt FunctionFrameInfo::At(uint64_t vaddr) const {
  if (frameless) return ReturnAddressAt::kSp;
  if (returns.count(vaddr)) return ReturnAddressAt::kSp;
  if (push_rbp != 0) {
    if (vaddr <= push_rbp) return ReturnAddressAt::kSp;
    if (vaddr == after_push) return ReturnAddressAt::kSpPlus8;
  }
  return ReturnAddressAt::kFramePointer;
}

FunctionFrameInfo AnalyzeFunctionFrame(const uint8_t* code, size_t size, uint64_t entry) {
  FunctionFrameInfo info;
  csh handle;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) return info;
  cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn* insns = nullptr;
  size_t n = cs_disasm(handle, code, size, entry, 0, &insns);
  bool touches_sp = false;
  for (size_t i = 0; i < n; ++i) {
    const cs_insn& insn = insns[i];
    const cs_x86& x86 = insn.detail->x86;
    if (insn.id == X86_INS_RET) {
      info.returns.insert(insn.address);
      continue;
    }
    if (insn.id == X86_INS_PUSH && x86.op_count == 1 && x86.operands[0].type == X86_OP_REG &&
        x86.operands[0].reg == X86_REG_RBP && info.push_rbp == 0 && i < 16) {
      info.push_rbp = insn.address;
      info.after_push = insn.address + insn.size;
    }
    if (insn.id == X86_INS_PUSH || insn.id == X86_INS_POP || insn.id == X86_INS_CALL) touches_sp = true;
    if ((insn.id == X86_INS_SUB || insn.id == X86_INS_ADD || insn.id == X86_INS_LEA ||
         insn.id == X86_INS_MOV) &&
        x86.op_count >= 1 && x86.operands[0].type == X86_OP_REG && x86.operands[0].reg == X86_REG_RSP) {
      touches_sp = true;
    }
  }
  // Frameless: nothing moves SP, so the return address stays at [SP].
  info.frameless = n > 0 && info.push_rbp == 0 && !touches_sp;
  if (insns) cs_free(insns, n);
  cs_close(&handle);
  return info;
}

}  // namespace golens::profiler
