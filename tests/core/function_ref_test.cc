#include "core/function_ref.h"

#include <gtest/gtest.h>

namespace deepcross {
namespace {

int apply(FunctionRef<int(int)> f, int x) { return f ? f(x) : -1; }

TEST(FunctionRef, CallsTheReferencedCallableWithItsState) {
  int calls = 0;
  const int offset = 10;
  auto add = [&](int x) {
    ++calls;
    return x + offset;
  };
  EXPECT_EQ(apply(add, 5), 15);
  EXPECT_EQ(apply(add, 7), 17);
  EXPECT_EQ(calls, 2);
}

TEST(FunctionRef, EmptyByDefault) {
  EXPECT_EQ(apply({}, 5), -1);
  FunctionRef<void()> none;
  EXPECT_FALSE(none);
}

int twice(int x) { return 2 * x; }

TEST(FunctionRef, TakesFunctionPointersAndMutableLambdas) {
  int (*pointer)(int) = twice;
  EXPECT_EQ(apply(pointer, 4), 8);
  int state = 0;
  auto counter = [state](int x) mutable { return state += x; };
  FunctionRef<int(int)> ref(counter);
  EXPECT_EQ(ref(2), 2);
  EXPECT_EQ(ref(3), 5);  // the same object is called each time, not a copy
}

}  // namespace
}  // namespace deepcross
