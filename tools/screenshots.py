"""Screenshots of the review pack for the docs: one PNG per report section.

`make screenshots` runs this. It renders an existing report (default: the newest
`data/reports/<quarter>/report.html`, else the newest `data/reports/mlcost-report-<q>.html`;
`--report PATH` for another) with headless Chromium into `docs/img/report-<anchor>.png`, one
per `<section id=...>` of the page (a page without sections: one `report-page.png`).

No extra Python packages: Chromium's command line only. A first run measures each section
(`--dump-dom` of a copy of the page that writes the sections' positions into the DOM once it
has loaded), then each section is shot through a window exactly its size, the page shifted up to it.
Chromium is the Debian package `chromium`, installed with apt-get when missing and running as
root; otherwise the script says how to install it. Exit codes (dagster_project/exit_codes.py):
0 written, 1 Chromium missing or failing, 64 bad arguments, 66 no report to render.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "data" / "reports"
OUT = ROOT / "docs" / "img"
FAILED, USAGE, MISSING_INPUT = 1, 64, 66  # as in dagster_project/exit_codes.py
WIDTH = 1280
MAX_HEIGHT = 1800  # taller sections are cut here (docs images stay readable and small)
MAX_BYTES = 500_000
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Offline, deterministic, no profile left behind (the user-data dir is a temporary folder).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1", "--virtual-time-budget=10000")
MARKER = "mlcost-screenshot-measure"
_CSP = re.compile(r"<meta[^>]+http-equiv=[\"']?content-security-policy[^>]*>", re.I)

# Runs after the page (and its charts' scripts) loaded: positions of the sections, in pixels.
MEASURE = f"""<script>
window.addEventListener('load', function () {{ setTimeout(function () {{
  var out = {{page: Math.ceil(document.documentElement.scrollHeight), sections: []}};
  document.querySelectorAll('section[id]').forEach(function (s) {{
    var r = s.getBoundingClientRect();
    out.sections.push([s.id, r.top + window.scrollY, r.height]);
  }});
  var pre = document.createElement('pre');
  pre.id = '{MARKER}';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}}, 500); }});
</script>"""


class Problem(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def find_report(given: str | None) -> Path:
    if given:
        path = Path(given)
        if not path.is_file():
            raise Problem(f"screenshots: {path} does not exist (pass --report with the path of "
                          "a rendered report.html)", MISSING_INPUT)
        return path
    candidates = sorted(REPORTS.glob("*Q[1-4]/report.html")) or \
        sorted(REPORTS.glob("mlcost-report-*Q[1-4].html"))
    if not candidates:
        raise Problem(f"screenshots: no report under {REPORTS}: run `make demo` first (it writes "
                      "data/reports/<quarter>/report.html), or pass --report PATH", MISSING_INPUT)
    return candidates[-1]  # names sort by quarter


def find_chromium(install: bool) -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    if not install:
        raise Problem("screenshots: Chromium is not installed; install it (Debian: `apt-get "
                      "install -y chromium`) or run without --no-install as root", FAILED)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Problem("screenshots: Chromium is not installed and this is not a root shell with "
                      "apt-get; install the package `chromium` (Debian: `sudo apt-get install -y "
                      "chromium`) and run `make screenshots` again", FAILED)
    print("screenshots: installing chromium with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "chromium"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=False)
        if subprocess.run(["apt-get", "install", "-y", "chromium"], env=env).returncode != 0:
            raise Problem("screenshots: `apt-get install -y chromium` failed (see above)", FAILED)
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    raise Problem("screenshots: chromium was installed but is not on PATH", FAILED)


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise Problem(f"screenshots: chromium exited {proc.returncode}: "
                      f"{proc.stderr.strip()[-800:]}", FAILED)
    return proc


def _with(page: str, extra: str) -> str:
    """The page with ``extra`` just before </body> (or at its end)."""
    i = page.lower().rfind("</body>")
    return page[:i] + extra + page[i:] if i >= 0 else page + extra


def measure(browser: str, page: str, work: Path) -> dict:
    copy = work / "measure.html"
    # The report's Content-Security-Policy forbids inline scripts: the measuring copy drops it
    # (a local file, no network); the copies that are shot keep it.
    page = _CSP.sub("", page)
    copy.write_text(_with(page, MEASURE), encoding="utf-8")
    dom = _chromium(browser, work / "profile", f"--window-size={WIDTH},1000", "--dump-dom",
                    copy.as_uri()).stdout
    m = re.search(rf'<pre id="{MARKER}">(.*?)</pre>', dom, re.S)
    if not m:
        raise Problem("screenshots: chromium did not run the page's measuring script", FAILED)
    return json.loads(html.unescape(m.group(1)))


def shoot(browser: str, page: str, work: Path, out: Path, top: int, height: int) -> Path:
    """The band [top, top + height) of the page, WIDTH wide, as a PNG at ``out``."""
    height = max(1, min(height, MAX_HEIGHT))
    # The page drawn shifted up by `top` (relative positioning moves the rendering, not the
    # layout), so the window's first row is the section's first; scrolling happens too late
    # for --screenshot.
    shift = f"<style>body{{position:relative !important;top:-{top}px !important}}</style>"
    copy = work / f"{out.stem}.html"
    copy.write_text(_with(page, shift), encoding="utf-8")
    _chromium(browser, work / "profile", f"--window-size={WIDTH},{height}",
              f"--screenshot={out}", copy.as_uri())
    if not out.is_file():
        raise Problem(f"screenshots: chromium wrote no {out}", FAILED)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", help="the report.html to shoot (default: the newest one "
                        "under data/reports)")
    parser.add_argument("--out", default=str(OUT), help="folder of the PNGs (default docs/img)")
    parser.add_argument("--no-install", action="store_true",
                        help="never apt-get install chromium")
    args = parser.parse_args(argv)
    try:
        report = find_report(args.report)
        browser = find_chromium(not args.no_install)
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        page = report.read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="mlcost-shots-") as tmp:
            work = Path(tmp)
            # the copies sit beside nothing: a self-contained report needs no other file
            sizes = measure(browser, page, work)
            # Layout positions are fractional; the painted edges are the rounded ones.
            bands = [(f"report-{sid}.png", round(top), round(top + h) - round(top))
                     for sid, top, h in sizes["sections"] if re.fullmatch(r"[\w-]+", sid)]
            if not bands:  # a page without sections: the whole page
                bands = [("report-page.png", 0, sizes["page"])]
            for name, top, height in bands:
                path = shoot(browser, page, work, out_dir / name, top, height)
                size = path.stat().st_size
                note = "" if size <= MAX_BYTES else f"  (over {MAX_BYTES // 1000} kB)"
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(f"screenshots: {shown} {WIDTH}x{min(height, MAX_HEIGHT)} "
                      f"{size // 1000} kB{note}")
    except Problem as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except subprocess.TimeoutExpired:
        print("screenshots: chromium did not finish within 120 s", file=sys.stderr)
        return FAILED
    print(f"screenshots: from {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
