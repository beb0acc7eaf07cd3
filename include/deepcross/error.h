// Errors that reach users.
//
// Two kinds of failure (STYLE.md lesson 7): broken invariants are programming errors and
// abort via DC_CHECK; bad data, files, models and flags throw one of the typed errors below,
// which say what was found, what was expected and where. `main` catches once and prints
//   deepcross: error: WHAT (WHERE)
// then exits with exit_code(): 1 for bad data/files/models, 2 for bad usage.
//
//   throw DataError("expected 40 fields, found 39", "train.tsv:17:column 40 (C39)");
//   throw UsageError("unknown flag --lrr (did you mean --lr?)", "--lrr");
#pragma once

#include <stdexcept>
#include <string>

namespace deepcross {

class Error : public std::runtime_error {
 public:
  Error(std::string what, std::string where, int exit_code)
      : std::runtime_error(what), where_(std::move(where)), exit_code_(exit_code) {}
  // Where the problem is: file:LINE:FIELD, a flag, a model path and byte offset. May be empty.
  const std::string& where() const { return where_; }
  int exit_code() const { return exit_code_; }
  // "WHAT (WHERE)", or "WHAT" when WHERE is empty.
  std::string message() const {
    return where_.empty() ? std::string(what()) : std::string(what()) + " (" + where_ + ")";
  }

 private:
  std::string where_;
  int exit_code_;
};

// Bad data, files or models: exit code 1.
class DataError : public Error {
 public:
  explicit DataError(std::string what, std::string where = {})
      : Error(std::move(what), std::move(where), 1) {}
};

// Bad usage: unknown flag, bad flag value, inconsistent options: exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(std::string what, std::string where = {})
      : Error(std::move(what), std::move(where), 2) {}
};

// A run stopped on request (TrainingCallbacks::should_stop, deepcross/training.h): exit code
// 130, as for an interrupted command.
class Stopped : public Error {
 public:
  explicit Stopped(std::string what, std::string where = {})
      : Error(std::move(what), std::move(where), 130) {}
};

}  // namespace deepcross
