"""`make screenshots` (tools/screenshots.py): one PNG per report section, cut exactly."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "screenshots.py"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{margin:0;padding:20px;font-family:sans-serif} section{margin:10px 0}
#headline{height:300px;background:#00f} #bridge{height:700px;background:#0f0}
#data-quality{height:150px;background:#f00}</style></head>
<body><h1>Review pack</h1><section id="headline"></section><section id="bridge"></section>
<section id="data-quality"></section></body></html>"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          timeout=600, check=False)


def _png(path: Path) -> tuple[int, int, tuple[int, int, int]]:
    """(width, height, RGB of the middle pixel of the first row) of an 8-bit PNG, decoded by
    hand (no imaging library): the first row's filters only look left."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompressobj().decompress(idat, 1 + width * bpp)
    kind, row = raw[0], bytearray(raw[1:1 + width * bpp])
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        row[i] = (row[i] + {0: 0, 1: left, 2: 0, 3: left // 2, 4: left}[kind]) % 256
    mid = (width // 2) * bpp
    return width, height, tuple(row[mid:mid + 3])


def test_a_missing_report_is_a_missing_input(tmp_path):
    proc = _run("--report", str(tmp_path / "nope.html"), "--out", str(tmp_path / "img"),
                "--no-install")
    assert proc.returncode == 66
    assert "nope.html does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "img").exists() or not any((tmp_path / "img").iterdir())


@pytest.mark.skipif(not any(shutil.which(b) for b in ("chromium", "chromium-browser",
                                                        "google-chrome")),
                    reason="needs Chromium (make screenshots installs it)")
def test_one_png_per_section_the_sections_size(tmp_path):
    report = tmp_path / "2026Q3" / "report.html"
    report.parent.mkdir()
    report.write_text(PAGE, encoding="utf-8")
    proc = _run("--report", str(report), "--out", str(tmp_path / "img"), "--no-install")
    assert proc.returncode == 0, proc.stderr
    shots = {p.name: _png(p) for p in (tmp_path / "img").glob("*.png")}
    assert set(shots) == {"report-headline.png", "report-bridge.png",
                          "report-data-quality.png"}
    assert {n: s[:2] for n, s in shots.items()} == {
        "report-headline.png": (1280, 300), "report-bridge.png": (1280, 700),
        "report-data-quality.png": (1280, 150)}
    # each starts with its own section's colour (not the heading or the section above)
    assert {n: s[2] for n, s in shots.items()} == {
        "report-headline.png": (0, 0, 255), "report-bridge.png": (0, 255, 0),
        "report-data-quality.png": (255, 0, 0)}
