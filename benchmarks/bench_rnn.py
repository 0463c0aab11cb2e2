"""Hand-written benchmarks of the fused RNN operator on the word-level language-model layer: an LSTM with
T=35, N=32, input_size = state_size = 200 (float32), forward and forward+backward (data, parameter, state and
cell gradients), one and two layers; GRU and tanh RNN alongside.

Run as a script (``python benchmarks/bench_rnn.py``) to print the cost per time step next to its floor: the
per-step (N, H) x (H, G*H) GEMM and the hoisted (T*N, IN) x (IN, G*H) input GEMM, timed with NumPy alone.
"""

from __future__ import annotations

import time

import numpy as np

import mxplug as mx

T, N, IN, H = 35, 32, 200, 200
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1}


def _param_size(mode: str, layers: int) -> int:
    gh = GATES[mode] * H
    return gh * (IN + H + 2) + (layers - 1) * gh * (2 * H + 2)


class RNNLayer:
    params = (["lstm", "gru", "rnn_tanh"], [1, 2])
    param_names = ("mode", "num_layers")
    repeat = (3, 10, 10.0)

    def setup(self, mode: str, num_layers: int) -> None:
        rng = np.random.default_rng(0)
        shapes = [(T, N, IN), (_param_size(mode, num_layers),), (num_layers, N, H)]
        if mode == "lstm":
            shapes.append((num_layers, N, H))
        self.arrays = [mx.nd.array(rng.uniform(-0.1, 0.1, s)) for s in shapes]
        for a in self.arrays:
            a.attach_grad()
        self.attrs = {"state_size": H, "num_layers": num_layers, "mode": mode, "state_outputs": True}
        self.head = mx.nd.ones((T, N, H))

    def _forward(self):
        return mx.nd.RNN(*self.arrays, **self.attrs)

    def time_forward(self, mode: str, num_layers: int) -> None:
        self._forward()[0].wait_to_read()

    def time_forward_backward(self, mode: str, num_layers: int) -> None:
        with mx.autograd.record():
            out = self._forward()
        out[0].backward(self.head)
        for a in self.arrays:
            a.grad.wait_to_read()


def _best(fn, repeat: int = 7, number: int = 1) -> float:
    """The best of `repeat` timings of `number` back-to-back calls, per call."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    h = rng.standard_normal((N, H)).astype("float32")
    wh = rng.standard_normal((H, 4 * H)).astype("float32")
    x = rng.standard_normal((T * N, IN)).astype("float32")
    step_gemm = _best(lambda: h @ wh, number=T)  # back to back, as in the recurrence
    input_gemm = _best(lambda: x @ wh)
    print(f"LSTM T={T} N={N} IN=H={H} float32; floors: step GEMM {step_gemm * 1e6:.1f} us, "
          f"hoisted input GEMM {input_gemm * 1e3:.2f} ms")
    for mode in GATES:
        for layers in (1, 2):
            bench = RNNLayer()
            bench.setup(mode, layers)
            fwd = _best(lambda b=bench, m=mode, n=layers: b.time_forward(m, n))
            both = _best(lambda b=bench, m=mode, n=layers: b.time_forward_backward(m, n))
            steps = T * layers
            print(f"{mode:8s} L={layers}: forward {fwd * 1e3:7.2f} ms ({fwd / steps * 1e6:6.1f} us/step), "
                  f"fwd+bwd {both * 1e3:7.2f} ms ({both / steps * 1e6:6.1f} us/step)")


if __name__ == "__main__":
    main()
