"""PyTorch's ``nn.LSTM`` layout and ours: the same parameters, stored differently.

PyTorch computes the gates as ``x W_ih^T + b_ih + h W_hh^T + b_hh`` with the 4H
axis in the gate order i, f, g, o (ours: i, f, o, g), and stores the weights
transposed. These two functions convert parameters (and gradients) both ways.
"""
import numpy as np

from ._validate import check_lstm_weights, check_ndim, check_shape

__all__ = ["to_torch_layout", "from_torch_layout"]


def _swap_o_g(m, axis):
    """Swap the 3rd and 4th H-blocks along ``axis`` (i,f,o,g <-> i,f,g,o); a copy."""
    m = np.asarray(m)
    i, f, third, fourth = np.split(m, 4, axis=axis)
    return np.concatenate([i, f, fourth, third], axis=axis)


def to_torch_layout(Wx, Wh, b):
    """Convert course parameters to PyTorch's ``nn.LSTM`` layout.

    PyTorch computes the gates as ``x W_ih^T + b_ih + h W_hh^T + b_hh`` with
    the 4H axis in the order i, f, g, o (ours: i, f, o, g) and weights stored
    transposed.

    Parameters
    ----------
    Wx : (D, 4H), Wh : (H, 4H), b : (4H,)

    Returns
    -------
    (weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,)) as
    numpy arrays; the whole bias goes into ``bias_ih`` and ``bias_hh`` is
    zeros. Copy them into ``lstm.weight_ih_l0`` etc. with
    ``torch.from_numpy``.
    """
    Wh = check_ndim("Wh", Wh, 2, "(H, 4H)")
    Wx = check_ndim("Wx", Wx, 2, "(D, 4H)")
    Wx, Wh, b, H = check_lstm_weights(Wx, Wh, b, Wx.shape[0])
    weight_ih = np.ascontiguousarray(_swap_o_g(Wx, axis=1).T)
    weight_hh = np.ascontiguousarray(_swap_o_g(Wh, axis=1).T)
    bias_ih = _swap_o_g(b, axis=0)
    bias_hh = np.zeros_like(bias_ih)
    return weight_ih, weight_hh, bias_ih, bias_hh


def from_torch_layout(weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Convert PyTorch ``nn.LSTM`` parameters (as numpy arrays) to ours.

    Parameters
    ----------
    weight_ih : (4H, D)   e.g. ``lstm.weight_ih_l0.detach().numpy()``
    weight_hh : (4H, H)
    bias_ih, bias_hh : (4H,) or None (a layer built with ``bias=False``)

    Returns
    -------
    (Wx (D, 4H), Wh (H, 4H), b (4H,)) in gate order i, f, o, g, with
    ``b = bias_ih + bias_hh`` (the two biases are always added, so only their
    sum matters). Also converts gradients: pass ``weight_ih.grad``,
    ``weight_hh.grad`` and ONE bias gradient (``bias_ih.grad``) to get
    (dWx, dWh, db). Do not pass both bias gradients: since b = bias_ih +
    bias_hh, each of them already equals db, and their sum would be 2 db.
    """
    weight_hh = check_ndim("weight_hh", weight_hh, 2, "(4H, H)")
    H = weight_hh.shape[1]
    weight_hh = check_shape("weight_hh", weight_hh, (4 * H, H), "(4H, H)")
    weight_ih = check_ndim("weight_ih", weight_ih, 2, "(4H, D)")
    weight_ih = check_shape("weight_ih", weight_ih, (4 * H, weight_ih.shape[1]), "(4H, D)")
    b = np.zeros(4 * H, dtype=np.result_type(weight_ih, weight_hh))
    if bias_ih is not None:
        b = b + check_shape("bias_ih", bias_ih, (4 * H,), "(4H,)")
    if bias_hh is not None:
        b = b + check_shape("bias_hh", bias_hh, (4 * H,), "(4H,)")
    Wx = np.ascontiguousarray(_swap_o_g(weight_ih, axis=0).T)
    Wh = np.ascontiguousarray(_swap_o_g(weight_hh, axis=0).T)
    return Wx, Wh, _swap_o_g(b, axis=0)
