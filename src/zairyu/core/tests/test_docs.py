"""The README documents every setting the code reads."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]


def test_every_environment_variable_is_documented_in_the_readme():
    settings_source = (REPO / "src/zairyu/config/settings.py").read_text()
    names = set(re.findall(r'env(?:_bool|_int|_list)?\("([A-Z_]+)"', settings_source))
    assert len(names) > 20
    readme = (REPO / "README.md").read_text()
    missing = sorted(name for name in names if f"ZAIRYU_{name}" not in readme)
    assert missing == []
