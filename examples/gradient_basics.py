"""What a gradient is, computed by TensorFlow, and each activation's gradient at -1, 0 and 1.

First the derivative of y = x^2 + 3x + 1 at x = 2 with tf.GradientTape:
dy/dx = 2x + 3 = 7. Then, for every activation in the package's registry,
the gradient TensorFlow computes through its hand-written backward pass at
x = -1, 0 and 1, printed as a table. At a kink (x = 0 for ReLU) the package
takes the right-hand derivative, so relu'(0) = 1.

    python examples/gradient_basics.py
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from _data import write_results  # noqa: E402

import keras_relu_family as krf  # noqa: E402

POINTS = (-1.0, 0.0, 1.0)


def polynomial_gradient(x0: float = 2.0) -> float:
    """dy/dx of y = x^2 + 3x + 1 at ``x0``, by automatic differentiation."""
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y = x**2 + 3 * x + 1
    return float(tape.gradient(y, x))


def activation_gradients() -> dict:
    """``{name: [f'(-1), f'(0), f'(1)]}`` for every registry entry, at its default parameters."""
    table = {}
    for name in krf.available():
        spec = krf.REGISTRY[name]
        params = spec.param_sets[0]  # the defaults (PReLU's alpha is required: 0.25)
        x = tf.constant(POINTS, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = spec.function(x, **params)
        table[name] = [float(g) for g in tape.gradient(y, x).numpy()]
    return table


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out",
        default=os.path.join("runs", "gradient_basics"),
        help="directory for results.json (default: %(default)s)",
    )
    parser.add_argument("--tiny", action="store_true", help="accepted for symmetry; already tiny")
    args = parser.parse_args(argv)

    dy_dx = polynomial_gradient(2.0)
    print(f"y = x^2 + 3x + 1; dy/dx at x = 2 is {dy_dx:g} (by hand: 2*2 + 3 = 7)\n")

    table = activation_gradients()
    print(f"{'activation':<12}" + "".join(f"{f'dy/dx at {p:g}':>14}" for p in POINTS))
    for name, grads in table.items():
        print(f"{name:<12}" + "".join(f"{g:>14.6f}" for g in grads))
    results = {"dy_dx_at_2": dy_dx, "points": list(POINTS), "activation_gradients": table}
    print(f"\nResults: {write_results(args.out, results)}")
    return results


if __name__ == "__main__":
    main()
