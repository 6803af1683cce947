import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.loader import DATA_DIR, CatalogueError, load_catalogue

TODAY = dt.date(2026, 11, 21)


@pytest.fixture(scope="module")
def catalogue():
    return get_catalogue()


def test_the_29_statuses_of_the_annex_tables_are_in_force(catalogue):
    in_force = catalogue.statuses_in_force(TODAY)
    assert len(in_force) == 29
    by_table = {}
    for status in in_force:
        by_table.setdefault(status.table[0], []).append(status.code)
    assert len(by_table["1"]) == 25 and len(by_table["2"]) == 4


def test_new_statuses_come_as_data_with_their_date(catalogue):
    future = catalogue.statuses["employment_for_skill_development"]
    assert not future.in_force(dt.date(2027, 3, 31)) and future.in_force(dt.date(2027, 4, 1))
    assert len(catalogue.statuses_in_force(dt.date(2027, 4, 1))) == 30


def test_sub_categories_are_the_unit_of_filing(catalogue):
    keys = set(catalogue.entries)
    for key in [
        "highly_skilled_professional/1a",
        "highly_skilled_professional/1b",
        "highly_skilled_professional/1c",
        "highly_skilled_professional/2",
        "specified_skilled_worker/i",
        "specified_skilled_worker/ii",
        "technical_intern_training/1a",
        "technical_intern_training/3b",
        "designated_activities/n46",
    ]:
        assert key in keys
    assert "highly_skilled_professional" not in keys  # filed by sub-category only
    assert catalogue.entries["highly_skilled_professional/1b"].name.en == "Highly Skilled Professional (i)(b)"


def test_every_online_eligible_entry_has_an_input_screen_group(catalogue):
    for entry in catalogue.entries.values():
        if entry.online:
            assert entry.group is not None, entry.key
            assert entry.group.code in catalogue.groups
        assert entry.name.ja and entry.name.en


def test_the_f01_exclusions_are_not_online(catalogue):
    excluded = {e.key for e in catalogue.entries.values() if not e.online}
    assert excluded == {
        "diplomat",
        "temporary_visitor",
        "designated_activities/departure_preparation",
        "permanent_resident",
    }
    for key in ("spouse_or_child_of_japanese", "spouse_or_child_of_permanent_resident", "long_term_resident"):
        assert catalogue.entries[key].online


def test_the_matrix_answers_for_every_user_procedure_and_status(catalogue):
    from zairyu.catalogue.rules import Verdict, eligibility

    for user in catalogue.user_categories:
        for procedure in catalogue.procedures:
            cell = catalogue.matrix[(user, procedure)]
            for entry in catalogue.entries_in_force(TODAY):
                result = eligibility(user_category=user, procedure=procedure, status=entry.key, on=TODAY)
                assert result.verdict in Verdict
                if not catalogue.user_categories[user].files_online:
                    assert result.reasons[0].code == "window_only"
                elif not entry.online:
                    assert result.verdict is Verdict.DENIED
                    assert result.reasons[0].code == "status_not_online"
                elif cell.rule == "deny":
                    assert result.verdict is Verdict.DENIED
                elif cell.rule == "allow":
                    assert result.verdict is Verdict.ALLOWED
                else:
                    assert result.verdict in (Verdict.CONDITIONAL, Verdict.DENIED)
                    assert all(str(r.message) for r in result.reasons)


def test_procedures_and_add_ons(catalogue):
    assert list(catalogue.procedures) == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    for code in ("P6", "P7"):
        assert catalogue.procedures[code].add_on
        assert catalogue.procedures[code].add_on_to == ("P2", "P3", "P4")
    assert [c for c, p in catalogue.procedures.items() if not p.add_on] == ["P1", "P2", "P3", "P4", "P5"]


