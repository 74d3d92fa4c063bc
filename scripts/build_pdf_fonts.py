"""Build the subsetted fonts the PDF documents embed (static/fonts/NotoSans*-pdf.ttf).

The declaration and the certificates must render identically on a server with no fonts installed,
so their fonts ship with the app: Noto Sans (Latin, Greek, Cyrillic) and Noto Sans KR (Hangul),
regular and bold. The full fonts are 0.6 MB and 6 MB each; this script keeps only the characters
the documents need and drops the TrueType hinting (PDF viewers do not use it). To regenerate
them (only when a newer font release is wanted):

    npm install                                   # the fonts are devDependencies in package.json
    .venv/bin/python scripts/build_pdf_fonts.py

Input: the static TTF instances of the npm packages @expo-google-fonts/noto-sans and
@expo-google-fonts/noto-sans-kr (SIL Open Font License 1.1; their licence texts are copied beside
the output). The output is deterministic: the same input gives byte-identical files.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "node_modules" / "@expo-google-fonts"
TARGET = ROOT / "static" / "fonts"

# Latin (with Vietnamese: Latin Extended Additional), Greek, Cyrillic, punctuation and a few
# symbols. Combining marks keep text typed in decomposed form (NFD) legible.
LATIN_GREEK_CYRILLIC = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x024F),  # Latin Extended-A and -B
    (0x0250, 0x02FF),  # IPA extensions, spacing modifier letters (ʻokina, ˈ)
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x052F),  # Cyrillic and Cyrillic Supplement
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x1F00, 0x1FFF),  # Greek Extended
    (0x2000, 0x206F),  # general punctuation
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x20A0, 0x20CF),  # currency symbols
    (0x2100, 0x214F),  # letterlike symbols (№, ™)
    (0x2190, 0x2199),  # arrows
    (0x2212, 0x2212),  # minus sign
    (0x25A0, 0x25FF),  # geometric shapes (bullets)
    (0xFEFF, 0xFEFF),  # byte order mark / zero-width no-break space
    (0xFFFD, 0xFFFD),  # replacement character
]

# Hangul in full, the CJK punctuation Korean text uses, and ASCII so that a Korean run that mixes
# in digits and Latin letters keeps one typeface.
KOREAN = [
    (0x0020, 0x007E),  # Basic Latin
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0x3200, 0x321E),  # parenthesised Hangul
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7A3),  # Hangul syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo Extended-B
    (0xFF01, 0xFF60),  # fullwidth forms (（）～)
]

FONTS = [
    # (package, source file, output file, ranges)
    ("noto-sans", "400Regular/NotoSans_400Regular.ttf", "NotoSans-Regular-pdf.ttf",
     LATIN_GREEK_CYRILLIC),
    ("noto-sans", "700Bold/NotoSans_700Bold.ttf", "NotoSans-Bold-pdf.ttf", LATIN_GREEK_CYRILLIC),
    ("noto-sans-kr", "400Regular/NotoSansKR_400Regular.ttf", "NotoSansKR-Regular-pdf.ttf", KOREAN),
    ("noto-sans-kr", "700Bold/NotoSansKR_700Bold.ttf", "NotoSansKR-Bold-pdf.ttf", KOREAN),
]  # fmt: skip

LICENCES = [("noto-sans", "NotoSans-OFL.txt"), ("noto-sans-kr", "NotoSansKR-OFL.txt")]


def codepoints(ranges: list[tuple[int, int]]) -> list[int]:
    return [c for start, end in ranges for c in range(start, end + 1)]


def build(source: Path, target: Path, ranges: list[tuple[int, int]]) -> None:
    options = subset.Options()
    options.hinting = False  # PDF viewers rasterise without TrueType instructions
    options.desubroutinize = True
    options.layout_features = ["*"]  # kerning, ligatures, mark positioning for Vietnamese
    options.name_IDs = ["*"]  # keep the names and the copyright/licence entries
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False  # deterministic output
    options.drop_tables += ["STAT", "BASE", "vhea", "vmtx"]  # unused in horizontal PDF text
    font = TTFont(source, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints(ranges))
    subsetter.subset(font)
    font.save(target, reorderTables=True)


def main() -> int:
    missing = [pkg for pkg, *_ in FONTS if not (PACKAGES / pkg).is_dir()]
    if missing:
        print(f"Run `npm install` first (missing @expo-google-fonts/{missing[0]}).")
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for package, source, output, ranges in FONTS:
        target = TARGET / output
        build(PACKAGES / package / source, target, ranges)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")
    for package, output in LICENCES:
        shutil.copyfile(PACKAGES / package / "LICENSE_FONT", TARGET / output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
