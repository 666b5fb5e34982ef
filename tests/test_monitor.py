"""GradientMonitor logs the norms of the gradients the optimizer applied.

Every check trains with the learning rate at 0 and ``shuffle=False``, reads
the event files back with tbparse, and compares the logged norms with norms
computed independently: ``tf.GradientTape`` on the same batch, summed in
float64 with numpy.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_relu_family as krf
from keras_relu_family.callbacks._rectifiers import tag_path  # noqa: E402
from tests._monitor_helpers import read_scalars  # noqa: E402

BATCH = 8
N = 32  # four steps per epoch


def tape_norms(model, x, y, loss_fn) -> dict:
    """Per-layer and global gradient norms of one batch, from tf.GradientTape."""
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    variables = model.trainable_variables
    grads = tape.gradient(loss, variables)
    squares = {}
    for v, g in zip(variables, grads, strict=True):
        layer = v.path.rsplit("/", 1)[0]
        squares[layer] = squares.get(layer, 0.0) + np.sum(np.square(np.float64(g)))
    norms = {f"grad_norm/{k}": np.sqrt(s) for k, s in squares.items()}
    norms["grad_norm/global"] = np.sqrt(sum(squares.values()))
    return norms


def data(seed=0, n=N, d=6, k=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype("float32"), rng.standard_normal((n, k)).astype(
        "float32"
    )


def mlp(name=None):
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5),
            krf.ReLU(),
            keras.layers.Dense(4),
            krf.PReLU(),  # a trainable activation: its own grad_norm tag
            keras.layers.Dense(2),
        ],
        name=name,
    )


def fit(model, x, y, monitor, epochs=1, **compile_kwargs):
    compile_kwargs.setdefault("optimizer", keras.optimizers.SGD(0.0))
    model.compile(loss="mse", **compile_kwargs)
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, callbacks=[monitor], verbose=0)


def check_against_tape(logged, model, x, y, steps, rtol=1e-5, step_batch=None):
    """Each logged norm of ``steps`` equals the tape norm of that step's batch."""
    loss_fn = keras.losses.MeanSquaredError()
    per_epoch = len(x) // BATCH
    for step in steps:
        b = (step - 1) % per_epoch if step_batch is None else step_batch(step)
        expected = tape_norms(
            model, x[b * BATCH : (b + 1) * BATCH], y[b * BATCH : (b + 1) * BATCH], loss_fn
        )
        for tag, value in expected.items():
            assert logged[tag][step] == pytest.approx(value, rel=rtol), (tag, step)


def test_norms_equal_tape_norms_and_steps_continue_across_fits(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = data()
    model = mlp("net")
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)
    fit(model, x, y, monitor, epochs=2)
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, callbacks=[monitor], verbose=0)
    logged = read_scalars(tmp_path)
    paths = {v.path.rsplit("/", 1)[0] for v in model.trainable_variables}
    assert {t for t in logged if t.startswith("grad_norm/")} == {"grad_norm/global"} | {
        f"grad_norm/{p}" for p in paths
    }
    assert f"grad_norm/{model.layers[3].path}" in logged  # PReLU's trainable alpha counts
    assert sorted(logged["grad_norm/global"]) == list(range(1, 13))  # 3 epochs x 4, one count
    assert monitor.step == 12
    check_against_tape(logged, model, x, y, range(1, 13))


def test_update_freq_and_a_model_trained_before_without_the_monitor(tmp_path):
    keras.utils.set_random_seed(2)
    x, y = data()
    model = mlp()
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.0))
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)  # cached train fn
    monitor = krf.GradientMonitor(tmp_path, update_freq=3)
    model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=False, callbacks=[monitor], verbose=0)
    logged = read_scalars(tmp_path)
    assert sorted(logged["grad_norm/global"]) == [6, 9, 12]  # steps 5..12, every third
    check_against_tape(logged, model, x, y, [6, 9, 12])
    # The hooks are gone afterwards: training on does not move the monitor.
    assert "apply" not in vars(model.optimizer) and "update_step" not in vars(model.optimizer)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    assert monitor.step == 12


