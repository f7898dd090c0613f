#include "storage/store.h"

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace motcua::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Every family, for tests that must hold for each of them.
std::vector<Family> AllFamilies() {
  std::vector<Family> families;
  for (int i = 0; i < static_cast<int>(Family::kCount); ++i) {
    families.push_back(static_cast<Family>(i));
  }
  return families;
}

// A real RocksDB database in a fresh temporary directory, removed afterwards.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "motcua_store_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp failed for " << pattern;
    dir_ = pattern;
    db_path_ = (dir_ / "db").string();
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Closes the database (if open) and opens it again from disk.
  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(db_path_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  void CommitOrFail(const WriteSet& changes) {
    absl::Status s = store_->Commit(changes);
    ASSERT_TRUE(s.ok()) << s;
  }

  void PutOne(Family family, const std::string& key, const std::string& value) {
    WriteSet w;
    w.Put(family, key, value);
    CommitOrFail(w);
  }

  // Collects every (key, value) visited by a scan, failing the test on error.
  std::vector<std::pair<std::string, std::string>> ScanAll(Family family, const std::string& prefix,
                                                           const std::string& start, bool reverse) {
    std::vector<std::pair<std::string, std::string>> seen;
    absl::Status s =
        store_->Scan(family, prefix, start, reverse, [&](absl::string_view k, absl::string_view v) {
          seen.emplace_back(std::string(k), std::string(v));
          return true;
        });
    EXPECT_TRUE(s.ok()) << s;
    return seen;
  }

  std::vector<std::string> ScanKeys(Family family, const std::string& prefix,
                                    const std::string& start, bool reverse) {
    std::vector<std::string> keys;
    for (auto& [k, v] : ScanAll(family, prefix, start, reverse)) keys.push_back(k);
    return keys;
  }

  std::filesystem::path dir_;
  std::string db_path_;
  std::unique_ptr<Store> store_;
};

// ---- Put / Get / Delete ----

TEST_F(StoreTest, PutGet_EachFamily_RoundTrips) {
  for (Family f : AllFamilies()) {
    const std::string value = "value-" + std::to_string(static_cast<int>(f));
    PutOne(f, "key", value);
    absl::StatusOr<std::string> got = store_->Get(f, "key");
    ASSERT_TRUE(got.ok()) << "family " << static_cast<int>(f) << ": " << got.status();
    EXPECT_EQ(*got, value) << "family " << static_cast<int>(f);
  }
}

TEST_F(StoreTest, Put_SameKeyInEveryFamily_EachFamilyKeepsItsOwnValue) {
  WriteSet w;
  for (Family f : AllFamilies()) w.Put(f, "shared", "v" + std::to_string(static_cast<int>(f)));
  CommitOrFail(w);
  for (Family f : AllFamilies()) {
    absl::StatusOr<std::string> got = store_->Get(f, "shared");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, "v" + std::to_string(static_cast<int>(f)));
  }
}

