// Subnormal floats, flushed: FTZ (results that would be subnormal become 0) and DAZ (subnormal
// inputs read as 0) in the x86 MXCSR register.
//
// Why: training produces subnormal values in places — a gate's softmax weight of exp(-100),
// the products formed from it, Adam moments of nearly idle weights — and every arithmetic
// instruction touching one takes a microcode assist (~100 cycles instead of ~4). Measured on
// the mix cross at 1 thread: epochs 1–5 at 55k samples/s, then 2.5–7k samples/s once gate
// weights underflowed, 15x slower. With FTZ/DAZ nothing slows down; the values affected are
// below 1.2e-38 in magnitude, far below anything that changes a prediction. TensorFlow and
// oneDNN's guidance do the same on CPUs.
//
// The setting is per thread and inherited by threads created afterwards: call it first thing
// in main(), before any thread pool exists. It also sets every OpenMP thread that already
// exists (one parallel region across the default team). The CLI does this; library users
// opt in.
#pragma once

namespace deepcross {

void flush_subnormals_to_zero();

// Whether FTZ and DAZ are both set on the calling thread.
bool subnormals_flushed();

}  // namespace deepcross
