#include "profiler/cfi_check.h"

#include <cstring>
#include <optional>
#include <string_view>

namespace golens::profiler {
namespace {

// DWARF register numbers libunwind keeps for x86-64 (rax..r15, then the
// return address): DWARF_NUM_PRESERVED_REGS in its x86_64 dwarf-config.h.
constexpr uint64_t kRegisters = 17;
constexpr int kMaxRememberDepth = 64;

// Bounds-checked reads over one byte range.
class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, size_t at) : bytes_(bytes), at_(at) {}
  size_t at() const { return at_; }
  bool done() const { return at_ >= bytes_.size(); }

  std::optional<uint64_t> Fixed(size_t n) {
    if (n > 8 || at_ > bytes_.size() || bytes_.size() - at_ < n) return std::nullopt;
    uint64_t v = 0;
    std::memcpy(&v, bytes_.data() + at_, n);
    at_ += n;
    return v;
  }
  std::optional<uint64_t> Uleb() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      auto b = Fixed(1);
      if (!b) return std::nullopt;
      v |= (*b & 0x7f) << shift;
      if (!(*b & 0x80)) return v;
    }
    return std::nullopt;
  }
  std::optional<int64_t> Sleb() {
    uint64_t v = 0;  // unsigned: shifts past the sign never overflow
    int shift = 0;
    uint64_t b = 0;
    do {
      auto next = Fixed(1);
      if (!next || shift >= 64) return std::nullopt;
      b = *next;
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  bool Skip(uint64_t n) {
    if (at_ > bytes_.size() || bytes_.size() - at_ < n) return false;
    at_ += static_cast<size_t>(n);
    return true;
  }
  std::optional<std::string_view> CString() {
    if (at_ >= bytes_.size()) return std::nullopt;
    const char* s = reinterpret_cast<const char*>(bytes_.data() + at_);
    size_t len = strnlen(s, bytes_.size() - at_);
    if (len == bytes_.size() - at_) return std::nullopt;
    at_ += len + 1;
    return std::string_view(s, len);
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_;
};

// Size of a DW_EH_PE-encoded value (0: unsupported).
size_t EncodedSize(uint8_t enc) {
  if (enc == 0xff) return 0;
  switch (enc & 0x0f) {
    case 0x00: return 8;  // absptr
    case 0x02: case 0x0a: return 2;
    case 0x03: case 0x0b: return 4;
    case 0x04: case 0x0c: return 8;
  }
  return 0;
}

bool Reg(std::optional<uint64_t> r) { return r && *r < kRegisters; }

// One CFA program: every opcode known, operands inside, registers valid.
bool CheckProgram(Reader r, size_t end, size_t address_size) {
  int depth = 0;
  while (r.at() < end) {
    auto op = r.Fixed(1);
    if (!op) return false;
    const uint8_t high = *op & 0xc0, low = *op & 0x3f;
    bool ok = true;
    if (high == 0x40) {
      // advance_loc
    } else if (high == 0x80) {
      ok = low < kRegisters && r.Uleb().has_value();
    } else if (high == 0xc0) {
      ok = low < kRegisters;
    } else {
      switch (low) {
        case 0x00: break;                                          // nop
        case 0x01: ok = r.Skip(address_size); break;               // set_loc
        case 0x02: ok = r.Skip(1); break;                          // advance_loc1
        case 0x03: ok = r.Skip(2); break;                          // advance_loc2
        case 0x04: ok = r.Skip(4); break;                          // advance_loc4
        case 0x05: ok = Reg(r.Uleb()) && r.Uleb().has_value(); break;  // offset_extended
        case 0x06:                                                 // restore_extended
        case 0x07:                                                 // undefined
        case 0x08:                                                 // same_value
        case 0x0d: ok = Reg(r.Uleb()); break;                      // def_cfa_register
        case 0x09: ok = Reg(r.Uleb()) && Reg(r.Uleb()); break;     // register
        case 0x0a: ok = ++depth <= kMaxRememberDepth; break;       // remember_state
        case 0x0b: ok = --depth >= 0; break;                       // restore_state
        case 0x0c: ok = Reg(r.Uleb()) && r.Uleb().has_value(); break;  // def_cfa
        case 0x0e: ok = r.Uleb().has_value(); break;               // def_cfa_offset
        case 0x0f: {                                               // def_cfa_expression
          auto len = r.Uleb();
          ok = len && r.Skip(*len);
          break;
        }
        case 0x10:                                                 // expression
        case 0x16: {                                               // val_expression
          ok = Reg(r.Uleb());
          auto len = ok ? r.Uleb() : std::nullopt;
          ok = ok && len && r.Skip(*len);
          break;
        }
        case 0x11:                                                 // offset_extended_sf
        case 0x12:                                                 // def_cfa_sf
        case 0x15: ok = Reg(r.Uleb()) && r.Sleb().has_value(); break;  // val_offset_sf
        case 0x13: ok = r.Sleb().has_value(); break;               // def_cfa_offset_sf
        case 0x14:                                                 // val_offset
        case 0x2f: ok = Reg(r.Uleb()) && r.Uleb().has_value(); break;  // GNU_negative_offset_extended
        case 0x2e: ok = r.Uleb().has_value(); break;               // GNU_args_size
        default: ok = false;
      }
    }
    if (!ok || r.at() > end) return false;
  }
  return true;
}

}  // namespace

CfiVerdict CheckCfi(const CfiSections& s, uint64_t vaddr) {
  // .eh_frame_hdr: version 1, then the encodings golens's lookup supports
  // (FindProcInfo checked them too): a table of (initial location, FDE)
  // pairs, sdata4 relative to the header, sorted.
  Reader hdr(s.hdr, 0);
  auto version = hdr.Fixed(1), ptr_enc = hdr.Fixed(1), count_enc = hdr.Fixed(1), table_enc = hdr.Fixed(1);
  if (!version || *version != 1 || !table_enc || *table_enc != 0x3b) return CfiVerdict::kUnsafe;
  size_t ptr_size = EncodedSize(static_cast<uint8_t>(*ptr_enc)), count_size = EncodedSize(static_cast<uint8_t>(*count_enc));
  if (!ptr_size || !count_size || !hdr.Skip(ptr_size)) return CfiVerdict::kUnsafe;
  auto count = hdr.Fixed(count_size);
  if (!count || *count == 0) return CfiVerdict::kNoEntry;
  const size_t table = hdr.at();
  if (*count > (s.hdr.size() - table) / 8) return CfiVerdict::kUnsafe;
  auto entry = [&](uint64_t i, int field) {
    int32_t v;
    std::memcpy(&v, s.hdr.data() + table + i * 8 + field * 4, 4);
    return s.hdr_vaddr + static_cast<int64_t>(v);
  };
  uint64_t lo = 0, hi = *count;  // last entry with initial location <= vaddr
  if (entry(0, 0) > vaddr) return CfiVerdict::kNoEntry;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (entry(mid, 0) <= vaddr) lo = mid; else hi = mid;
  }
  const uint64_t fde = entry(lo, 1);
  if (fde < s.frame_vaddr || fde - s.frame_vaddr >= s.frame.size()) return CfiVerdict::kUnsafe;

  // The FDE: length, CIE pointer (back from this field), pc_begin,
  // pc_range, augmentation data, instructions.
  Reader f(s.frame, static_cast<size_t>(fde - s.frame_vaddr));
  auto fde_len = f.Fixed(4);
  if (!fde_len || *fde_len == 0 || *fde_len == 0xffffffff) return CfiVerdict::kUnsafe;
  const size_t fde_body = f.at();
  if (*fde_len > s.frame.size() - fde_body) return CfiVerdict::kUnsafe;
  const size_t fde_end = fde_body + static_cast<size_t>(*fde_len);
  auto cie_ptr = f.Fixed(4);
  if (!cie_ptr || *cie_ptr == 0 || *cie_ptr > fde_body) return CfiVerdict::kUnsafe;

  // The CIE: augmentation, alignment factors, return address register,
  // augmentation data (the FDE pointer encoding from 'R'), instructions.
  Reader c(s.frame, fde_body - static_cast<size_t>(*cie_ptr));
  auto cie_len = c.Fixed(4);
  if (!cie_len || *cie_len == 0 || *cie_len == 0xffffffff) return CfiVerdict::kUnsafe;
  const size_t cie_body = c.at();
  if (*cie_len > s.frame.size() - cie_body) return CfiVerdict::kUnsafe;
  const size_t cie_end = cie_body + static_cast<size_t>(*cie_len);
  auto cie_id = c.Fixed(4);
  auto cie_version = c.Fixed(1);
  auto aug = c.CString();
  if (!cie_id || *cie_id != 0 || !cie_version || (*cie_version != 1 && *cie_version != 3) || !aug)
    return CfiVerdict::kUnsafe;
  if (aug->find("eh") == 0 && !c.Skip(8)) return CfiVerdict::kUnsafe;
  if (!c.Uleb() || !c.Sleb()) return CfiVerdict::kUnsafe;
  auto ra = *cie_version == 1 ? c.Fixed(1) : c.Uleb();
  if (!Reg(ra)) return CfiVerdict::kUnsafe;
  uint8_t fde_enc = 0x00;
  bool has_z = !aug->empty() && (*aug)[0] == 'z';
  if (has_z) {
    auto len = c.Uleb();
    if (!len) return CfiVerdict::kUnsafe;
    const size_t aug_end = c.at() + static_cast<size_t>(*len);
    if (*len > cie_end || aug_end > cie_end) return CfiVerdict::kUnsafe;
    for (char ch : aug->substr(1)) {
      if (ch == 'R') {
        auto enc = c.Fixed(1);
        if (!enc) return CfiVerdict::kUnsafe;
        fde_enc = static_cast<uint8_t>(*enc);
      } else if (ch == 'P') {
        auto enc = c.Fixed(1);
        if (!enc || !EncodedSize(static_cast<uint8_t>(*enc)) || !c.Skip(EncodedSize(static_cast<uint8_t>(*enc))))
          return CfiVerdict::kUnsafe;
      } else if (ch == 'L') {
        if (!c.Skip(1)) return CfiVerdict::kUnsafe;
      } else if (ch != 'S') {
        return CfiVerdict::kUnsafe;
      }
      if (c.at() > aug_end) return CfiVerdict::kUnsafe;
    }
    if (!c.Skip(aug_end - c.at())) return CfiVerdict::kUnsafe;
  } else if (!aug->empty()) {
    return CfiVerdict::kUnsafe;
  }
  const size_t address_size = EncodedSize(fde_enc);
  if (!address_size || !CheckProgram(c, cie_end, address_size)) return CfiVerdict::kUnsafe;

  if (!f.Skip(2 * address_size)) return CfiVerdict::kUnsafe;  // pc_begin, pc_range
  if (has_z) {
    auto len = f.Uleb();
    if (!len || !f.Skip(*len)) return CfiVerdict::kUnsafe;
  }
  if (f.at() > fde_end || !CheckProgram(f, fde_end, address_size)) return CfiVerdict::kUnsafe;
  return CfiVerdict::kSafe;
}

}  // namespace golens::profiler