TEST_F(StoreTest, Get_MissingKey_ReturnsNotFound) {
  absl::StatusOr<std::string> got = store_->Get(Family::kDossiers, "no-such-dossier");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, Get_KeyPutInAnotherFamily_ReturnsNotFound) {
  PutOne(Family::kDossiers, "HN-1", "dossier");
  EXPECT_EQ(store_->Get(Family::kHistory, "HN-1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, Commit_WriteSetOfManyPuts_AllVisibleAfterCommit) {
  WriteSet w;
  w.Put(Family::kDossiers, "d1", "dossier one");
  w.Put(Family::kHistory, JoinKey({"d1", OrderedUint64(1)}), "event one");
  w.Put(Family::kWorklist, JoinKey({"officer", "d1"}), "task");
  w.Put(Family::kIndexes, JoinKey({"by-status", "d1"}), "");
  w.RaiseCounter(Family::kSequences, "HN", 1);
  ASSERT_EQ(w.ops().size(), 5u);
  CommitOrFail(w);

  EXPECT_EQ(store_->Get(Family::kDossiers, "d1").value_or("<missing>"), "dossier one");
  EXPECT_EQ(store_->Get(Family::kHistory, JoinKey({"d1", OrderedUint64(1)})).value_or("<missing>"),
            "event one");
  EXPECT_EQ(store_->Get(Family::kWorklist, JoinKey({"officer", "d1"})).value_or("<missing>"),
            "task");
  EXPECT_EQ(store_->Get(Family::kIndexes, JoinKey({"by-status", "d1"})).value_or("<missing>"), "");
  absl::StatusOr<std::string> counter = store_->Get(Family::kSequences, "HN");
  ASSERT_TRUE(counter.ok()) << counter.status();
  EXPECT_EQ(DecodeCounter(*counter), 1u);
}

TEST_F(StoreTest, Commit_EmptyWriteSet_Succeeds) {
  WriteSet empty;
  EXPECT_TRUE(store_->Commit(empty).ok());
}

TEST_F(StoreTest, Commit_OpsInOneWriteSet_AppliedInOrder) {
  WriteSet w;
  w.Put(Family::kDossiers, "k", "first");
  w.Put(Family::kDossiers, "k", "second");
  w.Put(Family::kDossiers, "gone", "x");
  w.Delete(Family::kDossiers, "gone");
  CommitOrFail(w);
  EXPECT_EQ(store_->Get(Family::kDossiers, "k").value_or("<missing>"), "second");
  EXPECT_EQ(store_->Get(Family::kDossiers, "gone").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, Delete_ExistingKey_GetReturnsNotFound) {
  PutOne(Family::kIdempotency, "req-1", "answer");
  ASSERT_TRUE(store_->Get(Family::kIdempotency, "req-1").ok());

  WriteSet w;
  w.Delete(Family::kIdempotency, "req-1");
  CommitOrFail(w);
  EXPECT_EQ(store_->Get(Family::kIdempotency, "req-1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, Delete_OneKey_LeavesNeighboursAlone) {
  PutOne(Family::kWorklist, "a", "1");
  PutOne(Family::kWorklist, "b", "2");
  PutOne(Family::kWorklist, "c", "3");
  WriteSet w;
  w.Delete(Family::kWorklist, "b");
  CommitOrFail(w);
  EXPECT_THAT(ScanKeys(Family::kWorklist, "", "", false), ElementsAre("a", "c"));
}

TEST_F(StoreTest, Commit_Put_RaisesLatestSequenceNumber) {
  const uint64_t before = store_->LatestSequenceNumber();
  PutOne(Family::kDossiers, "k", "v");
  EXPECT_GT(store_->LatestSequenceNumber(), before);
}

// ---- Counters ----

TEST_F(StoreTest, RaiseCounter_OnMissingKey_SetsValue) {
  WriteSet w;
  w.RaiseCounter(Family::kSequences, "HN/2025", 42);
  CommitOrFail(w);
  absl::StatusOr<std::string> got = store_->Get(Family::kSequences, "HN/2025");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), 42u);
}

TEST_F(StoreTest, RaiseCounter_LowerValue_NeverGoesDown) {
  WriteSet five;
  five.RaiseCounter(Family::kSequences, "HN", 5);
  CommitOrFail(five);
  WriteSet three;
  three.RaiseCounter(Family::kSequences, "HN", 3);
  CommitOrFail(three);

  absl::StatusOr<std::string> got = store_->Get(Family::kSequences, "HN");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), 5u);
}

TEST_F(StoreTest, RaiseCounter_HigherValue_GoesUp) {
  for (uint64_t v : {5u, 3u, 7u}) {
    WriteSet w;
    w.RaiseCounter(Family::kSequences, "HN", v);
    CommitOrFail(w);
  }
  absl::StatusOr<std::string> got = store_->Get(Family::kSequences, "HN");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), 7u);
}

