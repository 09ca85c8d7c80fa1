// Builder, codec, gzip and folded-stack unit tests.
#include <gtest/gtest.h>

#include "pprof/builder.h"
#include "pprof/gzip.h"
#include "pprof/profile.pb.h"
#include "pprof/profile_io.h"
#include "pprof/stack_frames.h"

namespace golens::pprof {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// main -> work -> (leaf inlined into work), plus a labelled sample.
Profile SmallProfile() {
  ProfileBuilder b({{"samples", "count"}, {"cpu", "nanoseconds"}});
  b.header().period_type = {"cpu", "nanoseconds"};
  b.header().period = 10'000'000;
  b.header().comments = {"deploy v1"};
  Mapping m;
  m.memory_start = 0x400000;
  m.memory_limit = 0x800000;
  m.filename = "/usr/bin/svc";
  m.build_id = "abcd";
  m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = true;
  uint64_t map = b.AddMapping(m);
  uint64_t f_main = b.AddFunction("main.main", "main.main", "/src/main.go", 10);
  uint64_t f_work = b.AddFunction("main.work", "main.work", "/src/main.go", 20);
  uint64_t f_leaf = b.AddFunction("main.leaf", "main.leaf", "/src/main.go", 30);
  uint64_t l_main = b.AddLocation(map, 0x401000, {{f_main, 12, 0}});
  uint64_t l_work = b.AddLocation(map, 0x402000, {{f_leaf, 31, 0}, {f_work, 22, 0}});
  std::vector<uint64_t> stack{l_work, l_main};
  b.AddSample(stack, std::vector<int64_t>{1, 10'000'000});
  b.AddSample(stack, std::vector<int64_t>{2, 20'000'000});
  b.AddSample(stack, std::vector<int64_t>{1, 10'000'000}, {{"worker", "alpha", 0, ""}});
  std::vector<uint64_t> main_only{l_main};
  b.AddSample(main_only, std::vector<int64_t>{4, 40'000'000}, {{"bytes", "", 4096, "bytes"}});
  return b.Build();
}

TEST(ProfileBuilder, InternsWithDenseIdsAndAggregates) {
  ProfileBuilder b({{"samples", "count"}});
  Mapping m;
  m.filename = "/bin/x";
  EXPECT_EQ(b.AddMapping(m), 1u);
  EXPECT_EQ(b.AddMapping(m), 1u);
  EXPECT_EQ(b.AddFunction("f", "f", "f.go", 1), 1u);
  EXPECT_EQ(b.AddFunction("g", "g", "f.go", 1), 2u);
  EXPECT_EQ(b.AddFunction("f", "f", "f.go", 1), 1u);
  EXPECT_EQ(b.AddFunction("f", "f", "f.go", 2), 3u);  // start_line is part of the key
  EXPECT_EQ(b.AddLocation(1, 0x10, {{1, 5, 0}}), 1u);
  EXPECT_EQ(b.AddLocation(1, 0x10, {{1, 5, 0}}), 1u);
  EXPECT_EQ(b.AddLocation(1, 0x10, {{1, 6, 0}}), 2u);
  std::vector<uint64_t> s{2, 1};
  b.AddSample(s, std::vector<int64_t>{3});
  b.AddSample(s, std::vector<int64_t>{4});
  b.AddSample(s, std::vector<int64_t>{5}, {{"k", "v", 0, ""}});
  Profile p = b.Build();
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].values, std::vector<int64_t>{7});
  EXPECT_EQ(p.samples[1].values, std::vector<int64_t>{5});
  EXPECT_EQ(p.functions.size(), 3u);
  EXPECT_EQ(p.locations.size(), 2u);
  EXPECT_EQ(p.mappings.size(), 1u);
  for (size_t i = 0; i < p.functions.size(); ++i) EXPECT_EQ(p.functions[i].id, i + 1);
}

TEST(ProfileIndex, SparseAndDenseIds) {
  Profile p;
  p.locations.push_back({.id = 0xdeadbeef00});
  p.locations.push_back({.id = 7});
  p.functions.push_back({.id = 1, .name = "a"});
  ProfileIndex index(p);
  EXPECT_EQ(index.location(7), &p.locations[1]);
  EXPECT_EQ(index.location(0xdeadbeef00), &p.locations[0]);
  EXPECT_EQ(index.location(8), nullptr);
  EXPECT_EQ(index.location(0), nullptr);
  EXPECT_EQ(index.function(1)->name, "a");
  EXPECT_EQ(index.mapping(1), nullptr);
}

