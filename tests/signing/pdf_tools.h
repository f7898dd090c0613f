#ifndef MOTCUA_TESTS_SIGNING_PDF_TOOLS_H_
#define MOTCUA_TESTS_SIGNING_PDF_TOOLS_H_

// Helpers for tests that judge our PDFs with independent tools (poppler's
// pdftotext, pdffonts, pdftoppm, pdfinfo and qpdf).

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace motcua::signing::testing_tools {

// A fresh directory under the test's temporary directory.
inline std::string FreshDir(const std::string& stem) {
  std::string dir = ::testing::TempDir() + "/" + stem + "_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << dir;
  return dir;
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through the shell; arguments must be quoted by the caller.
inline CommandResult RunTool(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// Text as pdftotext extracts it, with every run of white space made one
// space, so phrases broken across lines still match.
inline std::string ExtractText(const std::string& pdf_path) {
  CommandResult result = RunTool("pdftotext -enc UTF-8 '" + pdf_path + "' -");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::string text;
  bool space = false;
  for (char c : result.output) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\f' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !text.empty()) text.push_back(' ');
    space = false;
    text.push_back(c);
  }
  return text;
}

// A word's box from `pdftotext -bbox`, converted to PDF coordinates
// (origin bottom-left).
struct WordBox {
  std::string word;
  double x_min, y_min, x_max, y_max;
};

inline double Attribute(const std::string& line, const std::string& name) {
  const size_t at = line.find(name + "=\"");
  if (at == std::string::npos) return 0;
  return strtod(line.c_str() + at + name.size() + 2, nullptr);
}

// The words of page `page` (from 1) and the page height.
inline std::vector<WordBox> WordBoxes(const std::string& pdf_path, double* page_height,
                                      int page = 1) {
  CommandResult result = RunTool("pdftotext -f " + std::to_string(page) + " -l " +
                                 std::to_string(page) + " -bbox '" + pdf_path + "' -");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::vector<WordBox> boxes;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("<page ") != std::string::npos) *page_height = Attribute(line, "height");
    if (line.find("<word ") == std::string::npos) continue;
    const size_t open = line.find('>'), close = line.rfind("</word>");
    WordBox box{line.substr(open + 1, close - open - 1), Attribute(line, "xMin"),
                *page_height - Attribute(line, "yMax"), Attribute(line, "xMax"),
                *page_height - Attribute(line, "yMin")};
    boxes.push_back(box);
  }
  return boxes;
}

// A greyscale raster of page 1 from `pdftoppm -gray` (binary PGM).
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // row-major, row 0 at the top
  int At(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

inline GrayImage Rasterize(const std::string& pdf_path, int dpi, const std::string& out_stem) {
  GrayImage image;
  CommandResult result = RunTool("pdftoppm -f 1 -l 1 -singlefile -gray -r " + std::to_string(dpi) +
                                 " '" + pdf_path + "' '" + out_stem + "'");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::istringstream in(ReadFile(out_stem + ".pgm"));
  std::string magic;
  int max_value = 0;
  in >> magic >> image.width >> image.height >> max_value;
  in.get();  // the single white space after the header
  EXPECT_EQ(magic, "P5");
  EXPECT_EQ(max_value, 255);
  image.pixels.resize(static_cast<size_t>(image.width) * image.height);
  in.read(reinterpret_cast<char*>(image.pixels.data()), image.pixels.size());
  EXPECT_TRUE(in.good());
  return image;
}

// One signature embedded in a PDF: its byte range, its CMS (DER, without
// the zero padding) and the bytes it signs.
struct EmbeddedSignature {
  int64_t byte_range[4];
  std::string cms;
  std::string signed_bytes;
};

// Every signature in `pdf`, in file order, found by its /ByteRange.
inline std::vector<EmbeddedSignature> FindSignatures(const std::string& pdf) {
  std::vector<EmbeddedSignature> out;
  for (size_t at = pdf.find("/ByteRange"); at != std::string::npos;
       at = pdf.find("/ByteRange", at + 1)) {
    size_t open = pdf.find('[', at);
    size_t close = pdf.find(']', open);
    std::vector<std::string> numbers =
        absl::StrSplit(pdf.substr(open + 1, close - open - 1), ' ', absl::SkipEmpty());
    if (numbers.size() != 4) continue;
    EmbeddedSignature sig;
    for (int i = 0; i < 4; ++i) sig.byte_range[i] = std::stoll(numbers[i]);
    const int64_t* br = sig.byte_range;
    std::string hex = pdf.substr(br[1] + 1, br[2] - br[1] - 2);
    std::string der;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      der.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    if (der.size() < 4) continue;
    // Keep the DER SEQUENCE only, without the zero padding.
    size_t length = static_cast<unsigned char>(der[1]);
    size_t header = 2;
    if (length & 0x80) {
      size_t n = length & 0x7f;
      length = 0;
      for (size_t i = 0; i < n; ++i)
        length = (length << 8) | static_cast<unsigned char>(der[2 + i]);
      header += n;
    }
    sig.cms = der.substr(0, header + length);
    sig.signed_bytes = pdf.substr(0, br[1]) + pdf.substr(br[2], br[3]);
    out.push_back(sig);
  }
  return out;
}

}  // namespace motcua::signing::testing_tools

#endif  // MOTCUA_TESTS_SIGNING_PDF_TOOLS_H_