TEST_F(StoreTest, RaiseCounter_SeveralInOneWriteSet_KeepsMaximum) {
  WriteSet w;
  w.RaiseCounter(Family::kSequences, "HN", 9);
  w.RaiseCounter(Family::kSequences, "HN", 2);
  w.RaiseCounter(Family::kSequences, "HN", 4);
  CommitOrFail(w);
  absl::StatusOr<std::string> got = store_->Get(Family::kSequences, "HN");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), 9u);
}

TEST_F(StoreTest, RaiseCounter_AfterReopen_KeepsMaximum) {
  for (uint64_t v : {5u, 3u}) {
    WriteSet w;
    w.RaiseCounter(Family::kSequences, "HN", v);
    CommitOrFail(w);
  }
  Reopen();
  absl::StatusOr<std::string> got = store_->Get(Family::kSequences, "HN");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), 5u);

  // And a lower raise after the reopen still does not lower it.
  WriteSet lower;
  lower.RaiseCounter(Family::kSequences, "HN", 4);
  CommitOrFail(lower);
  got = store_->Get(Family::kSequences, "HN");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), 5u);
}

TEST_F(StoreTest, RaiseCounter_LargeValue_RoundTrips) {
  WriteSet w;
  w.RaiseCounter(Family::kSequences, "big", kMax - 1);
  w.RaiseCounter(Family::kSequences, "big", 1);
  CommitOrFail(w);
  absl::StatusOr<std::string> got = store_->Get(Family::kSequences, "big");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DecodeCounter(*got), kMax - 1);
}

// ---- Scan ----

TEST_F(StoreTest, Scan_ForwardWithJoinKeyPrefix_DoesNotLeakIntoSiblingPrefix) {
  PutOne(Family::kIndexes, JoinKey({"HN", "001"}), "a");
  PutOne(Family::kIndexes, JoinKey({"HN", "002"}), "b");
  PutOne(Family::kIndexes, JoinKey({"HN2", "001"}), "sibling");
  PutOne(Family::kIndexes, JoinKey({"HM", "999"}), "before");

  EXPECT_THAT(ScanKeys(Family::kIndexes, JoinKey({"HN", ""}), "", false),
              ElementsAre(JoinKey({"HN", "001"}), JoinKey({"HN", "002"})));
}

TEST_F(StoreTest, Scan_ReverseWithJoinKeyPrefix_DoesNotLeakIntoSiblingPrefix) {
  PutOne(Family::kIndexes, JoinKey({"HN", "001"}), "a");
  PutOne(Family::kIndexes, JoinKey({"HN", "002"}), "b");
  PutOne(Family::kIndexes, JoinKey({"HN2", "001"}), "sibling");
  PutOne(Family::kIndexes, JoinKey({"HM", "999"}), "before");

  EXPECT_THAT(ScanKeys(Family::kIndexes, JoinKey({"HN", ""}), "", true),
              ElementsAre(JoinKey({"HN", "002"}), JoinKey({"HN", "001"})));
}

TEST_F(StoreTest, Scan_PassesValuesWithKeys) {
  PutOne(Family::kHistory, JoinKey({"d", "1"}), "one");
  PutOne(Family::kHistory, JoinKey({"d", "2"}), "two");
  auto seen = ScanAll(Family::kHistory, JoinKey({"d", ""}), "", false);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].second, "one");
  EXPECT_EQ(seen[1].second, "two");
}

TEST_F(StoreTest, Scan_PrefixWithNoKeys_VisitsNothing) {
  PutOne(Family::kIndexes, JoinKey({"HN", "001"}), "a");
  EXPECT_THAT(ScanKeys(Family::kIndexes, JoinKey({"DN", ""}), "", false), IsEmpty());
  EXPECT_THAT(ScanKeys(Family::kIndexes, JoinKey({"DN", ""}), "", true), IsEmpty());
}

