#include "data/text_fields.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace deepcross {
namespace {

std::vector<std::string> split(FieldSplitter& s, std::string_view line, FieldProblem* p = nullptr) {
  std::vector<std::string_view> views;
  FieldProblem problem = s.split(line, views);
  if (p) *p = problem;
  return std::vector<std::string>(views.begin(), views.end());
}

using Fields = std::vector<std::string>;

TEST(TextFieldsTest, SplitsTabsWithoutQuoting) {
  FieldSplitter tsv('\t', false);
  EXPECT_EQ(split(tsv, "a\tb\t\tc"), (Fields{"a", "b", "", "c"}));
  EXPECT_EQ(split(tsv, ""), (Fields{""}));
  EXPECT_EQ(split(tsv, "\t"), (Fields{"", ""}));
  EXPECT_EQ(split(tsv, "\"a\tb\"\tc"), (Fields{"\"a", "b\"", "c"}));  // quotes are bytes
}

TEST(TextFieldsTest, SplitsCsvWithRfc4180Quotes) {
  FieldSplitter csv(',', true);
  EXPECT_EQ(split(csv, "a,b,,c"), (Fields{"a", "b", "", "c"}));
  EXPECT_EQ(split(csv, "a,"), (Fields{"a", ""}));
  EXPECT_EQ(split(csv, "\"a,b\",c"), (Fields{"a,b", "c"}));
  EXPECT_EQ(split(csv, "\"say \"\"hi\"\"\",\"\",x"), (Fields{"say \"hi\"", "", "x"}));
  EXPECT_EQ(split(csv, "\"\"\"\""), (Fields{"\""}));
  EXPECT_EQ(split(csv, "1,\"a\"\"b\",\"c\"\"\",d"), (Fields{"1", "a\"b", "c\"", "d"}));
  EXPECT_EQ(split(csv, "ab\"c,d"), (Fields{"ab\"c", "d"}));  // a quote inside is a byte
  EXPECT_EQ(split(csv, "x,\"\""), (Fields{"x", ""}));
}

TEST(TextFieldsTest, ReportsBadQuotingWithTheColumn) {
  FieldSplitter csv(',', true);
  FieldProblem p;
  split(csv, "a,\"b,c", &p);
  EXPECT_EQ(p.column, 2u);
  EXPECT_EQ(p.what, "unterminated quoted field (a quoted field may not span lines)");
  split(csv, "a,b,\"c\"d,e", &p);
  EXPECT_EQ(p.column, 3u);
  EXPECT_EQ(p.what,
            "unexpected character 'd' after a closing quote (expected ',' or the end of the "
            "line)");
  split(csv, "\"a\"\"", &p);
  EXPECT_EQ(p.column, 1u);
  EXPECT_FALSE(p.ok());
}

float number(std::string_view s) {
  float v = -12345;
  EXPECT_EQ(parse_number(s, &v), NumberStatus::kOk) << s;
  return v;
}

TEST(TextFieldsTest, ParsesFiniteDecimals) {
  EXPECT_EQ(number("0"), 0.0f);
  EXPECT_EQ(number("-2"), -2.0f);
  EXPECT_EQ(number("+4"), 4.0f);
  EXPECT_EQ(number("3.5"), 3.5f);
  EXPECT_EQ(number(".5"), 0.5f);
  EXPECT_EQ(number("5."), 5.0f);
  EXPECT_EQ(number("1e3"), 1000.0f);
  EXPECT_EQ(number("2.5E-3"), 0.0025f);
  EXPECT_EQ(number("-1.5e+2"), -150.0f);
  EXPECT_EQ(number("007"), 7.0f);
  EXPECT_TRUE(std::signbit(number("-0")));
  EXPECT_EQ(number("3.4028235e38"), std::numeric_limits<float>::max());
  EXPECT_EQ(number("1e-50"), 0.0f);  // underflow rounds to zero
  EXPECT_EQ(number("1e-45"), std::numeric_limits<float>::denorm_min());
}

TEST(TextFieldsTest, IntegerFastPathRoundsLikeFromChars) {
  for (std::string s : {"16777217", "16777219", "123456789012345678", "999999999999999999",
                        "1234567890123456789", "-33554435", "4294967295"}) {
    float expected;
    const char* begin = s.data() + (s[0] == '-');
    std::from_chars(begin, s.data() + s.size(), expected);
    if (s[0] == '-') expected = -expected;
    EXPECT_EQ(number(s), expected) << s;
  }
}

TEST(TextFieldsTest, RejectsWhatIsNotAFiniteDecimal) {
  float v;
  for (std::string_view s : {"+", "-", "+-1", "-+1", "--1", "1e", "abc", "1,5", " 1", "1 ", "0x1A",
                             "1.2.3", "e5", ".", "1e5x", "1_000"}) {
    EXPECT_EQ(parse_number(s, &v), NumberStatus::kInvalid) << s;
  }
  for (std::string_view s : {"nan", "NaN", "-nan", "inf", "-inf", "+inf", "Infinity", "INF"}) {
    EXPECT_EQ(parse_number(s, &v), NumberStatus::kNonFinite) << s;
  }
  for (std::string_view s : {"1e39", "-1e39", "3.4028236e38", "1e400", "1e-400"}) {
    EXPECT_EQ(parse_number(s, &v), NumberStatus::kOutOfRange) << s;
  }
  EXPECT_EQ(parse_number("information", &v), NumberStatus::kInvalid);
}

TEST(TextFieldsTest, DescribesNumberProblems) {
  EXPECT_EQ(number_problem(NumberStatus::kInvalid, "abc"), "invalid numeric value 'abc'");
  EXPECT_EQ(number_problem(NumberStatus::kNonFinite, "nan"),
            "invalid numeric value 'nan' (not a finite number)");
  EXPECT_EQ(number_problem(NumberStatus::kOutOfRange, "1e39"),
            "numeric value '1e39' is beyond float range");
  EXPECT_EQ(number_problem(NumberStatus::kOk, "1"), "");
}

TEST(TextFieldsTest, ParsesLabels) {
  float v = -1;
  EXPECT_EQ(parse_label("0", 1, &v), "");
  EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(parse_label("1", 1, &v), "");
  EXPECT_EQ(v, 1.0f);
  EXPECT_EQ(parse_label("1.0", 1, &v), "");
  EXPECT_EQ(v, 1.0f);
  EXPECT_EQ(parse_label("-0", 1, &v), "");
  EXPECT_FALSE(std::signbit(v));
  EXPECT_EQ(parse_label("2", 3, &v), "");
  EXPECT_EQ(v, 2.0f);
  EXPECT_EQ(parse_label("1", 2, &v), "");
  EXPECT_EQ(parse_label("", 1, &v), "missing label");
  EXPECT_EQ(parse_label("2", 1, &v), "invalid label '2' (expected 0 or 1)");
  EXPECT_EQ(parse_label("2", 2, &v), "invalid label '2' (expected 0 or 1)");
  EXPECT_EQ(parse_label("0.5", 1, &v), "invalid label '0.5' (expected 0 or 1)");
  EXPECT_EQ(parse_label("-1", 1, &v), "invalid label '-1' (expected 0 or 1)");
  EXPECT_EQ(parse_label("yes", 1, &v), "invalid label 'yes' (expected 0 or 1)");
  EXPECT_EQ(parse_label("nan", 1, &v), "invalid label 'nan' (expected 0 or 1)");
  EXPECT_EQ(parse_label("3", 3, &v), "invalid label '3' (expected an integer from 0 to 2)");
}

TEST(TextFieldsTest, QuotesFieldsForMessages) {
  EXPECT_EQ(quote_field("abc"), "'abc'");
  EXPECT_EQ(quote_field("a\tb\x01"), "'a?b?'");
  EXPECT_EQ(quote_field(std::string(50, 'x')), "'" + std::string(40, 'x') + "'...");
}

}  // namespace
}  // namespace deepcross
