#ifndef MOTCUA_SIGNING_PDF_INPUT_H_
#define MOTCUA_SIGNING_PDF_INPUT_H_

// A PoDoFo input device over bytes in memory. Internal to signing/.
//
// PoDoFo's own buffer device copies the whole file into a std::istringstream
// and its tokenizer then reads it a character at a time through the stream
// machinery; this device reads the caller's bytes in place (the bytes must
// outlive every document loaded from it). It keeps std::istream's end-of-file
// and failure states, which PoDoFo's parser relies on.
//
// It also remembers the highest position it was asked to read, so a caller
// can learn which bytes one parse depended on.

#include <cstddef>
#include <ios>

#include "absl/strings/string_view.h"
#include "podofo/podofo.h"

namespace motcua::signing {

class MemoryInputDevice : public PoDoFo::PdfInputDevice {
 public:
  explicit MemoryInputDevice(absl::string_view data);

  std::streamoff Tell() const override;
  int GetChar() const override;
  int Look() const override;
  void Seek(std::streamoff off, std::ios_base::seekdir dir = std::ios_base::beg) override;
  std::streamoff Read(char* buffer, std::streamsize len) override;
  bool Eof() const override { return eof_; }
  bool Bad() const override { return false; }
  void Clear(std::ios_base::iostate state = std::ios_base::goodbit) const override;

  // After loading, PoDoFo parses objects lazily, each starting with a seek
  // to it; with this set, such a parse starts afresh even when one read
  // before it ran off the end (std::istream would stay failed), so what an
  // object parses to does not depend on what was read before it.
  void SetSeeksClearFailure(bool on) { seeks_clear_failure_ = on; }

  // The highest position read (or peeked at, including one past the end)
  // since the last ResetHighWater(); -1 when nothing was read.
  std::streamoff high_water() const { return high_water_; }
  void ResetHighWater() { high_water_ = -1; }

 private:
  bool Good() const;
  void Touch(size_t position) const;

  absl::string_view data_;
  mutable size_t pos_ = 0;
  mutable bool eof_ = false;
  mutable bool fail_ = false;
  mutable std::streamoff high_water_ = -1;
  bool seeks_clear_failure_ = false;
};

}  // namespace motcua::signing

#endif  // MOTCUA_SIGNING_PDF_INPUT_H_
