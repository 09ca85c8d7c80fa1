// pprof/merge: interning, summing, sample type intersection, header fields;
// and the store's label index helpers (bounded pairs, id lists).
#include <gtest/gtest.h>

#include "pprof/builder.h"
#include "pprof/merge.h"
#include "pprof/store/blob_codec.h"
#include "pprof/store/label_index.h"
#include "pprof/store/stable_ids.h"
#include "pprof/profile_io.h"

#include <set>

namespace golens {
namespace {

using pprof::Label;
using pprof::Profile;

// A profile with one stack per name path ("a;b;c" root first) and values.
Profile Make(std::vector<pprof::ValueType> types, const std::vector<std::pair<std::string, std::vector<int64_t>>>& stacks,
             int64_t time = 0, int64_t duration = 0, std::vector<Label> labels = {}) {
  pprof::ProfileBuilder b(types);
  b.header().time_nanos = time;
  b.header().duration_nanos = duration;
  b.header().period_type = {"cpu", "nanoseconds"};
  b.header().period = 100;
  for (const auto& [path, values] : stacks) {
    std::vector<uint64_t> locs;
    size_t pos = 0;
    while (pos <= path.size()) {
      size_t end = path.find(';', pos);
      if (end == std::string::npos) end = path.size();
      std::string name = path.substr(pos, end - pos);
      uint64_t f = b.AddFunction(name, name, name + ".go", 1);
      locs.insert(locs.begin(), b.AddLocation(0, 0x1000 + std::hash<std::string>{}(name) % 4096, {{f, 3, 0}}));
      pos = end + 1;
    }
    b.AddSample(locs, values, labels);
  }
  return b.Build();
}

std::map<std::string, std::vector<int64_t>> ByLeaf(const Profile& p) {
  pprof::ProfileIndex index(p);
  std::map<std::string, std::vector<int64_t>> out;
  for (const pprof::Sample& s : p.samples) {
    std::string name = index.function(index.location(s.location_ids[0])->lines[0].function_id)->name;
    auto& v = out[name];
    v.resize(s.values.size());
    for (size_t i = 0; i < s.values.size(); ++i) v[i] += s.values[i];
  }
  return out;
}

const std::vector<pprof::ValueType> kCpu = {{"samples", "count"}, {"cpu", "nanoseconds"}};

TEST(Merge, SumsEqualStacksAndInternsByContent) {
  Profile a = Make(kCpu, {{"main;f;g", {1, 10}}, {"main;h", {2, 20}}}, 1000, 10);
  Profile b = Make(kCpu, {{"main;h", {3, 30}}, {"main;f;g", {4, 40}}, {"main;k", {5, 50}}}, 1005, 20);
  auto m = pprof::MergeProfiles(std::vector<Profile>{a, b});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->samples.size(), 3u);
  auto leaves = ByLeaf(*m);
  EXPECT_EQ(leaves["g"], (std::vector<int64_t>{5, 50}));
  EXPECT_EQ(leaves["h"], (std::vector<int64_t>{5, 50}));
  EXPECT_EQ(leaves["k"], (std::vector<int64_t>{5, 50}));
  // main, f, g, h, k: each function once.
  EXPECT_EQ(m->functions.size(), 5u);
  EXPECT_EQ(m->time_nanos, 1000);
  EXPECT_EQ(m->duration_nanos, 25);  // 1000 .. 1025
  EXPECT_EQ(m->period, 100);
  EXPECT_EQ(m->sample_types, kCpu);
}

TEST(Merge, LabelsAreASet) {
  Profile a = Make(kCpu, {{"main;f", {1, 10}}}, 0, 0, {{"b", "2", 0, ""}, {"a", "1", 0, ""}});
  Profile b = Make(kCpu, {{"main;f", {1, 10}}}, 0, 0, {{"a", "1", 0, ""}, {"b", "2", 0, ""}});
  Profile c = Make(kCpu, {{"main;f", {1, 10}}}, 0, 0, {{"a", "other", 0, ""}});
  auto m = pprof::MergeProfiles(std::vector<Profile>{a, b, c});
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->samples.size(), 2u);
  EXPECT_EQ(m->samples[0].values[0] + m->samples[1].values[0], 3);
  EXPECT_TRUE(m->samples[0].values[0] == 2 || m->samples[1].values[0] == 2);
}

