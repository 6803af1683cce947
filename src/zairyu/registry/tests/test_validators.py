import random

import pytest
from django.core.exceptions import ValidationError

from zairyu.catalogue import validators as v
from zairyu.catalogue.reference import municipalities, nationalities

NTA = "7000012050002"  # National Tax Agency


def _code(func, value):
    with pytest.raises(ValidationError) as excinfo:
        func(value)
    return excinfo.value.code


# --- residence card number ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AB12345678CD", "AB12345678CD"),
        ("ab12345678cd", "AB12345678CD"),
        ("ＡＢ１２３４５６７８ＣＤ", "AB12345678CD"),
        ("ａｂ１２３４５６７８ｃｄ", "AB12345678CD"),
        (" ab 1234-5678 cd ", "AB12345678CD"),
        ("AB1234\u30fc5678CD", "AB12345678CD"),
        ("AB12345678CD\n", "AB12345678CD"),
    ],
)
def test_card_number_is_normalised_and_accepted(raw, expected):
    assert v.normalize_card_number(raw) == expected
    v.validate_card_number(v.normalize_card_number(raw))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "A123456789CD",
        "AB1234567CD",
        "AB123456789CD",
        "AB12345678C",
        "ABC2345678CD",
        "1B12345678CD",
        "ab12345678cd",  # the validator wants the canonical form
        "AB12345678CD\n",
        "AB١٢٣٤٥٦٧٨CD",  # Arabic-Indic digits match \d but are not card digits
        "ÄB12345678CD",
    ],
)
def test_card_number_wrong_pattern_is_rejected(value):
    assert _code(v.validate_card_number, value) == "invalid_card_number"


def test_card_number_message_names_the_format():
    with pytest.raises(ValidationError) as excinfo:
        v.validate_card_number("X1")
    assert "AB12345678CD" in excinfo.value.messages[0]
    assert "X1" in excinfo.value.messages[0]


# --- corporate number ---------------------------------------------------------------------------


def test_corporate_number_of_the_national_tax_agency_is_valid():
    v.validate_corporate_number(NTA)
    assert v.corporate_number_check_digit("000012050002") == 7
    assert v.corporate_number_with_check_digit("000012050002") == NTA


def test_corporate_number_check_digit_of_another_known_number():
    # Toyota Motor Corporation, 1180301018771.
    assert v.corporate_number_with_check_digit("180301018771") == "1180301018771"


def test_every_single_digit_change_of_a_corporate_number_is_rejected_unless_undetectable():
    """A single wrong digit is caught, except 0 <-> 9 in the twelve-digit base: the weights are
    1 and 2 and the sum is taken mod 9, so a change by 9 leaves the check digit as it was.
    That blind spot is the scheme's (the National Tax Agency's), not ours."""
    undetected = []
    for position, original in enumerate(NTA):
        for digit in "0123456789":
            if digit == original:
                continue
            changed = NTA[:position] + digit + NTA[position + 1 :]
            try:
                v.validate_corporate_number(changed)
            except ValidationError as exc:
                assert exc.code == "corporate_number_check_digit"
            else:
                undetected.append((position, original, digit))
    assert undetected, "the 0 <-> 9 blind spot should show up for this number"
    assert all(position > 0 and {original, digit} == {"0", "9"} for position, original, digit in undetected)


@pytest.mark.parametrize(
    "value",
    ["", "700001205000", "70000120500021", "700001205000A", "7000 012050002", "7000012050002\n", "７０００"],
)
def test_corporate_number_that_is_not_13_digits_is_rejected(value):
    assert _code(v.validate_corporate_number, value) == "corporate_number_format"


def test_corporate_number_check_digit_zero_is_never_valid():
    assert _code(v.validate_corporate_number, "0000012050002") == "corporate_number_check_digit"


def test_corporate_number_typed_full_width_with_hyphens_is_normalised():
    assert v.normalize_corporate_number("７－０００－０１２０－５０００２") == NTA
    assert v.normalize_corporate_number(" 7000 0120 5000 2 ") == NTA


