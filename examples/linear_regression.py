"""Linear regression trained with mx.autograd on the default context — mxplug's main job until Gluon lands.

    python examples/linear_regression.py            # runs on mx.current_context() (cpu unless told otherwise)
    MXPLUG_DEFAULT_CONTEXT=opencl:0 python examples/linear_regression.py   # same code, another backend

The code is MXNet 1.9 code: replace `import mxplug as mx` by `import mxnet as mx` and it runs there too.
"""

import numpy as np

import mxplug as mx


def main(epochs: int = 10, batch_size: int = 100, lr: float = 0.1) -> float:
    ctx = mx.current_context()
    mx.random.seed(42)
    rng = np.random.default_rng(42)
    true_w, true_b = np.array([[2.0], [-3.4], [1.5]]), 4.2
    features = rng.normal(size=(1000, 3))
    labels = features @ true_w + true_b + rng.normal(scale=0.01, size=(1000, 1))
    X, y = mx.nd.array(features, ctx=ctx), mx.nd.array(labels, ctx=ctx)

    w = mx.nd.random.normal(scale=0.01, shape=(3, 1), ctx=ctx)
    b = mx.nd.zeros((1,), ctx=ctx)
    for param in (w, b):
        param.attach_grad()

    print(f"training on {ctx}: {X.shape[0]} samples, {epochs} epochs")
    for epoch in range(epochs):
        for start in range(0, X.shape[0], batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            with mx.autograd.record():
                loss = ((mx.nd.dot(xb, w) + b - yb) ** 2 / 2).mean()
            loss.backward()
            for param in (w, b):
                param -= lr * param.grad  # plain SGD, in place
        epoch_loss = ((mx.nd.dot(X, w) + b - y) ** 2 / 2).mean().asscalar()
        print(f"epoch {epoch + 1:2d}  loss {epoch_loss:.6f}")
    print("learned w:", w.asnumpy().ravel().round(3), " b:", b.asnumpy().round(3), "(true: [2, -3.4, 1.5], 4.2)")
    return float(epoch_loss)


if __name__ == "__main__":
    main()
