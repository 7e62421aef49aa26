"""README.md is built from docs/readme/*.md: an edit made to one and not the other is caught."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_is_the_parts_joined_in_name_order() -> None:
    parts = sorted((ROOT / "docs" / "readme").glob("*.md"), key=lambda p: p.name.encode())
    joined = "".join(p.read_text(encoding="utf-8") for p in parts)
    assert (ROOT / "README.md").read_text(encoding="utf-8") == joined, (
        "README.md and docs/readme/ differ: edit the parts, then run docs/build_readme.sh"
    )
