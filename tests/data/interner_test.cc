#include "data/interner.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

namespace deepcross {
namespace {

TEST(InternerTest, CodesFollowFirstAppearance) {
  StringInterner d;
  EXPECT_EQ(d.intern("68fd1e64"), 0u);
  EXPECT_EQ(d.intern(""), 1u);
  EXPECT_EQ(d.intern("68fd1e64"), 0u);
  EXPECT_EQ(d.intern("a much longer value than eight bytes"), 2u);
  EXPECT_EQ(d.intern(""), 1u);
  EXPECT_EQ(d.intern("a much longer value than eight bytes"), 2u);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.value(0), "68fd1e64");
  EXPECT_EQ(d.value(1), "");
  EXPECT_EQ(d.value(2), "a much longer value than eight bytes");
  EXPECT_EQ(d.values(),
            (std::vector<std::string>{"68fd1e64", "", "a much longer value than eight bytes"}));
}

TEST(InternerTest, DistinguishesZeroPaddingAndEmbeddedNul) {
  StringInterner d;
  const std::string a("a", 1), a0("a\0", 2), a00("a\0\0\0\0\0\0\0", 8), a9("a\0\0\0\0\0\0\0\0", 9);
  EXPECT_EQ(d.intern(a), 0u);
  EXPECT_EQ(d.intern(a0), 1u);
  EXPECT_EQ(d.intern(a00), 2u);
  EXPECT_EQ(d.intern(a9), 3u);
  EXPECT_EQ(d.intern(a0), 1u);
  EXPECT_EQ(d.value(3), a9);
}

TEST(InternerTest, GrowsAndKeepsEveryCode) {
  StringInterner d;
  std::unordered_map<std::string, uint32_t> expected;
  for (int i = 0; i < 50000; ++i) {
    std::string s = std::to_string(i * 7919 % 30011) + (i % 3 == 0 ? "-long-suffix" : "");
    auto [it, inserted] = expected.emplace(s, static_cast<uint32_t>(expected.size()));
    EXPECT_EQ(d.intern(s), it->second);
  }
  EXPECT_EQ(d.size(), expected.size());
  for (const auto& [s, code] : expected) ASSERT_EQ(d.value(code), s);
}

TEST(InternerTest, ReserveAndPrefetchDoNotChangeCodes) {
  StringInterner a, b;
  b.prefetch(StringInterner::hash_bytes("x"));  // harmless on an empty interner
  b.reserve(10000);
  for (int i = 0; i < 3000; ++i) {
    const std::string s = "v" + std::to_string(i % 1700);
    b.prefetch(StringInterner::hash_bytes(s));
    EXPECT_EQ(a.intern(s), b.intern(s));
    if (i == 100) b.reserve(5);  // smaller than the size: no effect
  }
  EXPECT_EQ(a.values(), b.values());
}

TEST(InternerTest, MergesWithRememberedHashes) {
  StringInterner local, global;
  global.intern("b");
  for (const char* s : {"a", "b", "a", "c-long-value-x"}) local.intern(s);
  std::vector<uint32_t> map;
  for (uint32_t c = 0; c < local.size(); ++c) {
    EXPECT_EQ(local.hash(c), StringInterner::hash_bytes(local.value(c)));
    map.push_back(global.intern(local.value(c), local.hash(c)));
  }
  EXPECT_EQ(map, (std::vector<uint32_t>{1, 0, 2}));
  EXPECT_EQ(global.value(2), "c-long-value-x");
}

TEST(InternerTest, HashDependsOnEveryByte) {
  EXPECT_NE(StringInterner::hash_bytes("abcdefgh"), StringInterner::hash_bytes("abcdefgi"));
  EXPECT_NE(StringInterner::hash_bytes("abcdefghijk"), StringInterner::hash_bytes("abcdefghijl"));
  EXPECT_NE(StringInterner::hash_bytes(""), StringInterner::hash_bytes(std::string(1, '\0')));
  EXPECT_EQ(StringInterner::hash_bytes("same"), StringInterner::hash_bytes("same"));
}

}  // namespace
}  // namespace deepcross
