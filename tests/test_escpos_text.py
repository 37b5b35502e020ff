import logging

import pytest

from shopfloor.printer import escpos_text as et
from shopfloor.printer.escpos_text import (
    center,
    display_width,
    encode_text,
    ljust,
    paper_width,
    printable,
    rjust,
    truncate,
    two_columns,
    wrap,
)


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    # warnings are once per process; each test starts as if nothing had been warned about yet
    monkeypatch.setattr(et, "_warned", set())


# --- widths ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("RO2411220012", 12),
        ("王先生", 6),
        ("京A12345", 8),
        ("，。：；（）！？、「」", 22),  # CJK punctuation is wide or fullwidth
        ("ＡＢ", 4),  # fullwidth Latin
        ("e\u0301", 1),  # combining acute accent adds nothing
        ("“咔咔”", 6),  # curly quotes are ambiguous: narrow by Unicode
    ],
)
def test_display_width(text, width):
    assert display_width(text) == width


def test_paper_width_counts_double_byte_codes_as_full_width():
    gbk = paper_width("gbk")
    # a Chinese printer prints any double-byte code full width, ambiguous punctuation included
    assert gbk("“咔咔”") == 8
    assert gbk("京A·12345") == 10
    assert gbk("abc") == 3
    assert paper_width("gb18030")("𠀀") == 2  # four-byte code, one full-width glyph
    assert paper_width("ascii")("王先生") == 3  # each prints as a single "?"


# --- wrapping -------------------------------------------------------------------------------------------


def test_wrap_chinese_by_display_width():
    text = "早上冷车启动时发动机有异响大概持续十秒"
    lines = wrap(text, 10)
    assert lines == ["早上冷车启", "动时发动机", "有异响大概", "持续十秒"]
    assert "".join(lines) == text


def test_wrap_never_splits_a_wide_char_across_the_edge():
    # 9 cells: "a" + four wide chars fills it, the fifth wide char cannot use the last cell
    assert wrap("a王王王王王", 9) == ["a王王王王", "王"]
    for line in wrap("a王王王王王王王王王王王王王王", 9):
        assert display_width(line) <= 9


def test_wrap_breaks_latin_at_spaces():
    assert wrap("replace front brake pads and discs", 16) == ["replace front", "brake pads and", "discs"]


def test_wrap_hard_breaks_a_word_longer_than_the_line():
    assert wrap("WDB1234567890XYZ", 6) == ["WDB123", "456789", "0XYZ"]


def test_wrap_mixed_moves_a_latin_word_whole_after_chinese():
    lines = wrap("高速120km/h以上方向盘抖动", 10)
    assert lines == ["高速", "120km/h以", "上方向盘抖", "动"]


def test_wrap_keeps_closing_punctuation_off_the_line_start():
    # "，" would land at the start of line 2; the character before it goes along
    lines = wrap("发动机异响，请检查", 10)
    assert lines == ["发动机异", "响，请检查"]
    assert not any(line.startswith("，") for line in lines)


def test_wrap_keeps_paragraphs_and_gives_one_line_for_empty_text():
    assert wrap("第一行\n第二行", 20) == ["第一行", "第二行"]
    assert wrap("", 20) == [""]


def test_wrap_with_paper_measure_counts_curly_quotes_as_two():
    text = "“咔咔”异响"
    assert wrap(text, 8, display_width) == ["“咔咔”异", "响"]
    assert wrap(text, 8, paper_width("gbk")) == ["“咔咔”", "异响"]


# --- columns ----------------------------------------------------------------------------------------------


def test_two_columns_right_aligns_by_display_width():
    [line] = two_columns("更换机油机滤", "0.8", 20)
    assert line == "更换机油机滤" + " " * 5 + "0.8"
    assert display_width(line) == 20
    [line] = two_columns("客户", "王先生", 20)
    assert line.endswith("王先生") and display_width(line) == 20


def test_two_columns_wraps_a_long_left_side_and_keeps_right_on_its_last_line():
    # "wheel alignment" leaves no room for " 1.5", so the hours get a line of their own
    assert two_columns("四轮定位 four wheel alignment", "1.5", 16) == [
        "四轮定位 four", "wheel alignment", "             1.5"
    ]


def test_two_columns_puts_right_at_end_of_wrapped_left_when_room():
    assert two_columns("四轮定位 four wheel", "1.5", 14) == ["四轮定位 four", "wheel      1.5"]


def test_padding_helpers():
    assert ljust("王", 4) == "王  "
    assert rjust("王", 4) == "  王"
    assert center("王", 6) == "  王  "
    assert truncate("王先生您好", 5) == "王先"


# --- encoding -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_encode_chinese_and_cjk_punctuation(encoding):
    assert encode_text("王先生，您好。：", encoding) == bytes.fromhex("cdf5 cfc8 c9fa a3ac c4fa bac3 a1a3 a3ba")
    assert encode_text("（）！？、「」“”；", encoding) == bytes.fromhex(
        "a3a8 a3a9 a3a1 a3bf a1a2 a1b8 a1b9 a1b0 a1b1 a3bb"
    )
    assert encode_text("RO-12 京A", encoding) == b"RO-12 " + bytes.fromhex("bea9") + b"A"


def test_char_missing_from_gbk_becomes_question_mark_and_is_logged_once(caplog):
    with caplog.at_level(logging.WARNING, logger="shopfloor.printer.escpos_text"):
        assert encode_text("价格€5", "gbk") == bytes.fromhex("bcdb b8f1") + b"?5"
        assert encode_text("€€", "gbk") == b"??"
    warnings = [r for r in caplog.records if "€" in r.getMessage()]
    assert len(warnings) == 1
    assert "gbk" in warnings[0].getMessage()


def test_gb18030_holds_what_gbk_lacks():
    assert encode_text("€", "gb18030") == bytes.fromhex("a2e3")
    assert encode_text("𠀀", "gb18030") == bytes.fromhex("95328236")
    assert encode_text("𠀀", "gbk") == b"?"


def test_ascii_printer_gets_question_marks_for_everything_else():
    assert encode_text("RO1 王先生", "ascii") == b"RO1 ???"


def test_control_characters_never_reach_the_printer_as_commands():
    # a complaint containing ESC @ must not reset the printer mid-ticket
    assert encode_text("a\x1b@b\nc", "gbk") == b"a?@b?c"
    assert printable("a\x1db", "gb18030") == "a?b"


def test_unknown_encoding_is_a_configuration_error():
    with pytest.raises(ValueError, match="utf-8"):
        encode_text("x", "utf-8")


def test_command_builders():
    assert et.INIT == b"\x1b@"
    assert et.CHINESE_ON == b"\x1c&"
    assert et.CHINESE_OFF == b"\x1c."
    assert et.bold(True) == b"\x1bE\x01"
    assert et.char_size(2, 2) == b"\x1d!\x11"
    assert et.char_size(1, 2) == b"\x1d!\x01"
    assert et.align(et.ALIGN_CENTER) == b"\x1ba\x01"
    assert et.partial_cut(24) == b"\x1dVB\x18"
    with pytest.raises(ValueError):
        et.char_size(9, 1)
