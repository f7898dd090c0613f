#include "storage/offline_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <algorithm>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "openssl/evp.h"
#include "openssl/rand.h"
#include "storage/files.h"

namespace motcua::storage {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[] = "MOTCUAE1";
constexpr size_t kMagicBytes = 8;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kChunk = 1 << 20;
constexpr int kFormat = 1;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
using DigestCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

DigestCtx NewSha256() {
  DigestCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  return ctx;
}

std::string FinishHex(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

// A file descriptor that closes itself; writes report errno as a Status.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

  absl::Status WriteAll(const unsigned char* data, size_t size, const std::string& path) {
    size_t done = 0;
    while (done < size) {
      ssize_t n = write(fd_, data + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "writing", path);
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }
  // Reads up to `size` bytes; 0 at the end.
  absl::StatusOr<size_t> Read(unsigned char* data, size_t size, const std::string& path) {
    while (true) {
      ssize_t n = read(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus(errno, "reading", path);
      return static_cast<size_t>(n);
    }
  }
  absl::Status ReadExactly(unsigned char* data, size_t size, const std::string& path) {
    size_t done = 0;
    while (done < size) {
      auto n = Read(data + done, size - done, path);
      if (!n.ok()) return n.status();
      if (*n == 0) return absl::DataLossError(absl::StrCat(path, " is truncated"));
      done += *n;
    }
    return absl::OkStatus();
  }
  absl::Status SyncAndClose(const std::string& path) {
    if (fsync(fd_) != 0) return ErrnoStatus(errno, "syncing", path);
    int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return ErrnoStatus(errno, "closing", path);
    return absl::OkStatus();
  }

 private:
  int fd_;
};

std::string AssociatedData(absl::string_view copy_id, absl::string_view name) {
  return absl::StrCat(copy_id, "/", name);
}

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL failed while ", what));
}

// Encrypts `source` into `target`, filling the file's entry.
absl::Status EncryptFile(const std::string& source, const std::string& target,
                         absl::string_view key, absl::string_view copy_id,
                         v1::OfflineManifest::File* entry) {
  Fd in(open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return ErrnoStatus(errno, "opening", source);
  Fd out(open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return ErrnoStatus(errno, "creating", target);

  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) return OpenSslError("drawing a nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), nonce) != 1) {
    return OpenSslError("starting AES-256-GCM");
  }
  const std::string aad = AssociatedData(copy_id, entry->name());
  int len = 0;
  if (EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return OpenSslError("authenticating the file name");
  }

  DigestCtx plain_hash = NewSha256();
  DigestCtx cipher_hash = NewSha256();
  auto emit = [&](const unsigned char* data, size_t size) {
    EVP_DigestUpdate(cipher_hash.get(), data, size);
    return out.WriteAll(data, size, target);
  };
  if (absl::Status s = emit(reinterpret_cast<const unsigned char*>(kMagic), kMagicBytes); !s.ok()) {
    return s;
  }
  if (absl::Status s = emit(nonce, sizeof(nonce)); !s.ok()) return s;

  std::string plain(kChunk, '\0');
  std::string cipher(kChunk + 16, '\0');
  int64_t size = 0;
  while (true) {
    auto n = in.Read(reinterpret_cast<unsigned char*>(plain.data()), plain.size(), source);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    size += static_cast<int64_t>(*n);
    EVP_DigestUpdate(plain_hash.get(), plain.data(), *n);
    if (EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &len,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(*n)) != 1) {
      return OpenSslError("encrypting");
    }
    if (absl::Status s = emit(reinterpret_cast<unsigned char*>(cipher.data()), len); !s.ok()) {
      return s;
    }
  }
  if (EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(cipher.data()), &len) != 1) {
    return OpenSslError("finishing encryption");
  }
  if (absl::Status s = emit(reinterpret_cast<unsigned char*>(cipher.data()), len); !s.ok()) {
    return s;
  }
  unsigned char tag[kTagBytes];
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) != 1) {
    return OpenSslError("reading the GCM tag");
  }
  if (absl::Status s = emit(tag, sizeof(tag)); !s.ok()) return s;
  if (absl::Status s = out.SyncAndClose(target); !s.ok()) return s;
  entry->set_size(size);
  entry->set_sha256(FinishHex(plain_hash.get()));
  entry->set_encrypted_sha256(FinishHex(cipher_hash.get()));
  return absl::OkStatus();
}

