#include "signing/pdf_revisions.h"

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "podofo/podofo.h"
#include "signing/pdf_fonts.h"
#include "signing/pdf_input.h"

namespace motcua::signing {
namespace {

using PoDoFo::PdfMemDocument;
using PoDoFo::PdfObject;
using Ref = std::pair<int, int>;

constexpr int kMaxDepth = 32;             // reference chains, page trees, /Parent links
constexpr size_t kMaxWalkNodes = 100000;  // objects visited by one traversal
constexpr long kMaxObjects = 1 << 20;     // objects PoDoFo accepts in one file

bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

// Offsets just past each "startxref <digits> %%EOF<eol>" in `pdf`, with the
// startxref value. A "%%EOF" not preceded by startxref (say, inside a stream)
// is not a revision end.
std::vector<PdfRevisionInfo> FindRevisionEnds(absl::string_view pdf) {
  std::vector<PdfRevisionInfo> ends;
  constexpr absl::string_view kEof = "%%EOF";
  constexpr absl::string_view kStartXref = "startxref";
  size_t pos = 0;
  while ((pos = pdf.find(kEof, pos)) != absl::string_view::npos) {
    size_t i = pos;
    size_t spaces = 0;
    while (i > 0 && IsSpace(pdf[i - 1]) && spaces < 64) --i, ++spaces;
    size_t digits_end = i;
    while (i > 0 && pdf[i - 1] >= '0' && pdf[i - 1] <= '9' && digits_end - i < 20) --i;
    size_t digits_begin = i;
    spaces = 0;
    while (i > 0 && IsSpace(pdf[i - 1]) && spaces < 64) --i, ++spaces;
    bool ok = digits_begin < digits_end && spaces > 0 && i >= kStartXref.size() &&
              pdf.substr(i - kStartXref.size(), kStartXref.size()) == kStartXref;
    size_t end = pos + kEof.size();
    if (ok) {
      if (end < pdf.size() && pdf[end] == '\r') ++end;
      if (end < pdf.size() && pdf[end] == '\n') ++end;
      size_t value = 0;
      for (size_t d = digits_begin; d < digits_end; ++d) value = value * 10 + (pdf[d] - '0');
      ends.push_back({end, value});
    }
    pos += kEof.size();
  }
  return ends;
}

std::string Sha256(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

Ref RefOf(const PdfObject& object) {
  const PoDoFo::PdfReference& r = object.Reference();
  return {static_cast<int>(r.ObjectNumber()), static_cast<int>(r.GenerationNumber())};
}

std::string RefText(Ref ref) { return absl::StrCat(ref.first, " ", ref.second, " R"); }

// Collects a stream's decoded bytes, refusing to grow past a cap (a Flate
// bomb must not exhaust memory).
class CappedOutput : public PoDoFo::PdfOutputStream {
 public:
  explicit CappedOutput(size_t cap) : cap_(cap) {}
  PoDoFo::pdf_long Write(const char* data, PoDoFo::pdf_long len) override {
    if (len < 0 || data_.size() + static_cast<size_t>(len) > cap_) {
      PODOFO_RAISE_ERROR_INFO(PoDoFo::ePdfError_OutOfMemory, "stream over the size cap");
    }
    data_.append(data, static_cast<size_t>(len));
    return len;
  }
  void Close() override {}
  std::string& data() { return data_; }

 private:
  size_t cap_;
  std::string data_;
};

// A revision as PoDoFo loaded it, reading the revision's bytes in place.
struct LoadedPrefix {
  PoDoFo::PdfRefCountedInputDevice device;
  MemoryInputDevice* memory = nullptr;  // owned by `device`
  std::unique_ptr<PdfMemDocument> doc;
};

// A loaded revision and the facts about it the change classifier needs.
//
// Objects are parsed lazily. The classifier compares an object between two
// revisions by value (a digest of its serialisation and stream) unless
// SameParse shows that both revisions parse it from the same bytes: that is
// what makes verifying an incremental update cost what the update touched
// rather than the whole file twice.
class Revision {
 public:
  // `info_in_file`: whether the bytes mention /Info at all. PoDoFo invents an
  // /Info object (with the next free number) when a file has none; that
  // object must not count as part of the revision. `measure_extents`: parse
  // every object now and remember which bytes each parse read (see extent());
  // needed for every revision compared with an earlier one.
  Revision(LoadedPrefix loaded, size_t end, bool info_in_file, bool measure_extents)
      : device_(std::move(loaded.device)),
        memory_(loaded.memory),
        doc_(std::move(loaded.doc)),
        end_(end) {
    Index(info_in_file, measure_extents);
  }

  PdfMemDocument& doc() { return *doc_; }
  size_t end() const { return end_; }

  // Parses `object` (one of this revision's objects, or null) if this is its
  // first use. PoDoFo throws on the first parse of some malformed objects
  // and then hands out what it read: such an object counts as unreadable
  // (see Digest) whichever use comes first.
  const PdfObject* Touch(const PdfObject* object) const {
    if (object == nullptr || !touched_.insert(object).second) return object;
    try {
      object->IsDictionary();
    } catch (const PoDoFo::PdfError&) {
      unreadable_.insert(RefOf(*object));
    }
    return object;
  }

  // Follows references (bounded); nullptr when missing.
  const PdfObject* Resolve(const PdfObject* value) const {
    for (int i = 0; value != nullptr && value->IsReference() && i < kMaxDepth; ++i) {
      value = Touch(doc_->GetObjects().GetObject(value->GetReference()));
    }
    return value != nullptr && value->IsReference() ? nullptr : value;
  }
  // The raw value of `key` in dictionary `dict` (possibly a reference).
  static const PdfObject* Raw(const PdfObject* dict, const char* key) {
    if (dict == nullptr || !dict->IsDictionary()) return nullptr;
    return dict->GetDictionary().GetKey(PoDoFo::PdfName(key));
  }
  const PdfObject* Get(const PdfObject* dict, const char* key) const {
    return Resolve(Raw(dict, key));
  }
  std::string NameOf(const PdfObject* dict, const char* key) const {
    const PdfObject* value = Get(dict, key);
    return value != nullptr && value->IsName() ? value->GetName().GetName() : std::string();
  }
  std::string TextOf(const PdfObject* dict, const char* key) const {
    const PdfObject* value = Get(dict, key);
    if (value == nullptr || !(value->IsString() || value->IsHexString())) return "";
    return value->GetString().GetStringUtf8();
  }
  static bool RawRef(const PdfObject* value, Ref* out) {
    if (value == nullptr || !value->IsReference()) return false;
    *out = {static_cast<int>(value->GetReference().ObjectNumber()),
            static_cast<int>(value->GetReference().GenerationNumber())};
    return true;
  }
  const PdfObject* Object(Ref ref) const {
    return Touch(doc_->GetObjects().GetObject(PoDoFo::PdfReference(
        static_cast<PoDoFo::pdf_objnum>(ref.first), static_cast<PoDoFo::pdf_gennum>(ref.second))));
  }

  const PdfObject* catalog() const { return catalog_; }
  const PdfObject* acroform() const { return Get(catalog_, "AcroForm"); }
  // Every object of the revision (one per reference: the last the parser
  // read), /Info invented by PoDoFo excepted.
  const std::map<Ref, const PdfObject*>& objects() const { return objects_; }
  bool Has(Ref ref) const { return objects_.count(ref) > 0; }
  // Where the object's body starts in the file (just past "N G obj"); -1
  // when unknown (an object from an object stream, a reference defined twice).
  int64_t offset(Ref ref) const {
    auto it = offsets_.find(ref);
    return it == offsets_.end() ? -1 : it->second;
  }
  // The highest file position the object's parse (stream included) read;
  // -1 when unknown (not measured, failed, parsed during loading, or a
  // stream whose /Length is a reference to another object).
  int64_t extent(Ref ref) const {
    auto it = extents_.find(ref);
    return it == extents_.end() ? -1 : it->second;
  }
  // SHA-256 of the object's compact serialisation and raw stream, computed
  // on first use.
  const std::string& Digest(Ref ref) const {
    auto cached = digests_.find(ref);
    if (cached != digests_.end()) return cached->second;
    auto it = objects_.find(ref);
    if (it == objects_.end()) return digests_[ref];
    Touch(it->second);
    return digests_[ref] = DigestOf(unreadable_.count(ref) ? nullptr : it->second);
  }
  // A cross-reference or object stream: PoDoFo's bookkeeping, not content.
  bool IsSpecial(Ref ref) const {
    auto it = objects_.find(ref);
    if (it == objects_.end() || !Touch(it->second)->IsDictionary()) return false;
    std::string type = NameOf(it->second, "Type");
    return type == "XRef" || type == "ObjStm";
  }
  const std::map<Ref, int>& pages() const { return pages_; }
  const std::map<Ref, int>& contents() const { return contents_; }
  const std::map<Ref, int>& annots_arrays() const { return annots_arrays_; }
  const std::set<Ref>& dss() const { return dss_; }
  Ref info() const { return info_; }
  Ref metadata() const { return metadata_; }

  // True for a signature field or its widget (/FT /Sig, possibly inherited).
  bool IsSignatureField(const PdfObject* dict) const {
    for (int i = 0; dict != nullptr && dict->IsDictionary() && i < kMaxDepth; ++i) {
      std::string ft = NameOf(dict, "FT");
      if (!ft.empty()) return ft == "Sig";
      dict = Get(dict, "Parent");
    }
    return false;
  }
  bool IsSignatureWidget(const PdfObject* dict) const {
    return IsSignatureField(dict) && NameOf(dict, "Subtype") == "Widget";
  }
  bool IsSignatureDict(const PdfObject* dict) const {
    std::string type = NameOf(dict, "Type");
    return type == "Sig" || type == "DocTimeStamp";
  }

 private:
  // `object` null: unreadable.
  static std::string DigestOf(const PdfObject* object) {
    std::string text = "\x01unreadable";
    try {
      if (object != nullptr) {
        std::string value;
        object->ToString(value, PoDoFo::ePdfWriteMode_Compact);
        if (object->HasStream()) {
          char* buffer = nullptr;
          PoDoFo::pdf_long len = 0;
          object->GetStream()->GetCopy(&buffer, &len);
          if (buffer != nullptr) value.append(buffer, static_cast<size_t>(std::max<long>(len, 0)));
          PoDoFo::podofo_free(buffer);
        }
        text = std::move(value);
      }
    } catch (const PoDoFo::PdfError&) {
    }
    return Sha256(text);
  }

  void Index(bool info_in_file, bool measure_extents) {
    // Measured before anything else is parsed: each measured parse must be
    // the object's first.
    const Ref invented_info = info_in_file ? Ref{-1, -1} : TrailerRef("Info");
    for (PdfObject* object : doc_->GetObjects()) {
      if (object == nullptr || RefOf(*object) == invented_info) continue;
      Ref ref = RefOf(*object);
      auto* parsed = dynamic_cast<PoDoFo::PdfParserObject*>(object);
      bool twice = !objects_.emplace(ref, object).second;
      objects_[ref] = object;
      offsets_[ref] = parsed == nullptr || twice ? -1 : parsed->GetOffset();
      if (measure_extents) extents_[ref] = MeasureParse(*object, ref);
    }
    const PdfObject* trailer = doc_->GetTrailer();
    catalog_ = Get(trailer, "Root");
    RawRef(Raw(trailer, "Root"), &catalog_ref_);
    RawRef(Raw(trailer, "Info"), &info_);
    if (!info_in_file) info_ = {-1, -1};
    RawRef(Raw(catalog_, "Metadata"), &metadata_);
    IndexPages();
    Ref dss_ref;
    if (RawRef(Raw(catalog_, "DSS"), &dss_ref)) dss_.insert(dss_ref);
    CollectReachable(Get(catalog_, "DSS"), 0, &dss_);
  }

  Ref TrailerRef(const char* key) const {
    Ref ref{0, 0};
    RawRef(Raw(doc_->GetTrailer(), key), &ref);
    return ref;
  }

  // Parses `object` (and loads its stream) and returns the highest position
  // read, or -1 (see extent()).
  int64_t MeasureParse(const PdfObject& object, Ref ref) {
    touched_.insert(&object);
    memory_->ResetHighWater();
    try {
      bool dictionary = object.IsDictionary();
      if (memory_->high_water() < 0) return -1;  // parsed while loading
      if (dictionary) {
        const PdfObject* length = object.GetDictionary().GetKey(PoDoFo::PdfName::KeyLength);
        if (length != nullptr && length->IsReference()) return -1;
        object.HasStream();
      }
    } catch (const PoDoFo::PdfError&) {
      unreadable_.insert(ref);
      return -1;
    }
    return memory_->high_water();
  }

  void IndexPages() {
    std::set<Ref> visited;
    int next_index = 1;
    std::vector<std::pair<const PdfObject*, int>> stack;
    const PdfObject* root = Raw(catalog_, "Pages");
    if (root != nullptr) stack.push_back({root, 0});
    while (!stack.empty() && visited.size() < kMaxWalkNodes) {
      auto [raw, depth] = stack.back();
      stack.pop_back();
      Ref ref;
      if (!RawRef(raw, &ref) || !visited.insert(ref).second) continue;
      const PdfObject* node = Resolve(raw);
      if (node == nullptr || !node->IsDictionary()) continue;
      const PdfObject* kids = Get(node, "Kids");
      if (kids != nullptr && kids->IsArray()) {
        if (depth >= kMaxDepth) continue;
        const PoDoFo::PdfArray& array = kids->GetArray();
        for (auto it = array.rbegin(); it != array.rend(); ++it) stack.push_back({&*it, depth + 1});
        continue;
      }
      int index = next_index++;
      pages_[ref] = index;
      const PdfObject* contents = Raw(node, "Contents");
      Ref contents_ref;
      if (RawRef(contents, &contents_ref)) contents_[contents_ref] = index;
      const PdfObject* resolved = Resolve(contents);
      if (resolved != nullptr && resolved->IsArray()) {
        for (const PdfObject& item : resolved->GetArray()) {
          if (RawRef(&item, &contents_ref)) contents_[contents_ref] = index;
        }
      }
      Ref annots_ref;
      if (RawRef(Raw(node, "Annots"), &annots_ref)) annots_arrays_[annots_ref] = index;
    }
  }

  void CollectReachable(const PdfObject* value, int depth, std::set<Ref>* out) const {
    if (value == nullptr || depth > 6 || out->size() > kMaxWalkNodes) return;
    auto visit = [&](const PdfObject& item) {
      Ref ref;
      if (RawRef(&item, &ref)) {
        if (!out->insert(ref).second) return;
        CollectReachable(Resolve(&item), depth + 1, out);
      } else {
        CollectReachable(&item, depth + 1, out);
      }
    };
    if (value->IsArray()) {
      for (const PdfObject& item : value->GetArray()) visit(item);
    } else if (value->IsDictionary()) {
      for (const auto& [key, item] : value->GetDictionary().GetKeys()) {
        if (item != nullptr) visit(*item);
      }
    }
  }

  PoDoFo::PdfRefCountedInputDevice device_;
  MemoryInputDevice* memory_;
  std::unique_ptr<PdfMemDocument> doc_;
  size_t end_;
  const PdfObject* catalog_ = nullptr;
  Ref catalog_ref_{0, 0};
  Ref info_{0, 0};
  Ref metadata_{0, 0};
  std::map<Ref, const PdfObject*> objects_;
  std::map<Ref, int64_t> offsets_;
  std::map<Ref, int64_t> extents_;
  mutable std::set<const PdfObject*> touched_;
  mutable std::set<Ref> unreadable_;  // the first parse failed
  mutable std::map<Ref, std::string> digests_;
  std::map<Ref, int> pages_;
  std::map<Ref, int> contents_;
  std::map<Ref, int> annots_arrays_;
  std::set<Ref> dss_;
};

// True when `after` (the later revision) parses `ref` from the same bytes as
// `before`: the same body offset, and a measured parse that read nothing at
// or beyond the end of `before`. The earlier revision's bytes are a prefix of
// the later's, so both parses read identical bytes and give identical
// objects; an object an update did not redefine is compared at no cost.
// A stream whose /Length is another object is never measured: that object
// may have changed.
bool SameParse(const Revision& before, const Revision& after, Ref ref) {
  int64_t offset = after.offset(ref);
  int64_t extent = after.extent(ref);
  return offset >= 0 && offset == before.offset(ref) && extent >= 0 &&
         extent < static_cast<int64_t>(before.end());
}

// Whether the two revisions hold the same value for `ref` (both must hold it).
bool SameObject(const Revision& before, const Revision& after, Ref ref) {
  return SameParse(before, after, ref) || before.Digest(ref) == after.Digest(ref);
}

bool IsNull(const PdfObject* object) { return object == nullptr || object->IsNull(); }

std::string Serialize(const PdfObject* value) {
  if (value == nullptr) return "<absent>";
  std::string text;
  value->ToString(text, PoDoFo::ePdfWriteMode_Compact);
  return text;
}

// Keys whose raw values differ between two dictionaries.
std::vector<std::string> ChangedKeys(const PdfObject* before, const PdfObject* after) {
  std::set<std::string> keys;
  for (const PdfObject* dict : {before, after}) {
    if (dict == nullptr || !dict->IsDictionary()) continue;
    for (const auto& [key, value] : dict->GetDictionary().GetKeys()) keys.insert(key.GetName());
  }
  std::vector<std::string> changed;
  for (const std::string& key : keys) {
    if (Serialize(Revision::Raw(before, key.c_str())) !=
        Serialize(Revision::Raw(after, key.c_str()))) {
      changed.push_back(key);
    }
  }
  return changed;
}

// Decides what one revision changed relative to the previous one.
class ChangeClassifier {
 public:
  ChangeClassifier(const Revision& before, const Revision& after) : old_(before), new_(after) {}

  std::vector<PdfObjectChange> Run() {
    CompareCatalogs();
    CompareAcroForms(old_.acroform(), new_.acroform());
    for (const auto& [ref, object] : new_.objects()) {
      if ((handled_.count(ref) && !IsStructural(ref)) || new_.IsSpecial(ref)) continue;
      if (!old_.Has(ref)) {
        ClassifyNew(ref);
        continue;
      }
      // Parsed from the same bytes, the old object is the new one.
      bool same = SameParse(old_, new_, ref);
      // A null object is as good as none: writers reserve numbers that way.
      if (IsNull(same ? new_.Object(ref) : old_.Object(ref))) {
        ClassifyNew(ref);
      } else if (!same && old_.Digest(ref) != new_.Digest(ref)) {
        ClassifyChanged(ref);
      }
    }
    for (const auto& [ref, object] : old_.objects()) {
      if (new_.Has(ref) || old_.IsSpecial(ref) || handled_.count(ref)) continue;
      Add(ref, true, "object removed");
    }
    return std::move(changes_);
  }

 private:
  // Part of what a page shows; such an object is judged by that role even
  // when a later catalog or form claims it.
  bool IsStructural(Ref ref) const {
    return old_.contents().count(ref) || old_.pages().count(ref) || old_.annots_arrays().count(ref);
  }

  void Add(Ref ref, bool flagged, std::string description) {
    changes_.push_back({ref.first, ref.second, flagged, std::move(description)});
  }

  void CompareCatalogs() {
    Ref old_ref{0, 0}, new_ref{0, 0};
    const PdfObject* old_trailer = const_cast<Revision&>(old_).doc().GetTrailer();
    const PdfObject* new_trailer = const_cast<Revision&>(new_).doc().GetTrailer();
    Revision::RawRef(Revision::Raw(old_trailer, "Root"), &old_ref);
    Revision::RawRef(Revision::Raw(new_trailer, "Root"), &new_ref);
    handled_.insert(old_ref);
    handled_.insert(new_ref);
    std::vector<std::string> keys = ChangedKeys(old_.catalog(), new_.catalog());
    if (keys.empty() && old_ref == new_ref) return;
    static const std::set<std::string> kAllowed = {"AcroForm", "DSS", "Metadata", "Extensions"};
    std::vector<std::string> bad;
    for (const std::string& key : keys) {
      if (!kAllowed.count(key)) bad.push_back("/" + key);
    }
    if (old_ref != new_ref) {
      Add(new_ref, true, absl::StrCat("document catalog replaced (was ", RefText(old_ref), ")"));
    } else if (!bad.empty()) {
      Add(new_ref, true, absl::StrCat("document catalog changed: ", absl::StrJoin(bad, ", ")));
    } else {
      Add(new_ref, false, "document catalog updated for signatures/validation data");
    }
  }

  // An AcroForm may gain signature fields and signature settings; anything
  // else (a changed field value, NeedAppearances...) changes what is shown.
  void CompareAcroForms(const PdfObject* before, const PdfObject* after) {
    Ref old_ref{0, 0}, new_ref{0, 0};
    Revision::RawRef(Revision::Raw(old_.catalog(), "AcroForm"), &old_ref);
    Revision::RawRef(Revision::Raw(new_.catalog(), "AcroForm"), &new_ref);
    Ref old_fields{0, 0}, new_fields{0, 0};
    Revision::RawRef(Revision::Raw(before, "Fields"), &old_fields);
    Revision::RawRef(Revision::Raw(after, "Fields"), &new_fields);
    bool acroform_changed = Serialize(before) != Serialize(after) || old_ref != new_ref;
    bool fields_changed =
        Serialize(old_.Get(before, "Fields")) != Serialize(new_.Get(after, "Fields"));
    for (Ref ref : {old_ref, new_ref, old_fields, new_fields}) {
      if (ref != Ref{0, 0}) handled_.insert(ref);
    }
    if (!acroform_changed && !fields_changed) return;
    static const std::set<std::string> kAllowed = {"Fields", "SigFlags", "DR", "DA"};
    std::vector<std::string> bad;
    for (const std::string& key : ChangedKeys(before, after)) {
      if (!kAllowed.count(key)) bad.push_back("/" + key);
    }
    Ref at = new_ref != Ref{0, 0} ? new_ref : new_fields;
    std::string fields_problem = CheckAdded(old_.Get(before, "Fields"), new_.Get(after, "Fields"),
                                            /*widgets_only=*/false);
    if (!bad.empty()) {
      Add(at, true, absl::StrCat("form changed: ", absl::StrJoin(bad, ", ")));
    } else if (!fields_problem.empty()) {
      Add(at, true, absl::StrCat("form fields changed: ", fields_problem));
    } else {
      Add(at, false, "form updated with signature fields");
    }
  }

  // Checks that array `after` keeps every entry of `before` and that each
  // added entry is a signature field (or, with widgets_only, a signature
  // widget). Returns "" when so, else what is wrong.
  std::string CheckAdded(const PdfObject* before, const PdfObject* after, bool widgets_only) {
    std::multiset<std::string> old_items, new_items;
    if (before != nullptr && before->IsArray()) {
      for (const PdfObject& item : before->GetArray()) old_items.insert(Serialize(&item));
    }
    if (after == nullptr || !after->IsArray()) {
      return old_items.empty() ? "" : "entries removed";
    }
    for (const PdfObject& item : after->GetArray()) {
      std::string text = Serialize(&item);
      auto it = old_items.find(text);
      if (it != old_items.end()) {
        old_items.erase(it);
        continue;
      }
      const PdfObject* added = new_.Resolve(&item);
      bool ok = widgets_only ? new_.IsSignatureWidget(added) : new_.IsSignatureField(added);
      if (!ok)
        return absl::StrCat("entry ", text, " added that is not a signature ",
                            widgets_only ? "widget" : "field");
    }
    return old_items.empty() ? "" : "entries removed";
  }

  void ClassifyNew(Ref ref) {
    const PdfObject* object = new_.Object(ref);
    if (new_.IsSignatureDict(object)) {
      Add(ref, false,
          new_.NameOf(object, "Type") == "DocTimeStamp" ? "new document timestamp"
                                                        : "new signature dictionary");
    } else if (new_.IsSignatureField(object)) {
      Add(ref, false, "new signature field");
    } else if (new_.dss().count(ref)) {
      Add(ref, false, "new validation data (DSS)");
    } else if (new_.NameOf(object, "Type") == "Annot" ||
               (new_.Get(object, "Subtype") != nullptr && new_.Get(object, "Rect") != nullptr)) {
      Add(ref, true, absl::StrCat("new annotation /", new_.NameOf(object, "Subtype")));
    } else if (new_.pages().count(ref)) {
      Add(ref, true, absl::StrCat("new page ", new_.pages().at(ref)));
    } else {
      std::string type = new_.NameOf(object, "Type");
      Add(ref, false, type.empty() ? "new object" : absl::StrCat("new object /", type));
    }
  }

  // Structural roles (content, page, annotations, signatures) are checked
  // before the permissive ones, and those need the object to look the part:
  // a later revision can point /Info or /DSS at any object it likes.
  void ClassifyChanged(Ref ref) {
    const PdfObject* before = old_.Object(ref);
    const PdfObject* after = new_.Object(ref);
    if (old_.contents().count(ref)) {
      Add(ref, true, absl::StrCat("content stream of page ", old_.contents().at(ref), " changed"));
    } else if (old_.pages().count(ref)) {
      ClassifyPage(ref, before, after);
    } else if (old_.annots_arrays().count(ref)) {
      std::string problem = CheckAdded(before, after, /*widgets_only=*/true);
      int page = old_.annots_arrays().at(ref);
      if (problem.empty()) {
        Add(ref, false, absl::StrCat("signature widget added to page ", page));
      } else {
        Add(ref, true, absl::StrCat("annotations of page ", page, " changed: ", problem));
      }
    } else if (old_.IsSignatureDict(before)) {
      Add(ref, true, "existing signature dictionary changed");
    } else if (old_.IsSignatureField(before)) {
      ClassifySignatureField(ref, before, after);
    } else if (ref == new_.info() && IsInfoLike(before) && IsInfoLike(after)) {
      Add(ref, false, "document information updated");
    } else if (ref == new_.metadata() && old_.NameOf(before, "Type") == "Metadata" &&
               new_.NameOf(after, "Type") == "Metadata") {
      Add(ref, false, "XMP metadata updated");
    } else if (old_.dss().count(ref) && new_.dss().count(ref)) {
      Add(ref, false, "validation data (DSS) updated");
    } else {
      std::string type = old_.NameOf(before, "Type");
      Add(ref, true, type.empty() ? "object changed" : absl::StrCat("object /", type, " changed"));
    }
  }

  // A document information dictionary holds text (and the name /Trapped),
  // never a /Type, a stream or nested structures.
  static bool IsInfoLike(const PdfObject* object) {
    if (object == nullptr || !object->IsDictionary() || object->HasStream()) return false;
    for (const auto& [key, value] : object->GetDictionary().GetKeys()) {
      if (value == nullptr || key.GetName() == "Type") return false;
      bool text = value->IsString() || value->IsHexString() ||
                  (key.GetName() == "Trapped" && value->IsName());
      if (!text) return false;
    }
    return true;
  }

  void ClassifyPage(Ref ref, const PdfObject* before, const PdfObject* after) {
    int page = old_.pages().at(ref);
    std::vector<std::string> bad;
    bool annots_changed = false;
    for (const std::string& key : ChangedKeys(before, after)) {
      if (key == "Annots") {
        annots_changed = true;
      } else {
        bad.push_back("/" + key);
      }
    }
    if (!bad.empty()) {
      Add(ref, true, absl::StrCat("page ", page, " changed: ", absl::StrJoin(bad, ", ")));
      return;
    }
    if (annots_changed) {
      std::string problem =
          CheckAdded(old_.Get(before, "Annots"), new_.Get(after, "Annots"), /*widgets_only=*/true);
      if (!problem.empty()) {
        Add(ref, true, absl::StrCat("annotations of page ", page, " changed: ", problem));
        return;
      }
    }
    Add(ref, false, absl::StrCat("signature widget added to page ", page));
  }

  // Signing an empty signature field sets its value and appearance; changing
  // a signed one is not allowed.
  void ClassifySignatureField(Ref ref, const PdfObject* before, const PdfObject* after) {
    const PdfObject* old_value = old_.Get(before, "V");
    bool was_empty = old_value == nullptr || old_value->IsNull();
    static const std::set<std::string> kFillKeys = {"V", "AP", "AS"};
    bool only_fill = true;
    for (const std::string& key : ChangedKeys(before, after)) {
      if (!kFillKeys.count(key)) only_fill = false;
    }
    if (was_empty && only_fill) {
      Add(ref, false, "empty signature field signed");
    } else {
      Add(ref, true, "signature field changed");
    }
  }

  const Revision& old_;
  const Revision& new_;
  std::set<Ref> handled_;
  std::vector<PdfObjectChange> changes_;
};

std::string Reason(const PoDoFo::PdfError& e) {
  const char* message = PoDoFo::PdfError::ErrorMessage(e.GetError());
  if (message != nullptr && *message != '\0') return message;
  const char* name = PoDoFo::PdfError::ErrorName(e.GetError());
  return name != nullptr ? name : "unknown PoDoFo error";
}

absl::StatusOr<LoadedPrefix> LoadPrefix(absl::string_view prefix) {
  LoadedPrefix loaded;
  loaded.memory = new MemoryInputDevice(prefix);
  loaded.device = PoDoFo::PdfRefCountedInputDevice(loaded.memory);
  loaded.doc = std::make_unique<PdfMemDocument>();
  PdfMemDocument* doc = loaded.doc.get();
  try {
    doc->LoadFromDevice(loaded.device, false);
    loaded.memory->SetSeeksClearFailure(true);
  } catch (const PoDoFo::PdfError& e) {
    if (e.GetError() == PoDoFo::ePdfError_InvalidPassword) {
      return absl::InvalidArgumentError("the PDF is encrypted; encrypted PDFs are not supported");
    }
    return absl::InvalidArgumentError(absl::StrCat("not a readable PDF: ", Reason(e)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not a readable PDF: ", e.what()));
  }
  if (doc->GetEncrypted()) {
    return absl::InvalidArgumentError("the PDF is encrypted; encrypted PDFs are not supported");
  }
  if (doc->GetTrailer() == nullptr) return absl::InvalidArgumentError("the PDF has no trailer");
  return loaded;
}

// The values (/V) of the revision's signature fields, with the fields' names.
std::map<Ref, std::string> SignatureFieldValues(const Revision& revision) {
  std::map<Ref, std::string> field_names;
  for (PdfObject* object : const_cast<Revision&>(revision).doc().GetObjects()) {
    if (object == nullptr || !revision.Touch(object)->IsDictionary() ||
        !revision.IsSignatureField(object))
      continue;
    Ref value_ref;
    if (!Revision::RawRef(Revision::Raw(object, "V"), &value_ref)) continue;
    std::string name = revision.TextOf(object, "T");
    if (name.empty()) name = revision.TextOf(revision.Get(object, "Parent"), "T");
    field_names[value_ref] = name;
  }
  return field_names;
}

// Whether Signatures(revision) would list `ref`, without listing them all.
bool IsSignatureIn(const Revision& revision, Ref ref) {
  const PdfObject* object = revision.Object(ref);
  if (object == nullptr || !object->IsDictionary()) return false;
  if (revision.IsSignatureDict(object)) return true;
  return Revision::Raw(object, "ByteRange") != nullptr && SignatureFieldValues(revision).count(ref);
}

// The signature dictionaries of one revision: /Type /Sig or /DocTimeStamp,
// or the value of a signature field with a /ByteRange.
std::vector<PdfSignatureInfo> Signatures(const Revision& revision) {
  std::map<Ref, std::string> field_names = SignatureFieldValues(revision);
  std::vector<PdfSignatureInfo> result;
  for (PdfObject* object : const_cast<Revision&>(revision).doc().GetObjects()) {
    if (object == nullptr || !object->IsDictionary()) continue;
    Ref ref = RefOf(*object);
    bool is_value = field_names.count(ref) > 0;
    if (!revision.IsSignatureDict(object) && !(is_value && Revision::Raw(object, "ByteRange"))) {
      continue;
    }
    PdfSignatureInfo sig;
    sig.object_number = ref.first;
    sig.generation = ref.second;
    sig.type = revision.NameOf(object, "Type");
    if (sig.type.empty()) sig.type = "Sig";
    if (is_value) sig.field_name = field_names[ref];
    sig.sub_filter = revision.NameOf(object, "SubFilter");
    const PdfObject* range = revision.Get(object, "ByteRange");
    if (range != nullptr && range->IsArray()) {
      for (const PdfObject& item : range->GetArray()) {
        sig.byte_range.push_back(item.IsNumber() ? item.GetNumber() : -1);
        if (sig.byte_range.size() > 16) break;
      }
    }
    const PdfObject* contents = revision.Get(object, "Contents");
    if (contents != nullptr && (contents->IsString() || contents->IsHexString())) {
      const PoDoFo::PdfString& s = contents->GetString();
      if (s.GetString() != nullptr && s.GetLength() > 0) {
        sig.contents.assign(s.GetString(), static_cast<size_t>(s.GetLength()));
      }
    }
    sig.signing_time = revision.TextOf(object, "M");
    sig.name = revision.TextOf(object, "Name");
    sig.reason = revision.TextOf(object, "Reason");
    sig.location = revision.TextOf(object, "Location");
    result.push_back(std::move(sig));
  }
  return result;
}

void ReadDss(Revision& revision, const ParseLimits& limits, PdfStructure* out) {
  const PdfObject* dss = revision.Get(revision.catalog(), "DSS");
  if (dss == nullptr || !dss->IsDictionary()) return;
  struct Kind {
    const char* key;
    std::vector<std::string>* sink;
  };
  for (const Kind& kind : {Kind{"Certs", &out->dss_certificates}, Kind{"CRLs", &out->dss_crls},
                           Kind{"OCSPs", &out->dss_ocsp_responses}}) {
    const PdfObject* array = revision.Get(dss, kind.key);
    if (array == nullptr || !array->IsArray()) continue;
    for (const PdfObject& item : array->GetArray()) {
      if (static_cast<int>(kind.sink->size()) >= limits.max_dss_entries) {
        out->notes.push_back(absl::StrCat("/DSS /", kind.key, " has more entries than examined"));
        break;
      }
      const PdfObject* stream = revision.Resolve(&item);
      if (stream == nullptr || !stream->HasStream()) continue;
      try {
        CappedOutput output(limits.max_dss_stream_bytes);
        stream->GetStream()->GetFilteredCopy(&output);
        kind.sink->push_back(std::move(output.data()));
      } catch (const PoDoFo::PdfError&) {
        out->notes.push_back(absl::StrCat("an unreadable or oversized /DSS /", kind.key, " entry"));
      }
    }
  }
}

// PoDoFo sizes its tables by the declared object count before reading any
// object, so a few bytes declaring millions of objects cost seconds and
// hundreds of megabytes. Every real object takes more than a byte, so a
// /Size beyond the file size is a lie.
absl::Status CheckDeclaredSizes(absl::string_view pdf) {
  constexpr absl::string_view kSize = "/Size";
  for (size_t pos = pdf.find(kSize); pos != absl::string_view::npos;
       pos = pdf.find(kSize, pos + 1)) {
    size_t i = pos + kSize.size();
    while (i < pdf.size() && IsSpace(pdf[i])) ++i;
    uint64_t value = 0;
    size_t digits = 0;
    while (i < pdf.size() && pdf[i] >= '0' && pdf[i] <= '9' && digits < 19) {
      value = value * 10 + static_cast<uint64_t>(pdf[i++] - '0');
      ++digits;
    }
    if (digits > 0 && value > pdf.size()) {
      return absl::InvalidArgumentError(absl::StrCat("not a plausible PDF: it declares ", value,
                                                     " objects in ", pdf.size(), " bytes"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PdfStructure> Parse(absl::string_view pdf, const ParseLimits& limits) {
  if (absl::Status sizes = CheckDeclaredSizes(pdf); !sizes.ok()) return sizes;
  PdfStructure result;
  result.file_size = pdf.size();
  std::vector<PdfRevisionInfo> candidates = FindRevisionEnds(pdf);
  if (candidates.empty()) {
    return absl::InvalidArgumentError("not a PDF: no \"startxref ... %%EOF\" trailer found");
  }
  if (static_cast<int>(candidates.size()) > limits.max_revisions) {
    result.notes.push_back(absl::StrCat("only the last ", limits.max_revisions, " of ",
                                        candidates.size(), " revisions were examined"));
    candidates.erase(candidates.begin(), candidates.end() - limits.max_revisions);
  }
  // Each signature dictionary of the latest revision read, with the first
  // revision since which it has been a signature with its current value.
  // The first revision read is not listed (that would parse all of it):
  // whether its objects are signatures is asked one by one.
  std::map<Ref, int> signed_since;
  bool previous_listed = false;
  std::vector<PdfSignatureInfo> last_signatures;
  std::unique_ptr<Revision> previous;
  absl::Status last_error;
  for (size_t i = 0; i < candidates.size(); ++i) {
    absl::StatusOr<LoadedPrefix> doc = LoadPrefix(pdf.substr(0, candidates[i].end));
    if (!doc.ok()) {
      // An earlier %%EOF that does not end a loadable document (a linearized
      // file's first-page trailer, say) is not a revision; the last must be.
      last_error = doc.status();
      if (absl::IsInvalidArgument(doc.status()) &&
          doc.status().message().find("encrypted") != absl::string_view::npos) {
        return doc.status();
      }
      continue;
    }
    absl::string_view prefix = pdf.substr(0, candidates[i].end);
    auto revision = std::make_unique<Revision>(
        *std::move(doc), prefix.size(), prefix.find("/Info") != absl::string_view::npos,
        /*measure_extents=*/previous != nullptr);
    int index = static_cast<int>(result.revisions.size());
    result.revisions.push_back(candidates[i]);
    const bool last = i + 1 == candidates.size();
    std::vector<PdfSignatureInfo> signatures;
    if (previous != nullptr || last) signatures = Signatures(*revision);
    std::map<Ref, int> next_signed_since;
    for (const PdfSignatureInfo& sig : signatures) {
      Ref ref{sig.object_number, sig.generation};
      if (!revision->Has(ref)) continue;
      int since = index;
      if (previous != nullptr && previous->Has(ref)) {
        auto listed = signed_since.find(ref);
        bool was_signature =
            previous_listed ? listed != signed_since.end() : IsSignatureIn(*previous, ref);
        if (was_signature && SameObject(*previous, *revision, ref)) {
          since = previous_listed ? listed->second : index - 1;
        }
      }
      next_signed_since[ref] = since;
    }
    signed_since = std::move(next_signed_since);
    previous_listed = previous != nullptr || last;
    if (last) last_signatures = std::move(signatures);
    if (previous != nullptr) {
      result.changes.push_back({index, ChangeClassifier(*previous, *revision).Run()});
    }
    previous = std::move(revision);
    if (i + 1 == candidates.size()) break;
  }
  if (previous == nullptr || result.revisions.back().end != candidates.back().end) {
    return last_error.ok() ? absl::InvalidArgumentError("not a readable PDF") : last_error;
  }
  for (PdfSignatureInfo& sig : last_signatures) {
    if (static_cast<int>(result.signatures.size()) >= limits.max_signatures) {
      result.notes.push_back(
          absl::StrCat("only the first ", limits.max_signatures, " signatures were examined"));
      break;
    }
    auto since = signed_since.find({sig.object_number, sig.generation});
    if (since != signed_since.end()) sig.revision = since->second;
    result.signatures.push_back(std::move(sig));
  }
  ReadDss(*previous, limits, &result);
  if (pdf.size() > result.revisions.back().end) {
    absl::string_view tail = pdf.substr(result.revisions.back().end);
    if (!std::all_of(tail.begin(), tail.end(), IsSpace)) {
      result.trailing_bytes = tail.size();
      result.notes.push_back(absl::StrCat(tail.size(), " bytes follow the last %%EOF"));
    }
  }
  return result;
}

}  // namespace

bool PdfRevisionChanges::HasFlagged() const {
  return std::any_of(changes.begin(), changes.end(),
                     [](const PdfObjectChange& change) { return change.flagged; });
}

absl::StatusOr<PdfStructure> ParsePdfRevisions(absl::string_view pdf, const ParseLimits& limits) {
  QuietPodofo();
  // Process-wide in PoDoFo (the default is 8 million): bounds the tables a
  // hostile cross-reference section can make it allocate.
  static std::once_flag once;
  std::call_once(once, [] { PoDoFo::PdfParser::SetMaxObjectCount(kMaxObjects); });
  if (pdf.size() > limits.max_file_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("the file has ", pdf.size(), " bytes; at most ",
                                                   limits.max_file_bytes, " are accepted"));
  }
  try {
    return Parse(pdf, limits);
  } catch (const PoDoFo::PdfError& e) {
    return absl::InvalidArgumentError(absl::StrCat("unreadable PDF structure: ", Reason(e)));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while reading the PDF");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("unreadable PDF structure: ", e.what()));
  }
}

}  // namespace motcua::signing
