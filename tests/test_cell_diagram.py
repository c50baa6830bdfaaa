"""The cell diagram shows the numbers the package computes (read back from the drawn Text artists)."""
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lstm_course import cell_diagram, cell_numbers, viz  # noqa: E402
from lstm_course.gradcheck import eval_numerical_gradient_array  # noqa: E402
from lstm_course.lstm import lstm_step_backward, lstm_step_forward, split_gates  # noqa: E402

DIGITS = 4
BOOK_WIDTH_PX = 672   # a figure's width in the built book, measured in Chromium at 1280 px
NUMBER = re.compile(r"[-\u2212]?\d+\.\d+")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _step(N=2, D=3, H=3, *, forget_gate=True, peepholes=False, seed=0):
    rng = np.random.default_rng(seed)
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), 2 * rng.standard_normal((N, H))
    Wx, Wh, b = rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H)), rng.standard_normal(4 * H)
    p = tuple(rng.standard_normal(H) for _ in range(3)) if peepholes else None
    next_h, next_c, cache = lstm_step_forward(x, h, c, Wx, Wh, b, forget_gate=forget_gate, peepholes=p)
    dnext_h, dnext_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    return next_h, next_c, cache, dnext_h, dnext_c


def _shown(ax, kind):
    """Read the numbers back from the figure: dict wire -> (numbers, decimals), by Text gid."""
    out = {}
    for t in ax.texts:
        gid = t.get_gid() or ""
        if gid.startswith(kind + ":"):
            text = t.get_text().rsplit("=", 1)[1]
            nums = [float(m.replace("\u2212", "-")) for m in NUMBER.findall(text)]
            out[gid.split(":", 1)[1]] = (np.array(nums), len(NUMBER.findall(text)[0].split(".")[1]))
    return out


def _assert_shows(shown, expected):
    """Each expected wire is drawn, with its number to the printed precision."""
    assert set(expected) <= set(shown), f"wires not drawn: {set(expected) - set(shown)}"
    for name, want in expected.items():
        got, decimals = shown[name]
        want = np.atleast_1d(np.asarray(want, dtype=float))[:got.size]
        assert got.size == want.size, name
        np.testing.assert_allclose(got, want, rtol=0, atol=0.5 * 10.0 ** -decimals + 1e-12,
                                   err_msg=f"wire {name!r}")


VARIANTS = [dict(), dict(forget_gate=False), dict(peepholes=True)]


