// Incremental SHA-256 (OpenSSL EVP), for the data fingerprint stored with a model.
//
//   Sha256 h;
//   h.update("abc");
//   std::string hex = h.hex_digest();  // "ba7816bf...", 64 lowercase hex digits
//
// hex_digest() finishes the hash; the object is then reset and may be reused.
#pragma once

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace deepcross {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // The digest of everything passed to update() since construction or the last digest.
  std::string hex_digest();

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace deepcross
