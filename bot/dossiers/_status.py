"""The national portal's dossier status codes (TrangThaiHoSo 1–10) in plain words.

"Overdue" is never a status: it is computed from the due date (see `_service.facts_for`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """One status: the portal's official name, plain words and the next step, in vi and en."""

    code: int
    official: str
    vi: str
    en: str
    next_vi: str
    next_en: str


STATUSES: dict[int, Status] = {
    s.code: s
    for s in (
        Status(
            1, "Mới đăng ký",
            "Mới đăng ký: hồ sơ đã được gửi và đang chờ bộ phận một cửa kiểm tra để tiếp nhận.",
            "Newly submitted: the dossier was sent and is waiting for the one-stop desk to check and accept it.",
            "Bộ phận một cửa sẽ kiểm tra hồ sơ và tiếp nhận, hoặc báo cho bạn nếu cần sửa.",
            "The one-stop desk will check the dossier and accept it, or tell you what to correct.",
        ),
        Status(
            2, "Được tiếp nhận",
            "Đã được tiếp nhận: hồ sơ hợp lệ và đã được chuyển đến phòng chuyên môn.",
            "Accepted: the dossier is complete and has been passed to the department in charge.",
            "Phòng chuyên môn sẽ xử lý hồ sơ; bạn chưa cần làm gì thêm.",
            "The department will process it; there is nothing you need to do yet.",
        ),
        Status(
            3, "Không được tiếp nhận",
            "Không được tiếp nhận: hồ sơ chưa đủ điều kiện để tiếp nhận.",
            "Not accepted: the dossier did not meet the conditions to be accepted.",
            "Xem lý do trong thông báo từ chối, hoàn thiện hồ sơ rồi nộp lại.",
            "Read the reason in the refusal notice, complete the dossier and file it again.",
        ),
        Status(
            4, "Đang xử lý",
            "Đang xử lý: phòng chuyên môn đang thẩm định hồ sơ.",
            "Being processed: the department is examining the dossier.",
            "Bạn chưa cần làm gì; kết quả dự kiến có vào ngày hẹn trả.",
            "Nothing to do yet; the result is expected on the due date.",
        ),
        Status(
            5, "Yêu cầu bổ sung giấy tờ",
            "Cần bổ sung giấy tờ: hồ sơ tạm dừng, chờ bạn bổ sung.",
            "More papers needed: the dossier is paused until you supply them.",
            "Nộp bổ sung những giấy tờ được yêu cầu (trực tuyến hoặc tại bộ phận một cửa). "
            "Thời hạn giải quyết được tính lại khi nhận đủ giấy tờ.",
            "Supply the papers asked for (online or at the one-stop desk). "
            "The time limit restarts once they are all received.",
        ),
        Status(
            6, "Yêu cầu thực hiện nghĩa vụ tài chính",
            "Chờ nộp phí, lệ phí hoặc nghĩa vụ tài chính.",
            "Waiting for you to pay the fee, charge or other financial obligation.",
            "Nộp khoản tiền theo thông báo; hồ sơ được xử lý tiếp khi nhận được khoản nộp.",
            "Pay the amount in the notice; processing continues once the payment is received.",
        ),
        Status(
            7, "Công dân yêu cầu rút hồ sơ",
            "Đã rút hồ sơ theo yêu cầu của người nộp.",
            "Withdrawn at the applicant's request.",
            "Hồ sơ không được xử lý tiếp. Khi cần, bạn có thể nộp hồ sơ mới.",
            "The dossier will not be processed further. You can file a new one when needed.",
        ),
        Status(
            8, "Dừng xử lý",
            "Đã dừng xử lý hồ sơ.",
            "Processing has been stopped.",
            "Liên hệ Ban Quản lý để biết lý do và cách tiếp tục.",
            "Contact the board to learn why and how to continue.",
        ),
        Status(
            9, "Đã xử lý xong",
            "Đã xử lý xong: đã có kết quả, chờ trả cho bạn.",
            "Processed: the result is ready to be handed to you.",
            "Nhận kết quả tại bộ phận một cửa, qua bưu chính hoặc trên Cổng Dịch vụ công, theo cách bạn đã chọn khi nộp.",
            "Collect the result at the one-stop desk, by post or on the public-service portal, as you chose when filing.",
        ),
        Status(
            10, "Đã trả kết quả",
            "Đã trả kết quả.",
            "The result has been handed over.",
            "Hồ sơ đã hoàn tất; bạn không cần làm gì thêm.",
            "The dossier is complete; there is nothing more to do.",
        ),
    )
}

#: Statuses in which the board is working and the clock runs.
ACTIVE = (1, 2, 4)
#: Statuses in which the clock is paused, waiting for the applicant.
WAITING = (5, 6)
#: Statuses with a result.
FINISHED = (9, 10)
#: Statuses that end the dossier without a result.
CLOSED = (3, 7, 8)
#: Statuses that count as "paused" in figures.
PAUSED = (5, 6, 8)


def status(code: int) -> Status:
    """The status with this code (1–10); KeyError for any other."""
    return STATUSES[code]