def test_generated_corporate_numbers_validate():
    rng = random.Random(5)
    for _ in range(500):
        base = f"{rng.randrange(10**12):012d}"
        number = v.corporate_number_with_check_digit(base)
        assert len(number) == 13 and number[1:] == base
        v.validate_corporate_number(number)


@pytest.mark.parametrize(
    "base", ["", "12345678901", "1234567890123", "12345678901A", "１２３４５６７８９０１２"]
)
def test_check_digit_needs_twelve_ascii_digits(base):
    with pytest.raises(ValueError):
        v.corporate_number_with_check_digit(base)


# --- agent certificate number ------------------------------------------------------------------


def test_agent_certificate_number_is_twelve_digits():
    v.validate_agent_certificate_number("123456789012")
    assert v.normalize_agent_certificate_number("１２３４－５６７８－９０１２") == "123456789012"


@pytest.mark.parametrize(
    "value", ["", "12345678901", "1234567890123", "12345678901A", "AB1234567890", "123456789012\n"]
)
def test_agent_certificate_number_other_than_twelve_digits_is_rejected(value):
    assert _code(v.validate_agent_certificate_number, value) == "invalid_agent_certificate_number"


# --- roman names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ｎｇｕｙｅｎ　van,an", "NGUYEN VAN AN"),
        ("NGUYEN VAN AN", "NGUYEN VAN AN"),
        ("  nguyen   van  an  ", "NGUYEN VAN AN"),
        ("Nguyen,Van,An", "NGUYEN VAN AN"),
        ("NGUYEN\tVAN\u00a0AN", "NGUYEN VAN AN"),
        ("NGUYEN　　VAN　AN", "NGUYEN VAN AN"),
        ("Nguyễn Văn Ấn", "NGUYEN VAN AN"),
        ("Đặng Thị Hương", "DANG THI HUONG"),
        ("SMITH, John", "SMITH JOHN"),
        ("JOHN・SMITH", "JOHN SMITH"),
        ("o’neil mary", "O'NEIL MARY"),
        ("DUPONT jean – pierre", "DUPONT JEAN-PIERRE"),
        ("DUPONT JEAN－PIERRE", "DUPONT JEAN-PIERRE"),
        ("Müller Jürgen", "MULLER JURGEN"),
        ("Çelik Ayşe", "CELIK AYSE"),
        ("ŁUKASZ Wójcik", "LUKASZ WOJCIK"),
        ("Søren Kierkegaard", "SOREN KIERKEGAARD"),
        ("Strauß", "STRAUSS"),
        ("dela cruz ma. lourdes", "DELA CRUZ MA. LOURDES"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_roman_name(raw, expected):
    assert v.normalize_roman_name(raw) == expected


def test_normalised_names_validate():
    for raw in (
        "ｎｇｕｙｅｎ　van,an",
        "o’neil mary",
        "DUPONT jean – pierre",
        "BATBOLD MUNKH-ERDENE",
        "ST.JOHN ANNE",
    ):
        v.validate_roman_name(v.normalize_roman_name(raw))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "roman_name_empty"),
        (" , ", "roman_name_empty"),
        ("王 明", "roman_name_characters"),
        ("グエン バン アン", "roman_name_characters"),
        ("JOHN2 SMITH", "roman_name_characters"),
        ("JOHN_SMITH", "roman_name_characters"),
        ("JOHN;SMITH", "roman_name_characters"),
        ("ИВАНОВ ИВАН", "roman_name_characters"),
        ("-JOHN", "roman_name_format"),
        ("JOHN-", "roman_name_format"),
        ("JOHN--SMITH", "roman_name_format"),
        ("'JOHN", "roman_name_format"),
        ("A" * 101, "roman_name_too_long"),
        ("nguyen van an", "roman_name_not_normalized"),
        ("NGUYEN  VAN AN", "roman_name_not_normalized"),
        ("NGUYỄN VAN AN", "roman_name_not_normalized"),
    ],
)
def test_validate_roman_name_rejects(value, code):
    assert _code(v.validate_roman_name, value) == code


