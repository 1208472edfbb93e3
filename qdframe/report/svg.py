"""A small SVG writer for the report's plots: escaping, numbers, colours, axes.

Every piece of text and every attribute value goes through :func:`esc`, so
names that come from users (circuits, labels) cannot break out of the markup.
The SVG is meant to be inlined in HTML, so it carries no XML namespace
declaration and refers to nothing outside the page.
"""

from __future__ import annotations

import html
import math

__all__ = ["Svg", "esc", "fmt", "nice_ticks", "viridis"]

# Five stops of matplotlib's viridis colour map, interpolated linearly between.
_VIRIDIS = (
    (0x44, 0x01, 0x54),
    (0x3B, 0x52, 0x8B),
    (0x21, 0x91, 0x8C),
    (0x5E, 0xC9, 0x62),
    (0xFD, 0xE7, 0x25),
)


def esc(value: object) -> str:
    """``value`` as text safe inside an element or a quoted attribute."""
    return html.escape(str(value), quote=True)


def fmt(value: float) -> str:
    """A number for a label: integers as they are, others with three significant digits."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"


def viridis(t: float) -> str:
    """The colour at ``t`` in ``[0, 1]`` (clamped) as ``#rrggbb``."""
    t = min(1.0, max(0.0, t if math.isfinite(t) else 0.0))
    position = t * (len(_VIRIDIS) - 1)
    i = min(int(position), len(_VIRIDIS) - 2)
    f = position - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    r, g, bl = (round(a[k] + (b[k] - a[k]) * f) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (about ``count`` of them)."""
    if not math.isfinite(maximum) or maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < maximum - 1e-12 * maximum:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _attrs(attributes: dict[str, object]) -> str:
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{esc(value)}"')
    return " ".join(parts)


class Svg:
    """Collects SVG elements and renders them as one ``<svg>`` element.

    :param width: width in pixels (also the view box).
    :param height: height in pixels.
    :param plot_id: the element id, e.g. ``"plot-topology"``.
    :param title: the accessible title of the plot.
    """

    def __init__(self, width: float, height: float, *, plot_id: str, title: str) -> None:
        self.width = width
        self.height = height
        self.plot_id = plot_id
        self.title = title
        self._parts: list[str] = []

    def raw(self, markup: str) -> None:
        """Add markup built by this module (already escaped)."""
        self._parts.append(markup)

    def element(self, tag: str, *, tooltip: str | None = None, **attributes: object) -> None:
        """Add ``<tag ...>``; ``tooltip`` becomes a ``<title>`` child shown on hover."""
        attrs = _attrs(attributes)
        if tooltip is None:
            self._parts.append(f"<{tag} {attrs}/>")
        else:
            self._parts.append(f"<{tag} {attrs}><title>{esc(tooltip)}</title></{tag}>")

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str,
        tooltip: str | None = None,
        **attributes: object,
    ) -> None:
        box = {"x": float(x), "y": float(y), "width": float(w), "height": float(h)}
        self.element("rect", tooltip=tooltip, **box, fill=fill, **attributes)

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        tooltip: str | None = None,
        **attributes: object,
    ) -> None:
        ends = {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2)}
        self.element("line", tooltip=tooltip, **ends, **attributes)

    def circle(
        self, cx: float, cy: float, r: float, *, tooltip: str | None = None, **attributes: object
    ) -> None:
        centre = {"cx": float(cx), "cy": float(cy), "r": float(r)}
        self.element("circle", tooltip=tooltip, **centre, **attributes)

    def text(self, x: float, y: float, content: object, **attributes: object) -> None:
        attributes.setdefault("font_size", 11)
        attrs = _attrs({"x": float(x), "y": float(y), **attributes})
        self._parts.append(f"<text {attrs}>{esc(content)}</text>")

    def render(self) -> str:
        """The whole ``<svg>`` element."""
        head = _attrs(
            {
                "id": self.plot_id,
                "class": "plot",
                "role": "img",
                "width": float(self.width),
                "height": float(self.height),
                "viewBox": f"0 0 {self.width:.0f} {self.height:.0f}",
            }
        )
        body = "".join(self._parts)
        return f"<svg {head}><title>{esc(self.title)}</title>{body}</svg>"