TEST(Merge, SampleTypesIntersectedOrUnitMismatchIsAnError) {
  Profile a = Make(kCpu, {{"main;f", {1, 10}}, {"main;g", {0, 5}}});
  Profile b = Make({{"cpu", "nanoseconds"}, {"alloc", "bytes"}}, {{"main;f", {7, 3}}, {"main;g", {0, 9}}});
  auto m = pprof::MergeProfiles(std::vector<Profile>{a, b});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->sample_types, (std::vector<pprof::ValueType>{{"cpu", "nanoseconds"}}));
  auto leaves = ByLeaf(*m);
  EXPECT_EQ(leaves["f"], (std::vector<int64_t>{17}));
  EXPECT_EQ(leaves["g"], (std::vector<int64_t>{5}));

  Profile ms = Make({{"cpu", "milliseconds"}}, {{"main;f", {1}}});
  pprof::ProfileMerger merger;
  ASSERT_TRUE(merger.Add(a).ok());
  auto bad = merger.Add(ms);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().Is(ErrorKind::kInvalidArgument));
  EXPECT_NE(bad.error().message.find("milliseconds"), std::string::npos) << bad.error().message;
  auto still = merger.Finish();  // the mismatch changed nothing
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->sample_types, kCpu);
  EXPECT_EQ(ByLeaf(*still)["f"], (std::vector<int64_t>{1, 10}));

  auto disjoint = pprof::MergeProfiles(std::vector<Profile>{Make({{"x", "count"}}, {{"m", {1}}}),
                                                            Make({{"y", "count"}}, {{"m", {1}}})});
  ASSERT_FALSE(disjoint.ok());
  EXPECT_TRUE(disjoint.error().Is(ErrorKind::kInvalidArgument));
  auto empty = pprof::MergeProfiles({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->samples.empty());
}

TEST(Merge, FilterAndComments) {
  Profile a = Make(kCpu, {{"main;f", {1, 10}}}, 0, 0, {{"worker", "a", 0, ""}});
  Profile b = Make(kCpu, {{"main;g", {2, 20}}}, 0, 0, {{"worker", "b", 0, ""}});
  a.comments = {"x", "y"};
  b.comments = {"y", "z"};
  pprof::ProfileMerger merger;
  ASSERT_TRUE(merger.Add(a, {{"worker", "b"}}).ok());
  ASSERT_TRUE(merger.Add(b, {{"worker", "b"}}).ok());
  auto m = merger.Finish();
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->samples.size(), 1u);
  EXPECT_EQ(ByLeaf(*m).count("g"), 1u);
  EXPECT_EQ(m->comments, (std::vector<std::string>{"x", "y", "z"}));
  // Locations of filtered-out samples are not carried along.
  EXPECT_EQ(m->locations.size(), 2u);

  pprof::ProfileMerger many;
  for (int i = 0; i < 100; ++i) {
    Profile p = a;
    p.comments = {"comment " + std::to_string(i)};
    ASSERT_TRUE(many.Add(p).ok());
  }
  auto bounded = many.Finish();
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->comments.size(), pprof::kMaxMergedComments + 1);
  EXPECT_NE(bounded->comments.back().find("68 more"), std::string::npos) << bounded->comments.back();
}

