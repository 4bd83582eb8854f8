"""Plotly figure builders with one house style, and :func:`show` for notebooks and the book.

:func:`show` emits one output carrying two representations: plotly's own JSON (JupyterLab
renders it interactively) and an HTML ``<div>`` + script that draws the figure with the page's
local plotly.js (the built book loads ``_static/plotly.min.js`` on every page, so figures stay
interactive without internet).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEMPLATE", "style", "show", "scatter", "thumbnails_html"]

TEMPLATE = "plotly_white"
FONT = dict(family="Inter, Helvetica, Arial, sans-serif", size=13)


def style(fig: Any, *, title: str | None = None, height: int = 480) -> Any:
    """Apply the house style in place and return the figure."""
    fig.update_layout(template=TEMPLATE, font=FONT, height=height, margin=dict(l=60, r=20, t=60 if title else 30, b=50),
                      legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02))
    if title:
        fig.update_layout(title=dict(text=title, x=0.01))
    return fig


def show(fig: Any) -> None:
    """Display ``fig`` interactively in JupyterLab and in the built (offline) book."""
    from IPython.display import display

    html = fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})
    display({"application/vnd.plotly.v1+json": fig.to_plotly_json(), "text/html": html}, raw=True)


def scatter(df: Any, x: str, y: str, *, color: str | None = None, hover: list[str] | None = None,
            title: str | None = None, log_x: bool = False, labels: dict[str, str] | None = None) -> Any:
    """A styled scatter plot of a tidy table."""
    import plotly.express as px

    fig = px.scatter(df, x=x, y=y, color=color, hover_data=hover, log_x=log_x, labels=labels or {})
    fig.update_traces(marker=dict(size=9, line=dict(width=0.5, color="white")))
    return style(fig, title=title)


def thumbnails_html(paths: list[Any], captions: list[str] | None = None, *, size: int = 160) -> str:
    """An HTML grid of JPEG thumbnails (embedded as data URIs, so the page is self-contained)."""
    import base64
    import io

    from PIL import Image

    from .data import read_image

    cells = []
    for i, path in enumerate(paths):
        img = Image.fromarray(read_image(path))
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=85)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        caption = captions[i] if captions else getattr(path, "name", str(path))
        cells.append(
            f'<figure style="margin:4px;text-align:center"><img src="data:image/jpeg;base64,{data}" '
            f'alt="{caption}" style="max-width:{size}px;max-height:{size}px"/>'
            f'<figcaption style="font-size:11px">{caption}</figcaption></figure>'
        )
    return '<div class="dlic-thumbnails" style="display:flex;flex-wrap:wrap">' + "".join(cells) + "</div>"
