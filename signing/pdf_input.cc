#include "signing/pdf_input.h"

#include <algorithm>
#include <cstring>

namespace motcua::signing {

MemoryInputDevice::MemoryInputDevice(absl::string_view data) : data_(data) { SetSeekable(true); }

// As std::istream's sentry: once at the end or failed, every read fails.
bool MemoryInputDevice::Good() const {
  if (fail_ || eof_) fail_ = true;
  return !fail_;
}

void MemoryInputDevice::Touch(size_t position) const {
  high_water_ = std::max(high_water_, static_cast<std::streamoff>(position));
}

std::streamoff MemoryInputDevice::Tell() const {
  return Good() ? static_cast<std::streamoff>(pos_) : -1;
}

int MemoryInputDevice::GetChar() const {
  if (!Good()) return EOF;
  Touch(pos_);
  if (pos_ >= data_.size()) {
    eof_ = fail_ = true;
    return EOF;
  }
  return static_cast<unsigned char>(data_[pos_++]);
}

int MemoryInputDevice::Look() const {
  if (!Good()) return EOF;
  Touch(pos_);
  if (pos_ >= data_.size()) {
    eof_ = true;
    return EOF;
  }
  return static_cast<unsigned char>(data_[pos_]);
}

// As std::istream::seekg: clears end-of-file first, does nothing after a
// failure (unless seeks_clear_failure_), and fails (leaving the position) for
// a target outside the data.
void MemoryInputDevice::Seek(std::streamoff off, std::ios_base::seekdir dir) {
  eof_ = false;
  if (seeks_clear_failure_) fail_ = false;
  if (fail_) return;
  std::streamoff base = 0;
  if (dir == std::ios_base::cur) base = static_cast<std::streamoff>(pos_);
  if (dir == std::ios_base::end) base = static_cast<std::streamoff>(data_.size());
  std::streamoff target = base + off;
  if (target < 0 || target > static_cast<std::streamoff>(data_.size())) {
    fail_ = true;
    return;
  }
  pos_ = static_cast<size_t>(target);
}

std::streamoff MemoryInputDevice::Read(char* buffer, std::streamsize len) {
  if (!Good() || len <= 0) return 0;
  size_t n = std::min(static_cast<size_t>(len), data_.size() - pos_);
  Touch(pos_ + n - (n > 0 && n == static_cast<size_t>(len) ? 1 : 0));
  std::memcpy(buffer, data_.data() + pos_, n);
  pos_ += n;
  if (n < static_cast<size_t>(len)) eof_ = fail_ = true;
  return static_cast<std::streamoff>(n);
}

void MemoryInputDevice::Clear(std::ios_base::iostate state) const {
  eof_ = (state & std::ios_base::eofbit) != 0;
  fail_ = (state & (std::ios_base::failbit | std::ios_base::badbit)) != 0;
}

}  // namespace motcua::signing
