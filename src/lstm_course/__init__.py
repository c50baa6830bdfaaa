"""lstm_course: a readable numpy implementation of RNNs and LSTMs, built up
chapter by chapter in the lstm-course book.

Modules (one concept each):
    activations  sigmoid, tanh, softmax and their derivatives
    rnn          vanilla RNN step and sequence forward/backward
    char_rnn     Karpathy's min-char-rnn as a function (loss_fun, sample)
    cec          the constant error carousel
    lstm         LSTM step and sequence forward/backward (gate order i, f, o, g):
                 the reference, a plain loop over the step functions
    lstm_fast    the same sequence functions organised for speed (what models use)
    torch_layout PyTorch's nn.LSTM parameter layout and ours
    layers       affine, temporal affine, temporal softmax loss, embeddings
    models       CharRNN and CharLSTM
    gradcheck    numerical gradients and relative error
    optim        SGD, momentum, Adagrad, Adam and gradient clipping
    tasks        seeded data: adding problem, copy task, Reber grammar, text
    train        a small training loop
    viz          plots and the diagrams of the notebooks
    widgets      interactive widgets (one module each) with static forms for the book
    checks       automatic feedback for the exercises
"""
__version__ = "0.1.0"
