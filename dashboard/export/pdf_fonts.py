"""Unicode fonts for the PDF exports (fpdf2 TrueType embedding, subset to the glyphs used).

Text is set in DejaVu Sans (Debian `fonts-dejavu-core`). Characters it lacks fall back, glyph by
glyph, to a CJK font (IPAGothic, `fonts-ipafont-gothic`, or Noto Sans CJK) and a symbol and emoji
font (Symbola, `fonts-symbola`), so a Japanese segment or an emoji model name prints as written
and stays searchable. `scripts/test.sh` installs the three packages. Without DejaVu, fpdf2's
core Helvetica is used and text outside Latin-1 prints as '?', as before.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FAMILY = "body"  # the family name the export code sets
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
BODY = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FALLBACKS = {  # family -> candidate files, first found wins
    "cjk": ("ipag.ttf", "fonts-japanese-gothic.ttf", "NotoSansCJK-Regular.ttc"),
    "symbols": ("Symbola_hint.ttf", "Symbola.ttf", "DejaVuSans.ttf"),
}


@lru_cache(maxsize=None)
def find(name: str) -> Path | None:
    for root in FONT_DIRS:
        if root.is_dir():
            hit = next(iter(sorted(root.rglob(name))), None)
            if hit is not None:
                return hit
    return None


def use_unicode_fonts(pdf) -> bool:
    """Register the body font (and fallbacks) under FAMILY; False when only core fonts exist, in
    which case FAMILY is not registered and callers use 'Helvetica'."""
    files = {style: find(name) for style, name in BODY.items()}
    if files[""] is None:
        return False
    for style, path in files.items():
        pdf.add_font(FAMILY, style, str(path or files[""]))
    fallbacks = []
    for family, names in FALLBACKS.items():
        path = next((p for p in map(find, names) if p is not None), None)
        if path is not None:
            pdf.add_font(family, "", str(path))
            fallbacks.append(family)
    if fallbacks:
        pdf.set_fallback_fonts(fallbacks, exact_match=False)
    return True


def latin(text: str) -> str:
    """For the core-font case: fpdf2's core fonts are Latin-1; map the typographic characters we use."""
    for a, b in (("–", "-"), ("—", "-"), ("−", "-"), ("×", "x"), ("…", "..."), ("→", "->"), ("≥", ">="),
                 ("≤", "<="), ("’", "'"), ("±", "+/-"), ("“", '"'), ("”", '"')):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")
