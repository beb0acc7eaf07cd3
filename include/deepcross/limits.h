// The bounds of a model's shape: the one place both the library (nn/config.cc validate, which
// also guards model files) and the command line's flags (tools/cli/option_table.cc) take them
// from.
//
//   if (spec.model.classes > deepcross::limits::kMaxClasses) ...
#pragma once

namespace deepcross::limits {

inline constexpr int kMinEmbedMax = 2;  // d_j = min(max(floor(sqrt(c_j)), 2), embed_max)
inline constexpr int kMaxEmbedMax = 1024;
inline constexpr int kMaxCrossLayers = 64;
inline constexpr int kMaxLowRank = 4096;
inline constexpr int kMaxExperts = 64;
inline constexpr int kMaxHidden = 65536;  // units of one MLP layer
inline constexpr int kMaxClasses = 65536;

}  // namespace deepcross::limits
