#include "core/float_env.h"

#include <omp.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace deepcross {
namespace {

#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFtz = 0x8000;  // MXCSR bit 15: flush to zero
constexpr unsigned kDaz = 0x0040;  // MXCSR bit 6: denormals are zero
void set_this_thread() { _mm_setcsr(_mm_getcsr() | kFtz | kDaz); }
#else
void set_this_thread() {}
#endif

}  // namespace

void flush_subnormals_to_zero() {
  set_this_thread();
#pragma omp parallel
  set_this_thread();
}

bool subnormals_flushed() {
#if defined(__x86_64__) || defined(__i386__)
  return (_mm_getcsr() & (kFtz | kDaz)) == (kFtz | kDaz);
#else
  return false;
#endif
}

}  // namespace deepcross