def test_functional_model_with_frozen_weightless_and_nested_layers(tmp_path):
    keras.utils.set_random_seed(3)
    x, y = data()
    block = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(3, name="inner"), krf.ReLU(name="inner_relu")],
        name="block",
    )
    inputs = keras.Input((6,))
    h = keras.layers.Dense(5, name="frozen")(inputs)
    h = krf.LeakyReLU(name="leaky")(h)
    h = keras.layers.Dropout(0.0, name="no_weights")(h)
    outputs = keras.layers.Dense(2, name="head")(block(h))
    model = keras.Model(inputs, outputs)
    model.get_layer("frozen").trainable = False
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1))
    logged = read_scalars(tmp_path)
    assert {t for t in logged if t.startswith("grad_norm/")} == {
        "grad_norm/global",
        "grad_norm/head",
        "grad_norm/block/inner",
    }
    assert {t for t in logged if t.startswith("dead_fraction/")} == {
        "dead_fraction/leaky",
        "dead_fraction/block/inner_relu",
    }
    check_against_tape(logged, model, x, y, range(1, 5))


def test_embedding_gradients_count_repeated_rows_once(tmp_path):
    """An Embedding's gradient is an IndexedSlices with repeated rows: summed, then normed."""
    keras.utils.set_random_seed(12)
    rng = np.random.default_rng(12)
    x = rng.integers(0, 4, (N, 5))  # 5 lookups among 4 rows: rows repeat in every batch
    y = rng.standard_normal((N, 2)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Embedding(4, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1))
    logged = read_scalars(tmp_path)
    embedding = model.layers[0]
    for step in range(1, 5):
        b = slice((step - 1) * BATCH, step * BATCH)
        with tf.GradientTape() as tape:
            loss = keras.losses.MeanSquaredError()(y[b], model(x[b], training=True))
        grad = tape.gradient(loss, embedding.embeddings)
        assert isinstance(grad, tf.IndexedSlices)
        dense = tf.convert_to_tensor(grad)  # TensorFlow's own densification
        expected = np.sqrt(np.sum(np.square(np.float64(dense))))
        assert logged[f"grad_norm/{embedding.path}"][step] == pytest.approx(expected, rel=1e-5)


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.hidden = keras.layers.Dense(5)
        self.act = krf.ReLU6()
        self.out = keras.layers.Dense(2)
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        return self.out(self.act(self.hidden(x))) * self.scale


def test_subclassed_model_with_jit_compile(tmp_path):
    keras.utils.set_random_seed(4)
    x, y = data()
    model = Subclassed()
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1), jit_compile=True)
    assert model.jit_compile
    logged = read_scalars(tmp_path)
    paths = {v.path.rsplit("/", 1)[0] for v in model.trainable_variables}
    assert "sub" in paths  # the model's own weight belongs to the model's path
    assert {t for t in logged if t.startswith("grad_norm/")} == {"grad_norm/global"} | {
        f"grad_norm/{p}" for p in paths
    }
    check_against_tape(logged, model, x, y, range(1, 5))


def test_steps_per_execution_logs_every_step_of_an_execution(tmp_path):
    keras.utils.set_random_seed(5)
    x, y = data(n=40)  # five steps: executions of 3 and 2
    model = mlp()
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1), epochs=2, steps_per_execution=3)
    logged = read_scalars(tmp_path)
    assert sorted(logged["grad_norm/global"]) == list(range(1, 11))
    check_against_tape(logged, model, x, y, range(1, 11))
    assert sorted(logged["dead_fraction/" + tag_path(model.layers[1], model)]) == list(range(1, 11))


def test_gradient_accumulation_logs_the_applied_mean_on_applying_steps(tmp_path):
    keras.utils.set_random_seed(6)
    x, y = data()
    model = mlp()
    optimizer = keras.optimizers.SGD(0.0, gradient_accumulation_steps=2)
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1), optimizer=optimizer)
    logged = read_scalars(tmp_path)
    assert sorted(logged["grad_norm/global"]) == [2, 4]  # the steps that apply gradients
    assert sorted(logged["dead_fraction/" + tag_path(model.layers[1], model)]) == [1, 2, 3, 4]
    loss_fn = keras.losses.MeanSquaredError()
    for step in (2, 4):  # the mean of the two accumulated batches' gradients
        b = step - 2
        with tf.GradientTape(persistent=True) as tape:
            losses = [
                loss_fn(y[i * BATCH : (i + 1) * BATCH], model(x[i * BATCH : (i + 1) * BATCH]))
                for i in (b, b + 1)
            ]
        grads = [
            (np.float64(g0) + np.float64(g1)) / 2
            for g0, g1 in zip(
                tape.gradient(losses[0], model.trainable_variables),
                tape.gradient(losses[1], model.trainable_variables),
                strict=True,
            )
        ]
        total = np.sqrt(sum(np.sum(g**2) for g in grads))
        assert logged["grad_norm/global"][step] == pytest.approx(total, rel=1e-5)