absl::Status DecryptFile(const std::string& source, const std::string& target,
                         absl::string_view key, absl::string_view copy_id,
                         const v1::OfflineManifest::File& entry) {
  Fd in(open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return ErrnoStatus(errno, "opening", source);
  struct stat st;
  if (fstat(in.get(), &st) != 0) return ErrnoStatus(errno, "reading the size of", source);
  const int64_t overhead = kMagicBytes + kNonceBytes + kTagBytes;
  if (st.st_size < overhead || st.st_size - overhead != entry.size()) {
    return absl::DataLossError(absl::StrCat(source, " has ", st.st_size, " bytes; the manifest says ",
                                            entry.size() + overhead));
  }
  unsigned char header[kMagicBytes + kNonceBytes];
  if (absl::Status s = in.ReadExactly(header, sizeof(header), source); !s.ok()) return s;
  if (absl::string_view(reinterpret_cast<char*>(header), kMagicBytes) != kMagic) {
    return absl::DataLossError(absl::StrCat(source, " is not a motcua encrypted file"));
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()),
                         header + kMagicBytes) != 1) {
    return OpenSslError("starting AES-256-GCM");
  }
  const std::string aad = AssociatedData(copy_id, entry.name());
  int len = 0;
  EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                    static_cast<int>(aad.size()));

  Fd out(open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.get() < 0) return ErrnoStatus(errno, "creating", target);
  DigestCtx plain_hash = NewSha256();
  std::string cipher(kChunk, '\0');
  std::string plain(kChunk + 16, '\0');
  int64_t left = entry.size();
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(left, kChunk));
    if (absl::Status s = in.ReadExactly(reinterpret_cast<unsigned char*>(cipher.data()), want, source);
        !s.ok()) {
      return s;
    }
    if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                          reinterpret_cast<const unsigned char*>(cipher.data()),
                          static_cast<int>(want)) != 1) {
      return OpenSslError("decrypting");
    }
    EVP_DigestUpdate(plain_hash.get(), plain.data(), len);
    if (absl::Status s = out.WriteAll(reinterpret_cast<unsigned char*>(plain.data()), len, target);
        !s.ok()) {
      return s;
    }
    left -= static_cast<int64_t>(want);
  }
  unsigned char tag[kTagBytes];
  if (absl::Status s = in.ReadExactly(tag, sizeof(tag), source); !s.ok()) return s;
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag);
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len) != 1) {
    return absl::DataLossError(absl::StrCat(
        source, " does not decrypt: the file was altered, or it belongs to another copy"));
  }
  if (FinishHex(plain_hash.get()) != entry.sha256()) {
    return absl::DataLossError(absl::StrCat(source, " decrypts to bytes whose SHA-256 differs from the manifest"));
  }
  return out.SyncAndClose(target);
}

// A manifest file name must stay inside its directory.
bool SafeName(absl::string_view name) {
  return !name.empty() && name.find('/') == absl::string_view::npos && name != "." &&
         name != "..";
}

}  // namespace

bool GoOn(const Progress& progress, absl::string_view stage, int64_t done, int64_t total) {
  return !progress || progress(stage, done, total);
}

absl::Status Stopped(absl::string_view what) {
  return absl::CancelledError(absl::StrCat(what, " was cancelled; nothing of it was kept"));
}

