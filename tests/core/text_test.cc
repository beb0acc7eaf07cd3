// core/text.h: the one strict UTF-8 decoder (reader column names, model tensor names, serve
// error bodies, SVG text) and fixed().
#include "core/text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace deepcross {
namespace {

TEST(Utf8, ValidSequencesAndTheirLengths) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3u);
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF
}

TEST(Utf8, StrictRefusals) {
  EXPECT_FALSE(valid_utf8("\x80"));              // a continuation byte first
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(valid_utf8("\xC3"));              // cut short at the end
  EXPECT_FALSE(valid_utf8("\xE2\x82"));
  EXPECT_FALSE(valid_utf8("\xC3("));
}

TEST(Utf8, DecodingReplacesEachBadByte) {
  const std::string s = "a\xFF\xC3\xA9\xE2\x82";
  size_t i = 0;
  EXPECT_EQ(next_code_point(s, i), uint32_t{'a'});
  EXPECT_EQ(next_code_point(s, i), 0xFFFDu);
  EXPECT_EQ(i, 2u);
  EXPECT_EQ(next_code_point(s, i), 0xE9u);
  EXPECT_EQ(next_code_point(s, i), 0xFFFDu);
  EXPECT_EQ(next_code_point(s, i), 0xFFFDu);
  EXPECT_EQ(i, s.size());
  EXPECT_EQ(utf8_safe(s), "a\uFFFD\u00E9\uFFFD\uFFFD");
  std::string out;
  for (uint32_t c : {0x41u, 0xE9u, 0x20ACu, 0x1F600u}) append_utf8(out, c);
  EXPECT_EQ(out, "A\u00E9\u20AC\U0001F600");
}

TEST(Fixed, DigitsAndSpecialValues) {
  EXPECT_EQ(fixed(0.123456, 5), "0.12346");
  EXPECT_EQ(fixed(2.75, 0), "3");
  EXPECT_EQ(fixed(-0.0, 1), "0.0");
  EXPECT_EQ(fixed(-1.26, 1), "-1.3");
  EXPECT_EQ(fixed(std::numeric_limits<double>::quiet_NaN(), 3), "-");
  EXPECT_EQ(fixed(INFINITY, 3), "inf");
  EXPECT_EQ(fixed(-INFINITY, 3), "-inf");
  EXPECT_EQ(fixed(1e300, 0).size(), 301u);
}

}  // namespace
}  // namespace deepcross
