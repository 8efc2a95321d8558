"""Benchmark (not a DVC stage): the engine against Keras `fit`, scikit-learn and the NumPy reference, in one run.

    python -m stages.tools.bench [--size tiny|full] [--out reports/bench.json] [--readme README.md]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from stages.common import atomic
from stages import config
from stages.config import TrainConfig
from stages.tools.workspace import REPO

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # tf.data's graph warnings under Keras `fit` are noise here

# Work per size: the full size is what the README reports; tiny only proves the script works.
SIZES = {
    "full": {"epochs": 30, "sweep_rates": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], "seeds": [0, 1, 2], "wide_rows": 60000,
             "wide_epochs": 2, "numpy_epochs": 3, "peak_n": 2048, "kaggle_rows": 51_000},
    "tiny": {"epochs": 2, "sweep_rates": [1e-3, 3e-3], "seeds": [0], "wide_rows": 2048, "wide_epochs": 1,
             "numpy_epochs": 1, "peak_n": 256, "kaggle_rows": 600},
}
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
WIDE = {"wide": "minibatch_sgd", "wide_adam": "adam"}  # the `wide` workload per optimizer
# The train stage's own path at Kaggle size (51,000 x 784 training rows, params.yaml's default net, diagnostics
# on), per batch size: (optimizer, batch).
KAGGLE = {"kaggle_b32": ("adam", 32), "kaggle_b1": ("sgd", 1)}


def digits(data: Path) -> dict[str, np.ndarray]:
    """The offline 10-class set as arrays (train and validation)."""
    splits = {name: np.load(data / f"{name}.npz") for name in ("train", "val")}
    return {"x": splits["train"]["x"], "y": splits["train"]["y"], "x_val": splits["val"]["x"],
            "y_val": splits["val"]["y"]}


def wide_data(rows: int) -> dict[str, np.ndarray]:
    """Fashion-MNIST-shaped synthetic data (rows x 784, 10 classes from a random linear teacher)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows + 2000, 784)).astype(np.float32)
    y = (x @ rng.normal(size=(784, 10))).argmax(axis=1)
    return {"x": x[:rows], "y": y[:rows], "x_val": x[rows:], "y_val": y[rows:]}


def arrays_of(data: dict, task: str = "multiclass"):
    from stages.ingest.arrays import Arrays

    x = {"train": data["x"], "val": data["x_val"], "test": data["x_val"]}
    y = {"train": data["y"], "val": data["y_val"], "test": data["y_val"]}
    return Arrays(task, 10, x, y, data["x"].std(axis=0) == 0)


def train_config(hidden: list[int], batch: int, epochs: int, optimizer: str = "adam", lr: float = 1e-3) -> TrainConfig:
    return config.with_changes(config.load().defaults, dataset="fashion_mnist", hidden=hidden, activation="relu",
                               initializer="glorot_uniform", optimizer=optimizer, learning_rate=lr, batch_size=batch,
                               epochs=epochs, seeds=[0], diagnostics=False, target=None, sweep={})


def engine_throughput(data: dict, cfg: TrainConfig) -> dict:
    """Steady state: the epochs of the second run of one compiled engine (the first pays for compiling), timed
    like Keras `fit` below: the epochs alone, without the evaluations before and after training. Compiled with
    XLA, as the engine does for every long job (a single short training skips it: compiling would cost more)."""
    from stages.nn.engine import new_engine

    trainer = new_engine(cfg, arrays_of(data), xla=True)
    trainer.run({}, 0)
    run = trainer.run({}, 1)
    seconds = run.epoch_seconds[-1] - run.epoch_seconds[0]
    return {"samples_per_s": len(data["y"]) * cfg.epochs / seconds, "val_accuracy": run.final["val_metric"]}


