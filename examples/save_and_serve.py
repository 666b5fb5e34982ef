"""Train, save as .keras, export a SavedModel for serving, reload both, compare the outputs.

The model uses this package's layers (PReLU with its trainable alpha, Swish
with a trainable beta) and an activation string ("krf_elu"). Importing
keras_relu_family registers them with Keras, so `keras.saving.load_model`
rebuilds the `.keras` file; the SavedModel holds the traced graph and is
served through its `serving_default` signature, as TensorFlow Serving would.
Both reloaded models must give the outputs of the original.

    python examples/save_and_serve.py --out runs/save_and_serve
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _data import load_images, parse, parser, write_results  # noqa: E402

import keras_relu_family as krf  # noqa: E402


def build_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(64),
            krf.PReLU(),
            keras.layers.Dense(32, activation="krf_elu"),
            krf.Swish(trainable_beta=True),
            keras.layers.Dense(10),
        ],
        name="served_net",
    )


def serve(saved_model_dir: str, x: np.ndarray) -> np.ndarray:
    """Calls the SavedModel's ``serving_default`` signature, as a model server would."""
    loaded = tf.saved_model.load(saved_model_dir)
    signature = loaded.signatures["serving_default"]
    (output,) = signature(tf.constant(x)).values()
    return output.numpy()


def main(argv=None) -> dict:
    args = parse(parser(__doc__, "save_and_serve", epochs=3, tiny_epochs=1), argv)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, _), data = load_images(args.data, args.tiny)

    model = build_model()
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=2)
    x = x_test[:32]
    expected = model.predict(x, verbose=0)

    os.makedirs(args.out, exist_ok=True)
    keras_path = os.path.join(args.out, "model.keras")
    saved_model_dir = os.path.join(args.out, "saved_model")
    model.save(keras_path)
    model.export(saved_model_dir, format="tf_saved_model", verbose=False)
    np.save(os.path.join(args.out, "inputs.npy"), x)
    np.save(os.path.join(args.out, "outputs.npy"), expected)

    reloaded = keras.saving.load_model(keras_path)
    from_keras = reloaded.predict(x, verbose=0)
    from_saved_model = serve(saved_model_dir, x)
    results = {
        "data": data,
        "keras_path": keras_path,
        "saved_model_dir": saved_model_dir,
        "prelu_alpha_mean": float(np.mean(model.layers[2].alpha.numpy())),
        "swish_beta": float(model.layers[4].beta_weight.numpy()),
        "max_abs_diff_keras": float(np.max(np.abs(from_keras - expected))),
        "max_abs_diff_saved_model": float(np.max(np.abs(from_saved_model - expected))),
    }
    print(f"Saved {keras_path} and exported {saved_model_dir}")
    print(f"Trained PReLU alpha (mean): {results['prelu_alpha_mean']:.4f}, ", end="")
    print(f"Swish beta: {results['swish_beta']:.4f}")
    print(f"Largest difference from the original, reloaded .keras: {results['max_abs_diff_keras']}")
    print("Largest difference from the original, served SavedModel: ", end="")
    print(results["max_abs_diff_saved_model"])
    print(f"Results: {write_results(args.out, results)}")
    return results


if __name__ == "__main__":
    main()
