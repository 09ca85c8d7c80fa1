#include "pprof/profile_view.h"

#include <cstring>
#include <limits>

namespace golens::pprof {

Error MalformedProfile(const std::string& what) {
  return MakeError("malformed profile: " + what, ErrorKind::kCorrupt);
}

void ViewOf(const Profile& p, View* v) {
  v->Clear();
  for (const ValueType& t : p.sample_types) v->types.emplace_back(t.type, t.unit);
  for (const Sample& s : p.samples) {
    VSample vs;
    vs.loc_begin = static_cast<uint32_t>(v->sample_locs.size());
    vs.loc_count = static_cast<uint32_t>(s.location_ids.size());
    v->sample_locs.insert(v->sample_locs.end(), s.location_ids.begin(), s.location_ids.end());
    vs.val_begin = static_cast<uint32_t>(v->sample_vals.size());
    vs.val_count = static_cast<uint32_t>(s.values.size());
    v->sample_vals.insert(v->sample_vals.end(), s.values.begin(), s.values.end());
    vs.label_begin = static_cast<uint32_t>(v->labels.size());
    vs.label_count = static_cast<uint32_t>(s.labels.size());
    for (const Label& l : s.labels) v->labels.push_back(VLabel{l.key, l.str, l.num, l.num_unit});
    v->samples.push_back(vs);
  }
  for (const Mapping& m : p.mappings) {
    v->mappings.push_back(VMapping{m.id, m.memory_start, m.memory_limit, m.file_offset, m.filename, m.build_id,
                                   static_cast<uint8_t>(m.has_functions | m.has_filenames << 1 |
                                                        m.has_line_numbers << 2 | m.has_inline_frames << 3)});
  }
  for (const Location& l : p.locations) {
    VLocation vl{l.id, l.mapping_id, l.address, static_cast<uint32_t>(v->lines.size()),
                 static_cast<uint32_t>(l.lines.size()), l.is_folded};
    for (const Line& line : l.lines) v->lines.push_back(VLine{line.function_id, line.line, line.column});
    v->locations.push_back(vl);
  }
  for (const Function& f : p.functions) {
    v->functions.push_back(VFunction{f.id, f.name, f.system_name, f.filename, f.start_line});
  }
  for (const std::string& c : p.comments) v->comments.push_back(c);
  v->drop_frames = p.drop_frames;
  v->keep_frames = p.keep_frames;
  v->default_sample_type = p.default_sample_type;
  v->doc_url = p.doc_url;
  v->period_type = {p.period_type.type, p.period_type.unit};
  v->time_nanos = p.time_nanos;
  v->duration_nanos = p.duration_nanos;
  v->period = p.period;
}

namespace {



class WireReader {
 public:
  WireReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  explicit WireReader(std::span<const uint8_t> s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool done() const { return p_ >= end_; }

  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = *p_++;
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool Tag(uint32_t* field, uint32_t* wire) {
    uint64_t t;
    if (!Varint(&t) || (t >> 3) == 0 || (t >> 3) > 0xffffffffu) return false;
    *field = static_cast<uint32_t>(t >> 3);
    *wire = static_cast<uint32_t>(t & 7);
    return true;
  }
  bool Delimited(std::span<const uint8_t>* out) {
    uint64_t n;
    if (!Varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::span<const uint8_t>(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool Skip(uint32_t wire) {
    uint64_t v;
    std::span<const uint8_t> s;
    switch (wire) {
      case 0:
        return Varint(&v);
      case 1:
        if (end_ - p_ < 8) return false;
        p_ += 8;
        return true;
      case 2:
        return Delimited(&s);
      case 5:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default:
        return false;
    }
  }
  // A repeated integer field, packed (wire 2) or not (wire 0).
  template <typename T>
  bool Repeated(uint32_t wire, std::vector<T>* out) {
    uint64_t v;
    if (wire == 0) {
      if (!Varint(&v)) return false;
      out->push_back(static_cast<T>(v));
      return true;
    }
    std::span<const uint8_t> packed;
    if (wire != 2 || !Delimited(&packed)) return false;
    WireReader r(packed);
    while (!r.done()) {
      if (!r.Varint(&v)) return false;
      out->push_back(static_cast<T>(v));
    }
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Reads message `m` field by field: fn(field, wire, reader) returns false on malformed input.
template <typename Fn>
bool ForFields(std::span<const uint8_t> m, Fn fn) {
  WireReader r(m);
  while (!r.done()) {
    uint32_t field, wire;
    if (!r.Tag(&field, &wire) || !fn(field, wire, r)) return false;
  }
  return true;
}

}  // namespace

Result<void> ViewOfWire(std::span<const uint8_t> data, View* v, StringTable* strings) {
  v->Clear();
  strings->strings.clear();
  strings->error.clear();
  // The string table may come anywhere; read it first.
  bool ok = ForFields(data, [&](uint32_t field, uint32_t wire, WireReader& r) {
    if (field != 6) return r.Skip(wire);
    std::span<const uint8_t> s;
    if (wire != 2 || !r.Delimited(&s)) return false;
    strings->strings.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
    return true;
  });
  if (!ok) return MalformedProfile("bad protobuf encoding");
  if (strings->strings.empty() || !strings->strings[0].empty()) {
    return MalformedProfile("string table must start with \"\"");
  }
  StringTable& st = *strings;
  auto value_type = [&](std::span<const uint8_t> m, std::pair<std::string_view, std::string_view>* out) {
    return ForFields(m, [&](uint32_t field, uint32_t wire, WireReader& r) {
      uint64_t x;
      if (wire != 0 || (field != 1 && field != 2)) return r.Skip(wire);
      if (!r.Varint(&x)) return false;
      (field == 1 ? out->first : out->second) = st.Get(x, "value type");
      return true;
    });
  };
  std::vector<uint64_t> comment_idx;
  ok = ForFields(data, [&](uint32_t field, uint32_t wire, WireReader& r) {
    uint64_t x;
    std::span<const uint8_t> m;
    switch (field) {
      case 1: {
        if (wire != 2 || !r.Delimited(&m)) return false;
        v->types.emplace_back();
        return value_type(m, &v->types.back());
      }
      case 2: {
        if (wire != 2 || !r.Delimited(&m)) return false;
        VSample s;
        s.loc_begin = static_cast<uint32_t>(v->sample_locs.size());
        s.val_begin = static_cast<uint32_t>(v->sample_vals.size());
        s.label_begin = static_cast<uint32_t>(v->labels.size());
        bool sample_ok = ForFields(m, [&](uint32_t f, uint32_t w, WireReader& sr) {
          if (f == 1) return sr.Repeated(w, &v->sample_locs);
          if (f == 2) return sr.Repeated(w, &v->sample_vals);
          if (f != 3) return sr.Skip(w);
          std::span<const uint8_t> lm;
          if (w != 2 || !sr.Delimited(&lm)) return false;
          VLabel label;
          bool label_ok = ForFields(lm, [&](uint32_t lf, uint32_t lw, WireReader& lr) {
            uint64_t y;
            if (lw != 0 || lf < 1 || lf > 4) return lr.Skip(lw);
            if (!lr.Varint(&y)) return false;
            if (lf == 1) label.key = st.Get(y, "label key");
            if (lf == 2) label.str = st.Get(y, "label str");
            if (lf == 3) label.num = static_cast<int64_t>(y);
            if (lf == 4) label.unit = st.Get(y, "label unit");
            return true;
          });
          v->labels.push_back(label);
          return label_ok;
        });
        s.loc_count = static_cast<uint32_t>(v->sample_locs.size() - s.loc_begin);
        s.val_count = static_cast<uint32_t>(v->sample_vals.size() - s.val_begin);
        s.label_count = static_cast<uint32_t>(v->labels.size() - s.label_begin);
        v->samples.push_back(s);
        return sample_ok;
      }
      case 3: {
        if (wire != 2 || !r.Delimited(&m)) return false;
        VMapping mp;
        bool mapping_ok = ForFields(m, [&](uint32_t f, uint32_t w, WireReader& mr) {
          uint64_t y;
          if (w != 0 || f < 1 || f > 10) return mr.Skip(w);
          if (!mr.Varint(&y)) return false;
          switch (f) {
            case 1: mp.id = y; break;
            case 2: mp.start = y; break;
            case 3: mp.limit = y; break;
            case 4: mp.offset = y; break;
            case 5: mp.filename = st.Get(y, "mapping filename"); break;
            case 6: mp.build_id = st.Get(y, "mapping build id"); break;
            default: if (y) mp.flags |= static_cast<uint8_t>(1u << (f - 7)); break;
          }
          return true;
        });
        v->mappings.push_back(mp);
        return mapping_ok;
      }
      case 4: {
        if (wire != 2 || !r.Delimited(&m)) return false;
        VLocation loc;
        loc.line_begin = static_cast<uint32_t>(v->lines.size());
        bool location_ok = ForFields(m, [&](uint32_t f, uint32_t w, WireReader& lr) {
          uint64_t y;
          if (f == 4) {
            std::span<const uint8_t> lm;
            if (w != 2 || !lr.Delimited(&lm)) return false;
            VLine line;
            bool line_ok = ForFields(lm, [&](uint32_t nf, uint32_t nw, WireReader& nr) {
              uint64_t z;
              if (nw != 0 || nf < 1 || nf > 3) return nr.Skip(nw);
              if (!nr.Varint(&z)) return false;
              if (nf == 1) line.function_id = z;
              if (nf == 2) line.line = static_cast<int64_t>(z);
              if (nf == 3) line.column = static_cast<int64_t>(z);
              return true;
            });
            v->lines.push_back(line);
            return line_ok;
          }
          if (w != 0 || f < 1 || f > 5) return lr.Skip(w);
          if (!lr.Varint(&y)) return false;
          if (f == 1) loc.id = y;
          if (f == 2) loc.mapping_id = y;
          if (f == 3) loc.address = y;
          if (f == 5) loc.is_folded = y != 0;
          return true;
        });
        loc.line_count = static_cast<uint32_t>(v->lines.size() - loc.line_begin);
        v->locations.push_back(loc);
        return location_ok;
      }
      case 5: {
        if (wire != 2 || !r.Delimited(&m)) return false;
        VFunction fn;
        bool function_ok = ForFields(m, [&](uint32_t f, uint32_t w, WireReader& fr) {
          uint64_t y;
          if (w != 0 || f < 1 || f > 5) return fr.Skip(w);
          if (!fr.Varint(&y)) return false;
          if (f == 1) fn.id = y;
          if (f == 2) fn.name = st.Get(y, "function name");
          if (f == 3) fn.system_name = st.Get(y, "function system name");
          if (f == 4) fn.filename = st.Get(y, "function filename");
          if (f == 5) fn.start_line = static_cast<int64_t>(y);
          return true;
        });
        v->functions.push_back(fn);
        return function_ok;
      }
      case 11:
        if (wire != 2 || !r.Delimited(&m)) return false;
        return value_type(m, &v->period_type);
      case 13:
        return r.Repeated(wire, &comment_idx);
      case 7: case 8: case 9: case 10: case 12: case 14: case 15: {
        if (wire != 0 || !r.Varint(&x)) return false;
        if (field == 7) v->drop_frames = st.Get(x, "drop_frames");
        if (field == 8) v->keep_frames = st.Get(x, "keep_frames");
        if (field == 9) v->time_nanos = static_cast<int64_t>(x);
        if (field == 10) v->duration_nanos = static_cast<int64_t>(x);
        if (field == 12) v->period = static_cast<int64_t>(x);
        if (field == 14) v->default_sample_type = st.Get(x, "default_sample_type");
        if (field == 15) v->doc_url = st.Get(x, "doc_url");
        return true;
      }
      default:
        return r.Skip(wire);
    }
  });
  if (!ok) return MalformedProfile("bad protobuf encoding");
  for (uint64_t c : comment_idx) v->comments.push_back(st.Get(c, "comment"));
  if (!st.error.empty()) return MalformedProfile(st.error);
  return Ok();
}

// ---- sample filter on a view (sample_filter.h semantics) ----------------

bool ViewSampleMatches(const View& v, const VSample& s, const std::vector<TagFilter>& filters) {
  return MatchesTagFilters(filters, [&](const TagFilter& filter) {
    for (uint32_t k = 0; k < s.label_count; ++k) {
      const VLabel& l = v.labels[s.label_begin + k];
      if (LabelIs(l.key, l.str, l.num, filter)) return true;
    }
    return false;
  });
}

}  // namespace golens::pprof
