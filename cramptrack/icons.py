"""Draw the app icons as PNG files: `python -m cramptrack.icons` writes static/icons/.

A crescent moon over a cramp's zigzag, on a night-blue tile. Drawn with signed
distance functions (anti-aliased edges without supersampling) and written with
zlib + struct, so no imaging library is needed. The PNGs are committed; run
this again only to change the design.
"""

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"

TOP = (0x26, 0x2E, 0x5A)  # tile gradient, top to bottom
BOTTOM = (0x0D, 0x11, 0x1C)
MOON = (0xFF, 0xE4, 0xB8)
CRAMP = (0xFF, 0x7A, 0x6B)

# The zigzag of a cramp, in unit coordinates (0..1 across the tile).
ZIGZAG = [(0.2, 0.7), (0.37, 0.7), (0.44, 0.59), (0.53, 0.81), (0.6, 0.64), (0.65, 0.7), (0.8, 0.7)]


def _segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _rounded_square(px, py, radius):
    """Signed distance to a unit square with rounded corners (negative inside)."""
    qx = abs(px - 0.5) - (0.5 - radius)
    qy = abs(py - 0.5) - (0.5 - radius)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def _blend(under, over, alpha):
    return tuple(u + (o - u) * alpha for u, o in zip(under, over, strict=True))


def _coverage(distance, pixel):
    """Fraction of a pixel inside a shape whose edge is `distance` (unit coordinates) away."""
    return max(0.0, min(1.0, 0.5 - distance / pixel))


def draw(size: int, maskable: bool = False) -> bytes:
    pixel = 1.0 / size
    # Maskable icons may be cropped to a circle of 80%: keep the artwork inside it.
    scale = 0.74 if maskable else 0.92
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type 0
        v = (y + 0.5) * pixel
        sky = _blend(TOP, BOTTOM, v)
        for x in range(size):
            u = (x + 0.5) * pixel
            tile = 1.0 if maskable else _coverage(_rounded_square(u, v, 0.22), pixel)
            if tile <= 0.0:
                row += b"\0\0\0\0"
                continue
            # Artwork coordinates, scaled about the centre.
            ax, ay = 0.5 + (u - 0.5) / scale, 0.5 + (v - 0.5) / scale
            apixel = pixel / scale
            moon = max(math.hypot(ax - 0.47, ay - 0.38) - 0.25, -(math.hypot(ax - 0.58, ay - 0.3) - 0.22))
            colour = _blend(sky, MOON, _coverage(moon, apixel))
            stroke = min(_segment_distance(ax, ay, *a, *b) for a, b in zip(ZIGZAG, ZIGZAG[1:], strict=False))
            colour = _blend(colour, sky, _coverage(stroke - 0.065, apixel))  # a gap where it crosses the moon
            colour = _blend(colour, CRAMP, _coverage(stroke - 0.035, apixel))
            row += bytes(round(c) for c in colour) + bytes([round(255 * tile)])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width: int, height: int, raw_rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


ICONS = {
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
    "apple-touch-icon.png": (180, True),  # iOS rounds the corners itself and dislikes transparency
    "favicon-32.png": (32, False),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (size, maskable) in ICONS.items():
        data = draw(size, maskable)
        (OUT / name).write_bytes(data)
        print(f"{name}: {size}x{size}, {len(data)} bytes")


if __name__ == "__main__":
    main()
