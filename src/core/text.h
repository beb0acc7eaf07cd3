// Text helpers every layer shares, written once: strict UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) and locale-independent fixed-point numbers.
//
//   valid_utf8("caf\xC3\xA9")            // true
//   utf8_safe("a\xFFz")                  // "a\uFFFDz": each bad byte replaced
//   size_t i = 0; next_code_point(s, i)  // U+FFFD (one byte consumed) at a bad sequence
//   fixed(0.123456, 5)                   // "0.12346"; NaN "-", inf "inf", -0 "0.00000"
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace deepcross {

// The length (1..4) of the valid UTF-8 sequence starting at s[i] (i < s.size()), or 0 when
// the bytes there are not one.
size_t utf8_sequence_length(std::string_view s, size_t i);
bool valid_utf8(std::string_view s);
// The code point at s[i], advancing i past it; U+FFFD, advancing one byte, where the bytes
// are not a valid sequence.
uint32_t next_code_point(std::string_view s, size_t& i);
// Appends the UTF-8 encoding of code point `c` (<= U+10FFFF).
void append_utf8(std::string& out, uint32_t c);
// `s` with each byte that does not start a valid sequence replaced by U+FFFD.
std::string utf8_safe(std::string_view s);

// `v` with `decimals` digits after the point (std::to_chars: exact, no locale); "-" for NaN,
// "inf"/"-inf", and 0 for -0.
std::string fixed(double v, int decimals);

}  // namespace deepcross
