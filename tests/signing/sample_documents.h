#ifndef MOTCUA_TESTS_SIGNING_SAMPLE_DOCUMENTS_H_
#define MOTCUA_TESTS_SIGNING_SAMPLE_DOCUMENTS_H_

// The document templates the product ships (the built-in procedure's and
// the diploma's, read from the source tree) with sample data, for tests
// and benchmarks of signing/.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "motcua/v1/procedure.pb.h"
#include "signing/documents.h"

namespace motcua::signing::samples {

inline std::string SourceFile(const std::string& relative) {
  std::ifstream in(std::string(MOTCUA_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline v1::ProcedureDefinition CopyProcedure() {
  v1::ProcedureDefinition definition;
  google::protobuf::TextFormat::ParseFromString(
      SourceFile("workflow/procedures/copy_from_register.textproto"), &definition);
  return definition;
}

inline v1::DocumentTemplate ProcedureTemplate(const std::string& kind) {
  const v1::ProcedureDefinition procedure = CopyProcedure();
  for (const v1::DocumentTemplate& t : procedure.templates()) {
    if (t.kind() == kind) return t;
  }
  return {};
}

inline v1::DocumentTemplate DiplomaTemplate() {
  v1::DocumentTemplate t;
  google::protobuf::TextFormat::ParseFromString(
      SourceFile("workflow/templates/diploma_thpt.textproto"), &t);
  return t;
}

// What the engine offers the copy procedure's templates
// (workflow/document_data.cc), as far as these samples use it.
inline FieldCatalog ProcedureCatalog() {
  FieldCatalog catalog;
  for (const char* f : {"dossier.code",        "document.id",          "document.date",
                        "document.date_long",  "procedure.name",       "applicant.full_name",
                        "unit.name",           "unit.parent",          "unit.place",
                        "unit.head_title",     "receipt.received_at",  "receipt.appointment_at",
                        "receipt.received_by", "supplement.note",      "form.diploma_type",
                        "form.diploma_serial", "form.register_number", "form.graduation_year",
                        "form.school",         "form.date_of_birth",   "form.place_of_birth"}) {
    catalog.fields.insert(f);
  }
  catalog.lists["attachments"] = {"name"};
  catalog.lists["rejection_reasons"] = {"text"};
  catalog.lists["supplement.missing_items"] = {"text"};
  return catalog;
}

inline FieldCatalog DiplomaCatalog() {
  FieldCatalog catalog;
  for (const char* f :
       {"dossier.code", "document.id", "document.date_long", "unit.name", "unit.place",
        "unit.head_title", "graduate.full_name", "graduate.date_of_birth",
        "graduate.place_of_birth", "graduate.school", "graduate.graduation_year",
        "graduate.classification", "diploma.serial", "diploma.register_number"}) {
    catalog.fields.insert(f);
  }
  return catalog;
}

inline void AddUnit(DocumentData& data) {
  data.fields["unit.name"] = "Sở Giáo dục và Đào tạo Hà Nội";
  data.fields["unit.parent"] = "Ủy ban nhân dân thành phố Hà Nội";
  data.fields["unit.place"] = "Hà Nội";
  data.fields["unit.head_title"] = "Giám đốc";
  data.fields["document.date_long"] = "ngày 23 tháng 11 năm 2026";
}

inline DocumentData ReceiptData() {
  DocumentData data;
  AddUnit(data);
  data.fields["dossier.code"] = "HN-SGDDT-20261123-0001";
  data.fields["document.id"] = "receipt";
  data.fields["procedure.name"] = "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc";
  data.fields["applicant.full_name"] = "Nguyễn Thị Hồng Nhung";
  data.fields["receipt.received_at"] = "23/11/2026 15:05";
  data.fields["receipt.appointment_at"] = "26/11/2026 16:00";
  data.fields["receipt.received_by"] = "Trần Văn Bình";
  data.lists["attachments"] = {{{"name", "Đơn đề nghị cấp bản sao văn bằng từ sổ gốc"}},
                               {{"name", "Căn cước công dân (bản sao)"}}};
  return data;
}

inline DocumentData CopyData() {
  DocumentData data;
  AddUnit(data);
  data.fields["dossier.code"] = "HN-SGDDT-20261123-0001";
  data.fields["document.id"] = "copy-1";
  data.fields["applicant.full_name"] = "Nguyễn Thị Hồng Nhung";
  data.fields["form.diploma_type"] = "Bằng tốt nghiệp trung học phổ thông";
  data.fields["form.date_of_birth"] = "05/03/2008";
  data.fields["form.place_of_birth"] = "Thành phố Hồ Chí Minh";
  data.fields["form.school"] = "Trường THPT Chu Văn An";
  data.fields["form.graduation_year"] = "2026";
  data.fields["form.diploma_serial"] = "A0123456";
  data.fields["form.register_number"] = "2026/THPT-0042";
  return data;
}

inline DocumentData RefusalData() {
  DocumentData data = ReceiptData();
  data.fields["document.id"] = "refusal-1";
  data.lists["rejection_reasons"] = {
      {{"text", "Không tìm thấy văn bằng trong sổ gốc với số hiệu đã khai."}},
      {{"text", "Năm tốt nghiệp không khớp với sổ gốc."}}};
  return data;
}

inline DocumentData SupplementData() {
  DocumentData data = ReceiptData();
  data.fields["document.id"] = "supplement-1";
  data.fields["supplement.note"] = "Nộp trong 10 ngày làm việc.";
  data.lists["supplement.missing_items"] = {{{"text", "Bản sao căn cước công dân có chứng thực"}}};
  return data;
}

// Graduate `i`'s diploma (a different holder each i).
inline DocumentData DiplomaData(int i = 0) {
  DocumentData data;
  AddUnit(data);
  data.fields["dossier.code"] = "HN-SGDDT-20261123-0002";
  data.fields["document.id"] = i == 0 ? "diploma-1" : absl::StrCat("diploma-", i + 1);
  data.fields["graduate.full_name"] =
      i == 0 ? "Nguyễn Thị Hồng Nhung" : absl::StrCat("Nguyễn Thị Hồng Nhung ", i);
  data.fields["graduate.date_of_birth"] = "05/03/2008";
  data.fields["graduate.place_of_birth"] = "Thành phố Hồ Chí Minh";
  data.fields["graduate.school"] = "Trường THPT Chu Văn An";
  data.fields["graduate.graduation_year"] = "2026";
  data.fields["graduate.classification"] = "Khá";
  data.fields["diploma.serial"] = "A0123456";
  data.fields["diploma.register_number"] = "2026/THPT-0042";
  return data;
}

// A register-like table of `entries` rows (a year's transcript per page is
// about 40 rows), signed by the head with the seal over.
inline v1::DocumentTemplate TableTemplate() {
  v1::DocumentTemplate t;
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        kind: "table"
        title: "Sổ theo dõi kết quả học tập"
        blocks {
          id: "heading"
          heading { parent: "{unit.parent}" issuer: "{unit.name}" }
        }
        blocks {
          id: "title"
          paragraph {
            text: "SỔ THEO DÕI KẾT QUẢ HỌC TẬP"
            style { size: 14 bold: true align: ALIGN_CENTER leading: 24 }
          }
        }
        blocks {
          id: "rows"
          table {
            each: "entries"
            columns { title: "STT" value: "{n}" weight: 0.5 align: ALIGN_RIGHT }
            columns { title: "Môn học" value: "{item.subject}" weight: 2 }
            columns { title: "Học kỳ I" value: "{item.term1}" weight: 1 align: ALIGN_CENTER }
            columns { title: "Học kỳ II" value: "{item.term2}" weight: 1 align: ALIGN_CENTER }
            columns { title: "Cả năm" value: "{item.year}" weight: 1 align: ALIGN_CENTER }
            columns { title: "Nhận xét" value: "{item.comment}" weight: 3 }
          }
        }
        footer_top: 200
        reference { x: 85 y: 60 side: 90 text_x: 85 text_y: 45 }
        slots {
          id: "head"
          signer: SIGNER_ACTOR
          title: "{unit.head_title|upper}"
          x: 330
          top: 170
          width: 200
          height: 90
        }
        slots { id: "seal" signer: SIGNER_UNIT_SEAL over: "head" }
      )pb",
      &t);
  return t;
}

inline FieldCatalog TableCatalog() {
  FieldCatalog catalog = ProcedureCatalog();
  catalog.lists["entries"] = {"subject", "term1", "term2", "year", "comment"};
  return catalog;
}

inline DocumentData TableData(int entries) {
  static const char* const kSubjects[] = {"Ngữ văn", "Toán",    "Tiếng Anh", "Lịch sử",
                                          "Vật lí",  "Hóa học", "Sinh học",  "Giáo dục thể chất"};
  DocumentData data = ReceiptData();
  data.fields["document.id"] = "table-1";
  for (int i = 0; i < entries; ++i) {
    data.lists["entries"].push_back(
        {{"subject", kSubjects[i % 8]},
         {"term1", absl::StrCat(6 + i % 4, ".", i % 10)},
         {"term2", absl::StrCat(7 + i % 3, ".", (i * 3) % 10)},
         {"year", absl::StrCat(7 + i % 3, ".", (i * 7) % 10)},
         {"comment", i % 5 == 0 ? "Có tiến bộ, cần phát huy" : "Hoàn thành tốt"}});
  }
  return data;
}

}  // namespace motcua::signing::samples

#endif  // MOTCUA_TESTS_SIGNING_SAMPLE_DOCUMENTS_H_
