"""Every user-visible string is in the Korean catalogue and translated, placeholders intact."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "cacnet" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"


def _extract(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "lazy_pgettext:1c,2",
            "-o",
            str(pot),
            "cacnet",
            "templates",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {
            (m.context or "") + "|" + (m.id if isinstance(m.id, str) else m.id[0])
            for m in read_po(f)
            if m.id
        }


def test_every_string_in_the_code_is_translated_into_korean(tmp_path):
    with PO.open("rb") as f:
        catalog = read_po(f, locale="ko")
    translated = {
        (m.context or "") + "|" + (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id
        and (m.string if isinstance(m.string, str) else all(m.string))
        and "fuzzy" not in m.flags
    }
    missing = sorted(_extract(tmp_path) - translated)
    assert missing == [], f"untranslated (run pybabel extract/update and translate): {missing}"


def test_korean_translations_keep_their_placeholders():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="ko")
    pattern = re.compile(r"%\(\w+\)[sd]")
    for m in catalog:
        if not m.id:
            continue
        source = m.id if isinstance(m.id, str) else m.id[0]
        target = m.string if isinstance(m.string, str) else m.string[0]
        assert sorted(pattern.findall(source)) == sorted(pattern.findall(target)), source
