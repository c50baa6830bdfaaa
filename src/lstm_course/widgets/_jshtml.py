"""The static form of a widget: matplotlib animations as self-contained HTML for the book.

A live widget needs a kernel; the built book has none. So each widget can also
draw its frames into a figure that is not registered with pyplot
(``_new_figure``) and turn the animation into HTML with a player (``jshtml``)
that works in a plain browser, loads nothing from the network, and has the same
element ids on every run (so that stored notebook outputs stay the same).
"""
import hashlib
import io
import re
from html import escape

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["jshtml"]

_CDN_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?https?://[^>]*>", re.IGNORECASE | re.DOTALL)
_CDN_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?https?://[^>]*>\s*</script>", re.IGNORECASE | re.DOTALL
)
_MPL_ID = re.compile(r'id="_anim_img([0-9a-f]{32})"')


def _sanitize_id(id_prefix):
    """Make ``id_prefix`` usable in an HTML id *and* a JavaScript name (``anim{id}``)."""
    s = re.sub(r"\W", "_", str(id_prefix))
    return s if s else "anim"


DEFAULT_ALT = "Animation: use the slider or the buttons below it to step through its frames."


def jshtml(anim, id_prefix="anim", *, fps=None, default_mode=None, alt=DEFAULT_ALT):
    """``anim.to_jshtml()`` made safe and stable for the built book.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    id_prefix : str
        The player's element ids become ``f"{id_prefix}_0"`` instead of
        matplotlib's random ``uuid4().hex``, so the output is the same on
        every run (stable stored outputs for nbval). Use a different prefix
        for each animation on one page (e.g. ``"anim_ch2_0"``-style names are
        produced from ``"anim_ch2"``). Non-word characters become ``_``.
    fps, default_mode : passed to ``anim.to_jshtml`` (default_mode: "once",
        "loop" or "reflect").
    alt : str
        The frame image's text alternative (what the animation shows, for a
        screen reader); the frame slider gets the label "Frame of the animation".

    Returns
    -------
    str : self-contained HTML (frames embedded as PNG) with no link to a CDN:
        the font-awesome 4 ``<link rel="stylesheet" href="https://maxcdn...">``
        that matplotlib inserts is removed (as is any other external
        stylesheet or script). The frame image shrinks to the width of the
        page (``max-width: 100%; height: auto``), so it fits a phone's screen.
    """
    html = anim.to_jshtml(fps=fps, default_mode=default_mode)
    html = _CDN_LINK.sub("", html)
    html = _CDN_SCRIPT.sub("", html)
    prefix = _sanitize_id(id_prefix)
    for k, uid in enumerate(dict.fromkeys(_MPL_ID.findall(html))):
        html = html.replace(uid, f"{prefix}_{k}")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt must be a non-empty description of the animation, got {alt!r}")
    html = html.replace('<img id="_anim_img', f'<img alt="{escape(alt.strip())}" '
                        'style="max-width:100%;height:auto" id="_anim_img')
    return html.replace('<input id="_anim_slider', '<input aria-label="Frame of the animation" id="_anim_slider')


def _auto_prefix(name, *parts):
    """A deterministic id prefix from the content (so distinct animations differ)."""
    h = hashlib.sha1(repr(parts).encode()).hexdigest()[:8]
    return f"{name}_{h}"


def _new_figure(figsize, dpi=100, layout="constrained"):
    """A figure that is NOT registered with pyplot.

    It never shows up as a stray static image at the end of a notebook cell
    (nothing to ``plt.close``) and renders with Agg whatever the backend.
    """
    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)
    _QuietCanvas(fig)
    return fig


class _QuietCanvas(FigureCanvasAgg):
    """An Agg canvas whose ``draw_idle`` does nothing.

    Agg's ``draw_idle`` draws at once; an animation calls it after every
    frame and then draws the frame again to save it. We only ever need the
    saved PNGs, so this halves the time to make the static forms.
    """

    def draw_idle(self, *args, **kwargs):
        pass


def _freeze_layout(fig):
    """Run the constrained layout once, then keep the axes where they are.

    Re-running the layout on every frame is slow; the frames of our figures
    change data, not tick labels, so one layout fits all.
    """
    fig.canvas.draw()
    fig.set_layout_engine("none")


def _png(fig, dpi):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _display(obj):
    from IPython.display import display

    display(obj)
