"""Plotly figure builders with one house style, and :func:`show` for notebooks and the book.

:func:`show` emits one output carrying two representations: plotly's own JSON (JupyterLab
renders it interactively) and an HTML ``<div>`` + script that draws the figure with the page's
local plotly.js (the built book loads ``_static/plotly.min.js`` on every page, so figures stay
interactive without internet).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEMPLATE", "style", "show", "scatter", "thumbnails_html", "rd_figure", "per_image_rd_figure",
           "image_grid_figure"]

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


def _codec_styles(table: Any, codec: str) -> dict[str, dict]:
    """Line style per codec label: colour by family, dash by chroma format, dotted for learned codecs."""
    import plotly.express as px

    palette = px.colors.qualitative.Dark24
    families = list(dict.fromkeys(table["family"] if "family" in table.columns else table[codec]))
    styles = {}
    for label, part in table.groupby(codec, sort=False):
        family = part["family"].iloc[0] if "family" in part.columns else label
        kind = part["kind"].iloc[0] if "kind" in part.columns else "conventional"
        chroma = str(part["chroma"].iloc[0]) if "chroma" in part.columns else ""
        dash = "dot" if kind == "learned" else ("dash" if chroma == "4:4:4" else "solid")
        styles[label] = dict(color=palette[families.index(family) % len(palette)], dash=dash,
                             symbol="diamond" if kind == "learned" else "circle")
    return styles


def _xy(part: Any, rate: str, metric: str) -> tuple[list, list]:
    part = part.sort_values(rate)
    return part[rate].round(5).tolist(), part[metric].round(5).tolist()


def rd_figure(
    points: Any,
    metrics: dict[str, str],
    *,
    codec: str = "setting",
    dataset: str = "dataset",
    rate: str = "bpp",
    title: str | None = None,
    hover: tuple[str, ...] = ("weights", "n_images"),
) -> Any:
    """Interactive RD curves: one trace per codec (click the legend to hide/show), a menu for dataset × metric.

    ``points`` is a table of RD points (e.g. :func:`dlic_lib.rd.rd_points`); ``metrics`` maps metric
    columns to axis labels. Hovering shows codec, rate, value and the ``hover`` columns present.
    """
    import plotly.graph_objects as go

    styles = _codec_styles(points, codec)
    labels = list(styles)
    hover = tuple(h for h in hover if h in points.columns)
    views = [(d, m) for d in dict.fromkeys(points[dataset]) for m in metrics]
    fig = go.Figure()

    def view_data(d, m):
        xs, ys, cds = [], [], []
        for label in labels:
            part = points[(points[dataset] == d) & (points[codec] == label)].sort_values(rate)
            x, y = _xy(part, rate, m)
            xs.append(x)
            ys.append(y)
            cds.append(part[list(hover)].astype(str).values.tolist() if hover else None)
        return xs, ys, cds

    extra = "".join(f"<br>{h}: %{{customdata[{i}]}}" for i, h in enumerate(hover))
    xs, ys, cds = view_data(*views[0])
    for i, label in enumerate(labels):
        st = styles[label]
        fig.add_trace(go.Scatter(
            x=xs[i], y=ys[i], customdata=cds[i], name=label, mode="lines+markers",
            line=dict(color=st["color"], dash=st["dash"], width=2), marker=dict(symbol=st["symbol"], size=7),
            hovertemplate=f"<b>{label}</b><br>{rate}: %{{x:.4f}}<br>value: %{{y:.4f}}{extra}<extra></extra>",
        ))
    buttons = []
    for d, m in views:
        xs, ys, cds = view_data(d, m)
        buttons.append(dict(label=f"{d} · {metrics[m]}", method="update",
                            args=[{"x": xs, "y": ys, "customdata": cds}, {"yaxis.title.text": metrics[m]}]))
    fig.update_layout(updatemenus=[dict(buttons=buttons, direction="down", x=0, xanchor="left", y=1.13, yanchor="top")],
                      xaxis_title=f"{rate} (mean over images)", yaxis_title=metrics[views[0][1]])
    return style(fig, title=title, height=540)


def per_image_rd_figure(
    table: Any,
    metrics: dict[str, str],
    *,
    codec: str = "setting",
    image: str = "image",
    rate: str = "bpp",
    title: str | None = None,
) -> Any:
    """Per-image drill-down: one panel per metric, a menu to pick the image, legend toggles per codec."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    styles = _codec_styles(table, codec)
    labels = list(styles)
    names = list(dict.fromkeys(table[image]))
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(metrics.values()),
                        horizontal_spacing=0.07, vertical_spacing=0.14)

    def image_data(name):
        xs, ys = [], []
        sub = table[table[image] == name]
        for m in metrics:
            for label in labels:
                x, y = _xy(sub[sub[codec] == label], rate, m)
                xs.append(x)
                ys.append(y)
        return xs, ys

    xs, ys = image_data(names[0])
    k = 0
    for j, m in enumerate(metrics):
        for label in labels:
            st = styles[label]
            fig.add_trace(go.Scatter(
                x=xs[k], y=ys[k], name=label, legendgroup=label, showlegend=j == 0, mode="lines+markers",
                line=dict(color=st["color"], dash=st["dash"], width=1.6), marker=dict(symbol=st["symbol"], size=5),
                hovertemplate=f"<b>{label}</b><br>{rate}: %{{x:.4f}}<br>{metrics[m]}: %{{y:.4f}}<extra></extra>",
            ), row=j // cols + 1, col=j % cols + 1)
            k += 1
    buttons = []
    for name in names:
        xs, ys = image_data(name)
        buttons.append(dict(label=str(name), method="restyle", args=[{"x": xs, "y": ys}]))
    fig.update_layout(updatemenus=[dict(buttons=buttons, direction="down", x=0, xanchor="left", y=1.12, yanchor="top")])
    return style(fig, title=title, height=330 * rows + 80)


def image_grid_figure(rows: list[list[Any]], *, column_titles: list[str], row_titles: list[str] | None = None,
                      title: str | None = None, cell: int = 150) -> Any:
    """Interactive grid of RGB uint8 images (one list per row; ``None`` leaves a cell empty)."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig = make_subplots(rows=n_rows, cols=n_cols, column_titles=column_titles, row_titles=row_titles,
                        horizontal_spacing=0.01, vertical_spacing=0.03)
    for i, row in enumerate(rows, start=1):
        for j, image in enumerate(row, start=1):
            if image is not None:
                fig.add_trace(go.Image(z=image, hovertemplate="x %{x}, y %{y}<br>RGB %{z}<extra></extra>"), row=i, col=j)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    style(fig, title=title, height=cell * n_rows + 90)
    return fig
