"""Draw the integration's brand images into custom_components/linky_local/brand/.

The mark is the meter itself, reduced to what reads at 48 px: the yellow-green Linky casing, its display with a
lightning bolt, and the two TIC terminals (I1, I2) below it. Home Assistant serves these files for a custom
integration from its brand/ folder. Run again after a change and commit the PNGs:

    .venv/bin/python scripts/brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "linky_local" / "brand"

CASING = (140, 198, 62, 255)  # Linky's yellow-green
CASING_EDGE = (92, 150, 36, 255)
DISPLAY = (255, 255, 255, 255)
BOLT = (31, 58, 18, 255)
TEXT_LIGHT_BG = (33, 33, 33, 255)
TEXT_DARK_BG = (230, 230, 230, 255)

SUPERSAMPLE = 4  # draw larger, then reduce: smooth edges without an anti-aliasing renderer
UNIT = 1024  # the icon is drawn in a 1024 x 1024 design space


def _box(*coords: float, scale: float) -> tuple[float, ...]:
    return tuple(c * scale for c in coords)


def draw_icon(size: int) -> Image.Image:
    """Return the square mark, size x size pixels, transparent around the casing."""
    big = size * SUPERSAMPLE
    s = big / UNIT
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(_box(16, 16, 1008, 1008, scale=s), radius=200 * s, fill=CASING_EDGE)
    draw.rounded_rectangle(_box(44, 44, 980, 980, scale=s), radius=176 * s, fill=CASING)
    draw.rounded_rectangle(_box(190, 170, 834, 600, scale=s), radius=64 * s, fill=DISPLAY)
    bolt = [(560, 205), (352, 420), (488, 420), (440, 565), (672, 330), (528, 330), (600, 205)]
    draw.polygon([(x * s, y * s) for x, y in bolt], fill=BOLT)
    for cx in (372, 652):
        draw.ellipse(_box(cx - 82, 700, cx + 82, 864, scale=s), fill=DISPLAY)
        draw.ellipse(_box(cx - 34, 748, cx + 34, 816, scale=s), fill=CASING_EDGE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_logo(height: int, text_colour: tuple[int, int, int, int]) -> Image.Image:
    """Return the mark followed by the name, height pixels high."""
    big = height * SUPERSAMPLE
    font = ImageFont.load_default(size=round(big * 0.5))
    text = "Linky Local"
    stroke = max(1, round(big * 0.012))  # the bundled font has one weight: thicken it a little
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    gap = round(big * 0.18)
    width = big + gap + (right - left) + round(big * 0.04)
    image = Image.new("RGBA", (width, big), (0, 0, 0, 0))
    image.alpha_composite(draw_icon(big))
    draw = ImageDraw.Draw(image)
    draw.text(
        (big + gap - left, (big - (bottom - top)) / 2 - top),
        text,
        font=font,
        fill=text_colour,
        stroke_width=stroke,
        stroke_fill=text_colour,
    )
    return image.resize((round(width / SUPERSAMPLE), height), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every brand image Home Assistant looks for."""
    BRAND.mkdir(parents=True, exist_ok=True)
    images = {
        "icon.png": draw_icon(256),
        "icon@2x.png": draw_icon(512),
        "logo.png": draw_logo(128, TEXT_LIGHT_BG),
        "logo@2x.png": draw_logo(256, TEXT_LIGHT_BG),
        "dark_logo.png": draw_logo(128, TEXT_DARK_BG),
        "dark_logo@2x.png": draw_logo(256, TEXT_DARK_BG),
    }
    for name, image in images.items():
        image.save(BRAND / name, optimize=True)
        print(f"{BRAND / name}: {image.width}x{image.height}")


if __name__ == "__main__":
    main()