@pytest.mark.parametrize("variant", VARIANTS, ids=["lstm", "1997", "peepholes"])
@pytest.mark.parametrize("mode", ["plain", "values", "grads", "both"])
def test_every_variant_renders_without_warnings(variant, mode):
    _, _, cache, dh, dc = _step(**variant)
    kw = {"values": cache if mode in ("values", "both") else None,
          "grads": dict(dnext_h=dh, dnext_c=dc, cache=cache) if mode in ("grads", "both") else None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = viz.draw_lstm_cell(None, **variant, **kw, highlight="dc_sources")
        d.ax.figure.canvas.draw()
    assert ("f" in d.wires) == variant.get("forget_gate", True)
    assert ("p_o" in d.wires) == variant.get("peepholes", False)
    assert bool(d.value_texts) == (kw["values"] is not None)
    assert bool(d.grad_texts) == (kw["grads"] is not None)
    assert ("unit 0 of H = 3, example 0" in d.ax.get_title()) == (mode != "plain")


@pytest.mark.parametrize("variant", VARIANTS, ids=["lstm", "1997", "peepholes"])
def test_forward_numbers_are_those_of_lstm_step_forward(variant):
    next_h, next_c, cache, _, _ = _step(**variant)
    n, j = 1, 2
    d = viz.draw_lstm_cell(None, values=cache, unit=j, n=n, digits=DIGITS, **variant)
    expected = {"x": cache["x"][n], "h_prev": cache["prev_h"][n], "c_prev": cache["prev_c"][n, j],
                "i": cache["i"][n, j], "o": cache["o"][n, j], "g": cache["g"][n, j],
                "ig": cache["i"][n, j] * cache["g"][n, j],
                "c": next_c[n, j], "c_next": next_c[n, j], "tanh_c": np.tanh(next_c[n, j]),
                "h": next_h[n, j]}
    if variant.get("forget_gate", True):
        expected.update(f=cache["f"][n, j], fc=cache["f"][n, j] * cache["prev_c"][n, j])
    if variant.get("peepholes"):
        expected.update({k: p[j] for k, p in zip(("p_i", "p_f", "p_o"), cache["peepholes"])})
    _assert_shows(_shown(d.ax, "value"), expected)


@pytest.mark.parametrize("variant", VARIANTS, ids=["lstm", "1997", "peepholes"])
def test_backward_numbers_are_those_of_lstm_step_backward(variant):
    _, _, cache, dh, dc = _step(N=1, **variant)
    j = 1
    d = viz.draw_lstm_cell(None, grads=dict(dnext_h=dh, dnext_c=dc, cache=cache), unit=j,
                           digits=DIGITS, **variant)
    shown = _shown(d.ax, "grad")
    dx, dprev_h, dprev_c, _, _, db = lstm_step_backward(dh, dc, cache)[:6]
    da_i, da_f, da_o, da_g = (a[j] for a in split_gates(db))   # N = 1: db is da
    i, f, o, g = (None if cache[k] is None else cache[k][0, j] for k in "ifog")
    expected = {"x": dx[0], "h_prev": dprev_h[0], "c_prev": dprev_c[0, j], "h": dh[0, j],
                "c_next": dc[0, j], "a_i": da_i, "a_o": da_o, "a_g": da_g}
    _assert_shows(shown, expected)
    # The errors between them, against the package's da: delta(gate) * gate'(a) = da.
    v = {k: shown[k][0][0] for k in shown if k not in cell_numbers.VECTOR_WIRES}
    tol = 2e-3 * max(1.0, max(abs(x) for x in v.values()))
    assert v["o"] * o * (1 - o) == pytest.approx(da_o, abs=tol)
    assert v["i"] * i * (1 - i) == pytest.approx(da_i, abs=tol)
    assert v["g"] * (1 - g ** 2) == pytest.approx(da_g, abs=tol)
    if f is not None:
        assert v["f"] * f * (1 - f) == pytest.approx(da_f, abs=tol)
        assert shown["a_f"][0][0] == pytest.approx(da_f, abs=tol)
    # dc_t is the sum of its sources, and what reaches the products i*g and f*c_{t-1}.
    sources = v["c_next"] + v["c_tanh"] + v.get("p_o", 0.0)
    assert v["c"] == pytest.approx(sources, abs=tol)
    assert v["ig"] == v["c"] and v.get("fc", v["c"]) == v["c"]
    if not variant.get("peepholes"):   # the cell path back: dc_{t-1} = dc_t * f (f = 1 in 1997)
        assert v["c"] * (1.0 if f is None else f) == pytest.approx(dprev_c[0, j], abs=tol)


def test_dc_from_h_is_the_numerical_derivative_through_h():
    """The second source of dc_t, and dtanh(c_t), against centred differences of h = o tanh(c)."""
    _, next_c, cache, dh, dc = _step(N=1)
    j = 0
    d = viz.draw_lstm_cell(None, grads=dict(dnext_h=dh, dnext_c=dc, cache=cache), unit=j, digits=DIGITS)
    shown = _shown(d.ax, "grad")
    o = cache["o"]
    c, u = next_c.copy(), np.tanh(next_c)
    num_c = eval_numerical_gradient_array(lambda: o * np.tanh(c), c, dh)
    num_tanh = eval_numerical_gradient_array(lambda: o * u, u, dh)
    _assert_shows(shown, {"c_tanh": num_c[0, j], "tanh_c": num_tanh[0, j]})


def _swap(fn, a, b):
    def broken(*args, **kw):
        out = fn(*args, **kw)
        out[a], out[b] = out[b], out[a]
        return out
    return broken


@pytest.mark.parametrize("which, a, b", [("wire_values", "i", "g"), ("wire_values", "c", "tanh_c"),
                                          ("wire_gradients", "c_next", "c_tanh"),
                                          ("wire_gradients", "a_i", "a_f")])
def test_a_swapped_wire_is_caught(monkeypatch, which, a, b):
    """The read-back checks above fail when two wires' numbers are exchanged."""
    monkeypatch.setattr(cell_diagram, which, _swap(getattr(cell_numbers, which), a, b))
    test = (test_forward_numbers_are_those_of_lstm_step_forward if which == "wire_values"
            else test_backward_numbers_are_those_of_lstm_step_backward)
    with pytest.raises(AssertionError):
        test({})


def test_widths_follow_the_gradient_and_colours_the_sign():
    _, _, cache, dh, dc = _step(N=1)
    d = viz.draw_lstm_cell(None, grads=dict(dnext_h=dh, dnext_c=dc, cache=cache))
    g = d.grads
    scalar = [k for k in d.wires if k in g and np.ndim(g[k]) == 0]
    big, small = max(scalar, key=lambda k: abs(g[k])), min(scalar, key=lambda k: abs(g[k]))
    assert d.wires[big].get_linewidth() > d.wires[small].get_linewidth()
    for k in scalar:
        want = (cell_diagram.WIRE if abs(g[k]) < 5e-4           # shown as 0.000: grey
                else cell_diagram.POSITIVE if g[k] > 0 else cell_diagram.NEGATIVE)
        assert matplotlib.colors.to_hex(d.wires[k].get_edgecolor()) == want.lower(), k
    # backward: the arrow of c_prev now ends at the left, where the error leaves the cell
    assert d.routes["c_prev"][-1][0] < d.routes["c_prev"][0][0]


def test_text_is_at_least_12_px_at_book_width():
    _, _, cache, dh, dc = _step()
    d = viz.draw_lstm_cell(None, values=cache, grads=dict(dnext_h=dh, dnext_c=dc))
    fig = d.ax.figure
    px_per_pt = BOOK_WIDTH_PX / (72 * fig.get_figwidth())
    sizes = [t.get_fontsize() * px_per_pt for t in d.ax.texts + [d.ax.title]]
    assert min(sizes) >= 12, min(sizes)


def test_alt_text_describes_the_variant_and_the_numbers():
    _, _, cache, dh, dc = _step(N=1, forget_gate=False)
    d = viz.draw_lstm_cell(None, forget_gate=False, values=cache,
                           grads=dict(dnext_h=dh, dnext_c=dc), digits=3)
    assert d.alt_text == viz.describe_lstm_cell(forget_gate=False, values=d.values, grads=d.grads)
    assert "without a forget gate" in d.alt_text and "forget gate f," not in d.alt_text
    assert f"i = {d.values['i']:.3f}".replace("-", "\u2212") in d.alt_text
    assert f"dc_t = {d.grads['c']:.3f}".replace("-", "\u2212") in d.alt_text
    assert "peephole" in viz.describe_lstm_cell(peepholes=True)


def test_bad_arguments_name_themselves():
    _, _, cache, dh, dc = _step()
    with pytest.raises(ValueError, match="forget_gate"):
        viz.draw_lstm_cell(None, forget_gate=False, values=cache)
    with pytest.raises(ValueError, match="peepholes"):
        viz.draw_lstm_cell(None, peepholes=True, values=cache)
    with pytest.raises(ValueError, match="unit"):
        viz.draw_lstm_cell(None, values=cache, unit=3)
    with pytest.raises(ValueError, match="n must"):
        viz.draw_lstm_cell(None, values=cache, n=2)
    with pytest.raises(ValueError, match="cache"):
        viz.draw_lstm_cell(None, grads=dict(dnext_h=dh))
    with pytest.raises(ValueError, match="dnext_h"):
        viz.draw_lstm_cell(None, grads=dict(dnext_h=dh[:1], cache=cache))
    with pytest.raises(ValueError, match="highlight"):
        viz.draw_lstm_cell(None, highlight="nope")
    with pytest.raises(ValueError, match="values must be the cache"):
        viz.draw_lstm_cell(None, values={"i": 1})


def test_unrolled_rnn_backward_arrows():
    ax = viz.draw_unrolled_rnn(3, folded=False, backward=True)
    texts = [t.get_text() for t in ax.texts]
    for t in (1, 2, 3):
        assert rf"$\delta h_{{{t}}}^{{\mathrm{{out}}}}$" in texts   # from the loss at step t
    assert [s for s in texts if s.startswith(r"$\delta a")] == [r"$\delta a_{2} W_h^\top$",
                                                                r"$\delta a_{3} W_h^\top$"]
    plain = viz.draw_unrolled_rnn(3, folded=False)
    assert len(ax.patches) == len(plain.patches) + 3 + 2


def _distance_to_path(point, vertices):
    """Distance from a point to a polyline (data units)."""
    p, best = np.asarray(point, dtype=float), np.inf
    for a, b in zip(vertices[:-1], vertices[1:]):
        ab = b - a
        s = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0)
        best = min(best, float(np.linalg.norm(p - (a + s * ab))))
    return best