absl::StatusOr<std::string> LoadOfflineKey(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the offline-copy key ", path, " cannot be read (", text.status().message(),
        "); make one with: openssl rand -hex 32 > ", path, " and keep it apart from the data"));
  }
  std::string hex(absl::StripAsciiWhitespace(*text));
  std::string key;
  if (hex.size() != 64 || !absl::c_all_of(hex, [](char c) { return absl::ascii_isxdigit(c); })) {
    return absl::FailedPreconditionError(
        absl::StrCat("the offline-copy key ", path, " must hold 64 hex digits (32 bytes)"));
  }
  key = absl::HexStringToBytes(hex);
  return key;
}

absl::Status EnsureOfflineKey(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return absl::OkStatus();
  fs::create_directories(fs::path(path).parent_path(), ec);
  unsigned char key[32];
  if (RAND_bytes(key, sizeof(key)) != 1) return OpenSslError("drawing a key");
  std::string hex = absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(key), sizeof(key)));
  return WriteWholeFile(path, hex + "\n");
}

std::string KeyFingerprint(absl::string_view key) {
  DigestCtx ctx = NewSha256();
  EVP_DigestUpdate(ctx.get(), key.data(), key.size());
  return FinishHex(ctx.get());
}

absl::StatusOr<v1::OfflineManifest> WriteOfflineCopy(const std::string& db_dir,
                                                     const std::string& destination,
                                                     absl::string_view key,
                                                     v1::OfflineManifest manifest,
                                                     const ManifestSeal& seal,
                                                     const Progress& progress) {
  if (key.size() != 32) return absl::InvalidArgumentError("the offline-copy key must be 32 bytes");
  std::error_code ec;
  if (!fs::is_directory(destination, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the destination ", destination, " is not a directory: mount the medium first"));
  }
  const std::string final_dir = (fs::path(destination) / manifest.id()).string();
  const std::string staging = (fs::path(destination) / ("." + manifest.id() + ".partial")).string();
  if (fs::exists(final_dir, ec)) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, " already exists; an offline copy is never overwritten"));
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(db_dir, ec)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  if (ec) return ErrnoStatus(ec.value(), "listing", db_dir);
  std::sort(names.begin(), names.end());

  auto fail = [&](absl::Status s) {
    RemoveTree(staging).IgnoreError();
    return s;
  };
  if (absl::Status s = RemoveTree(staging); !s.ok()) return s;
  fs::create_directories(fs::path(staging) / "files", ec);
  if (ec) return fail(ErrnoStatus(ec.value(), "creating", staging));

  manifest.set_format(kFormat);
  manifest.set_key_fingerprint(KeyFingerprint(key));
  manifest.clear_files();
  int64_t done = 0;
  for (const std::string& name : names) {
    v1::OfflineManifest::File* file = manifest.add_files();
    file->set_name(name);
    if (absl::Status s = EncryptFile((fs::path(db_dir) / name).string(),
                                     (fs::path(staging) / "files" / name).string(), key,
                                     manifest.id(), file);
        !s.ok()) {
      return fail(s);
    }
    if (!GoOn(progress, "encrypting files", ++done, static_cast<int64_t>(names.size()))) {
      return fail(Stopped("the export"));
    }
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(manifest, &json, options).ok()) {
    return fail(absl::InternalError("cannot write the manifest as JSON"));
  }
  auto signature = seal.sign(json);
  if (!signature.ok()) return fail(signature.status());
  for (const auto& [name, bytes] : {std::pair<const char*, const std::string*>{"manifest.json", &json},
                                    {"manifest.sig", &*signature},
                                    {"signer.pem", &seal.certificate_pem}}) {
    if (absl::Status s = WriteWholeFile((fs::path(staging) / name).string(), *bytes); !s.ok()) {
      return fail(s);
    }
  }
  if (absl::Status s = SyncPath((fs::path(staging) / "files").string()); !s.ok()) return fail(s);
  if (absl::Status s = SyncPath(staging); !s.ok()) return fail(s);
  if (rename(staging.c_str(), final_dir.c_str()) != 0) {
    return fail(ErrnoStatus(errno, "renaming into place", final_dir));
  }
  if (absl::Status s = SyncPath(destination); !s.ok()) return s;
  return manifest;
}

