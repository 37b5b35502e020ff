import pytest

from shopfloor.domain.identifiers import (
    InvalidIdentifier,
    mask_name,
    mask_plate,
    new_tag_token,
    normalize_plate,
    normalize_tag,
    normalize_vin,
    vin_check_digit,
    with_check_digit,
)


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "11111111111111111", "LFMAPE2C5H0123457"[:8] + "X" + "H0123457"])
def test_valid_vins(vin: str) -> None:
    vin = with_check_digit(vin) if vin.startswith("LFMA") else vin
    assert normalize_vin(vin.lower()) == vin


def test_known_check_digit() -> None:
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"  # the ISO 3779 textbook example


@pytest.mark.parametrize(("vin", "key"), [
    ("1M8GDM9A1KP042788", "error.vin_check"),
    ("1M8GDM9AXKP04278", "error.vin_length"),
    ("1M8GDM9AXKP04278O", "error.vin_chars"),
    ("IM8GDM9AXKP042788", "error.vin_chars"),
])
def test_invalid_vins(vin: str, key: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        normalize_vin(vin)
    assert exc.value.key == key
    assert exc.value.message("en")


@pytest.mark.parametrize(("raw", "plate"), [
    ("京A12345", "京A12345"), ("京a·12345", "京A12345"), ("沪B-8X9Z2", "沪B8X9Z2"),
    ("京AD12345", "京AD12345"), ("粤BF12345", "粤BF12345"), ("京A12345D", "京A12345D"),
    ("京A1234学", "京A1234学"), ("粤Z1234港", "粤Z1234港"),
])
def test_valid_plates(raw: str, plate: str) -> None:
    assert normalize_plate(raw) == plate


@pytest.mark.parametrize(("raw", "key"), [
    ("", "error.plate_empty"), ("A12345", "error.plate_province"), ("京A1234", "error.plate_format"),
    ("京AI2345", "error.plate_format"), ("京A123456", "error.plate_format"), ("京AZ12345", "error.plate_format"),
])
def test_invalid_plates(raw: str, key: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        normalize_plate(raw)
    assert exc.value.key == key


def test_masking_keeps_no_identifying_part() -> None:
    assert mask_plate("京A12345") == "京A·***45"
    assert mask_plate("京AD12345") == "京A·****45"


def test_tag_tokens_are_random_and_scannable() -> None:
    tokens = {new_tag_token() for _ in range(1000)}
    assert len(tokens) == 1000
    token = next(iter(tokens))
    assert normalize_tag(token) == token
    assert normalize_tag(f"  http://shop.lan/t/{token.lower()} ") == token
    assert len(token) - 4 == 24  # 24 base32 characters = 120 random bits


@pytest.mark.parametrize("raw", ["", "hello", "SFT-1234", "SFT-" + "0" * 24])
def test_malformed_tags(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        normalize_tag(raw)
    assert exc.value.key == "error.tag_malformed"


def test_lounge_name_is_one_character_and_a_listed_salutation_whatever_was_typed() -> None:
    assert mask_name("王", "先生") == "王先生"
    assert mask_name("阿依古丽·买买提", "女士") == "阿女士"  # a name with a middle dot, kept whole as the surname
    assert mask_name("欧阳", "小姐") == "欧小姐"
    assert mask_name("王", "王建国13800138000") == "王**"  # a free-text salutation is never shown as given
    assert mask_name("Smith", "Dr.") == "S**"
    assert mask_name(" ·", "先生") == "**"
    assert mask_name("", "") == "**"
