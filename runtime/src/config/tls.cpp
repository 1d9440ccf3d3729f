// TLS material from variables (decoded from PEM or base64 of PEM by values.cpp): checked
// with OpenSSL before any client sees it, shown by subject and fingerprint, and handed to
// librdkafka without touching disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config/settings.hpp"
#include "config/tls.hpp"

namespace kernel::config_detail {

namespace {

// One deleter and one unique_ptr alias per OpenSSL type used here.
struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};

using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

BioPtr memory_bio(std::string_view text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

std::vector<X509Ptr> read_certificates(std::string_view pem) {
  std::vector<X509Ptr> certificates;
  auto bio = memory_bio(pem);
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  return certificates;
}

// Supplies the key password to OpenSSL; without one it must fail rather than prompt on
// the terminal, which is what a null callback would do.
int password_callback(char* buffer, int size, int, void* user) {
  const auto* password = static_cast<const std::string*>(user);
  if (password == nullptr || password->empty() || static_cast<int>(password->size()) > size) {
    return 0;
  }
  // OpenSSL takes the returned length; the buffer needs no terminator.
  std::memcpy(buffer, password->data(), password->size());  // NOLINT(bugprone-not-null-terminated-result)
  return static_cast<int>(password->size());
}

bool key_is_encrypted(std::string_view pem) { return pem.find("ENCRYPTED") != std::string_view::npos; }

}  // namespace

void check_tls_material(const Settings& s, Problems& problems, std::vector<std::string>& warnings) {
  if (!s.ca_cert_pem.empty() && read_certificates(s.ca_cert_pem).empty()) {
    problems.add(env_var::KAFKA_CA_CERT, "", "not a PEM certificate: OpenSSL cannot read it");
  }
  std::vector<X509Ptr> chain;
  if (!s.client_cert_pem.empty()) {
    chain = read_certificates(s.client_cert_pem);
    if (chain.empty()) {
      problems.add(env_var::KAFKA_CLIENT_CERT, "", "not a PEM certificate: OpenSSL cannot read it");
    } else if (X509_cmp_current_time(X509_get0_notAfter(chain.front().get())) < 0) {
      warnings.push_back("KAFKA_CLIENT_CERT has expired; brokers will refuse it");
    }
  }
  if (s.client_key_pem.empty()) return;
  auto bio = memory_bio(s.client_key_pem);
  std::string password = s.client_key_password;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, password_callback, &password));
  ERR_clear_error();
  if (!key) {
    if (key_is_encrypted(s.client_key_pem) && s.client_key_password.empty()) {
      problems.add(env_var::KAFKA_CLIENT_KEY, "", "encrypted private key: set KAFKA_CLIENT_KEY_PASSWORD");
    } else if (key_is_encrypted(s.client_key_pem)) {
      problems.add(env_var::KAFKA_CLIENT_KEY_PASSWORD, "", "does not decrypt KAFKA_CLIENT_KEY");
    } else {
      problems.add(env_var::KAFKA_CLIENT_KEY, "", "not a PEM private key");
    }
    return;
  }
  if (!chain.empty() && X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    problems.add(env_var::KAFKA_CLIENT_KEY, "",
                 "does not belong to the first certificate in KAFKA_CLIENT_CERT; expected the "
                 "private key of that certificate");
  }
}

std::string describe_certificates(std::string_view pem) {
  std::string out;
  for (const auto& certificate : read_certificates(pem)) {
    char subject[512];
    X509_NAME_oneline(X509_get_subject_name(certificate.get()), subject, sizeof subject);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(certificate.get(), EVP_sha256(), digest, &length);
    std::string fingerprint;
    static constexpr char hex[] = "0123456789ABCDEF";
    for (unsigned int i = 0; i < length; ++i) {
      if (i != 0) fingerprint += ':';
      fingerprint += hex[digest[i] >> 4];
      fingerprint += hex[digest[i] & 0xf];
    }
    if (!out.empty()) out += "; ";
    out += std::string("subject ") + subject + ", sha256 " + fingerprint;
  }
  return out.empty() ? "(no readable certificate)" : out;
}

MemoryFile make_memory_file(std::string_view content) {
  const int fd = memfd_create("kernel-client-cert", MFD_CLOEXEC);
  if (fd < 0) return {nullptr, {}, std::error_code(errno, std::generic_category()), "memfd_create"};
  // Owns the descriptor from here: it closes when the last Config copy goes.
  std::shared_ptr<void> owner(new int(fd), [](void* held) {
    auto* descriptor = static_cast<int*>(held);
    ::close(*descriptor);
    delete descriptor;
  });
  std::size_t written = 0;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return {nullptr, {}, std::error_code(errno, std::generic_category()), "writing the in-memory certificate file"};
    }
    written += static_cast<std::size_t>(n);
  }
  return {std::move(owner), "/proc/self/fd/" + std::to_string(fd), {}, {}};
}

}  // namespace kernel::config_detail
