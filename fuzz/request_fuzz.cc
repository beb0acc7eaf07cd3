// libFuzzer target for the request decoder (serve/request.h): every input is decoded as a
// JSON body and as a Criteo TSV body for a fixed Criteo field list. Anything but a Table or a
// RequestError (400/413) — a crash, a sanitizer report, another exception — is a bug.
//
//   scripts/fuzz.sh 60      # builds with clang into build-fuzz and runs every target 60 s
//   build-fuzz/fuzz/request_fuzz -max_len=4096 -rss_limit_mb=2048 -malloc_limit_mb=512 \
//     CORPUS_DIR tests/testdata/fuzz/request
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "serve/request.h"

namespace {

const deepcross::RequestSchema& schema() {
  static const deepcross::RequestSchema s = [] {
    deepcross::RequestSchema r;
    for (int i = 1; i <= 13; ++i) r.fields.push_back({"I" + std::to_string(i), false});
    for (int i = 14; i <= 39; ++i) r.fields.push_back({"C" + std::to_string(i), true});
    r.label_name = "label";
    r.layout.label_policy = deepcross::LabelPolicy::kOptional;
    return r;
  }();
  return s;
}

void decode(std::string_view content_type, std::string_view body) {
  deepcross::RequestLimits limits;
  limits.max_rows = 64;  // small, so the row limit is reachable too
  try {
    const deepcross::Table t = deepcross::decode_request(content_type, body, schema(), limits);
    if (t.numeric.size() != 13 || t.categorical.size() != 26) std::abort();
    for (const auto& c : t.numeric) {
      if (c.values.size() != t.rows) std::abort();
    }
    for (const auto& c : t.categorical) {
      if (c.codes.size() != t.rows) std::abort();
      for (uint32_t code : c.codes) {
        if (code >= c.dictionary.size()) std::abort();
      }
    }
  } catch (const deepcross::RequestError& e) {
    if (e.status != 400 && e.status != 413) std::abort();
    (void)deepcross::error_body(e).dump();  // must not throw on any bytes
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  decode("application/json", body);
  decode("text/tab-separated-values", body);
  return 0;
}