@pytest.mark.parametrize("variant", VARIANTS, ids=["lstm", "1997", "peepholes"])
def test_each_number_sits_next_to_its_own_wire(variant):
    """A label moved to another wire fails: each Text is nearer its wire than any other wire."""
    _, _, cache, dh, dc = _step(**variant)
    d = viz.draw_lstm_cell(None, values=cache, grads=dict(dnext_h=dh, dnext_c=dc), **variant)
    d.ax.figure.canvas.draw()                  # the layout: data units <-> pixels as saved
    renderer = d.ax.figure.canvas.get_renderer()
    to_data = d.ax.transData.inverted()
    for name in set(d.value_texts) | set(d.grad_texts):
        # the label block of a wire: its value and gradient lines together
        points = []
        for text in (d.value_texts.get(name), d.grad_texts.get(name)):
            if text is not None:
                box = text.get_window_extent(renderer)
                points += [(x, y) for x in np.linspace(box.x0, box.x1, 5)
                           for y in (box.y0, (box.y0 + box.y1) / 2, box.y1)]
        points = to_data.transform(points)
        dist = {k: min(_distance_to_path(p, np.array(route)) for p in points)
                for k, route in d.routes.items()}
        assert dist[name] < 1.0, (name, dist[name])
        rivals = {k for k, v in dist.items() if v < dist[name]} - _meeting(name)
        assert not rivals, f"the label of {name!r} is nearer to {rivals}"


