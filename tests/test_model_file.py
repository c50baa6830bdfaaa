"""Saving and loading a CharLSTM (model_file), and the plays corpus (tasks.load_plays)."""
import json
import zipfile

import numpy as np
import pytest

from lstm_course import model_file
from lstm_course.models import CharLSTM
from lstm_course.tasks import build_vocab, load_plays

CHARS = list("abcdefg\n ")


def small_model(seed=0, num_layers=1, dtype=np.float32):
    return CharLSTM(len(CHARS), 6, num_layers=num_layers, seed=seed, dtype=dtype, forget_bias=0.5)


def test_round_trip_keeps_every_array_the_vocabulary_and_the_info(tmp_path):
    model = small_model(num_layers=2)
    path = tmp_path / "m.npz"
    model.save(path, CHARS, info={"seed": 3}, curve={"val_loss": [2.0, 1.5]})
    loaded, chars, info, curve = CharLSTM.load(path)
    assert chars == CHARS and info == {"seed": 3}
    assert np.array_equal(curve["val_loss"], [2.0, 1.5])
    assert loaded.num_layers == 2 and loaded.forget_bias == 0.5 and loaded.dtype == np.float32
    assert set(loaded.parameters) == set(model.parameters)
    for k, v in model.parameters.items():
        assert loaded.parameters[k].dtype == v.dtype and np.array_equal(loaded.parameters[k], v)
    ids = np.array([0, 3, 2, 7, 8, 1, 4, 5, 6, 0, 2])
    assert loaded.mean_loss(ids, n_streams=2, T=3) == model.mean_loss(ids, n_streams=2, T=3)


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        np.savez(f, format=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=r"evil\.npz.*pickled"):
        CharLSTM.load(path)


@pytest.mark.parametrize("damage, needle", [
    (lambda d: d.pop("format"), "not an lstm_course model file"),
    (lambda d: d.update(format=np.array("something.else")), "not an lstm_course model file"),
    (lambda d: d.update(format_version=np.array(2)), "format version 2"),
    (lambda d: d.update(chars=d["chars"][:-1]), "vocabulary 'chars' has shape"),
    (lambda d: d.update(chars=np.full_like(d["chars"], 97)), "repeats a character"),
    (lambda d: d.update({"param/Wh0": d["param/Wh0"][:, :-1]}), "parameter Wh0 has shape"),
    (lambda d: d.pop("param/by"), "has the parameters"),
    (lambda d: d.pop("param/Wy"), "output weights Wy: no Wy"),
    (lambda d: d.update({"param/b0": d["param/b0"] * np.nan}), "parameter b0 holds non-finite"),
    (lambda d: d.update({"param/b0": d["param/b0"].astype(np.float64)}), "share one float dtype"),
    (lambda d: d.update(info=np.array("{not json")), "not valid JSON"),
    (lambda d: d.pop("H"), "lacks the entries"),
    (lambda d: d.update(V=np.array(0)), "each must be at least 1"),
    (lambda d: d.update(H=np.array(10**9)), "output weights Wy"),          # no 10**9-unit model allocated
    (lambda d: d.update(num_layers=np.array(50)), "output weights Wy"),
])
def test_a_damaged_file_names_the_file_and_the_problem(tmp_path, damage, needle):
    good = tmp_path / "good.npz"
    small_model().save(good, CHARS)
    with np.load(good) as f:
        data = {k: f[k] for k in f.files}
    damage(data)
    bad = tmp_path / "bad_model.npz"
    with open(bad, "wb") as f:
        np.savez(f, **data)
    with pytest.raises(ValueError, match="bad_model.npz") as e:
        CharLSTM.load(bad)
    assert needle in str(e.value)


def test_a_truncated_or_foreign_file(tmp_path):
    good = tmp_path / "good.npz"
    small_model().save(good, CHARS)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"truncated\.npz: not a readable \.npz file"):
        CharLSTM.load(truncated)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.npz: not a readable \.npz file"):
        CharLSTM.load(text)
    with pytest.raises(FileNotFoundError, match=r"missing\.npz: no such model file"):
        CharLSTM.load(tmp_path / "missing.npz")
    assert zipfile.is_zipfile(good)


def test_save_checks_the_vocabulary(tmp_path):
    with pytest.raises(ValueError, match="chars must be 9 single characters"):
        small_model().save(tmp_path / "m.npz", CHARS[:-1])


def test_mean_loss_is_the_average_cross_entropy_of_each_next_character():
    """Against a direct loop over the characters with the step function (one stream)."""
    model = small_model(dtype=np.float64)
    rng = np.random.default_rng(4)
    ids = rng.integers(0, len(CHARS), size=23)
    state, total = None, 0.0
    for k in range(len(ids) - 1):
        loss, _, state = model.loss_and_grads(ids[None, k:k + 1], ids[None, k + 1:k + 2], state)
        total += loss
    assert abs(model.mean_loss(ids, n_streams=1, T=5) - total / (len(ids) - 1)) < 1e-12
    with pytest.raises(ValueError, match="expected a 1-D array"):
        model.mean_loss(ids[:2], n_streams=4)


def test_the_plays_corpus_is_split_by_play_and_matches_its_manifest():
    from importlib import resources

    train, held_out = load_plays()
    manifest = json.loads(resources.files("lstm_course").joinpath("data", "shakespeare_plays.json")
                          .read_text("utf-8"))
    assert len(train) + len(held_out) == manifest["characters"] and len(train) > 1_000_000
    held = [p for p in manifest["plays"] if p["play"] in manifest["held_out"]]
    assert len(held) == 2 and len(held_out) == sum(p["length"] for p in held)
    assert "CASSIUS." in held_out and "CASSIUS." not in train     # Julius Caesar is held out
    assert train.isascii() and "gutenberg" not in (train + held_out).lower()
    assert set(held_out) <= set(train) and len(build_vocab(train)[0]) < 100


def test_the_shipped_reference_model_loads_and_fits_the_corpus():
    path = model_file.reference_model_path()
    if not path.exists():
        pytest.fail(f"{path} is missing: run tools/train_reference_model.py")
    model, chars, info, curve = CharLSTM.load(path)
    train, held_out = load_plays()
    assert chars == build_vocab(train + held_out)[0]
    assert model.H == info["settings"]["H"] and len(curve["val_loss"]) >= 2
