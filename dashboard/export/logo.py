"""The consultant's logo on the report: an upload from anyone, treated as hostile.

Only PNG and JPEG are accepted, recognised by their first bytes (never by the file name or a
browser's MIME type). The file is bounded in bytes before it is read, its header in pixels
before it is decoded (Pillow's own decompression-bomb guard is the second line),
decoded in full, scaled to at most :data:`MAX_SIDE_PX` a side and re-encoded as a fresh PNG
without metadata. Only those new bytes reach the report, as a ``data:image/png`` URI: never
the uploaded bytes, never SVG (which can carry script). Every failure is one
:class:`~dashboard.domain.errors.DecentraError` naming the file and the problem.
"""

from __future__ import annotations

import base64
import io
import warnings

from dashboard.domain.errors import DecentraError

MAX_LOGO_BYTES = 2 * 2**20          # the upload
MAX_LOGO_PIXELS = 25_000_000         # width x height declared in the header (a 5000 x 5000)
MAX_SIDE_PX = 600                    # the re-encoded logo's longest side
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
HINT = "give a PNG or JPEG image (at most 2 MB and 25 megapixels)"


def _fail(name: str, problem: str) -> DecentraError:
    return DecentraError(f"the logo cannot be used: {problem}; {HINT}", source=name)


def sanitize_logo(data: bytes, name: str = "logo") -> bytes:
    """The logo re-encoded as a clean PNG (at most ``MAX_SIDE_PX`` a side, RGBA or RGB).

    Parameters
    ----------
    data:
        The uploaded file's bytes.
    name:
        Its name, only for the message.

    Raises
    ------
    DecentraError
        Empty, too large, not PNG/JPEG, damaged, or too many pixels.
    """
    from PIL import Image, ImageOps

    if not isinstance(data, bytes | bytearray) or len(data) == 0:
        raise _fail(name, "the file is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise _fail(name, f"the file has {len(data) / 2**20:.1f} MB")
    if data.startswith(PNG_MAGIC):
        kind = "PNG"
    elif data.startswith(JPEG_MAGIC):
        kind = "JPEG"
    else:
        raise _fail(name, "it is not a PNG or JPEG file (SVG, HTML, GIF and others are "
                          "refused)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(bytes(data)), formats=[kind]) as img:
                w, h = img.size
                if w < 1 or h < 1 or w * h > MAX_LOGO_PIXELS:     # header only, not decoded
                    raise _fail(name, f"it is {w:,} x {h:,} pixels")
                img.load()                            # decode every byte now
                clean = ImageOps.exif_transpose(img)
                clean = clean.convert("RGBA" if "A" in clean.getbands()
                                      or "transparency" in img.info else "RGB")
    except DecentraError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _fail(name, "it has too many pixels") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as err:
        raise _fail(name, f"the {kind} data is damaged or truncated "
                          f"({type(err).__name__})") from None
    clean.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def logo_data_uri(png: bytes) -> str:
    """A sanitized logo (from :func:`sanitize_logo`) as a ``data:image/png`` URI."""
    if not png.startswith(PNG_MAGIC):
        raise DecentraError("the logo must be passed through sanitize_logo first")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


__all__ = ["MAX_LOGO_BYTES", "MAX_LOGO_PIXELS", "MAX_SIDE_PX", "logo_data_uri", "sanitize_logo"]
