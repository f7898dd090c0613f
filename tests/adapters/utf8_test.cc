#include "adapters/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace motcua::adapters {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(RepairUtf8Test, WellFormedText_Unchanged) {
  for (const std::string& text : {std::string(""), std::string("ASCII only"),
                                 std::string("Bằng tốt nghiệp trung học phổ thông"),
                                 std::string("\xF0\x9F\x93\x9C scroll")}) {
    EXPECT_EQ(RepairUtf8(text), text);
  }
}

TEST(RepairUtf8Test, EachBadByte_BecomesOneReplacementCharacter) {
  EXPECT_EQ(RepairUtf8("a\xFFz"), "a" + kReplacement + "z");
  // Overlong "/", a surrogate half, past U+10FFFF: refused byte by byte.
  EXPECT_EQ(RepairUtf8("\xC0\xAF"), kReplacement + kReplacement);
  EXPECT_EQ(RepairUtf8("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(RepairUtf8("\xF4\x90\x80\x80"), kReplacement + kReplacement + kReplacement +
                                                kReplacement);
  // Truncated at the end: the lead byte and the one continuation.
  EXPECT_EQ(RepairUtf8("ok\xE1\xBA"), "ok" + kReplacement + kReplacement);
}

TEST(Utf8SequenceLengthTest, LengthOfTheFirstSequenceOnly) {
  EXPECT_EQ(Utf8SequenceLength(""), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xE1\xBA\xB1x"), 3u);  // "ằ"
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0u);
}

}  // namespace
}  // namespace motcua::adapters
