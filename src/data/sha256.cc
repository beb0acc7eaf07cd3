#include "data/sha256.h"

#include <openssl/evp.h>

#include "core/check.h"

namespace deepcross {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  DC_CHECK(ctx_ != nullptr);
  DC_CHECK(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(std::string_view bytes) {
  if (!bytes.empty()) DC_CHECK(EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) == 1);
}

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  DC_CHECK(EVP_DigestFinal_ex(ctx_, digest, &length) == 1);
  DC_CHECK(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace deepcross
