// Invariant checks: a failed DC_CHECK is a bug in deepcross, not in the user's input.
// It prints the condition and location and aborts, in every build type (tests and users
// must not depend on NDEBUG). User-facing problems throw deepcross::Error instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#define DC_CHECK(cond)                                                              \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "deepcross: internal error: check failed: %s (%s:%d)\n", \
                   #cond, __FILE__, __LINE__);                                      \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
