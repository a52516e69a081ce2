"""The HTML report renders in headless Chromium: the charts are in the DOM and on the screenshot."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from conftest import need
from pare.experiment.results import RecoverySample, Results, Sample
from pare.report.html import write

pytestmark = pytest.mark.integration

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def results() -> Results:
    r = Results(["pare", "bench", "--examples"], {"hostname": "test", "fingerprint": "f"}, "0.1.0")
    r.variants = {"go": {"onbuild": {"role": "fat"}, "multistage": {"role": "small"}}}
    r.profiles = {"micro": {"profile": {"name": "micro"}, "repeats": 2, "applied": {}}}
    for i in range(2):
        for variant, size, seconds in (("onbuild", 3e8, 120.0), ("multistage", 2e6, 1.5)):
            r.samples += [Sample("go", variant, "micro", "size_compressed", size, i),
                          Sample("go", variant, "micro", "pull", seconds + i, i),
                          Sample("go", variant, "micro", "push", seconds * 0.9 + i, i)]
            for d in (1, 3):
                r.recovery.append(RecoverySample(variant, "micro", d, 1, seconds * d + i, i, "go"))
    return r


def png_rows(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered RGB(A) rows of an 8-bit PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 3
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
        prev = line
    return width, height, rows


def test_report_renders_with_charts(tmp_path: Path) -> None:
    chromium = need("chromium")
    page = tmp_path / "report.html"
    write(results(), page)
    common = [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-1000:]
    html = dom.stdout
    assert html.count("<svg") == 4  # size, push, pull, node recovery
    assert html.count('class="bar"') == 2 * 3 and html.count("<polyline") == 2
    shot = tmp_path / "shot.png"
    run = subprocess.run([*common, "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and shot.exists(), run.stderr[-1000:]
    width, height, rows = png_rows(shot)
    assert (width, height) == (1200, 1400)
    colors = {row[i:i + 3] for row in rows[::7] for i in range(0, len(row), 21)}
    assert len(colors) > 10, f"screenshot looks blank ({len(colors)} colours)"
    # the fat variant's bars are solid #c0392b: many pixels of exactly that colour
    red = bytes.fromhex("c0392b")
    painted = sum(row[i:i + 3] == red for row in rows for i in range(0, len(row), 3))
    assert painted > 500, f"only {painted} bar pixels on the screenshot"


# Measures every text box of every chart in the browser's own layout and writes the pairs that
# overlap into the page, which --dump-dom then prints. The report itself carries no script: the
# test adds this one to a copy.
OVERLAP_PROBE = """<script>
window.addEventListener('load', () => {
  const found = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const frame = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5 ||
          r.top < frame.top - 0.5 || r.bottom > frame.bottom + 0.5)
        found.push('clipped ' + t.textContent);
    }
    const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [ta, a] = boxes[i], [tb, b] = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
          a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        found.push(ta + ' x ' + tb);
    }
  }
  const out = document.createElement('pre'); out.id = 'overlaps';
  out.textContent = 'texts=' + document.querySelectorAll('svg.chart text').length + ';' + found.join('|');
  document.body.appendChild(out);
  const w = document.createElement('pre'); w.id = 'page-width';
  w.textContent = 'scroll=' + document.documentElement.scrollWidth + ';inner=' + window.innerWidth;
  document.body.appendChild(w);
});
</script>"""


def close_values() -> Results:
    """The demo's shape: small variants a few per cent apart beside a fat one 150x their size."""
    r = Results(["pare", "bench", "--demo"], {"hostname": "test", "fingerprint": "f"}, "0.1.0")
    variants = {"onbuild": ("fat", 3.28e8, 132.0), "slim": ("slim", 1.3e8, 60.0),
                "multistage": ("small", 2.15e6, 0.97), "native": ("small", 2.10e6, 0.92)}
    r.variants = {app: {v: {"role": role} for v, (role, _, _) in variants.items()}
                  for app in ("go-hello", "node-express")}
    r.profiles = {p: {"profile": {"name": p}, "repeats": 1, "applied": {}} for p in ("laptop", "micro")}
    for app in ("go-hello", "node-express"):
        for v, (_, size, secs) in variants.items():
            for p in ("laptop", "micro"):
                r.samples += [Sample(app, v, p, "size_compressed", size, 0),
                              Sample(app, v, p, "pull", secs, 0), Sample(app, v, p, "push", secs * 1.05, 0)]
    return r


@pytest.mark.parametrize("window", ["1280,2400", "390,2400"], ids=["desktop", "phone"])
def test_chart_labels_never_collide_in_a_real_browser(tmp_path: Path, window: str) -> None:
    chromium = need("chromium")
    page = tmp_path / "report.html"
    write(close_values(), page)
    html = page.read_text()
    assert "(log scale)" in html  # 150x apart: a linear axis would flatten the small bars
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", OVERLAP_PROBE + "</body>"))
    common = [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={window}"]
    dom = subprocess.run([*common, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-1000:]
    line = next(ln for ln in dom.stdout.splitlines() if '<pre id="overlaps">' in ln)
    count, _, overlaps = line.split('<pre id="overlaps">texts=', 1)[1].partition(";")
    assert int(count) > 40, "the probe saw no chart text"
    assert overlaps.split("<")[0] == "", f"overlapping labels: {overlaps[:500]}"
    shot = tmp_path / f"shot-{window.split(',')[0]}.png"
    run = subprocess.run([*common, f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and shot.exists(), run.stderr[-1000:]