def test_roman_name_error_shows_the_normalised_form_and_the_bad_characters():
    with pytest.raises(ValidationError) as excinfo:
        v.validate_roman_name("nguyen van an")
    assert "NGUYEN VAN AN" in excinfo.value.messages[0]
    with pytest.raises(ValidationError) as excinfo:
        v.validate_roman_name("JOHN2 SMITH3")
    assert excinfo.value.params == {"characters": "2 3"}


def test_roman_name_match_key_ignores_separators():
    assert v.roman_name_match_key("Nguyen Van-An") == v.roman_name_match_key("NGUYEN VANAN") == "NGUYENVANAN"
    assert v.roman_name_match_key("O'Neil") == v.roman_name_match_key("ONEIL")
    assert v.roman_name_match_key("NGUYEN VAN AN") != v.roman_name_match_key("NGUYEN VAN ANH")


# --- codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13", "13"),
        ("１３", "13"),
        ("1", "01"),
        (" 47 ", "47"),
        ("東京都", "13"),
        ("Tokyo", "13"),
        ("沖縄県", "47"),
    ],
)
def test_prefecture_is_normalised_and_accepted(raw, expected):
    assert v.normalize_prefecture(raw) == expected
    v.validate_prefecture(expected)


@pytest.mark.parametrize("value", ["", "00", "48", "1", "13 ", "東京都"])
def test_unknown_prefecture_is_rejected(value):
    assert _code(v.validate_prefecture, value) == "invalid_prefecture"


def test_nationality_codes():
    assert v.normalize_nationality(" vnm ") == "VNM"
    assert v.normalize_nationality("ｔｗｎ") == "TWN"
    for code in ("VNM", "CHN", "TWN", "BRA", "XXA"):
        v.validate_nationality(code)
    for code in ("", "VN", "XYZ", "vnm", "JPN"):
        assert _code(v.validate_nationality, code) == "invalid_nationality"


def test_nationality_data():
    data = nationalities()
    assert 45 <= len(data) <= 60
    assert data["TWN"].region and data["TWN"].name.ja == "台湾"
    assert data["CHN"].name.en == "China" and not data["CHN"].region
    assert "JPN" not in data  # Japanese nationals are not in the registry


def test_municipality_data_covers_every_prefecture_with_the_seat_first():
    data = municipalities()
    assert set(data) == {f"{n:02d}" for n in range(1, 48)}
    assert data["13"][0] == "新宿区" and data["23"][0].startswith("名古屋市") and data["47"][0] == "那覇市"
    assert len(data["13"]) > 5


def test_status_codes():
    assert v.normalize_status(" Student ") == "student"
    for key in (
        "student",
        "highly_skilled_professional/1a",
        "designated_activities/n46",
        "permanent_resident",
    ):
        v.validate_status(key)
    for key in ("", "highly_skilled_professional", "tourist", "Student"):
        assert _code(v.validate_status, key) == "invalid_status"


@pytest.mark.parametrize("value", ["5Y", "3Y", "1Y", "6M", "3M", "4Y3M", "15D", "31D", "1Y6M15D"])
def test_period_of_stay_accepted(value):
    v.validate_period_of_stay(value)


@pytest.mark.parametrize("value", ["", "0Y", "Y", "5", "3M4Y", "5Y5Y", "5y", "5 Y", "100Y", "5Y\n"])
def test_period_of_stay_rejected(value):
    assert _code(v.validate_period_of_stay, value) == "invalid_period_of_stay"


def test_period_of_stay_normalised_and_parsed():
    assert v.normalize_period_of_stay("４ｙ　３ｍ") == "4Y3M"
    assert v.period_of_stay_parts("4Y3M") == (4, 3, 0)
    assert v.period_of_stay_parts("15D") == (0, 0, 15)


def test_phone_numbers():
    assert v.normalize_phone_number("０３（１２３４）５６７８") == "03-1234-5678"
    assert v.normalize_phone_number("03 1234 5678") == "03-1234-5678"
    for value in ("03-1234-5678", "0312345678", "090-1234-5678", "0995-12-3456"):
        v.validate_phone_number(value)
    for value in ("", "12345", "3-1234-5678", "03-1234-567", "090-1234-56789", "03-ABCD-5678"):
        assert _code(v.validate_phone_number, value) == "invalid_phone_number"
