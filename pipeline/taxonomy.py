"""The codes of ../shared/LABELING.md: labels, fields (lĩnh vực), deeds, stages.

One place for them: every label, metric, screen and export uses these.
"""
from __future__ import annotations

LABELS = {2: "Ứng viên (candidate)", 1: "Cân nhắc (borderline)", 0: "Không phải (not a candidate)"}

# code -> (Vietnamese name, typical exemplars) as in LABELING.md
FIELDS: dict[str, tuple[str, str]] = {
    "giao-duc": ("Giáo dục – đào tạo", "giáo viên, nhà trường, học sinh, sinh viên học giỏi"),
    "y-te": ("Y tế", "bác sĩ, điều dưỡng, bệnh viện, ca cứu sống bệnh nhân"),
    "an-ninh-quoc-phong": ("An ninh – quốc phòng – cứu hộ",
                           "công an, bộ đội, dân quân, biên phòng, cảnh sát phòng cháy chữa cháy, cứu hộ cứu nạn"),
    "lao-dong-san-xuat": ("Lao động – sản xuất – kinh doanh",
                          "công nhân, kỹ sư, thợ thủ công, doanh nghiệp, công đoàn"),
    "nong-nghiep": ("Nông nghiệp – nông thôn", "nông dân, hợp tác xã, ngư dân, mô hình nông thôn"),
    "khoa-hoc-cong-nghe": ("Khoa học – công nghệ", "nhà khoa học, nhà sáng chế, chuyển đổi số"),
    "van-hoa-the-thao": ("Văn hóa – nghệ thuật – thể thao", "nghệ sĩ, vận động viên, người giữ gìn văn hóa"),
    "xa-hoi": ("Xã hội – nhân đạo – từ thiện",
               "nhà hảo tâm, tình nguyện viên, hiến máu, hiến tạng, công tác xã hội"),
    "cong-dong": ("Người dân – đời sống cộng đồng",
                  "người dân cứu người, trả lại của rơi, giúp người lạ, hiến đất làm đường"),
    "moi-truong": ("Tài nguyên – môi trường", "người bảo vệ rừng, sông, làm sạch môi trường"),
    "khac": ("Khác", "không thuộc lĩnh vực nào ở trên"),
}

DEEDS: dict[str, str] = {
    "cuu-nguoi": "Cứu người, cứu tài sản, chữa cháy",
    "trung-thuc": "Trả lại của rơi, từ chối hối lộ",
    "chong-toi-pham": "Bắt giữ, tố giác tội phạm",
    "tu-thien": "Từ thiện, tình nguyện, hiến đất, quyên góp",
    "hien-mau-tang": "Hiến máu, hiến tạng, mô",
    "sang-tao": "Sáng kiến, sáng chế, cải tiến kỹ thuật",
    "vuot-kho": "Vượt khó vươn lên",
    "tan-tuy": "Tận tụy, thành tích nghề nghiệp xuất sắc",
    "khac": "Khác",
}

# The four steps of the emulation movement, in order.
STAGES: dict[str, str] = {
    "phat-hien": "Phát hiện",
    "boi-duong": "Bồi dưỡng",
    "tong-ket": "Tổng kết",
    "nhan-rong": "Nhân rộng",
}


def field_name(code: str) -> str:
    return FIELDS.get(code, (code or "—", ""))[0]


def deed_name(code: str) -> str:
    return DEEDS.get(code, code or "—")