@pytest.fixture
def mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_mixed_precision_logs_unscaled_norms(tmp_path, mixed_precision):
    keras.utils.set_random_seed(8)
    x, y = data()
    model = mlp()
    fit(model, x, y, krf.GradientMonitor(tmp_path, update_freq=1), epochs=2)
    assert isinstance(model.optimizer, keras.mixed_precision.LossScaleOptimizer)
    logged = read_scalars(tmp_path)
    # A scaled norm would be 2**15 times too large; float16 rounding stays within 1e-3.
    steps = sorted(logged["grad_norm/global"])
    skipped = sorted(set(range(1, 9)) - set(steps))
    assert len(steps) >= 4 and all(logged["grad_norm/overflow_steps"][s] >= 1 for s in skipped)
    check_against_tape(logged, model, x, y, steps, rtol=1e-3)


@pytest.mark.parametrize("update_freq", [1, 4])
def test_overflowed_steps_are_counted_not_logged(tmp_path, mixed_precision, update_freq):
    keras.utils.set_random_seed(9)
    x, y = data()
    model = mlp()
    # 2**30 overflows float16 until the loss scale has halved down to about 2**15.
    optimizer = keras.mixed_precision.LossScaleOptimizer(
        keras.optimizers.SGD(0.0), initial_scale=2.0**30
    )
    monitor = krf.GradientMonitor(tmp_path, update_freq=update_freq)
    fit(model, x, y, monitor, optimizer=optimizer, epochs=6)
    logged = read_scalars(tmp_path)
    overflow = logged["grad_norm/overflow_steps"]
    assert sorted(overflow) == list(range(update_freq, 25, update_freq))  # every logged step
    skipped = int(round(np.log2(2.0**30 / float(optimizer.dynamic_scale.numpy()))))
    # The scale halved once per skipped step, logged or not.
    assert 5 <= skipped < 24 and overflow[24] == skipped
    counts = {0: 0, **overflow}
    if update_freq == 1:  # step by step: each skipped step logs no norm
        assert all(counts[s] - counts[s - 1] in (0, 1) for s in range(1, 25))
        applied = [s for s in range(1, 25) if counts[s] == counts[s - 1]]
        assert sorted(logged["grad_norm/global"]) == applied
        check_against_tape(logged, model, x, y, applied, rtol=1e-3)


def test_a_fit_that_raised_leaves_no_double_hooks_and_freezing_between_fits(tmp_path):
    keras.utils.set_random_seed(13)
    x, y = data()
    model = mlp("again")
    monitor = krf.GradientMonitor(tmp_path, update_freq=1)

    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise RuntimeError("boom")

    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.0))
    with pytest.raises(RuntimeError, match="boom"):  # on_train_end never runs
        model.fit(x, y, batch_size=BATCH, shuffle=False, callbacks=[monitor, Boom()], verbose=0)
    assert "apply" in vars(model.optimizer)  # the hooks were left behind
    frozen = model.layers[0]
    frozen.trainable = False  # other variables to watch: a new capture, same optimizer
    model.fit(x, y, batch_size=BATCH, shuffle=False, callbacks=[monitor], verbose=0)
    assert "apply" not in vars(model.optimizer) and "update_step" not in vars(model.optimizer)
    logged = read_scalars(tmp_path)
    assert sorted(logged["grad_norm/global"]) == [3, 4, 5, 6]  # 2 steps ran before the error
    assert f"grad_norm/{frozen.path}" not in logged
    check_against_tape(logged, model, x, y, [3, 4, 5, 6], step_batch=lambda s: s - 3)