TEST(SampleTypes, IndexAndDefault) {
  Profile p = SmallProfile();
  EXPECT_EQ(SampleTypeIndex(p, "cpu"), 1);
  EXPECT_EQ(SampleTypeIndex(p, "alloc"), -1);
  EXPECT_EQ(DefaultSampleTypeIndex(p), 1);  // last, like pprof
  p.default_sample_type = "samples";
  EXPECT_EQ(DefaultSampleTypeIndex(p), 0);
  EXPECT_EQ(SampleTypeNames(p), "samples, cpu");
}

TEST(ProtoCodec, RoundTripGzipAndRaw) {
  Profile p = SmallProfile();
  for (bool gzip : {true, false}) {
    auto bytes = SerializePprof(p, gzip);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_EQ(IsGzip(Bytes(*bytes)), gzip);
    auto back = ParsePprof(Bytes(*bytes));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->sample_types, p.sample_types);
    ASSERT_EQ(back->samples.size(), p.samples.size());
    for (size_t i = 0; i < p.samples.size(); ++i) {
      EXPECT_EQ(back->samples[i].location_ids, p.samples[i].location_ids);
      EXPECT_EQ(back->samples[i].values, p.samples[i].values);
      EXPECT_EQ(back->samples[i].labels, p.samples[i].labels);
    }
    ASSERT_EQ(back->locations.size(), 2u);
    EXPECT_EQ(back->locations[1].lines, p.locations[1].lines);
    EXPECT_EQ(back->functions[2].name, "main.leaf");
    EXPECT_EQ(back->functions[2].start_line, 30);
    EXPECT_EQ(back->mappings[0].build_id, "abcd");
    EXPECT_TRUE(back->mappings[0].has_inline_frames);
    EXPECT_EQ(back->period, 10'000'000);
    EXPECT_EQ(back->period_type, p.period_type);
    EXPECT_EQ(back->comments, p.comments);
  }
}

TEST(ProtoCodec, StringTableFirstUseOrderWithEmptyFirst) {
  auto bytes = SerializePprof(SmallProfile(), false);
  ASSERT_TRUE(bytes.ok());
  perftools::profiles::Profile pb;
  ASSERT_TRUE(pb.ParseFromString(*bytes));
  ASSERT_GE(pb.string_table_size(), 5);
  EXPECT_EQ(pb.string_table(0), "");
  EXPECT_EQ(pb.string_table(1), "samples");
  EXPECT_EQ(pb.string_table(2), "count");
  EXPECT_EQ(pb.string_table(3), "cpu");
  EXPECT_EQ(pb.string_table(4), "nanoseconds");
  std::set<std::string> unique(pb.string_table().begin(), pb.string_table().end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(pb.string_table_size())) << "duplicates";
}

TEST(ProtoCodec, GzipIsLevelOneAndMultiMemberAccepted) {
  std::string raw(100000, 'x');
  for (size_t i = 0; i < raw.size(); i += 7) raw[i] = static_cast<char>('a' + i % 26);
  auto one = GzipCompress(Bytes(raw), 1);
  auto nine = GzipCompress(Bytes(raw), 9);
  ASSERT_TRUE(one.ok() && nine.ok());
  EXPECT_EQ(static_cast<uint8_t>((*one)[8]), 4) << "XFL=4 marks the fastest level";
  auto twice = GzipDecompress(Bytes(*one + *nine));
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  EXPECT_EQ(*twice, raw + raw);
}

TEST(ProtoCodec, GzipBombIsRefused) {
  std::string zeros(8 << 20, '\0');
  auto packed = GzipCompress(Bytes(zeros), 9);
  ASSERT_TRUE(packed.ok());
  EXPECT_LT(packed->size(), 64u << 10);
  auto r = GzipDecompress(Bytes(*packed), 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exceeds"), std::string::npos) << r.error().message;
}

TEST(ProtoCodec, SparseIdsFromOtherWriters) {
  // Some writers use addresses as ids: everything must still resolve.
  Profile p;
  p.sample_types = {{"samples", "count"}};
  p.functions.push_back({.id = 0x7f0000001000, .name = "outer", .system_name = "outer"});
  p.functions.push_back({.id = 0x7f0000002000, .name = "inner", .system_name = "inner"});
  p.locations.push_back({.id = 0x400123, .lines = {{0x7f0000002000, 1, 0}, {0x7f0000001000, 2, 0}}});
  p.samples.push_back({.location_ids = {0x400123}, .values = {5}});
  auto bytes = SerializePprof(p, true);
  ASSERT_TRUE(bytes.ok());
  auto back = ParsePprof(Bytes(*bytes));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(ToFolded(*back), "outer;inner_[i] 5\n");
}

TEST(ProfileBuilder, ReusableAfterBuild) {
  ProfileBuilder b({{"samples", "count"}});
  uint64_t f = b.AddFunction("f", "f", "", 0);
  std::vector<uint64_t> s{b.AddLocation(0, 1, {{f, 0, 0}})};
  b.AddSample(s, std::vector<int64_t>{1});
  Profile first = b.Build();
  EXPECT_EQ(first.samples.size(), 1u);
  EXPECT_EQ(b.AddFunction("g", "g", "", 0), 1u) << "ids restart at 1 for the next profile";
  Profile second = b.Build();
  EXPECT_TRUE(second.samples.empty());
  EXPECT_EQ(second.sample_types, first.sample_types);
}

TEST(ProtoCodec, BadInputGivesClearErrors) {
  auto good = SerializePprof(SmallProfile(), true);
  ASSERT_TRUE(good.ok());
  auto empty = ParsePprof({});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);

  std::string truncated = good->substr(0, good->size() / 2);
  auto t = ParsePprof(Bytes(truncated));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("truncated"), std::string::npos) << t.error().message;

  std::string corrupt = *good;
  for (size_t i = 20; i < corrupt.size() - 8; i += 3) corrupt[i] ^= 0x5a;
  auto c = ParsePprof(Bytes(corrupt));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("gzip"), std::string::npos) << c.error().message;

  std::string garbage = "\x08\x96\x01\xff\xff\xff";
  auto g = ParsePprof(Bytes(garbage));
  ASSERT_FALSE(g.ok());
  EXPECT_FALSE(g.error().message.empty());
}

