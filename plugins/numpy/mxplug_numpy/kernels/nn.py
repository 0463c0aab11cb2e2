"""NumPy/CuPy kernels of the nn operators."""


def make_kernels(xp, rng=None) -> dict:
    return {}
