// StringInterner: gives each distinct byte string a dense code 0, 1, 2, ... in order of
// first appearance — the categorical dictionaries of a parsed Table.
//
//   StringInterner dict;
//   dict.intern("68fd1e64");  // 0
//   dict.intern("");          // 1 (the missing value is a value like any other)
//   dict.intern("68fd1e64");  // 0
//   dict.value(1);            // ""
//
// Open addressing with linear probing over a power-of-two slot array, at most half full.
// A slot holds the code and length, and the bytes themselves for values of up to 8 bytes
// (Criteo's hashed categories are 8 hex digits), so most lookups touch one cache line; longer
// values are compared against the arena that holds every value back to back. Hashes are
// remembered per code, so one interner can be merged into another
// (intern(value(c), hash(c))) without rehashing the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace deepcross {

class StringInterner {
 public:
  StringInterner() = default;

  // The code of `s`, adding it (with the next code) if it is new.
  uint32_t intern(std::string_view s) { return intern(s, hash_bytes(s)); }
  // The same, with `hash` == hash_bytes(s) already known.
  uint32_t intern(std::string_view s, uint64_t hash);

  // Starts loading the slot where a value with this hash would be looked up, so that several
  // lookups can wait for memory at once (call it a few lookups ahead).
  void prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }

  // Makes room for `n` values without rehashing (codes are unaffected).
  void reserve(size_t n);

  size_t size() const { return hashes_.size(); }
  std::string_view value(uint32_t code) const {
    return std::string_view(arena_).substr(offsets_[code], offsets_[code + 1] - offsets_[code]);
  }
  uint64_t hash(uint32_t code) const { return hashes_[code]; }
  // All values in code order.
  std::vector<std::string> values() const;

  // A fast 64-bit hash of arbitrary bytes (not cryptographic).
  static uint64_t hash_bytes(std::string_view s);

 private:
  // 16 slots to start (256 bytes): a one-row request interns one value per column, and the
  // 64-slot (1 KiB) start made every request's 26 tables large allocations (malloc
  // consolidation on each); serving a TSV row p50 27 → 25 µs.
  void grow() { rehash(slots_.empty() ? 16 : 2 * slots_.size()); }
  void rehash(size_t capacity);  // a power of two above 2 * size()

  struct Slot {
    uint64_t key = 0;   // the bytes, zero-padded (length <= 8), or the hash (longer)
    uint32_t size = 0;  // the value's length
    uint32_t code = 0;  // code + 1; 0 = empty slot
  };
  static uint64_t short_key(std::string_view s);  // s.size() <= 8

  std::vector<Slot> slots_;
  uint64_t mask_ = 0;                    // slots_.size() - 1
  std::string arena_;                    // all values back to back
  std::vector<uint64_t> offsets_ = {0};  // value c is arena_[offsets_[c], offsets_[c + 1])
  std::vector<uint64_t> hashes_;         // hash of value c
};

}  // namespace deepcross
