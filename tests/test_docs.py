"""Every "§n" in the tree points into the repository: docs/design.md (the contract) or
docs/interfaces.md (facts about the systems probed plugs into), and names a section that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESIGN, INTERFACES = ROOT / "docs" / "design.md", ROOT / "docs" / "interfaces.md"
SEARCHED = ("probed", "tests", "bench", "contrib", "docs", "systemd", "examples", "schema", ".ci")
TOP_FILES = ("README.md", "CHANGELOG.md", "monitors.toml", "Dockerfile")
SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".json", ".sh", ".service", ".j2", ""}

SECTION = re.compile(r"§(\d+(?:\.\d+)*)")
# A citation's document: the last one named on the line before the "§".
NAMED = re.compile(r"interfaces\.md|design\.md|\bdesign\b(?= §)")


def sections(doc: Path) -> set[str]:
    """The numbers of the document's headings ("## 4. Alerts" → "4", "### 4.5 …" → "4.5")."""
    heading = re.compile(r"^#+ (\d+(?:\.\d+)*)\.? ", re.M)
    return set(heading.findall(doc.read_text()))


def tree_files() -> list[Path]:
    files = [ROOT / name for name in TOP_FILES]
    for top in SEARCHED:
        files += [
            p
            for p in (ROOT / top).rglob("*")
            if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts
        ]
    # This file's own samples of bad citations are not citations.
    files.remove(Path(__file__).resolve())
    return files


def citations(path: Path, text: str) -> list[tuple[int, str | None, str]]:
    """(line, document or None, section) for every "§n"; a bare "§n" in the design itself or
    in the changelog is the design's."""
    default = "design" if path in (DESIGN, ROOT / "CHANGELOG.md") else None
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in SECTION.finditer(line):
            named = NAMED.findall(line[: match.start() + 1])
            doc = ("interfaces" if "interfaces" in named[-1] else "design") if named else default
            found.append((number, doc, match.group(1)))
    return found


def test_the_design_and_interfaces_have_numbered_sections():
    assert {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"} <= sections(DESIGN)
    assert {"1.1", "1.2", "1.3", "1.4", "3", "4.1"} <= sections(INTERFACES)


def test_every_section_sign_in_the_tree_names_a_section_of_the_repository_s_docs():
    known = {"design": sections(DESIGN), "interfaces": sections(INTERFACES)}
    bad = []
    for path in tree_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for line, doc, section in citations(path, text):
            if doc is None or section not in known[doc]:
                where = f"{path.relative_to(ROOT)}:{line}"
                bad.append(f"{where}: §{section} of {doc or 'no document named on the line'}")
    assert not bad, "\n".join(bad)


def test_a_citation_to_a_missing_section_or_to_no_document_is_found(tmp_path):
    # The check above can fail: an unknown section and a "§" that names no document.
    text = "see docs/design.md §99 and §4\nplain §4 here\ninterfaces.md §1.2 then design §7\n"
    found = citations(tmp_path / "x.py", text)
    assert found == [
        (1, "design", "99"),
        (1, "design", "4"),
        (2, None, "4"),
        (3, "interfaces", "1.2"),
        (3, "design", "7"),
    ]
    assert "99" not in sections(DESIGN)
