#include "data/interner.h"

#include <cstring>

#include "core/check.h"

namespace deepcross {
namespace {

constexpr uint64_t kMul1 = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kMul2 = 0xBF58476D1CE4E5B9ull;

uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// 128-bit multiply folded to 64 bits: the mixing step of wyhash-style hashes.
uint64_t fold_mul(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

}  // namespace

uint64_t StringInterner::hash_bytes(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = kMul1 ^ (n * kMul2);
  while (n >= 8) {
    h = fold_mul(h ^ load64(p), kMul2);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = fold_mul(h ^ tail ^ (static_cast<uint64_t>(n) << 59), kMul2);
  }
  return fold_mul(h, kMul1);
}

uint64_t StringInterner::short_key(std::string_view s) {
  uint64_t key = 0;
  std::memcpy(&key, s.data(), s.size());
  return key;
}

uint32_t StringInterner::intern(std::string_view s, uint64_t hash) {
  if (2 * (hashes_.size() + 1) > slots_.size()) grow();
  const bool is_short = s.size() <= 8;
  const uint64_t key = is_short ? short_key(s) : hash;
  const uint32_t size = static_cast<uint32_t>(s.size());
  uint64_t i = hash & mask_;
  while (true) {
    const Slot& slot = slots_[i];
    if (slot.code == 0) break;
    if (slot.key == key && slot.size == size && (is_short || value(slot.code - 1) == s)) {
      return slot.code - 1;
    }
    i = (i + 1) & mask_;
  }
  DC_CHECK(hashes_.size() < 0xFFFFFFFEu && s.size() < 0xFFFFFFFFu);
  const uint32_t code = static_cast<uint32_t>(hashes_.size());
  slots_[i] = Slot{key, size, code + 1};
  arena_.append(s);
  offsets_.push_back(arena_.size());
  hashes_.push_back(hash);
  return code;
}

void StringInterner::reserve(size_t n) {
  size_t capacity = slots_.empty() ? 16 : slots_.size();
  while (capacity < 2 * (n + 1)) capacity *= 2;
  if (capacity > slots_.size()) rehash(capacity);
  hashes_.reserve(n);
  offsets_.reserve(n + 1);
}

void StringInterner::rehash(size_t capacity) {
  std::vector<Slot> old(capacity);
  old.swap(slots_);
  mask_ = capacity - 1;
  for (const Slot& slot : old) {
    if (slot.code == 0) continue;
    uint64_t i = hashes_[slot.code - 1] & mask_;
    while (slots_[i].code != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
}

std::vector<std::string> StringInterner::values() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (uint32_t c = 0; c < size(); ++c) out.emplace_back(value(c));
  return out;
}

}  // namespace deepcross
