"""The cell explorer of chapter 7: patterns, ranking, activations, live and static forms."""
import base64
import json
import re

import numpy as np
import pytest

from lstm_course.lstm import lstm_step_forward
from lstm_course.models import CharLSTM
from lstm_course.widgets.cell_explorer import (PATTERNS, CellExplorer, cell_activations, rank_cells,
                                               text_patterns)

TEXT = 'A.\nHe said "go now" and left.\n\nB.\nNo "way\n[Exit.]\nFIRST LORD.\nACT II.\nx'


def marked(pattern):
    return "".join(c if m else "_" for c, m in zip(TEXT, pattern))


def test_text_patterns_mark_what_they_say():
    p = text_patterns(TEXT)
    assert set(p) == set(PATTERNS)
    assert all(v.shape == (len(TEXT),) for v in p.values())
    assert marked(p["stage direction"]).strip("_") == "[Exit.]"
    assert marked(p["quote"]).strip("_") == '"go now"'              # the unpaired quote of B is not
    assert re.findall(r"[^_\n]+", marked(p["speaker name"])) == ["A.", "B.", "FIRST LORD."]
    assert p["position in line"][TEXT.index("He")] == 0 and p["position in line"][TEXT.index("said")] == 3
    assert p["word"][TEXT.index("H")] == 1 and p["word"][TEXT.index(" ")] == 0


def test_rank_cells_finds_the_cell_that_follows_a_pattern():
    rng = np.random.default_rng(0)
    pattern = (rng.random(500) < 0.3).astype(float)
    acts = rng.standard_normal((500, 6))
    acts[:, 4] = -2 * pattern + 0.1 * rng.standard_normal(500)     # follows it, with the opposite sign
    acts[:, 2] = 0.5                                               # a constant cell
    order, r = rank_cells(acts, pattern)
    assert order[0] == 4 and r[4] < -0.9 and r[2] == 0
    assert np.all(np.abs(r[[0, 1, 3, 5]]) < 0.2)
    assert abs(r[4] - np.corrcoef(acts[:, 4], pattern)[0, 1]) < 1e-12
    with pytest.raises(ValueError, match=r"expected \(n, H\) and \(n,\)"):
        rank_cells(acts, pattern[:-1])


def test_cell_activations_are_tanh_of_the_cell_state_of_the_reference_step():
    model = CharLSTM(5, 3, seed=1, dtype=np.float64)
    p = model.parameters
    ids = np.array([0, 3, 1, 4, 4, 2, 0, 1])
    h, c = np.zeros((1, 3)), np.zeros((1, 3))
    expected_c, expected_h = [], []
    for k in ids:
        x = np.eye(5)[[k]]
        h, c, _ = lstm_step_forward(x, h, c, p["Wx0"], p["Wh0"], p["b0"])
        expected_c.append(np.tanh(c[0]))
        expected_h.append(h[0])
    assert np.allclose(cell_activations(model, ids), expected_c, atol=1e-12)
    assert np.allclose(cell_activations(model, ids, what="h"), expected_h, atol=1e-12)
    two = cell_activations(model, ids, n_streams=2)                 # the second half restarts from zero
    assert np.allclose(two[:4], expected_c[:4]) and not np.allclose(two[4:], expected_c[4:])
    with pytest.raises(ValueError, match="what must be 'c' or 'h'"):
        cell_activations(model, ids, what="g")


def explorer():
    rng = np.random.default_rng(2)
    acts = np.tanh(rng.standard_normal((len(TEXT), 8)))
    acts[:, 5] = text_patterns(TEXT)["speaker name"] * 0.9 - 0.45
    return CellExplorer(TEXT, acts, top=3)


def test_the_live_explorer_recolours_the_text_for_the_chosen_cell():
    ex = explorer()
    assert ex.ranking["speaker name"][0][0] == 5 and len(ex.ranking["word"]) == 3
    ex.widget
    ex.pattern.value = "speaker name"
    assert ex.cell.value == 5 and "cell 5 (r = +1.00)" in ex.cell.options[0][0]
    first = ex.view.value
    assert first.count("<span") == len(TEXT)
    underlined = re.findall(r'text-decoration:[^"]*" title="[^"]*">([^<]*)<', first)
    assert "".join(underlined) == "A.B.FIRST&nbsp;LORD."            # the pattern, under the cell
    ex.cell.value = ex.ranking["speaker name"][1][0]
    assert ex.view.value != first
    ex.pattern.value = "position in line"                          # not on/off: nothing underlined
    assert "text-decoration" not in ex.view.value


def test_the_static_explorer_is_self_contained_and_embeds_the_offered_cells():
    ex = explorer()
    out = ex.to_html("cx test")
    assert "http" not in out and 'id="cx_test"' in out
    assert out.count('<span style="background') == len(TEXT)
    data = json.loads(re.search(r"const D = (\{.*?\});\n", out).group(1))
    offered = sorted({j for ranked in ex.ranking.values() for j, _ in ranked})
    assert data["cells"] == offered and data["n"] == len(TEXT)
    q = np.frombuffer(base64.b64decode(data["acts"]), dtype=np.int8).reshape(len(offered), len(TEXT))
    assert np.abs(q / 127 - ex.acts[:, offered].T).max() <= 0.5 / 127 + 1e-12
    assert "<caption>" in out and "speaker" in out                # a text alternative: the ranking table
    assert data["marks"]["speaker name"] == "".join("1" if m else "0" for m in text_patterns(TEXT)["speaker name"])
    assert "position in line" not in data["marks"]
    with pytest.raises(ValueError, match=r"acts has shape \(3, 2\)"):
        CellExplorer(TEXT, np.zeros((3, 2)))