TEST_F(StoreTest, Scan_ReverseFromEmptyStartWithFfBytes_ReturnsLastToFirst) {
  const std::string prefix = JoinKey({"D", ""});
  const std::vector<uint64_t> numbers = {1, 0xff, 0xffff, 0xff00000000000000ull, kMax - 1, kMax};
  for (uint64_t n : numbers) PutOne(Family::kHistory, prefix + OrderedUint64(n), "x");
  // Neighbours on both sides of the prefix, so an overrun in either
  // direction shows up.
  PutOne(Family::kHistory, JoinKey({"C", "\xff\xff"}), "before");
  PutOne(Family::kHistory, std::string("D\x01"), "after");
  PutOne(Family::kHistory, JoinKey({"E", ""}) + OrderedUint64(0), "after");

  std::vector<std::string> expected;
  for (auto it = numbers.rbegin(); it != numbers.rend(); ++it) {
    expected.push_back(prefix + OrderedUint64(*it));
  }
  EXPECT_EQ(ScanKeys(Family::kHistory, prefix, "", true), expected);
}

TEST_F(StoreTest, Scan_ReverseWhenPrefixEndsInFfBytes_ReturnsLastToFirst) {
  // The prefix itself ends in 0xff bytes, so its successor has to drop them.
  const std::string prefix = std::string("k") + std::string("\xff\xff", 2);
  PutOne(Family::kHistory, prefix + OrderedUint64(1), "x");
  PutOne(Family::kHistory, prefix + OrderedUint64(kMax), "x");
  PutOne(Family::kHistory, std::string("k\xfe\xff"), "before");
  PutOne(Family::kHistory, std::string("l"), "after");

  EXPECT_THAT(ScanKeys(Family::kHistory, prefix, "", true),
              ElementsAre(prefix + OrderedUint64(kMax), prefix + OrderedUint64(1)));
}

TEST_F(StoreTest, Scan_ReverseWhenPrefixIsAllFfBytes_ReturnsLastToFirst) {
  // No successor exists: the scan starts from the very last key.
  const std::string prefix("\xff\xff", 2);
  PutOne(Family::kHistory, prefix + "a", "x");
  PutOne(Family::kHistory, prefix + "b", "x");
  PutOne(Family::kHistory, std::string("\xff\xfe", 2), "before");

  EXPECT_THAT(ScanKeys(Family::kHistory, prefix, "", true),
              ElementsAre(prefix + "b", prefix + "a"));
}

TEST_F(StoreTest, Scan_ForwardWithFfBytes_ReturnsNumericOrder) {
  const std::string prefix = JoinKey({"D", ""});
  const std::vector<uint64_t> numbers = {kMax, 1, 0xff00000000000000ull, 0x100};
  for (uint64_t n : numbers) PutOne(Family::kHistory, prefix + OrderedUint64(n), "x");
  PutOne(Family::kHistory, std::string("D\x01"), "after");

  EXPECT_THAT(
      ScanKeys(Family::kHistory, prefix, "", false),
      ElementsAre(prefix + OrderedUint64(1), prefix + OrderedUint64(0x100),
                  prefix + OrderedUint64(0xff00000000000000ull), prefix + OrderedUint64(kMax)));
}

TEST_F(StoreTest, Scan_ForwardFromStart_IncludesStartAndFollowing) {
  const std::string prefix = JoinKey({"W", ""});
  for (uint64_t n : {1u, 2u, 3u, 4u}) PutOne(Family::kWorklist, prefix + OrderedUint64(n), "x");

  EXPECT_THAT(
      ScanKeys(Family::kWorklist, prefix, prefix + OrderedUint64(2), false),
      ElementsAre(prefix + OrderedUint64(2), prefix + OrderedUint64(3), prefix + OrderedUint64(4)));
}

TEST_F(StoreTest, Scan_ReverseFromStart_IncludesStartAndPreceding) {
  const std::string prefix = JoinKey({"W", ""});
  for (uint64_t n : {1u, 2u, 3u, 4u}) PutOne(Family::kWorklist, prefix + OrderedUint64(n), "x");

  EXPECT_THAT(
      ScanKeys(Family::kWorklist, prefix, prefix + OrderedUint64(3), true),
      ElementsAre(prefix + OrderedUint64(3), prefix + OrderedUint64(2), prefix + OrderedUint64(1)));
}

