"""Checking a PNG screenshot: its header read here, its pixels counted by the browser.

Decoding a screenshot in pure Python costs seconds; the browser decodes it in milliseconds
(``createImageBitmap`` on a blank page, then the pixels of a canvas), so it does the count.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_COUNT_INK = """
async ([data, background, tolerance]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  let inked = 0;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4) {
    const r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
    if (Math.abs(r - background[0]) > tolerance || Math.abs(g - background[1]) > tolerance
        || Math.abs(b - background[2]) > tolerance) inked++;
    colours.add((r << 16) | (g << 8) | b);
  }
  return {width: bitmap.width, height: bitmap.height, inked: inked / (pixels.length / 4),
          colours: colours.size};
}
"""


@dataclass(frozen=True)
class Ink:
    """How much of a picture is drawn: the share of pixels unlike the background, and how
    many colours it uses."""

    width: int
    height: int
    inked: float
    colours: int


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header; ValueError when ``data`` is not a PNG."""
    if not data.startswith(_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


async def count_ink(
    blank_page: Any, data: bytes, background: tuple[int, int, int], tolerance: int = 24
) -> Ink:
    """Decode the PNG ``data`` in ``blank_page`` (a Playwright page on about:blank) and
    measure its ink against ``background``."""
    found = await blank_page.evaluate(
        _COUNT_INK, [base64.b64encode(data).decode(), list(background), tolerance]
    )
    return Ink(
        width=int(found["width"]),
        height=int(found["height"]),
        inked=float(found["inked"]),
        colours=int(found["colours"]),
    )
