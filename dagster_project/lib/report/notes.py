"""Reviewer notes: a small, safe subset of Markdown included in the review pack.

Where the file is: `notes_path` given to the renderer, else $MLCOST_REVIEW_NOTES, else
`review_notes` in mlcost.toml, else `<landing>/../review_notes/<quarter>.md`. The env/config
value may be a file, a folder holding `<quarter>.md`, or a path with `{quarter}` in it.

The subset (docs/review-pack.md): `#`/`##`/`###` headings, `- ` or `* ` bullet lists, blank
lines between paragraphs. Everything else is text: HTML in the file is shown, escaped, never
interpreted (the template autoescapes every block).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV = "MLCOST_REVIEW_NOTES"
MAX_BYTES = 256 * 1024  # a notes file is prose; anything larger is a mistake


@dataclass
class Notes:
    path: Path
    blocks: list[dict]  # {"kind": "p"|"h"|"ul", "text": str} / {"kind": "ul", "items": [...]}
    problem: str | None = None  # why the file could not be read (shown in the section)


def notes_location(quarter: str, explicit: Path | str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    from dagster_project import settings
    from dagster_project.lib.config import project_config

    value = os.environ.get(ENV) or getattr(project_config(), "review_notes", None)
    if value:
        if "{quarter}" in value:
            return Path(value.replace("{quarter}", quarter))
        path = Path(value)
        return path / f"{quarter}.md" if path.is_dir() else path
    landing = settings.landing_location()
    if settings.is_remote(landing):
        return settings.PROJECT_ROOT / "data" / "review_notes" / f"{quarter}.md"
    return Path(landing).parent / "review_notes" / f"{quarter}.md"


def read_notes(path: Path) -> Notes | None:
    """The parsed notes, None when there is no file, or a Notes with `problem` set."""
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > MAX_BYTES:
            return Notes(path, [], f"larger than {MAX_BYTES // 1024} KiB: not included")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Notes(path, [], f"not UTF-8 text (byte {exc.start}): not included")
    except OSError as exc:
        return Notes(path, [], f"cannot be read ({exc.strerror or exc}): not included")
    return Notes(path, parse(text))


def parse(text: str) -> list[dict]:
    blocks: list[dict] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append({"kind": "p", "text": " ".join(para)})
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#"):
            flush()
            blocks.append({"kind": "h", "text": line.lstrip("#").strip()})
        elif line[:2] in ("- ", "* "):
            flush()
            if not blocks or blocks[-1]["kind"] != "ul":
                blocks.append({"kind": "ul", "items": []})
            blocks[-1]["items"].append(line[2:].strip())
        elif blocks and blocks[-1]["kind"] == "ul" and raw[:1] in (" ", "\t") and not para:
            blocks[-1]["items"][-1] += " " + line  # a wrapped bullet
        else:
            para.append(line)
    flush()
    return blocks
