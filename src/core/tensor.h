// Owned aligned buffers and non-owning row-major matrix views.
//
// Buffer<T> owns 64-byte aligned storage (cache line / AVX-512 width); it is sized once and
// never reallocated inside a training step. MatrixView<T> is a (rows x cols) row-major view
// with a leading dimension `ld` (>= cols), so column blocks of a wider matrix (the fields of
// x0, the halves of a concatenation) are views too.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#include "core/check.h"

namespace deepcross {

// Bytes held by all Buffers of the process (for the memory breakdown `train` prints).
inline std::atomic<size_t>& buffer_bytes_in_use() {
  static std::atomic<size_t> bytes{0};
  return bytes;
}

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t n) { resize(n); }
  Buffer(const Buffer& o) : Buffer(o.size_) {
    if (size_) std::memcpy(data_.get(), o.data_.get(), size_ * sizeof(T));
  }
  Buffer& operator=(const Buffer& o) {
    if (this != &o) {
      resize(o.size_);
      if (size_) std::memcpy(data_.get(), o.data_.get(), size_ * sizeof(T));
    }
    return *this;
  }
  Buffer(Buffer&& o) noexcept : data_(std::move(o.data_)), size_(o.size_) { o.size_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::move(o.data_);
      size_ = o.size_;
      o.size_ = 0;
    }
    return *this;
  }
  ~Buffer() { release(); }

  // Reallocates (zero-filled) when the size changes; contents are not preserved.
  void resize(size_t n) {
    if (n == size_ && data_) return;
    release();
    if (n == 0) return;
    size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    data_.reset(static_cast<T*>(p));
    size_ = n;
    buffer_bytes_in_use() += n * sizeof(T);
  }
  void zero() {
    if (size_) std::memset(data_.get(), 0, size_ * sizeof(T));
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }
  std::span<T> span() { return {data_.get(), size_}; }
  std::span<const T> span() const { return {data_.get(), size_}; }

 private:
  void release() {
    if (data_) buffer_bytes_in_use() -= size_ * sizeof(T);
    data_.reset();
    size_ = 0;
  }
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

template <typename T>
struct MatrixView {
  T* data = nullptr;
  int rows = 0;
  int cols = 0;
  int ld = 0;  // elements between the starts of consecutive rows

  MatrixView() = default;
  MatrixView(T* d, int r, int c) : data(d), rows(r), cols(c), ld(c) {}
  MatrixView(T* d, int r, int c, int lead) : data(d), rows(r), cols(c), ld(lead) {}

  T* row(int i) const { return data + static_cast<size_t>(i) * ld; }
  T& operator()(int i, int j) const { return data[static_cast<size_t>(i) * ld + j]; }
  // The first `n` rows (a smaller batch in a buffer sized for the largest).
  MatrixView top(int n) const { return {data, n, cols, ld}; }
  // Columns [c0, c0 + n).
  MatrixView columns(int c0, int n) const { return {data + c0, rows, n, ld}; }
  operator MatrixView<const T>() const { return {data, rows, cols, ld}; }
};

template <typename T>
using ConstMatrixView = MatrixView<const T>;

// Sets every element of a view to zero (rows may be strided).
template <typename T>
void zero(MatrixView<T> m) {
  for (int i = 0; i < m.rows; ++i) std::memset(m.row(i), 0, sizeof(T) * m.cols);
}

}  // namespace deepcross