TEST_F(StoreTest, Scan_ForwardFromAbsentStart_BeginsAtNextKey) {
  const std::string prefix = JoinKey({"W", ""});
  for (uint64_t n : {10u, 20u, 30u}) PutOne(Family::kWorklist, prefix + OrderedUint64(n), "x");

  EXPECT_THAT(ScanKeys(Family::kWorklist, prefix, prefix + OrderedUint64(15), false),
              ElementsAre(prefix + OrderedUint64(20), prefix + OrderedUint64(30)));
}

TEST_F(StoreTest, Scan_ReverseFromAbsentStart_BeginsAtPreviousKey) {
  const std::string prefix = JoinKey({"W", ""});
  for (uint64_t n : {10u, 20u, 30u}) PutOne(Family::kWorklist, prefix + OrderedUint64(n), "x");

  EXPECT_THAT(ScanKeys(Family::kWorklist, prefix, prefix + OrderedUint64(25), true),
              ElementsAre(prefix + OrderedUint64(20), prefix + OrderedUint64(10)));
}

TEST_F(StoreTest, Scan_VisitorReturnsFalse_Stops) {
  const std::string prefix = JoinKey({"W", ""});
  for (uint64_t n : {1u, 2u, 3u, 4u, 5u}) PutOne(Family::kWorklist, prefix + OrderedUint64(n), "x");

  std::vector<std::string> seen;
  absl::Status s = store_->Scan(Family::kWorklist, prefix, "", false,
                                [&](absl::string_view k, absl::string_view) {
                                  seen.emplace_back(k);
                                  return seen.size() < 2;
                                });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(seen, ElementsAre(prefix + OrderedUint64(1), prefix + OrderedUint64(2)));
}

TEST_F(StoreTest, Scan_ReverseVisitorReturnsFalse_Stops) {
  const std::string prefix = JoinKey({"W", ""});
  for (uint64_t n : {1u, 2u, 3u}) PutOne(Family::kWorklist, prefix + OrderedUint64(n), "x");

  std::vector<std::string> seen;
  absl::Status s = store_->Scan(Family::kWorklist, prefix, "", true,
                                [&](absl::string_view k, absl::string_view) {
                                  seen.emplace_back(k);
                                  return false;
                                });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(seen, ElementsAre(prefix + OrderedUint64(3)));
}

// ---- Durability and large values ----

TEST_F(StoreTest, Reopen_CommittedData_Survives) {
  WriteSet w;
  w.Put(Family::kDossiers, "HN-0001", "dossier");
  w.Put(Family::kDefinitions, JoinKey({"2.001914", OrderedUint64(1)}), "definition v1");
  w.Delete(Family::kDossiers, "never-there");
  CommitOrFail(w);

  Reopen();
  EXPECT_EQ(store_->Get(Family::kDossiers, "HN-0001").value_or("<missing>"), "dossier");
  EXPECT_EQ(store_->Get(Family::kDefinitions, JoinKey({"2.001914", OrderedUint64(1)}))
                .value_or("<missing>"),
            "definition v1");
}