def keras_model(cfg: TrainConfig, n_inputs: int, seed: int = 0):
    import keras

    from stages.catalog.optimizers import OPTIMIZERS
    from stages.catalog.tasks import head_for
    from stages.nn.network import build_mlp

    keras.utils.set_random_seed(seed)
    model = build_mlp(cfg, n_inputs, head_for("multiclass", "categorical_crossentropy", 10), seed=seed)
    model.compile(optimizer=OPTIMIZERS.get(cfg.optimizer).build(cfg), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def keras_throughput(data: dict, cfg: TrainConfig) -> dict:
    """Plain `model.fit` with default settings, timed after a warm-up on one full and one last, smaller batch (so
    both batch shapes are traced, and the accuracy is that of the same epochs as the engine's, plus two steps)."""
    model = keras_model(cfg, data["x"].shape[1])
    warm_up = cfg.batch_size + len(data["y"]) % cfg.batch_size
    model.fit(data["x"][:warm_up], data["y"][:warm_up], batch_size=cfg.batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(data["x"], data["y"], batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(data["x_val"], data["y_val"], verbose=0)[1]
    return {"samples_per_s": len(data["y"]) * cfg.epochs / seconds, "val_accuracy": float(accuracy)}


def sklearn_model(cfg: TrainConfig, seed: int):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=tuple(cfg.hidden), activation="relu", solver="adam",
                         learning_rate_init=cfg.learning_rate, batch_size=cfg.batch_size, max_iter=cfg.epochs,
                         early_stopping=False, n_iter_no_change=cfg.epochs + 1, tol=0.0, random_state=seed)


def sklearn_throughput(data: dict, cfg: TrainConfig) -> dict:
    model = sklearn_model(cfg, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns that max_iter ended the fit: that is the point
        start = time.perf_counter()
        model.fit(data["x"], data["y"])
        seconds = time.perf_counter() - start
    return {"samples_per_s": len(data["y"]) * cfg.epochs / seconds, "val_accuracy": float(model.score(data["x_val"], data["y_val"]))}


def numpy_throughput(data: dict, cfg: TrainConfig, epochs: int) -> dict:
    """The chain-rule reference: forward, backward and an SGD update per batch, float64."""
    from stages.reference import backprop, gd_fit

    layers = gd_fit.init_layers([data["x"].shape[1], *cfg.hidden, 10], 0)
    target = np.eye(10)[data["y"]]
    x = data["x"].astype(np.float64)
    start = time.perf_counter()
    for epoch in range(epochs):
        order = np.random.default_rng(epoch).permutation(len(x))
        for begin in range(0, len(x), cfg.batch_size):
            batch = order[begin:begin + cfg.batch_size]
            _, grads = backprop.loss_and_gradients(layers, x[batch], target[batch], activation="relu",
                                                    loss="categorical_crossentropy", head="softmax")
            layers = [(w - 0.05 * dw, b - 0.05 * db) for (w, b), (dw, db) in zip(layers, grads)]
    seconds = time.perf_counter() - start
    logits, _ = backprop.forward(layers, data["x_val"].astype(np.float64), "relu")
    return {"samples_per_s": len(x) * epochs / seconds, "val_accuracy": float(np.mean(logits.argmax(1) == data["y_val"]))}


def sweep_engine(data: dict, cfg: TrainConfig, rates: list[float], seeds: list[int]) -> dict:
    """What a variant process does: every learning rate and seed, on as many worker processes as the train stage
    would use, engine building and tracing included (TensorFlow is imported, not started, as in the stage)."""
    from stages.nn import parallel
    from stages.nn.engine import step_macs

    swept, arrays = cfg.model_copy(update={"sweep": {"learning_rate": rates}, "seeds": seeds}), arrays_of(data)
    jobs = swept.runs()
    start = time.perf_counter()
    runs, workers = parallel.train_runs(swept, arrays, jobs, parallel.worker_count(step_macs(swept, arrays), len(jobs)))
    return {"seconds": time.perf_counter() - start, "workers": workers,
            "val_accuracy": float(np.mean([run.final["val_metric"] for run in runs]))}


def sweep_sklearn(data: dict, cfg: TrainConfig, rates: list[float], seeds: list[int]) -> dict:
    start, accuracy = time.perf_counter(), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rate in rates:
            for seed in seeds:
                model = sklearn_model(cfg.model_copy(update={"learning_rate": rate}), seed).fit(data["x"], data["y"])
                accuracy.append(model.score(data["x_val"], data["y_val"]))
    return {"seconds": time.perf_counter() - start, "val_accuracy": float(np.mean(accuracy))}


def sweep_keras(data: dict, cfg: TrainConfig, rates: list[float], seeds: list[int]) -> dict:
    start, accuracy = time.perf_counter(), []
    for rate in rates:
        for seed in seeds:
            model = keras_model(cfg.model_copy(update={"learning_rate": rate}), data["x"].shape[1], seed)
            model.fit(data["x"], data["y"], batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0)
            accuracy.append(model.evaluate(data["x_val"], data["y_val"], verbose=0)[1])
    return {"seconds": time.perf_counter() - start, "val_accuracy": float(np.mean(accuracy))}


def peak_gflops(n: int) -> dict:
    """Float32 n x n matmul, best of five, with NumPy and with TensorFlow."""
    import tensorflow as tf

    a = np.random.default_rng(0).normal(size=(n, n)).astype(np.float32)
    flops = 2 * n ** 3
    numpy_best = min(_timed(lambda: a @ a) for _ in range(5))
    ta = tf.constant(a)
    tf.matmul(ta, ta).numpy()
    tf_best = min(_timed(lambda: tf.matmul(ta, ta).numpy()) for _ in range(5))
    return {"numpy": flops / numpy_best / 1e9, "tensorflow": flops / tf_best / 1e9,
            "peak": max(flops / numpy_best, flops / tf_best) / 1e9}


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def train_stage_memory(processed: Path, params_dir: Path = REPO) -> float:
    """Peak memory (MB) of one real train stage (optimizers@adam, with the params.yaml in `params_dir`) with its
    worker processes: the proportional set size (shared pages split between the processes that share them) summed
    over the process tree, sampled every 50 ms. Plain RSS would count the pages a forked worker shares with its
    parent twice."""
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen([sys.executable, "-m", "stages.train", "--study", "optimizers", "--variant", "adam",
                                  "--data", str(processed.parent), "--models", f"{tmp}/m", "--out", f"{tmp}/r",
                                  "--timing", f"{tmp}/t"], cwd=params_dir,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
                                      "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                                                  os.environ.get("PYTHONPATH")]))})
        peak_kb = 0
        while child.poll() is None:
            peak_kb = max(peak_kb, tree_pss_kb(child.pid))
            time.sleep(0.05)
        if child.returncode != 0:
            raise RuntimeError(f"the train stage failed with exit code {child.returncode}")
        return peak_kb / 1024


def tree_processes(pid: int, include_root: bool = True) -> list:
    """`pid` (unless not `include_root`) and all of its descendants as psutil processes; none once it exited."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)][0 if include_root else 1:]
    except psutil.NoSuchProcess:
        return []


def pss_kb(processes: list) -> int:
    """Proportional set size (kB) summed over `processes`, skipping those that have exited."""
    import psutil

    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):  # exiting
            pass
    return total // 1024


def tree_pss_kb(pid: int, include_root: bool = True) -> int:
    """Proportional set size (kB) of `pid` (unless not `include_root`) and all of its descendants; 0 for
    processes that have exited."""
    return pss_kb(tree_processes(pid, include_root))


def digits_config(work: dict) -> TrainConfig:
    """The `digits` and `sweep` network: 64-128-128-128-10, ReLU, Adam 1e-3, batch 32."""
    return train_config([128, 128, 128], 32, work["epochs"])


def wide_config(work: dict, optimizer: str) -> TrainConfig:
    """The `wide` network, 784-1024-1024-10 at batch 512. Its FLOP count covers the matmuls only, as plain
    mini-batch SGD's work is; Adam adds a memory-bound pass over weights and both moments (~52 MB per step)."""
    return train_config([1024, 1024], 512, work["wide_epochs"], optimizer=optimizer,
                        lr=0.05 if optimizer == "minibatch_sgd" else 1e-3)


def kaggle_config(optimizer: str, batch: int) -> TrainConfig:
    """params.yaml's default experiment (net, initializer, seeds, sweep, diagnostics on) at one batch size, two
    epochs: the engine plans, and decides on XLA, as the train stage would for that variant."""
    return config.with_changes(config.load().defaults, optimizer=optimizer, batch_size=batch, epochs=2,
                               learning_rate=0.01 if optimizer == "sgd" else 1e-3, target=None)


def stage_path_throughput(data: dict, cfg: TrainConfig) -> dict:
    """What a train stage's run costs per step: the second run of one engine (the first pays for tracing),
    all of it timed: the training steps, the per-epoch evaluation and the probe diagnostics."""
    from stages.nn.engine import new_engine

    trainer = new_engine(cfg, arrays_of(data))
    trainer.run({}, cfg.seeds[0])
    run = trainer.run({}, cfg.seeds[1])
    return {"samples_per_s": run.steps * cfg.batch_size / run.seconds, "steps_per_s": run.steps / run.seconds,
            "xla": trainer.xla, "val_accuracy": run.final["val_metric"]}


def keras_stage_throughput(data: dict, cfg: TrainConfig) -> dict:
    """Keras `fit` on the same net and data, validating after every epoch as the stage does, after a warm-up."""
    model = keras_model(cfg, data["x"].shape[1])
    warm_up = cfg.batch_size + len(data["y"]) % cfg.batch_size
    model.fit(data["x"][:warm_up], data["y"][:warm_up], batch_size=cfg.batch_size, epochs=1, verbose=0,
              validation_data=(data["x_val"], data["y_val"]))
    start = time.perf_counter()
    model.fit(data["x"], data["y"], batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0,
              validation_data=(data["x_val"], data["y_val"]))
    seconds = time.perf_counter() - start
    steps = cfg.epochs * -(-len(data["y"]) // cfg.batch_size)
    return {"samples_per_s": len(data["y"]) * cfg.epochs / seconds, "steps_per_s": steps / seconds}


def kaggle_weights(cfg: TrainConfig) -> int:
    """Weights of the multiplications per example of a 784-input, 10-class net."""
    sizes = [784, *cfg.hidden, 10]
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def part_engine_kaggle(work: dict, data: Path) -> dict:
    """The train stage's path at Kaggle size, in a fresh process (one core's worth: a stage forks one per core)."""
    data = wide_data(work["kaggle_rows"])
    return {name: stage_path_throughput(data, kaggle_config(*spec)) for name, spec in KAGGLE.items()}


def part_engine_small(work: dict, data: Path) -> dict:
    """The engine on the small workloads, in a fresh process so it picks its own thread count."""
    small, net = digits(data), digits_config(work)
    return {"digits": engine_throughput(small, net),
            "sgd1": engine_throughput(small, train_config([128, 128, 128], 1, 1, optimizer="sgd", lr=0.01))}


def part_engine_sweep(work: dict, data: Path) -> dict:
    """The sweep in a fresh process: the train stage's workers fork before TensorFlow starts."""
    return {"sweep": sweep_engine(digits(data), digits_config(work), work["sweep_rates"], work["seeds"])}


def part_engine_wide(work: dict, data: Path) -> dict:
    data = wide_data(work["wide_rows"])
    return {name: engine_throughput(data, wide_config(work, optimizer)) for name, optimizer in WIDE.items()}


def part_keras(work: dict, data: Path) -> dict:
    """Plain Keras with TensorFlow's default settings (threads, no op determinism), as a user would run it."""
    small, net = digits(data), digits_config(work)
    return {"digits": keras_throughput(small, net),
            "sweep": sweep_keras(small, net, work["sweep_rates"], work["seeds"]),
            **{name: keras_throughput(wide_data(work["wide_rows"]), wide_config(work, optimizer))
               for name, optimizer in WIDE.items()},
            **{name: keras_stage_throughput(wide_data(work["kaggle_rows"]), kaggle_config(*spec))
               for name, spec in KAGGLE.items()},
            "peak_gflops": peak_gflops(work["peak_n"]), "machine": machine()}


PARTS = {"engine_small": part_engine_small, "engine_sweep": part_engine_sweep, "engine_wide": part_engine_wide,
         "engine_kaggle": part_engine_kaggle, "keras": part_keras}


def run_part(name: str, size: str, data: Path) -> dict:
    """One part in a child process with a fresh TensorFlow runtime."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "part.json"
        subprocess.run([sys.executable, "-m", "stages.tools.bench", "--part", name, "--size", size, "--data", str(data),
                        "--out", str(out)], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        return json.loads(out.read_text())


def benchmark(size: str, data: Path, memory: bool = True) -> dict:
    """Every workload; ratios are computed within this one run, so machine load affects all alike. Each
    TensorFlow part runs in its own process: thread pools and op determinism are per process."""
    work = SIZES[size]
    engine, sweep, wide, kaggle, keras = (run_part(name, size, data) for name in PARTS)
    small, net = digits(data), digits_config(work)
    result: dict = {"size": size, "machine": keras["machine"], "peak_gflops": keras["peak_gflops"]}
    result["digits"] = {"engine": engine["digits"], "keras_fit": keras["digits"],
                        "sklearn": sklearn_throughput(small, net),
                        "numpy_reference": numpy_throughput(small, net, work["numpy_epochs"])}
    result["sweep"] = {"engine": sweep["sweep"], "keras_fit": keras["sweep"],
                       "sklearn": sweep_sklearn(small, net, work["sweep_rates"], work["seeds"])}
    weights = 784 * 1024 + 1024 * 1024 + 1024 * 10
    for name in WIDE:
        result[name] = {"engine": wide[name], "keras_fit": keras[name]}
        for entry in result[name].values():  # forward 2 FLOPs per weight and example, backward 4
            entry["gflops"] = 6 * weights * entry["samples_per_s"] / 1e9
            entry["share_of_peak"] = entry["gflops"] / result["peak_gflops"]["peak"]
    result["sgd1"] = engine["sgd1"]
    peak = result["peak_gflops"]["peak"] * 1e9
    for name, spec in KAGGLE.items():
        flops_per_sample = 6 * kaggle_weights(kaggle_config(*spec))
        result[name] = {"engine": kaggle[name], "keras_fit": keras[name]}
        for entry in result[name].values():
            entry["gflops"] = flops_per_sample * entry["samples_per_s"] / 1e9
            entry["share_of_peak"] = entry["gflops"] * 1e9 / peak
            # what a step costs beyond its arithmetic at the matmul peak: dispatch, evaluation, diagnostics
            entry["overhead_us_per_step"] = 1e6 * (1 / entry["steps_per_s"]
                                                   - flops_per_sample * spec[1] / peak)
    d, s = result["digits"], result["sweep"]
    result["ratios"] = {
        "digits_vs_keras_fit": d["engine"]["samples_per_s"] / d["keras_fit"]["samples_per_s"],
        "digits_vs_sklearn": d["engine"]["samples_per_s"] / d["sklearn"]["samples_per_s"],
        "sweep_vs_sklearn": s["sklearn"]["seconds"] / s["engine"]["seconds"],
        "sweep_vs_keras_fit": s["keras_fit"]["seconds"] / s["engine"]["seconds"],
        "wide_share_of_peak": result["wide"]["engine"]["share_of_peak"],
        "wide_adam_share_of_peak": result["wide_adam"]["engine"]["share_of_peak"],
        "sgd1_samples_per_s": result["sgd1"]["samples_per_s"],
        "kaggle_b32_vs_keras_fit": result["kaggle_b32"]["engine"]["samples_per_s"]
        / result["kaggle_b32"]["keras_fit"]["samples_per_s"],
        "kaggle_b1_steps_per_s": result["kaggle_b1"]["engine"]["steps_per_s"],
    }
    if memory:
        result["train_stage_peak_memory_mb"] = train_stage_memory(data)
    return result


def machine() -> dict:
    import tensorflow as tf

    return {"processor": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "tensorflow": tf.__version__, "numpy": np.__version__}


def table(result: dict) -> str:
    """The README's Markdown table of one benchmark run."""
    r, m = result["ratios"], result["machine"]
    workers = result["sweep"]["engine"]["workers"]
    sweep_workers = f"engine on {workers} worker processes" if workers > 1 else "engine in one process"

    def share(name: str) -> str:
        engine, keras = result[name]["engine"], result[name]["keras_fit"]
        return (f"{100 * engine['share_of_peak']:.0f}% ({engine['gflops']:.0f} of {result['peak_gflops']['peak']:.0f}"
                f" GFLOP/s; Keras `fit` {100 * keras['share_of_peak']:.0f}%)")
    def kaggle(name: str) -> str:
        engine, keras = result[name]["engine"], result[name]["keras_fit"]
        return (f"{100 * engine['share_of_peak']:.1f}% of peak, {engine['overhead_us_per_step']:.0f} µs/step beyond "
                f"the arithmetic; Keras `fit` {100 * keras['share_of_peak']:.1f}%, "
                f"{keras['overhead_us_per_step']:.0f} µs/step")
    rows = [
        ("digits: engine vs Keras `fit` (samples/s ratio)", f"{r['digits_vs_keras_fit']:.1f}x", ">= 12x"),
        ("digits: engine vs scikit-learn `MLPClassifier`", f"{r['digits_vs_sklearn']:.1f}x", ">= 2x"),
        (f"sweep (15 trainings, {sweep_workers}): vs scikit-learn", f"{r['sweep_vs_sklearn']:.1f}x", ">= 3x"),
        (f"sweep (15 trainings, {sweep_workers}): vs Keras `fit`", f"{r['sweep_vs_keras_fit']:.1f}x", ">= 20x"),
        ("wide 784-1024-1024-10, SGD: share of matmul peak", share("wide"), ">= 85%"),
        ("wide, Adam (its update is a memory-bound pass the FLOP count leaves out)", share("wide_adam"), "-"),
        ("batch-1 SGD (samples/s)", f"{r['sgd1_samples_per_s']:,.0f}", ">= 20,000"),
        (f"Kaggle size, stage path, batch 32: vs Keras `fit` ({kaggle('kaggle_b32')})",
         f"{r['kaggle_b32_vs_keras_fit']:.1f}x", ">= 3x"),
        (f"Kaggle size, stage path, batch-1 SGD: steps/s on one core ({kaggle('kaggle_b1')})",
         f"{r['kaggle_b1_steps_per_s']:,.0f}", ">= 20,000"),
    ]
    if "train_stage_peak_memory_mb" in result:
        rows.append(("peak memory of one train stage, workers included (PSS)",
                     f"{result['train_stage_peak_memory_mb']:,.0f} MB", "<= 1,500 MB"))
    accuracy = result["digits"]
    lines = [f"Measured by `python -m stages.tools.bench` on {m['cores']} cores ({m['processor']}), Python {m['python']}, "
             f"TensorFlow {m['tensorflow']}; validation accuracy after the same epochs: engine "
             f"{accuracy['engine']['val_accuracy']:.3f}, Keras `fit` {accuracy['keras_fit']['val_accuracy']:.3f}, "
             f"scikit-learn {accuracy['sklearn']['val_accuracy']:.3f}.", "",
             "| workload | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def update_readme(readme: Path, text: str, start: str = README_START, end: str = README_END) -> None:
    """Replace the text between two markers of the README (the benchmark's by default)."""
    content = readme.read_text()
    if start not in content or end not in content:
        return
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    atomic.write_text(readme, f"{head}{start}\n{text}\n{end}{tail}")


def publish(result: dict, out: Path, text: str, readme: Path | None, start: str, end: str) -> None:
    """Write a tool's measurements to `out` (JSON), its table between the markers of `readme`, and to stderr."""
    atomic.write_text(out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    if readme:
        update_readme(readme, text, start, end)
    print(text, file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Writes OUT (JSON) and, with "
                                     "--readme, the table between the benchmark markers of that file.")
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--data", type=Path, default=Path("data/processed/fashion_mnist"))
    parser.add_argument("--out", type=Path, default=Path("reports/bench.json"))
    parser.add_argument("--readme", type=Path)
    parser.add_argument("--no-memory", action="store_true", help="skip the train-stage memory measurement")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)  # internal: one child process's work
    args = parser.parse_args(argv)
    if args.part:
        atomic.write_text(args.out, json.dumps(PARTS[args.part](SIZES[args.size], args.data)))
        return
    config.load()
    result = benchmark(args.size, args.data, memory=not args.no_memory)
    atomic.write_text(args.out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    text = table(result)
    if args.readme:
        update_readme(args.readme, text)
    print(text)


if __name__ == "__main__":
    main()
