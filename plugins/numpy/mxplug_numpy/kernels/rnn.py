"""NumPy/CuPy kernels of the rnn operators."""


def make_kernels(xp, rng=None) -> dict:
    return {}