absl::StatusOr<v1::OfflineManifest> ReadOfflineManifest(const std::string& copy_dir,
                                                        const ManifestCheck& check) {
  auto json = ReadWholeFile((fs::path(copy_dir) / "manifest.json").string());
  if (!json.ok()) {
    return absl::NotFoundError(absl::StrCat(copy_dir, " is not an offline copy: ", json.status().message()));
  }
  auto signature = ReadWholeFile((fs::path(copy_dir) / "manifest.sig").string());
  if (!signature.ok()) return absl::DataLossError(absl::StrCat("the manifest's signature is missing: ", signature.status().message()));
  auto certificate = ReadWholeFile((fs::path(copy_dir) / "signer.pem").string());
  if (!certificate.ok()) return absl::DataLossError(absl::StrCat("the manifest's signer certificate is missing: ", certificate.status().message()));
  if (absl::Status s = check(*json, *signature, *certificate); !s.ok()) {
    return absl::DataLossError(absl::StrCat("the manifest of ", copy_dir,
                                            " is not authentic (altered, or signed by another key): ",
                                            s.message()));
  }
  v1::OfflineManifest manifest;
  if (!google::protobuf::util::JsonStringToMessage(*json, &manifest).ok()) {
    return absl::DataLossError(absl::StrCat("the manifest of ", copy_dir, " cannot be parsed"));
  }
  if (manifest.format() != kFormat) {
    return absl::FailedPreconditionError(absl::StrCat("offline copy format ", manifest.format(),
                                                      " is not supported (this build reads ", kFormat, ")"));
  }
  for (const auto& file : manifest.files()) {
    if (!SafeName(file.name())) {
      return absl::DataLossError(absl::StrCat("the manifest names an unsafe file \"", file.name(), "\""));
    }
  }
  return manifest;
}

absl::Status CheckOfflineFiles(const std::string& copy_dir, const v1::OfflineManifest& manifest,
                               const Progress& progress) {
  int64_t done = 0;
  for (const auto& file : manifest.files()) {
    const std::string path = (fs::path(copy_dir) / "files" / file.name()).string();
    auto digest = DigestFile(path);
    if (!digest.ok()) {
      return absl::DataLossError(absl::StrCat("file ", file.name(), " of the offline copy: ", digest.status().message()));
    }
    if (digest->sha256 != file.encrypted_sha256()) {
      return absl::DataLossError(absl::StrCat("file ", file.name(),
                                              " of the offline copy differs from its manifest (SHA-256 mismatch)"));
    }
    if (!GoOn(progress, "checking files", ++done, manifest.files_size())) {
      return Stopped("checking the offline copy");
    }
  }
  return absl::OkStatus();
}

absl::Status DecryptOfflineCopy(const std::string& copy_dir, const v1::OfflineManifest& manifest,
                                absl::string_view key, const std::string& target_dir,
                                const Progress& progress) {
  if (KeyFingerprint(key) != manifest.key_fingerprint()) {
    return absl::PermissionDeniedError(
        "wrong key: this offline copy was encrypted with another key (fingerprints differ)");
  }
  std::error_code ec;
  if (!fs::create_directories(target_dir, ec) || ec) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", target_dir, " (it must not exist yet)"));
  }
  int64_t done = 0;
  for (const auto& file : manifest.files()) {
    absl::Status s = DecryptFile((fs::path(copy_dir) / "files" / file.name()).string(),
                                 (fs::path(target_dir) / file.name()).string(), key, manifest.id(), file);
    if (!s.ok()) {
      RemoveTree(target_dir).IgnoreError();
      return s;
    }
    if (!GoOn(progress, "decrypting files", ++done, manifest.files_size())) {
      RemoveTree(target_dir).IgnoreError();
      return Stopped("decrypting the offline copy");
    }
  }
  return SyncPath(target_dir);
}

}  // namespace motcua::storage
