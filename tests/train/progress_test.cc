// Tests of the live progress line: terminal redraws ('\r', rate limited, blanked at finish)
// and plain periodic lines elsewhere, with an injected clock and a temporary FILE*.
#include "train/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace deepcross {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A FILE* whose contents can be read back; `taken()` returns what was written since the
// last call.
class Capture {
 public:
  Capture() : f_(std::tmpfile()) { EXPECT_NE(f_, nullptr); }
  ~Capture() {
    if (f_) std::fclose(f_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  std::FILE* file() const { return f_; }
  std::string taken() {
    std::fflush(f_);
    const long end = std::ftell(f_);
    std::string out(static_cast<size_t>(end - read_), '\0');
    std::fseek(f_, read_, SEEK_SET);
    const size_t n = std::fread(out.data(), 1, out.size(), f_);
    out.resize(n);
    std::fseek(f_, end, SEEK_SET);
    read_ = end;
    return out;
  }

 private:
  std::FILE* f_;
  long read_ = 0;
};

// A clock the test moves by hand.
struct FakeClock {
  double now = 1024.0;  // exact in binary, so steps of 2^-k add up exactly
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

TEST(ProgressTest, DetectsThatAFileIsNotATerminal) {
  Capture out;
  Progress p(out.file(), 10, "epoch 1/1");
  EXPECT_FALSE(p.is_terminal());
  Progress forced(out.file(), 10, "epoch 1/1", true);
  EXPECT_TRUE(forced.is_terminal());
}

TEST(ProgressTest, TerminalLineShowsBarCountLossRateAndEta) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 1000, "epoch 3/100", true, clock.fn());
  clock.now += 10;
  p.update(500, 0.462131, 53210);
  EXPECT_EQ(out.taken(),
            "\repoch 3/100 [==========>         ] 500/1000  loss 0.46213  53.2k/s  ETA 0:10");
}

TEST(ProgressTest, TerminalRedrawsAtMostTenTimesASecond) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 100, "e", true, clock.fn());
  p.update(1, 0.5, 100);  // the first update draws at once
  EXPECT_NE(out.taken(), "");
  int draws = 0;
  for (int step = 2; step <= 100; ++step) {
    clock.now += 0.01;  // 100 updates a second (not exact in binary: counts have slack)
    p.update(step, 0.5, 100);
    draws += !out.taken().empty();
  }
  // 0.99 s of updates: a redraw every 0.1 s (give or take one for rounding of the clock).
  EXPECT_GE(draws, 9);
  EXPECT_LE(draws, 10);
}

TEST(ProgressTest, ShorterLineBlanksTheRestOfTheLongerOne) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 100, "e", true, clock.fn());
  clock.now += 1;
  p.update(1, 123.45678, 1.5e6);  // "loss 123.45678  1.50M/s  ETA ..."
  const std::string first = out.taken();
  clock.now += 1;
  p.update(100, 0.5, 5);  // complete: no ETA, shorter numbers
  const std::string second = out.taken();
  ASSERT_EQ(first[0], '\r');
  ASSERT_EQ(second[0], '\r');
  EXPECT_EQ(second.size(), first.size());
  EXPECT_EQ(second.rfind("\re [====================] 100/100  loss 0.50000  5.00/s", 0), 0u)
      << second;
  EXPECT_EQ(second.find_last_not_of(' '), second.find("/s") + 1);
}

TEST(ProgressTest, FinishBlanksTheTerminalLineOnceAndStopsUpdates) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 10, "epoch 1/1", true, clock.fn());
  p.update(3, 0.7, 1000);
  const std::string drawn = out.taken();
  p.finish();
  std::string blank(drawn.size() + 1, ' ');  // '\r', as many spaces as were drawn, '\r'
  blank.front() = '\r';
  blank.back() = '\r';
  EXPECT_EQ(out.taken(), blank);
  p.finish();
  clock.now += 5;
  p.update(4, 0.6, 1000);
  EXPECT_EQ(out.taken(), "");
}

TEST(ProgressTest, FinishWithoutAnyDrawPrintsNothing) {
  Capture out;
  {
    Progress p(out.file(), 10, "e", true);
    p.finish();
  }
  { Progress p(out.file(), 10, "e", false); }
  EXPECT_EQ(out.taken(), "");
}

TEST(ProgressTest, DestructorFinishes) {
  Capture out;
  FakeClock clock;
  {
    Progress p(out.file(), 10, "e", true, clock.fn());
    p.update(5, 0.5, 10);
    out.taken();
  }
  const std::string cleared = out.taken();
  ASSERT_GE(cleared.size(), 2u);
  EXPECT_EQ(cleared.front(), '\r');
  EXPECT_EQ(cleared.back(), '\r');
  EXPECT_EQ(cleared.find_first_not_of(" \r"), std::string::npos);
}