// The in-place reader of pprof bytes merges exactly as Add on the parsed model.
TEST(Merge, SerializedEqualsModel) {
  std::vector<Profile> inputs;
  for (int i = 0; i < 6; ++i) {
    Profile p = Make(kCpu, {{"main;f;g", {1, 10 + i}}, {"main;h", {2, 20}}, {"main;f;k" + std::to_string(i % 3), {3, 30}}},
                     1000 + i, 10, {{"worker", i % 2 ? "a" : "b", 0, ""}, {"n", "", i, "bytes"}});
    p.comments = {"c" + std::to_string(i % 2)};
    // Every other one with content-derived ids, as the store writes them.
    inputs.push_back(i % 2 ? *store::WithStableIds(p) : p);
  }
  pprof::ProfileMerger by_model, by_bytes;
  for (const Profile& p : inputs) {
    ASSERT_TRUE(by_model.Add(p).ok());
    std::string raw = *pprof::SerializePprof(p, false);
    auto r = by_bytes.AddSerialized(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto a = by_model.Finish();
  auto b = by_bytes.Finish();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*pprof::SerializePprof(*a, false), *pprof::SerializePprof(*b, false));
  EXPECT_EQ(a->comments, (std::vector<std::string>{"c0", "c1"}));

  // Garbage and truncations are kCorrupt and change nothing.
  pprof::ProfileMerger m;
  ASSERT_TRUE(m.Add(inputs[0]).ok());
  std::string raw = *pprof::SerializePprof(inputs[1], false);
  for (size_t cut : {size_t{1}, raw.size() / 3, raw.size() - 1}) {
    auto r = m.AddSerialized(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), cut));
    EXPECT_FALSE(r.ok()) << cut;
    if (!r.ok()) EXPECT_TRUE(r.error().Is(ErrorKind::kCorrupt)) << r.error().message;
  }
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(m.AddSerialized(junk).ok());
  auto only_first = m.Finish();
  ASSERT_TRUE(only_first.ok());
  EXPECT_EQ(*pprof::SerializePprof(*only_first, false),
            *pprof::SerializePprof(*pprof::MergeProfiles(std::vector<Profile>{inputs[0]}), false));
}

// Two builds whose content-derived ids collide (same addresses, other
// functions): the id memo never mixes them up.
TEST(Merge, SameIdsOtherContentAcrossBuilds) {
  Profile a = Make(kCpu, {{"main;f", {1, 10}}});
  Profile b = Make(kCpu, {{"main;g", {2, 20}}});
  // Force identical ids and addresses with different content.
  for (Profile* p : {&a, &b}) {
    for (pprof::Location& l : p->locations) l.address = 0x1000 + l.id;
  }
  pprof::ProfileMerger m;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(m.Add(a).ok());
    ASSERT_TRUE(m.Add(b).ok());
  }
  auto out = m.Finish();
  ASSERT_TRUE(out.ok());
  auto leaves = ByLeaf(*out);
  EXPECT_EQ(leaves["f"], (std::vector<int64_t>{3, 30}));
  EXPECT_EQ(leaves["g"], (std::vector<int64_t>{6, 60}));
  EXPECT_EQ(out->functions.size(), 3u);  // main, f, g
}

TEST(StableIds, SameContentSameBytesWhateverTheBuildOrder) {
  Profile a = Make(kCpu, {{"main;f;g", {1, 10}}, {"main;h", {2, 20}}, {"main;f;k", {3, 30}}});
  Profile b = Make(kCpu, {{"main;f;k", {3, 30}}, {"main;h", {2, 20}}, {"main;f;g", {1, 10}}});
  auto sa = store::WithStableIds(a);
  auto sb = store::WithStableIds(b);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_NE(*pprof::SerializePprof(a, false), *pprof::SerializePprof(b, false));
  EXPECT_EQ(*pprof::SerializePprof(*sa, false), *pprof::SerializePprof(*sb, false));
  EXPECT_EQ(ByLeaf(*sa), ByLeaf(a));
  // Two locations at one address (and one at 0) still get distinct ids.
  Profile c = a;
  for (pprof::Location& l : c.locations) l.address = l.id % 2 ? 0x5000 : 0;
  auto sc = store::WithStableIds(c);
  ASSERT_TRUE(sc.ok());
  EXPECT_EQ(ByLeaf(*sc), ByLeaf(a));
  std::set<uint64_t> ids;
  for (const pprof::Location& l : sc->locations) EXPECT_TRUE(ids.insert(l.id).second);
  // Dangling references are refused, not stored.
  Profile d = a;
  d.samples[0].location_ids.push_back(999);
  auto sd = store::WithStableIds(d);
  ASSERT_FALSE(sd.ok());
  EXPECT_TRUE(sd.error().Is(ErrorKind::kInvalidArgument));
}

