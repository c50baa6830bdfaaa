"""Saving and loading a trained CharLSTM as a plain ``.npz`` file (chapter 7).

A model file holds only arrays (``numpy.savez``; loading never unpickles:
``allow_pickle=False``), so opening a file from someone else cannot run code::

    format          "lstm_course.CharLSTM"     what the file is
    format_version  1                          bumped when the layout changes
    V, H, num_layers                           the model's sizes (ints)
    forget_bias                                the initial forget-gate bias it was made with
    chars           (V,) int32                 the vocabulary as Unicode code points, in id order
    param/Wx0, param/Wh0, param/b0, ...        every entry of ``model.parameters``
    param/Wy, param/by
    info            a JSON string              how it was made (settings, seed, wall time, losses)
    curve/<name>    1-D float arrays           the training curve (optional)

``load`` checks every one of these and names the file and what is wrong in
its error: a missing or foreign file, a truncated download, a newer format, a
wrong shape, a vocabulary that does not match ``V``, a non-finite weight.
"""
import json
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["FORMAT", "FORMAT_VERSION", "save", "load", "reference_model_path"]

FORMAT = "lstm_course.CharLSTM"
FORMAT_VERSION = 1


def save(model, path, chars, info=None, curve=None):
    """Write ``model`` (a CharLSTM) and its vocabulary ``chars`` to ``path`` (.npz).

    chars  the V characters in id order (a list of 1-character strings or a str)
    info   a JSON-serialisable dict: how the model was made
    curve  dict name -> 1-D array (for example "step", "train_loss", "val_loss")
    """
    chars = list(chars)
    if len(chars) != model.V or any(not isinstance(c, str) or len(c) != 1 for c in chars):
        raise ValueError(f"chars must be {model.V} single characters (one per id), got {len(chars)} items")
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "V": np.array(model.V), "H": np.array(model.H), "num_layers": np.array(model.num_layers),
        "forget_bias": np.array(model.forget_bias),
        "chars": np.array([ord(c) for c in chars], dtype=np.int32),
        "info": np.array(json.dumps(info or {}, sort_keys=True)),
    }
    arrays.update({f"param/{k}": v for k, v in model.parameters.items()})
    for k, v in (curve or {}).items():
        arrays[f"curve/{k}"] = np.asarray(v, dtype=np.float64).ravel()
    with open(path, "wb") as f:  # an open file: savez would otherwise append ".npz" to the name
        np.savez_compressed(f, **arrays)


def _fail(path, problem):
    raise ValueError(f"{path}: {problem}")


def load(path, model_class):
    """Read a model file; return ``(model, chars, info, curve)``.

    model_class  the class to build (CharLSTM); its parameters are replaced by the file's
    chars        list of V characters, ``chars[i]`` is the character of id i
    info         the dict stored by ``save``; curve: dict name -> 1-D float64 array
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        _fail(path, "not a readable .npz file (truncated or corrupt download?): no zip archive found")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        _fail(path, f"not a readable .npz file (truncated or corrupt download?): {e}")
    except ValueError as e:  # an object array would need unpickling
        _fail(path, f"holds pickled objects, which are never loaded: {e}")

    if "format" not in data or str(data["format"]) != FORMAT:
        found = str(data["format"]) if "format" in data else f"no 'format' entry (keys: {sorted(data)[:8]})"
        _fail(path, f"is not an lstm_course model file: expected format {FORMAT!r}, found {found}")
    version = int(data.get("format_version", -1))
    if version != FORMAT_VERSION:
        _fail(path, f"has format version {version}; this lstm_course reads version {FORMAT_VERSION}")
    missing = [k for k in ("V", "H", "num_layers", "forget_bias", "chars", "info") if k not in data]
    if missing:
        _fail(path, f"lacks the entries {missing}")
    V, H, L = int(data["V"]), int(data["H"]), int(data["num_layers"])
    if min(V, H, L) < 1:
        _fail(path, f"has sizes V={V}, H={H}, num_layers={L}; each must be at least 1")
    chars = data["chars"]
    if chars.shape != (V,) or chars.dtype.kind not in "iu":
        _fail(path, f"vocabulary 'chars' has shape {chars.shape} and dtype {chars.dtype}; expected ({V},) ints")
    chars = [chr(int(c)) for c in chars]
    if len(set(chars)) != V:
        _fail(path, "vocabulary 'chars' repeats a character")

    stored = {k[len("param/"):]: v for k, v in data.items() if k.startswith("param/")}
    # sizes checked against a stored array before a model of that size is allocated
    if "Wy" not in stored or stored["Wy"].shape != (H, V) or L > len(stored):
        found = stored["Wy"].shape if "Wy" in stored else "no Wy"
        _fail(path, f"output weights Wy: {found}; expected (H, V) = {(H, V)} and one "
                    f"Wx, Wh, b per layer (num_layers={L})")
    dtypes = {v.dtype for v in stored.values()}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        _fail(path, f"parameters must share one float dtype, found {sorted(map(str, dtypes))}")
    model = model_class(V, H, num_layers=L, forget_bias=float(data["forget_bias"]), dtype=next(iter(dtypes)))
    expected = {k: v.shape for k, v in model.parameters.items()}
    if set(stored) != set(expected):
        _fail(path, f"has the parameters {sorted(stored)}; a model with num_layers={L} needs {sorted(expected)}")
    for k, shape in expected.items():
        if stored[k].shape != shape:
            _fail(path, f"parameter {k} has shape {stored[k].shape}; expected {shape} for V={V}, H={H}")
        if not np.all(np.isfinite(stored[k])):
            _fail(path, f"parameter {k} holds non-finite values (nan or inf)")
    model.parameters = {k: stored[k] for k in expected}
    try:
        info = json.loads(str(data["info"]))
    except json.JSONDecodeError as e:
        _fail(path, f"its 'info' entry is not valid JSON: {e}")
    curve = {k[len("curve/"):]: v for k, v in data.items() if k.startswith("curve/")}
    return model, chars, info, curve


def reference_model_path():
    """The path of the reference model shipped with the package (chapter 7):
    a CharLSTM trained on the plays corpus by ``tools/train_reference_model.py``."""
    from importlib import resources

    return Path(str(resources.files("lstm_course").joinpath("data", "char_lstm_plays.npz")))