TEST_F(StoreTest, Reopen_DeletedKey_StaysDeleted) {
  PutOne(Family::kDossiers, "HN-0001", "dossier");
  WriteSet w;
  w.Delete(Family::kDossiers, "HN-0001");
  CommitOrFail(w);

  Reopen();
  EXPECT_EQ(store_->Get(Family::kDossiers, "HN-0001").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, Reopen_ScanOrder_Survives) {
  const std::string prefix = JoinKey({"H", ""});
  for (uint64_t n : {3u, 1u, 2u}) PutOne(Family::kHistory, prefix + OrderedUint64(n), "x");
  Reopen();
  EXPECT_THAT(
      ScanKeys(Family::kHistory, prefix, "", true),
      ElementsAre(prefix + OrderedUint64(3), prefix + OrderedUint64(2), prefix + OrderedUint64(1)));
}

TEST_F(StoreTest, PutGet_OneMebibyteDocument_RoundTrips) {
  std::string big(1u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) & 0xff);
  PutOne(Family::kDocuments, "doc-1", big);

  absl::StatusOr<std::string> got = store_->Get(Family::kDocuments, "doc-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big) << "size " << got->size() << " vs " << big.size();
}

TEST_F(StoreTest, PutGet_OneMebibyteDocumentAfterReopen_ReadBackFromBlobFile) {
  std::string big(1u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) & 0xff);
  PutOne(Family::kDocuments, "doc-1", big);

  // Reopening replays the log and flushes it, so the value now lives in a
  // blob file rather than the memtable.
  Reopen();
  bool has_blob_file = false;
  for (const auto& entry : std::filesystem::directory_iterator(db_path_)) {
    has_blob_file |= entry.path().extension() == ".blob";
  }
  EXPECT_TRUE(has_blob_file) << "no .blob file in " << db_path_;

  absl::StatusOr<std::string> got = store_->Get(Family::kDocuments, "doc-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big) << "size " << got->size() << " vs " << big.size();
}

// ---- Open ----

TEST_F(StoreTest, Open_PathIsRegularFile_Fails) {
  const std::string file = (dir_ / "not_a_directory").string();
  {
    std::ofstream out(file);
    out << "plain file";
  }
  ASSERT_TRUE(std::filesystem::is_regular_file(file));
  absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open(file);
  EXPECT_FALSE(opened.ok());
}

TEST_F(StoreTest, Open_SecondOpenOfSameDirectoryWhileOpen_Fails) {
  // RocksDB's LOCK file keeps two processes (or two stores) from sharing a
  // database; the first store is still open here.
  absl::StatusOr<std::unique_ptr<Store>> second = Store::Open(db_path_);
  EXPECT_FALSE(second.ok());
}

// ---- Key encoding ----

TEST(OrderedUint64Test, ByteOrder_MatchesNumericOrder) {
  const std::vector<uint64_t> ascending = {
      0,        1,           0xff,           0x100,     0xffff,
      0x10000,  0xffffffffu, 0x100000000ull, kMax >> 1, (kMax >> 1) + 1,
      kMax - 1, kMax};
  for (size_t i = 0; i + 1 < ascending.size(); ++i) {
    EXPECT_LT(OrderedUint64(ascending[i]), OrderedUint64(ascending[i + 1]))
        << ascending[i] << " vs " << ascending[i + 1];
  }
}

TEST(OrderedUint64Test, Encoding_IsEightBytesBigEndian) {
  EXPECT_EQ(OrderedUint64(0x0102030405060708ull),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(OrderedUint64(0).size(), 8u);
}

TEST(OrderedUint64Test, DecodeCounter_InvertsEncoding) {
  for (uint64_t v : {0ull, 1ull, 255ull, 0xdeadbeefcafef00dull, 0xffffffffffffffffull}) {
    EXPECT_EQ(DecodeCounter(OrderedUint64(v)), v);
  }
}

TEST(JoinKeyTest, Parts_JoinedWithNulByte) {
  EXPECT_EQ(JoinKey({"HN", "001"}), std::string("HN\0"
                                                "001",
                                                6));
  EXPECT_EQ(JoinKey({"HN", ""}), std::string("HN\0", 3));
  EXPECT_EQ(JoinKey({"HN"}), "HN");
}

TEST(JoinKeyTest, PrefixOfShorterPart_IsNotPrefixOfLongerSibling) {
  const std::string prefix = JoinKey({"HN", ""});
  const std::string sibling = JoinKey({"HN2", "001"});
  EXPECT_NE(sibling.compare(0, prefix.size(), prefix), 0);
}

}  // namespace
}  // namespace motcua::storage
