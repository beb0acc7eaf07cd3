// A small, portable, seeded random number generator (xoshiro256**, seeded by splitmix64).
//
// Unlike std::normal_distribution, every draw here is specified by this file alone, so the
// same seed gives the same numbers on every compiler and standard library: the basis of
// "one thread + a seed gives bitwise-identical parameters".
//
//   Rng rng(42);
//   double u = rng.uniform();        // [0, 1)
//   double z = rng.normal();         // N(0, 1), Box-Muller
//   uint64_t k = rng.below(10);      // 0..9, unbiased
//   Rng child = rng.split(3);        // an independent stream (per thread, per purpose)
#pragma once

#include <cstdint>

namespace deepcross {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
    has_spare_ = false;
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
  uint64_t below(uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>(next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>(next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();

  // A generator for an independent stream derived from this one's state and `stream`.
  Rng split(uint64_t stream) const {
    uint64_t x = s_[0] ^ (s_[3] + 0x9E3779B97F4A7C15ULL * (stream + 1));
    return Rng(splitmix64(x));
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace deepcross