def test_user_categories(catalogue):
    assert list(catalogue.user_categories) == [f"U{n}" for n in range(1, 9)]
    assert [c for c, u in catalogue.user_categories.items() if u.identity == "card"] == ["U1", "U2", "U3"]
    assert not catalogue.user_categories["U8"].files_online


EXPECTED_OFFICES = {
    "sapporo": ("札オン", ["北海道"]),
    "sendai": ("仙オン", ["青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"]),
    "tokyo": (
        "東オン",
        ["東京都", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "新潟県", "山梨県", "長野県"],
    ),
    "yokohama": ("横オン", ["神奈川県"]),
    "nagoya": ("名オン", ["愛知県", "三重県", "静岡県", "岐阜県", "福井県", "富山県", "石川県"]),
    "osaka": ("阪オン", ["大阪府", "京都府", "奈良県", "滋賀県", "和歌山県"]),
    "kobe": ("神オン", ["兵庫県"]),
    "hiroshima": ("広オン", ["広島県", "山口県", "岡山県", "鳥取県", "島根県"]),
    "takamatsu": ("高オン", ["香川県", "徳島県", "愛媛県", "高知県"]),
    "fukuoka": ("福オン", ["福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県"]),
    "naha": ("那オン", ["沖縄県"]),
}


def test_all_47_prefectures_map_to_the_right_office_and_prefix(catalogue):
    assert len(catalogue.offices) == 11
    seen = []
    for office_code, (prefix, prefectures) in EXPECTED_OFFICES.items():
        assert catalogue.offices[office_code].prefix == prefix
        for name in prefectures:
            prefecture = catalogue.prefecture_by_name(name)
            assert prefecture is not None, name
            assert catalogue.office_for_prefecture(prefecture.code).code == office_code, name
            seen.append(name)
    assert len(seen) == len(set(seen)) == 47
    assert catalogue.prefecture_by_name("Kanagawa").code == "14"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(directory: Path, name: str, change) -> None:
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("statuses.yaml", lambda d: d["statuses"][1].pop("group"), "needs an input-screen group"),
        ("statuses.yaml", lambda d: d["statuses"][1].update(group="ZZ"), "group 'ZZ'"),
        ("statuses.yaml", lambda d: d["statuses"].append(d["statuses"][0]), "appears twice"),
        ("offices.yaml", lambda d: d["prefectures"].pop(), "missing ['47']"),
        ("offices.yaml", lambda d: d["prefectures"][0].update(office="atlantis"), "office 'atlantis'"),
        ("fees.yaml", lambda d: d["fees"][4].update({"from": dt.date(2025, 4, 2)}), "gap or an overlap"),
        ("fees.yaml", lambda d: d["fees"].pop(3), "no fee before"),
        ("matrix.yaml", lambda d: d["matrix"]["U3"].pop("P5"), "U3 x P5: missing"),
        ("matrix.yaml", lambda d: d["matrix"]["U1"].update(P1=["no_such_condition"]), "unknown condition"),
        ("procedures.yaml", lambda d: d["procedures"][5].update(add_on_to=["P7"]), "not a main procedure"),
    ],
)
def test_inconsistent_data_stops_the_start_with_a_message(data_copy, file, change, message):
    _edit(data_copy, file, change)
    with pytest.raises(CatalogueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_catalogue(data_copy)


def test_the_shipped_data_loads(data_copy):
    assert load_catalogue(data_copy).offices["naha"].prefectures == ("47",)


def test_an_unknown_key_such_as_a_value_cut_at_a_comma_is_refused(data_copy):
    path = data_copy / "user_categories.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            '"Relative (spouse, child or parent)"', "Relative (spouse, child or parent)"
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="unknown key"):
        load_catalogue(data_copy)


def test_english_names_are_whole(catalogue):
    assert catalogue.user_categories["U3"].name.en == "Relative (spouse, child or parent)"
    assert (
        catalogue.entries["designated_activities/n1"].name.en
        == "Designated Activities (Notice 1, domestic worker)"
    )
