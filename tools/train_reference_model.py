"""Train the reference CharLSTM of chapter 7 on the plays (run once by an author, never in CI).

    python tools/train_reference_model.py                  # 90 minutes of training (the shipped model)
    python tools/train_reference_model.py --steps 200      # a quick trial: 200 updates

The model: the package's own ``CharLSTM`` (float32, one layer, H = 256) on the 35
training plays of ``tasks.load_plays()``, N = 32 contiguous streams of the text read
side by side in chunks of T = 64 characters with the state carried from chunk to chunk
(truncated BPTT, as in Karpathy's char-rnn). At every step each stream's state is reset
to zero with probability ``--reset`` (default 1/20), so that the model also learns to start
from the zero state in the middle of a text, which is how it is sampled and evaluated:
trained with carried states only, it sees the zero state 32 times per pass, and a run of
ours that did so produced "ZZ666666..." after "MARULLUS.\nWhat mean" from a zero state. Adam with a cosine learning-rate decay
and global-norm clipping at 5. Every ``--eval-every`` steps the loss on the first
``--val-chars`` characters of the held-out plays is measured, and the best model so far
is written to ``--out`` (``src/lstm_course/data/char_lstm_plays.npz``) with the
settings, seed, wall time and the training curve, so the run can be stopped at any
time. At the end the loss on the whole held-out split is measured and stored (chapter 7 measures
the test part itself: the held-out split without the validation characters that chose the
checkpoint).

The shipped model was made with ``--minutes 90`` (and a step cap too large to matter) on a
2-core machine shared with other work: about 17 000 characters per second.
"""
import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lstm_course.models import CharLSTM  # noqa: E402
from lstm_course.optim import Adam, clip_grad_norm  # noqa: E402
from lstm_course.tasks import build_vocab, load_plays  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--H", type=int, default=256, help="hidden units (default 256)")
    ap.add_argument("--N", type=int, default=32, help="streams per batch (default 32)")
    ap.add_argument("--T", type=int, default=64, help="characters per chunk (default 64)")
    ap.add_argument("--steps", type=int, default=None,
                    help="a number of updates instead of a time budget (the learning rate decays over them)")
    ap.add_argument("--lr", type=float, default=2e-3, help="initial Adam learning rate (default 2e-3)")
    ap.add_argument("--lr-min", type=float, default=1e-4, help="learning rate at the end (default 1e-4)")
    ap.add_argument("--clip", type=float, default=5.0, help="global-norm clipping threshold (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the resets (default 0)")
    ap.add_argument("--reset", type=float, default=0.05,
                    help="probability that a stream's state is reset to zero at a step (default 0.05)")
    ap.add_argument("--eval-every", type=int, default=500, help="steps between held-out checks")
    ap.add_argument("--val-chars", type=int, default=40000, help="held-out characters checked during training")
    ap.add_argument("--minutes", type=float, default=90.0,
                    help="the time budget (default 90): the learning rate decays over this many "
                         "minutes of wall time and training stops then (the best model is kept)")
    ap.add_argument("--out", default=str(ROOT / "src" / "lstm_course" / "data" / "char_lstm_plays.npz"),
                    help="where to write the model")
    args = ap.parse_args()

    train_text, held_out = load_plays()
    chars, char_to_ix, _ = build_vocab(train_text + held_out)
    train_ids = np.array([char_to_ix[c] for c in train_text], dtype=np.int64)
    val_ids = np.array([char_to_ix[c] for c in held_out], dtype=np.int64)
    V, N, T = len(chars), args.N, args.T
    model = CharLSTM(V, args.H, seed=args.seed, dtype=np.float32)
    opt = Adam(lr=args.lr)
    L = (len(train_ids) - 1) // N                    # characters per stream
    starts = np.arange(N) * L
    print(f"{model}; {len(train_ids):,} training and {len(val_ids):,} held-out characters; "
          f"{L // T} steps per pass", flush=True)

    rng = np.random.default_rng(args.seed)
    curve = {"step": [], "chars": [], "seconds": [], "train_loss": [], "val_loss": []}
    best, state, pos, running = math.inf, None, 0, None
    t_start = time.perf_counter()
    for step in itertools.count(1):
        if pos + T > L:                                # a new pass over the text
            pos, state = 0, None
        if state is not None:                          # some streams start again from zero
            keep = (rng.random(N) >= args.reset).astype(model.dtype)[:, None]
            state = [(h * keep, c * keep) for h, c in state]
        idx = starts[:, None] + pos + np.arange(T)
        loss, grads, state = model.loss_and_grads(train_ids[idx], train_ids[idx + 1], state)
        clip_grad_norm(grads, args.clip)
        elapsed = time.perf_counter() - t_start
        progress = step / args.steps if args.steps else elapsed / (60 * args.minutes)
        opt.lr = args.lr_min + 0.5 * (args.lr - args.lr_min) * (1 + math.cos(math.pi * min(progress, 1.0)))
        opt.step(model.parameters, grads)
        pos += T
        running = loss if running is None else 0.99 * running + 0.01 * loss
        last = progress >= 1.0
        if step % args.eval_every == 0 or last:
            val = model.mean_loss(val_ids[:args.val_chars + 1], n_streams=8)
            for k, v in zip(curve, (step, step * N * T, elapsed, running, val)):
                curve[k].append(v)
            print(f"step {step:6d}  {elapsed / 60:5.1f} min  {step * N * T / elapsed:6.0f} chars/s  "
                  f"lr {opt.lr:.2e}  train {running:.3f}  held-out[:{args.val_chars}] {val:.3f}", flush=True)
            if val < best:
                best = val
                info = {"settings": vars(args) | {"V": V, "optimizer": "Adam, cosine decay"},
                        "steps": step, "characters_seen": step * N * T, "wall_seconds": round(elapsed, 1),
                        "val_loss_partial": val, "machine": "2 cores (see chapter 7)"}
                model.save(args.out, chars, info=info, curve=curve)
        if last:
            break
    final, chars, info, curve_saved = CharLSTM.load(args.out)
    info["held_out_loss"] = final.mean_loss(val_ids, n_streams=16)
    final.save(args.out, chars, info=info, curve=curve)
    print(f"held-out loss of the saved model (step {info['steps']}): {info['held_out_loss']:.4f} nats/char")


if __name__ == "__main__":
    main()
