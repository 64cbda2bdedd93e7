"""docs/screenshots.py takes the documentation's screenshots from the real program.

The script runs for real (gunicorn on 127.0.0.1, ``flask prodguard check``,
headless Chromium) into a temporary directory, and the PNGs it writes are
decoded here with zlib alone: signature, chunk CRCs, size from IHDR, pixels.

Without Chromium the tests skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from servers import require_program

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "screenshots.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Channels per pixel of the 8-bit PNG colour types: grey, RGB, grey+alpha, RGBA.
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
#: Background colours (RGB) of the guard's error page and of the terminal page.
PAGE_BACKGROUND = bytes.fromhex("fafafa")
TERMINAL_BACKGROUND = bytes.fromhex("1e1e1e")
TIMEOUT = 180

pytestmark = pytest.mark.server


# -- PNG decoding --------------------------------------------------------------------


@dataclasses.dataclass
class Image:
    """A decoded 8-bit, non-interlaced PNG: size and unfiltered pixel rows."""

    width: int
    height: int
    channels: int
    rows: list[bytes]

    def colours(self) -> collections.Counter[bytes]:
        """How many pixels there are of each colour (RGB; alpha left out)."""
        step = self.channels
        return collections.Counter(
            row[i : i + min(step, 3)] for row in self.rows for i in range(0, len(row), step)
        )


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, data) chunks after the signature; every CRC must match."""
    found = []
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r} chunk"
        found.append((kind, body))
        pos += 12 + length
    return found


def paeth(left: int, up: int, up_left: int) -> int:
    """The PNG Paeth predictor."""
    p = left + up - up_left
    pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
    if pa <= pb and pa <= pc:
        return left
    return up if pb <= pc else up_left


def unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytes]:
    """Undo the per-row filters of decompressed PNG image data."""
    assert len(raw) == height * (stride + 1), "image data does not match the size in IHDR"
    rows: list[bytes] = []
    prior = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        assert kind <= 4, f"unknown filter type {kind} in row {y}"
        for i in range(stride if kind else 0):
            left = row[i - bpp] if i >= bpp else 0
            up_left = prior[i - bpp] if i >= bpp else 0
            # Filter types 1 to 4: Sub, Up, Average, Paeth.
            predictor = (left, prior[i], (left + prior[i]) // 2, paeth(left, prior[i], up_left))
            row[i] = (row[i] + predictor[kind - 1]) & 0xFF
        prior = bytes(row)
        rows.append(prior)
    return rows


def read_png(path: Path) -> Image:
    """Decode the PNG at ``path``, checking its signature and structure."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    found = chunks(data)
    assert found[0][0] == b"IHDR" and found[-1][0] == b"IEND", [kind for kind, _ in found]
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", found[0][1])
    assert depth == 8 and colour_type in CHANNELS and interlace == 0, found[0][1]
    channels = CHANNELS[colour_type]
    raw = zlib.decompress(b"".join(body for kind, body in found if kind == b"IDAT"))
    return Image(width, height, channels, unfilter(raw, width * channels, height, channels))


# -- the script ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int, int]]:
    """Run the script once; each PNG it reports: name -> (path, width, height)."""
    chromium = require_program("chromium")  # skips without it; in CI, fails
    output = tmp_path_factory.mktemp("screenshots")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output), "--chromium", chromium],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reported = re.findall(r"^wrote (.+) \((\d+)x(\d+)\)$", result.stdout, re.MULTILINE)
    return {Path(path).name: (Path(path), int(w), int(h)) for path, w, h in reported}


def test_error_page_screenshot(screenshots: dict[str, tuple[Path, int, int]]) -> None:
    """error-page.png is a 900x600 PNG of the guard's generic page, text on its background."""
    path, width, height = screenshots["error-page.png"]
    image = read_png(path)
    assert (image.width, image.height) == (width, height) == (900, 600)
    colours = image.colours()
    assert colours.most_common(1)[0][0] == PAGE_BACKGROUND
    assert len(colours) > 10, "no text on the page"


def test_check_output_screenshot(screenshots: dict[str, tuple[Path, int, int]]) -> None:
    """check-output.png has the size the script reports: a dark terminal, headings in colour."""
    path, width, height = screenshots["check-output.png"]
    image = read_png(path)
    assert (image.width, image.height) == (width, height)
    assert width >= 600 and height >= 400, "too small for the output of six findings"
    colours = image.colours()
    assert colours.most_common(1)[0][0] == TERMINAL_BACKGROUND
    assert any(r > 180 and g < 110 and b < 110 for r, g, b in colours), "no red CRITICAL"


def test_missing_chromium_is_a_clear_error(tmp_path: Path) -> None:
    """Without the Chromium it is told to use, the script exits 1 and says how to install it."""
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--output",
            str(tmp_path),
            "--chromium",
            "no-such-chromium",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 1
    assert "no-such-chromium not found: apt-get install chromium" in result.stderr
    assert not list(tmp_path.iterdir())