TEST(LabelIndex, BoundedWithWildcards) {
  pprof::ProfileBuilder b(kCpu);
  uint64_t f = b.AddFunction("f", "f", "f.go", 1);
  uint64_t loc = b.AddLocation(0, 1, {{f, 1, 0}});
  std::vector<uint64_t> stack{loc};
  std::vector<int64_t> v{1, 1};
  for (int i = 0; i < 1000; ++i) {
    b.AddSample(stack, v, {{"goroutine", "", i, ""}, {"worker", i % 2 ? "a" : "b", 0, ""}, {"path", "/x", 0, ""}});
  }
  auto pairs = store::ExtractLabelPairs(b.Build(), 256);
  std::vector<store::LabelPair> want = {
      {"goroutine", "", true}, {"path", "/x", false}, {"worker", "a", false}, {"worker", "b", false}};
  EXPECT_EQ(pairs, want);

  // A few goroutines fit and are listed as their decimal numbers.
  pprof::ProfileBuilder small(kCpu);
  for (int i = 0; i < 3; ++i) small.AddSample(stack, v, {{"goroutine", "", 10 + i, ""}});
  auto listed = store::ExtractLabelPairs(small.Build(), 256);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0], (store::LabelPair{"goroutine", "10", false}));

  // More keys than the bound: a global wildcard, never more than the bound.
  pprof::ProfileBuilder wide(kCpu);
  std::vector<Label> labels;
  for (int i = 0; i < 20; ++i) labels.push_back({"k" + std::to_string(100 + i), "v", 0, ""});
  wide.AddSample(stack, v, labels);
  auto capped = store::ExtractLabelPairs(wide.Build(), 8);
  EXPECT_EQ(capped.size(), 8u);
  EXPECT_EQ(capped[0], (store::LabelPair{"", "", true}));
}

TEST(LabelIndex, IdListsRoundTripAndRejectGarbage) {
  std::vector<int64_t> ids = {900000, 3, 1, 127, 128, 16384, int64_t{1} << 40};
  std::string enc = store::EncodeIds(ids);
  auto dec = store::DecodeIds(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(enc.data()), enc.size()));
  ASSERT_TRUE(dec.ok());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(*dec, ids);
  const uint8_t truncated[] = {0x81, 0x82};
  EXPECT_FALSE(store::DecodeIds(truncated).ok());
  std::vector<uint8_t> overlong(12, 0xff);
  EXPECT_FALSE(store::DecodeIds(overlong).ok());
}

TEST(BlobCodec, RoundTripAndCorruption) {
  std::string raw;
  for (int i = 0; i < 2000; ++i) raw += "github.com/acme/svc/internal/api.(*Handler).Serve" + std::to_string(i % 50);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  auto blob = store::CompressBlob(bytes, 3, nullptr);
  ASSERT_TRUE(blob.ok());
  std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(blob->data()), blob->size());
  auto back = store::DecompressBlob(b, raw.size(), nullptr);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, raw);
  auto wrong_size = store::DecompressBlob(b, raw.size() + 1, nullptr);
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_TRUE(wrong_size.error().Is(ErrorKind::kCorrupt));
  std::string flipped = *blob;
  flipped[flipped.size() / 2] ^= 0x55;
  auto bad = store::DecompressBlob(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(flipped.data()), flipped.size()), raw.size(), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().Is(ErrorKind::kCorrupt)) << bad.error().message;

  // With a dictionary trained on similar data; without it, decoding fails cleanly.
  std::vector<std::string> samples(8, raw);
  std::string dict_bytes = store::TrainDictionary(samples, 16 * 1024);
  auto dict = store::Dictionary::Create(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(dict_bytes.data()), dict_bytes.size()), 3);
  ASSERT_TRUE(dict.ok());
  auto with = store::CompressBlob(bytes, 3, dict->get());
  ASSERT_TRUE(with.ok());
  std::span<const uint8_t> w(reinterpret_cast<const uint8_t*>(with->data()), with->size());
  auto ok = store::DecompressBlob(w, raw.size(), dict->get());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, raw);
  auto no_dict = store::DecompressBlob(w, raw.size(), nullptr);
  ASSERT_FALSE(no_dict.ok());
  EXPECT_TRUE(no_dict.error().Is(ErrorKind::kCorrupt));
  EXPECT_FALSE(store::DecompressBlob(std::span<const uint8_t>(), 0, nullptr).ok());
}

}  // namespace
}  // namespace golens
