#include "signing/pdf_input.h"

#include <string>

#include "gtest/gtest.h"
#include "podofo/podofo.h"
#include "tests/signing/hand_pdf.h"

namespace motcua::signing {
namespace {

// PoDoFo's parser relies on std::istream's states; the device keeps them.
TEST(MemoryInputDeviceTest, ReadsLikeAnIstream) {
  MemoryInputDevice device("abc");
  EXPECT_EQ(device.Look(), 'a');
  EXPECT_EQ(device.GetChar(), 'a');
  EXPECT_EQ(device.Tell(), 1);
  char buffer[8];
  EXPECT_EQ(device.Read(buffer, 8), 2);  // short read: end of file and failure
  EXPECT_EQ(std::string(buffer, 2), "bc");
  EXPECT_TRUE(device.Eof());
  EXPECT_EQ(device.Tell(), -1);
  EXPECT_EQ(device.GetChar(), EOF);

  device.Seek(0);  // as seekg: a failed stream stays failed
  EXPECT_EQ(device.GetChar(), EOF);
  device.Clear();
  device.Seek(1);
  EXPECT_EQ(device.GetChar(), 'b');
  device.Seek(-1, std::ios_base::end);
  EXPECT_EQ(device.GetChar(), 'c');
  EXPECT_EQ(device.Look(), EOF);  // peek at the end: end of file, not failure
  EXPECT_TRUE(device.Eof());
  device.Seek(0);
  EXPECT_EQ(device.GetChar(), 'a');
  device.Seek(4);  // outside the data: fails, position kept
  EXPECT_EQ(device.Tell(), -1);
}

TEST(MemoryInputDeviceTest, SeeksClearFailureWhenAsked) {
  MemoryInputDevice device("abc");
  device.SetSeeksClearFailure(true);
  device.Seek(3);
  EXPECT_EQ(device.GetChar(), EOF);
  device.Seek(1);
  EXPECT_EQ(device.GetChar(), 'b');
}

TEST(MemoryInputDeviceTest, HighWaterIsTheFurthestPositionRead) {
  MemoryInputDevice device("0123456789");
  EXPECT_EQ(device.high_water(), -1);
  device.Seek(7);  // seeking reads nothing
  EXPECT_EQ(device.high_water(), -1);
  device.Look();
  EXPECT_EQ(device.high_water(), 7);
  device.Seek(2);
  char buffer[3];
  device.Read(buffer, 3);
  EXPECT_EQ(device.high_water(), 7);
  device.ResetHighWater();
  device.Read(buffer, 3);
  EXPECT_EQ(device.high_water(), 7);  // positions 5, 6, 7
  device.Seek(8);
  device.Read(buffer, 3);  // 8, 9 and the end
  EXPECT_EQ(device.high_water(), 10);
}

// A document loaded through the device reads as one loaded from a buffer.
TEST(MemoryInputDeviceTest, PodofoLoadsADocumentThroughIt) {
  const std::string pdf = testing_pdf::OnePagePdf("Hello");
  PoDoFo::PdfError::EnableDebug(false);
  PoDoFo::PdfError::EnableLogging(false);
  PoDoFo::PdfMemDocument doc;
  doc.LoadFromDevice(PoDoFo::PdfRefCountedInputDevice(new MemoryInputDevice(pdf)), false);
  ASSERT_EQ(doc.GetPageCount(), 1);
  PoDoFo::PdfObject* content = doc.GetPage(0)->GetContents();
  ASSERT_NE(content, nullptr);
  char* data = nullptr;
  PoDoFo::pdf_long length = 0;
  content->GetStream()->GetFilteredCopy(&data, &length);
  EXPECT_EQ(std::string(data, static_cast<size_t>(length)), testing_pdf::PageContent("Hello"));
  PoDoFo::podofo_free(data);
}

}  // namespace
}  // namespace motcua::signing