def _meeting(name):
    """Wires that touch ``name`` at a node or a junction: a label may be as near to them."""
    groups = [{"c", "c_next", "c_tanh"}, {"x", "h_prev", "bus"}, {"i", "ig", "g"}, {"fc", "f", "c_prev", "ig", "c"},
              {"tanh_c", "o", "h", "c_tanh"}, {"h", "h_up"}, {"c_next", "h_up"}, {"c_prev", "p_f", "p_i"}, {"c", "p_o"}]
    return set().union(*[g for g in groups if name in g])


@pytest.mark.parametrize("a, b", [("f", "o"), ("c_next", "c_tanh"), ("a_i", "a_g")])
def test_a_label_put_on_another_wire_is_caught(monkeypatch, a, b):
    anchors = dict(cell_diagram._ANCHORS)
    anchors[a], anchors[b] = anchors[b], anchors[a]
    monkeypatch.setattr(cell_diagram, "_ANCHORS", anchors)
    with pytest.raises(AssertionError):
        test_each_number_sits_next_to_its_own_wire({})


@pytest.mark.parametrize("variant", VARIANTS, ids=["lstm", "1997", "peepholes"])
@pytest.mark.parametrize("digits", [3, 4])
def test_no_two_labels_overlap(variant, digits):
    """With values and gradients (the most text), no two labels cover each other."""
    _, _, cache, dh, dc = _step(**variant)
    d = viz.draw_lstm_cell(None, values=cache, grads=dict(dnext_h=dh, dnext_c=dc), digits=digits,
                           **variant)
    d.ax.figure.canvas.draw()
    renderer = d.ax.figure.canvas.get_renderer()
    boxes = [(f"{kind}:{name}", t.get_window_extent(renderer))
             for kind, texts in (("value", d.value_texts), ("grad", d.grad_texts))
             for name, t in texts.items()]
    clashes = [(a, b) for k, (a, ba) in enumerate(boxes) for b, bb in boxes[k + 1:] if ba.overlaps(bb)]
    assert not clashes, clashes