TEST(ProgressTest, PlainModePrintsALineEveryIntervalAndAFinalLine) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 1000, "epoch 2/5", false, clock.fn());
  for (int step = 1; step <= 1000; ++step) {
    clock.now += 0.03125;  // exact in binary; 31.25 s for the epoch
    p.update(step, 0.5 - step * 1e-4, 40000);
  }
  const std::string periodic = out.taken();
  EXPECT_EQ(periodic,
            "epoch 2/5: step 320/1000 (32.0%)  loss 0.46800  40.0k samples/s  elapsed 0:10  "
            "ETA 0:21\n"
            "epoch 2/5: step 640/1000 (64.0%)  loss 0.43600  40.0k samples/s  elapsed 0:20  "
            "ETA 0:11\n"
            "epoch 2/5: step 960/1000 (96.0%)  loss 0.40400  40.0k samples/s  elapsed 0:30  "
            "ETA 0:01\n");
  p.finish();
  EXPECT_EQ(out.taken(),
            "epoch 2/5: step 1000/1000 (100.0%)  loss 0.40000  40.0k samples/s  elapsed 0:31\n");
  p.finish();
  EXPECT_EQ(out.taken(), "");
}

TEST(ProgressTest, PlainModeShortEpochPrintsNothing) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 50, "e", false, clock.fn());
  for (int step = 1; step <= 50; ++step) {
    clock.now += 0.1;
    p.update(step, 0.5, 100);
  }
  p.finish();
  EXPECT_EQ(out.taken(), "");
}

TEST(ProgressTest, PlainModeDoesNotRepeatTheLastLineAtFinish) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 2, "e", false, clock.fn(), 1.0);
  clock.now += 0.5;
  p.update(1, 0.5, 10);
  clock.now += 1.0;
  p.update(2, 0.4, 10);
  EXPECT_EQ(out.taken(), "e: step 2/2 (100.0%)  loss 0.40000  10.0 samples/s  elapsed 0:01\n");
  p.finish();
  EXPECT_EQ(out.taken(), "");
}

TEST(ProgressTest, NoEtaBeforeAnyTimeHasPassed) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 10, "e", true, clock.fn());
  p.update(1, 0.5, 10);
  EXPECT_EQ(out.taken(), "\re [==>                 ] 1/10  loss 0.50000  10.0/s");
}

TEST(ProgressTest, StepsAreClampedAndOddValuesPrint) {
  Capture out;
  FakeClock clock;
  Progress p(out.file(), 10, "e", false, clock.fn(), 0.0);
  p.update(25, kNaN, kNaN);
  EXPECT_EQ(out.taken(), "e: step 10/10 (100.0%)  loss -  - samples/s  elapsed 0:00\n");
  p.update(-3, 0.5, -1);
  EXPECT_EQ(out.taken(), "e: step 0/10 (0.0%)  loss 0.50000  - samples/s  elapsed 0:00\n");
}

TEST(ProgressTest, EmptyEpochShowsAFullBar) {
  Capture out;
  Progress p(out.file(), 0, "e", true);
  p.update(0, kNaN, 0);
  EXPECT_EQ(out.taken(), "\re [====================] 0/0  loss -  0.00/s");
}

TEST(FormatDurationTest, MinutesAndHours) {
  EXPECT_EQ(format_duration(0), "0:00");
  EXPECT_EQ(format_duration(59.9), "0:59");
  EXPECT_EQ(format_duration(61), "1:01");
  EXPECT_EQ(format_duration(3599), "59:59");
  EXPECT_EQ(format_duration(3661), "1:01:01");
  EXPECT_EQ(format_duration(100 * 3600 + 5), "100:00:05");
  EXPECT_EQ(format_duration(kNaN), "-");
  EXPECT_EQ(format_duration(-1), "-");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "-");
}

TEST(FormatRateTest, ThreeSignificantFiguresWithSuffixes) {
  EXPECT_EQ(format_rate(0), "0.00");
  EXPECT_EQ(format_rate(5.321), "5.32");
  EXPECT_EQ(format_rate(9.996), "10.0");
  EXPECT_EQ(format_rate(53.21), "53.2");
  EXPECT_EQ(format_rate(99.96), "100");
  EXPECT_EQ(format_rate(532.1), "532");
  EXPECT_EQ(format_rate(999.7), "1.00k");
  EXPECT_EQ(format_rate(1000), "1.00k");
  EXPECT_EQ(format_rate(53210), "53.2k");
  EXPECT_EQ(format_rate(999999), "1.00M");
  EXPECT_EQ(format_rate(1.5e6), "1.50M");
  EXPECT_EQ(format_rate(2.5e9), "2.50G");
  EXPECT_EQ(format_rate(kNaN), "-");
  EXPECT_EQ(format_rate(-1), "-");
}

}  // namespace
}  // namespace deepcross