TEST(ProtoCodec, ValidationMirrorsPprof) {
  Profile p = SmallProfile();
  p.samples[0].values.pop_back();
  auto bytes = SerializePprof(p, false);
  ASSERT_TRUE(bytes.ok());
  auto r = ParsePprof(Bytes(*bytes));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("mismatch: sample has 1 values vs. 2 types"), std::string::npos)
      << r.error().message;

  Profile q = SmallProfile();
  q.samples[0].location_ids.push_back(99);
  r = ParsePprof(Bytes(*SerializePprof(q, false)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nil location"), std::string::npos);

  Profile d = SmallProfile();
  d.functions[1].id = 1;
  r = ParsePprof(Bytes(*SerializePprof(d, false)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("multiple functions with same id: 1"), std::string::npos);

  perftools::profiles::Profile pb;
  pb.add_string_table("");
  pb.add_sample_type()->set_type(5);  // out of range
  std::string raw;
  pb.SerializeToString(&raw);
  r = ParsePprof(Bytes(raw));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("string table"), std::string::npos) << r.error().message;
}

TEST(Folded, ParseAggregatesAndAnnotations) {
  auto p = ParseFolded(
      "# comment\n"
      "main;foo;bar 5\n"
      "main;foo;bar 2\n"
      "main;foo::bar 1\n"
      "main;work;leaf_[i] 3\n"
      "main;syscall;sys_write_[k] 4\n"
      "frame with spaces;x 1.6\n"
      "\n");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->sample_types.size(), 1u);
  EXPECT_EQ(p->sample_types[0].type, "samples");
  int64_t total = 0;
  for (const Sample& s : p->samples) total += s.values[0];
  EXPECT_EQ(total, 5 + 2 + 1 + 3 + 4 + 2);
  EXPECT_EQ(p->samples.size(), 5u);
  std::string folded = ToFolded(*p);
  EXPECT_EQ(folded,
            "frame with spaces;x 2\n"
            "main;foo::bar 1\n"
            "main;foo;bar 7\n"
            "main;syscall;sys_write_[k] 4\n"
            "main;work;leaf_[i] 3\n");
  // The inlined frame became a second Line of work's location.
  ProfileIndex index(*p);
  bool found_inline = false;
  for (const Location& l : p->locations) {
    auto frames = LocationFrames(l, index);
    if (frames.size() == 2) {
      found_inline = true;
      EXPECT_EQ(frames[0].name, "work");
      EXPECT_EQ(frames[1].name, "leaf");
      EXPECT_TRUE(frames[1].inlined);
    }
  }
  EXPECT_TRUE(found_inline);
}

TEST(Folded, Errors) {
  EXPECT_FALSE(ParseFolded("").ok());
  auto bad = ParseFolded("this is not folded\nnor this\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 1"), std::string::npos) << bad.error().message;
  auto neg = ParseFolded("a;b -3\n");
  EXPECT_FALSE(neg.ok());
}

TEST(Folded, ToFoldedReplacesSeparatorsAndHonorsSampleIndex) {
  Profile p = SmallProfile();
  p.functions[0].name = "weird;name";
  EXPECT_EQ(ToFolded(p, 0),
            "weird:name 4\n"
            "weird:name;main.work;main.leaf_[i] 4\n");
  EXPECT_EQ(ToFolded(p), "weird:name 40000000\nweird:name;main.work;main.leaf_[i] 40000000\n");
}

}  // namespace
}  // namespace golens::pprof
