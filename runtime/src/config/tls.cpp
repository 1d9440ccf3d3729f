// TLS material from variables: PEM or base64 of PEM, checked with OpenSSL before any client
// sees it, shown by subject and fingerprint, and handed to librdkafka without touching disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "config/config_detail.hpp"
#include "config/openssl_handles.hpp"

namespace kernel::config_detail {

namespace {

constexpr std::string_view pem_begin = "-----BEGIN";

BioPtr memory_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

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
  std::memcpy(buffer, password->data(), password->size());
  return static_cast<int>(password->size());
}

bool key_is_encrypted(std::string_view pem) {
  return pem.find("ENCRYPTED") != std::string_view::npos;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
  }
  if (compact.empty() || compact.size() % 4 != 0) return std::nullopt;
  std::string out(compact.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(compact.data()),
                                     static_cast<int>(compact.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as output bytes.
  std::size_t padding = 0;
  while (padding < 2 && compact[compact.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

}  // namespace

std::optional<std::string> decode_pem(std::string_view input) {
  auto text = trim(input);
  if (text.starts_with(pem_begin)) {
    // A PEM squeezed onto one line with literal \n (common in env files and CI secrets).
    if (text.find('\n') == std::string::npos && text.find("\\n") != std::string::npos) {
      std::string unescaped;
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
          unescaped += '\n';
          ++i;
        } else {
          unescaped += text[i];
        }
      }
      text = std::move(unescaped);
    }
    return text + "\n";
  }
  auto decoded = base64_decode(text);
  if (!decoded) return std::nullopt;
  auto pem = trim(*decoded);
  if (!pem.starts_with(pem_begin)) return std::nullopt;
  return pem + "\n";
}

void check_tls_material(const Settings& s, Problems& problems,
                        std::vector<std::string>& warnings) {
  if (!s.ca_cert_pem.empty() && read_certificates(s.ca_cert_pem).empty()) {
    problems.add("KAFKA_CA_CERT", "", "not a PEM certificate: OpenSSL cannot read it");
  }
  std::vector<X509Ptr> chain;
  if (!s.client_cert_pem.empty()) {
    chain = read_certificates(s.client_cert_pem);
    if (chain.empty()) {
      problems.add("KAFKA_CLIENT_CERT", "", "not a PEM certificate: OpenSSL cannot read it");
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
      problems.add("KAFKA_CLIENT_KEY", "",
                   "encrypted private key: set KAFKA_CLIENT_KEY_PASSWORD");
    } else if (key_is_encrypted(s.client_key_pem)) {
      problems.add("KAFKA_CLIENT_KEY_PASSWORD", "", "does not decrypt KAFKA_CLIENT_KEY");
    } else {
      problems.add("KAFKA_CLIENT_KEY", "", "not a PEM private key");
    }
    return;
  }
  if (!chain.empty() && X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    problems.add("KAFKA_CLIENT_KEY", "",
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

std::shared_ptr<void> make_memory_file(std::string_view content, std::string& path,
                                       std::string& error) {
  const int fd = memfd_create("kernel-client-cert", MFD_CLOEXEC);
  if (fd < 0) {
    error = std::string("memfd_create failed: ") + std::strerror(errno);
    return nullptr;
  }
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
      error = std::string("writing the in-memory certificate file failed: ") +
              std::strerror(errno);
      return nullptr;
    }
    written += static_cast<std::size_t>(n);
  }
  path = "/proc/self/fd/" + std::to_string(fd);
  return owner;
}

}  // namespace kernel::config_detail
