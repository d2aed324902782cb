"""The fuzz table: one row per public callable of echoscope, with a known-good call.

A row names the callable, builds the good arguments (a fresh dict per call: name -> value, in
the order of the signature), says which are passed by position, and may add bad values of its
own, other names a message may use for a parameter, and ``then``: what is done with the
result inside the guarded call (a constructor's object is used once, so that a bad value it
kept shows up). The fuzz tests replace one argument of the good call at a time.

Systems are tiny (2 to 10 units, tens of steps, a few seeds) so that a call takes
milliseconds; the shared objects (a trained flip-flop network, its analysis, fixed points,
echo indices) are built once, on first use.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import itertools
import numbers
import os
import shutil
import tempfile
from collections.abc import Callable

import numpy as np

import echoscope as es
from echoscope.tasks.configured_sweep import sweep_point
from echoscope.training.bptt import TrainedTorch

U_A = (0.25, 0.05)  # input A of Ashwin & Ceni's example: two stable states


@dataclasses.dataclass
class Row:
    """One public callable and a good call of it."""

    name: str
    func: Callable
    good: Callable[[], dict]
    positional: tuple = ()
    aliases: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=dict)
    then: Callable | None = None
    unfuzzed: dict = dataclasses.field(default_factory=dict)
    exclude: dict = dataclasses.field(default_factory=dict)  # param -> predicate on values
    finite: bool = True  # plain numbers returned are finite (False: -inf allowed, no NaN)
    examples: int | None = None  # fewer examples for the rows whose good call is slow

    def call(self, args: dict):
        """The callable applied to ``args`` (positional ones first), then ``then``."""
        pos = [args[n] for n in self.positional]
        kw = {k: v for k, v in args.items() if k not in self.positional}
        result = self.func(*pos, **kw)
        return self.then(result) if self.then is not None else result

    def accepted_names(self, param: str) -> tuple:
        """The names a message about ``param`` may use."""
        return (param, *self.aliases.get(param, ()))


# -- shared objects, built once -----------------------------------------------------------------

_scratch = None


def scratch() -> str:
    """A fresh path in the suite's scratch folder (for files that calls write), removed when
    the process ends."""
    global _scratch
    if _scratch is None:
        _scratch = tempfile.mkdtemp(prefix="echoscope-fuzz-")
        atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    return os.path.join(_scratch, f"f{next(_counter)}")


_counter = itertools.count()


def rand(*shape, seed=0, scale=1.0):
    """Uniform numbers in [-scale, scale]."""
    return np.random.default_rng(seed).uniform(-scale, scale, shape)


@functools.cache
def esn() -> es.ESN:
    """4 units, 2 inputs, contracting."""
    return es.random_esn(4, 2, spectral_radius=0.8, rng=0)


@functools.cache
def esn_fb() -> es.ESN:
    """5 units, 2 inputs, 2 feedback channels."""
    return es.random_esn(5, 2, 2, spectral_radius=0.5, rng=1)


@functools.cache
def ac() -> es.ESN:
    """Ashwin & Ceni's 2-d switching example."""
    return es.ashwin_ceni()


def held(n=200, u=U_A):
    """A constant input held for n steps."""
    return np.tile(np.asarray(u, dtype=float), (n, 1))


@functools.cache
def ff_config() -> es.FlipFlopConfig:
    """A 2-bit flip-flop of 10 units, trained on 600 steps."""
    return es.FlipFlopConfig(n_bits=2, n_state=10, train_steps=600, test_steps=300,
                             training=es.Ridge(washout=50))


@functools.cache
def ff_result() -> es.FlipFlopResult:
    """The tiny flip-flop trained and tested."""
    return es.flipflop_job(ff_config(), rng=0)


@functools.cache
def task_config() -> es.TaskConfig:
    """A modulo-3 counter of 10 units, trained on 600 steps."""
    return es.TaskConfig(es.counter_task(3, event_prob=0.05), n_state=10, train_steps=600,
                         test_steps=300, training=es.Ridge(washout=50))


@functools.cache
def task_result() -> es.TaskResult:
    """The tiny counter trained and tested."""
    return es.task_job(task_config(), rng=0)


def use_task(task):
    """Sample and score a task: the object must work."""
    run = task.sample(50, rng=0)
    task.score(run.targets, run)
    return task


@functools.cache
def ff_explanation() -> es.ErrorExplanation:
    """The errors of the tiny flip-flop explained (with its ENA)."""
    r = ff_result()
    return es.explain_errors(r.trained, r.inputs, r.targets, rng=0, seeds=es.Uniform(32),
                             max_amplitude=2.0, tol=0.05)


@functools.cache
def fixed_points() -> es.FixedPoints:
    """The three fixed points of Ashwin & Ceni's map under input A."""
    return es.find_fixed_points(ac(), U_A, es.Uniform(16), adaptive=None, rng=0)


@functools.cache
def attractors() -> es.Attractors:
    """The two stable points of Ashwin & Ceni's map under input A."""
    return es.find_attractors(ac(), U_A, es.Uniform(16), transient=200, rng=0)


@functools.cache
def echo() -> es.EchoIndex:
    """The echo index (2) of Ashwin & Ceni's map under 400 steps of input A."""
    return es.echo_index(ac(), held(400), seeds=es.Uniform(32), rng=0)


@functools.cache
def boundary() -> es.BoundarySolution:
    """The boundary between the two responses of ``echo()``."""
    return es.boundary_solution(ac(), held(400), [0.5, -1.0], [0.5, 1.0], echo(),
                                max_bisections=60)


@functools.cache
def echoes() -> es.EchoIndices:
    """Echo indices under two weak random inputs."""
    return es.echo_indices(ac(), rand(2, 150, 2, scale=0.05), seeds=es.Uniform(16), window=10,
                           rng=0)


@functools.cache
def torch_rnn():
    """A one-layer torch RNN of 3 units and 2 inputs."""
    import torch

    torch.manual_seed(0)
    return torch.nn.RNN(2, 3, batch_first=True, dtype=torch.float64)


@functools.cache
def torch_map():
    """``from_torch`` of ``torch_rnn()``."""
    return es.from_torch(torch_rnn())


@functools.cache
def reservoirpy_node():
    """A reservoirpy Reservoir of 5 units, initialised for 2 inputs."""
    from reservoirpy.nodes import Reservoir

    node = Reservoir(5, lr=0.5, sr=0.9, seed=0)
    node.initialize(np.zeros((1, 2)))
    return node


@functools.cache
def model_file() -> str:
    """A saved TrainedESN."""
    path = scratch() + ".npz"
    es.save(ff_result().trained, path)
    return path


@functools.cache
def results_file() -> str:
    """A saved result (fixed points)."""
    path = scratch() + ".npz"
    es.save_result(fixed_points(), path)
    return path


def _point(rng, a, b):
    return {"value": float(a) * b + rng.uniform()}


@functools.cache
def sweep_store() -> str:
    """A finished sweep store of 2 points."""
    path = scratch()
    es.sweep(_point, {"a": [1.0, 2.0], "b": [0.5]}, client="inprocess", store=path, rng=0)
    return path


def _sample(rng, n):
    return rng.uniform(-1, 1, (n, 2))


def _progress(*args):
    return None


def _tanh(s, out=None):
    return np.tanh(s, out=out)


def _dtanh(s):
    return 1.0 - np.tanh(s) ** 2


def _bistable(u, x):  # any n_state, any n_input (their sum drives every unit)
    return np.tanh(2.0 * x + u.sum(axis=-1, keepdims=True))


def _bistable_jacobian(u, x):
    d = 2.0 * (1.0 - np.tanh(2.0 * x + u.sum(axis=-1, keepdims=True)) ** 2)
    return d[..., :, None] * np.eye(x.shape[-1])


def _leaky(a):
    return es.ESN(np.diag([0.5, 1.75]), np.eye(2), leak=a)


# -- values left out of a row -----------------------------------------------------------------
# Two kinds: sizes that only cost time (10**12 epochs or steps of a run that needs no memory:
# the library runs what it is asked), and values that show a bug in a module other work owns
# right now (each listed in the fuzz report with its reproducer; delete the exclusion once it
# is fixed).


def huge_int(value) -> bool:
    """An integer of a million or more: a run of that many steps or updates takes long."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        and abs(value) >= 10**6


def EVERYTHING(value) -> bool:  # noqa: N802 - a marker: the parameter is not fuzzed at all
    """Every value."""
    return True


def either(*tests):
    """True when any of ``tests`` is."""
    return lambda value: any(t(value) for t in tests)


# -- uses of constructed objects (inside the guarded call) ----------------------------------------


def use_map(system):
    """One step and one Jacobian at the origin (of a map of a sensible size)."""
    if system.n_state * (system.n_state + system.n_input) > 10**6:
        return (repr(system),)
    u, x = np.zeros(system.n_input), np.zeros(system.n_state)
    return system.step(u, x), system.jacobian(u, x)


def use_activation(act):
    """The function and derivative on a few values, of the right shape."""
    s = np.linspace(-3, 3, 5)
    value, slope = np.asarray(act(s)), np.asarray(act.derivative(s))
    assert value.shape == slope.shape == (5,)
    return value, slope


def use_seeds(seeds):
    """Two draws for Ashwin & Ceni's map."""
    return seeds.draw(ac(), 0), seeds.draw(ac(), 1, n=3)


def use_record(record):
    """A short run that keeps what the record mode keeps."""
    return es.simulate(ac(), held(6), np.zeros(2), record=record)


def use_readout(readout):
    """The output of a zero state."""
    return readout(np.zeros(readout.n_state))


def use_trained(trained):
    """A short closed-loop run."""
    return es.run_trained(trained, np.zeros((3, trained.esn.n_input if hasattr(trained, "esn")
                                                  else trained.map.n_input)))


def use_grid(grid):
    """Every point of the grid."""
    return [grid.point(i) for i in range(grid.n_points)]


def use_option(option):
    """A short fixed-point search with the option object (Newton, SlowPoints, Adaptive,
    FullSpectrum, LeadingSpectrum)."""
    if isinstance(option, (es.FullSpectrum, es.LeadingSpectrum)):
        return es.find_fixed_points(ac(), U_A, es.Uniform(8), spectrum=option, adaptive=None,
                                    rng=0)
    if isinstance(option, es.Adaptive):
        return es.find_fixed_points(ac(), U_A, es.Uniform(8), adaptive=option, rng=0)
    if isinstance(option, es.Deflation):
        return es.find_fixed_points(ac(), U_A, es.Uniform(8), rng=0,
                                    adaptive=es.Adaptive(batch=8, max_seeds=16,
                                                         deflation=option))
    return es.find_fixed_points(ac(), U_A, es.Uniform(8), solver=option, adaptive=None, rng=0)


def use_grouping(grouping):
    """An echo index with the grouping."""
    return es.echo_index(ac(), held(60), seeds=es.Uniform(8), window=5, grouping=grouping, rng=0)


def use_schedule(schedule):
    """An echo index with the schedule."""
    return es.echo_index(ac(), held(60), seeds=es.Uniform(8), window=5, schedule=schedule,
                         rng=0)


def use_config(config):
    """The network of the config."""
    return es.flipflop_network(config, rng=0).n_state


def use_training(training):
    """A tiny flip-flop trained by the method."""
    config = dataclasses.replace(ff_config(), training=training, train_steps=100)
    if isinstance(training, es.BPTT) and training.epochs * training.batch_size > 64:
        return (training,)  # a large BPTT run is slow, and valid: nothing to learn from it
    return use_map(es.train_flipflop(config, es.flipflop_network(config, 0), *es.flipflop(
        2, config.train_steps, rng=0), rng=0).closed_loop())


# -- the table ----------------------------------------------------------------------------------

ROWS: list[Row] = []


def row(name, func, good, **options) -> None:
    """Add a row."""
    ROWS.append(Row(name, func, good, **options))


# systems ----------------------------------------------------------------------------------------
row("Activation", es.Activation,
    lambda: {"name": "mytanh", "function": _tanh, "derivative": _dtanh, "bound": 1.0},
    positional=("name", "function", "derivative", "bound"), then=use_activation)
row("ESN", es.ESN,
    lambda: {"w": 0.5 * np.eye(3) + 0.1, "w_in": rand(3, 2), "w_fb": rand(3, 1, seed=1),
             "bias": rand(3, seed=2), "leak": 0.5, "activation": "tanh",
             "spectral_radius": 0.9},
    positional=("w", "w_in"), then=use_map)
row("Readout", es.Readout,
    lambda: {"w_out": rand(2, 3), "bias": rand(2, seed=1), "activation": "identity"},
    then=use_readout)
row("TrainedESN", es.TrainedESN,
    lambda: {"esn": esn_fb(), "readout": es.Readout(rand(2, 5))}, then=use_trained)
row("ClosedLoopESN", es.ClosedLoopESN,
    lambda: {"esn": esn_fb(), "readout": es.Readout(rand(2, 5))}, then=use_map)
row("random_esn", es.random_esn,
    lambda: {"n_state": 4, "n_input": 2, "n_output": 1, "spectral_radius": 0.9,
             "density": 0.5, "input_scale": 1.0, "feedback_scale": 1.0, "bias_scale": 0.1,
             "leak": 1.0, "activation": "tanh", "sparse": False, "rng": 0},
    positional=("n_state", "n_input", "n_output"), then=use_map)
row("spectral_radius", es.spectral_radius, lambda: {"w": rand(3, 3)}, positional=("w",))
row("FunctionMap", es.FunctionMap,
    lambda: {"step": _bistable, "jacobian": _bistable_jacobian, "n_state": 2, "n_input": 2,
             "vectorized": True},
    positional=("step", "jacobian"), then=use_map)
row("from_reservoirpy", es.from_reservoirpy, lambda: {"node_or_model": reservoirpy_node()},
    positional=("node_or_model",), then=use_map)
row("from_torch", es.from_torch,
    lambda: {"module": torch_rnn(), "dtype": __import__("torch").float64, "n_state": 3,
             "n_input": 2},
    positional=("module",), then=use_map)
row("ashwin_ceni", es.ashwin_ceni, dict, then=use_map)

# simulate, inputs -------------------------------------------------------------------------------
row("simulate", es.simulate,
    lambda: {"system": esn(), "inputs": rand(6, 2), "x0": rand(3, 4, seed=1),
             "record": "all", "callback": _progress, "noise": 0.01, "rng": 0,
             "dtype": np.float64, "workers": 1, "progress": _progress},
    positional=("system", "inputs", "x0"))
row("All", es.All, dict, then=use_record)
row("Final", es.Final, dict, then=use_record)
row("Every", es.Every, lambda: {"k": 2}, then=use_record, aliases={"k": ("record",)})
row("Window", es.Window, lambda: {"length": 3}, then=use_record,
    aliases={"length": ("record",)})
row("switching_inputs", es.switching_inputs,
    lambda: {"alphabet": np.array(es.ASHWIN_CENI_INPUTS), "n_steps": 20, "min_run": 2,
             "max_run": 5, "p_continue": 0.5, "order": "cycle", "start": 0, "rng": 0},
    positional=("alphabet", "n_steps"),
    aliases={"alphabet": ("alphabet",)})

# training ---------------------------------------------------------------------------------------
row("TrainedTorch", TrainedTorch,
    lambda: {"map": torch_map(), "w_out": rand(1, 3), "b_out": rand(1)}, then=use_trained)
row("nrmse", es.nrmse,
    lambda: {"outputs": rand(20, 2), "targets": rand(20, 2, seed=1), "per_channel": False},
    positional=("outputs", "targets"))
row("ridge_solve", es.ridge_solve,
    lambda: {"gram": (lambda a: a @ a.T + np.eye(4))(rand(4, 4)), "cross": rand(4, 2),
             "regularization": 1e-6},
    positional=("gram", "cross", "regularization"))
row("run_trained", es.run_trained,
    lambda: {"trained": ff_result().trained, "inputs": rand(8, 2), "x0": rand(10, seed=1)},
    positional=("trained", "inputs", "x0"))
row("train_bptt", es.train_bptt,
    lambda: {"esn": esn_fb(), "inputs": rand(40, 2), "targets": rand(40, 2, seed=1),
             "n_state": 5, "output_activation": "tanh", "epochs": 2, "batch_size": 2,
             "seq_len": 10, "lr": 1e-3, "washout": 2, "rng": 0, "progress": _progress,
             "callback": _progress, "threads": 1},
    positional=("esn", "inputs", "targets"), then=use_trained)
row("train_rnn", es.train_rnn,
    lambda: {"kind": "rnn", "inputs": rand(40, 2), "targets": rand(40, 1, seed=1),
             "n_state": 3, "epochs": 2, "batch_size": 2, "seq_len": 10, "lr": 1e-3,
             "washout": 2, "rng": 0, "progress": _progress, "callback": _progress,
             "threads": 1},
    positional=("kind", "inputs", "targets"), then=use_trained)
row("train_ridge", es.train_ridge,
    lambda: {"esn": esn_fb(), "inputs": rand(60, 2), "targets": rand(60, 2, seed=1,
                                                                    scale=0.9),
             "washout": 10, "regularization": 1e-6, "output_activation": "tanh",
             "noise": 0.01, "x0": rand(5, seed=2), "rng": 0, "progress": _progress},
    positional=("esn", "inputs", "targets"), then=use_trained)
row("train_rls", es.train_rls,
    lambda: {"esn": esn_fb(), "inputs": rand(60, 2), "targets": rand(60, 2, seed=1),
             "washout": 10, "delta": 1.0, "forgetting": 0.99, "teacher_forcing": True,
             "readout": es.Readout(np.zeros((2, 5))), "noise": 0.01, "x0": rand(5, seed=2),
             "rng": 0, "progress": _progress},
    positional=("esn", "inputs", "targets"), then=use_trained)

# analysis: continuation, certificates -----------------------------------------------------------
row("continue_attractors", es.continue_attractors,
    lambda: {"make_system": _leaky, "values": [0.25, 0.3], "u": np.array(U_A),
             "seeds": es.Uniform(8), "match_distance": 0.5, "rng": 0, "progress": _progress,
             "transient": 100, "window": 8, "tol": 1e-6, "refine": True},
    positional=("make_system", "values"),
    aliases={"seeds": ("n",), "values": ("leak",)})  # leak: make_system's own refusal
row("contraction_certificate", es.contraction_certificate,
    lambda: {"system": esn(), "inputs": (-0.5, 0.5), "center": np.zeros(4),
             "radii": [0.5, 1.0], "n_radii": 5, "n_steps": 20},
    positional=("system", "inputs"))
row("esp_conditions", es.esp_conditions,
    lambda: {"system": esn(), "buehner_young": True, "tol": 1e-3, "solver": "CLARABEL"},
    positional=("system",), examples=6)
row("large_amplitude_threshold", es.large_amplitude_threshold,
    lambda: {"system": esn(), "direction": np.array([1.0, 0.0]), "max_amplitude": 100.0,
             "tol": 1e-6},
    positional=("system", "direction"))
row("uasp_certificate", es.uasp_certificate,
    lambda: {"system": ac(), "u_bar": np.array(U_A),
             "x_star": fixed_points().points[fixed_points().stable][0], "delta": 0.1,
             "n_deltas": 5, "norm": "inf"},
    positional=("system", "u_bar", "x_star"))

# analysis: echo index, basins, transitions, Lyapunov --------------------------------------------
row("SingleLinkage", es.SingleLinkage, lambda: {"separation": 100.0}, then=use_grouping)
row("Forward", es.Forward, lambda: {"merge": 1e-12, "transient": "float32"}, then=use_schedule)
row("Pullback", es.Pullback, dict, then=use_schedule)
row("echo_index_from_trajectories", es.echo_index_from_trajectories,
    lambda: {"trajectories": es.simulate(ac(), held(60), rand(8, 2)), "window": 5,
             "extension": 20, "grouping": es.SingleLinkage(), "confidence": 0.95,
             "observed": "states"},
    positional=("trajectories",))
row("echo_index_from_runs", es.echo_index_from_runs,
    lambda: {"step": ac().step, "inputs": held(60), "seeds": es.Uniform(8), "n_state": 2,
             "window": 5, "extension": 20, "grouping": es.SingleLinkage(),
             "confidence": 0.95, "rng": 0},
    positional=("step", "inputs", "seeds"), aliases={"seeds": ("n",)})
row("nonautonomous_network", es.nonautonomous_network,
    lambda: {"system": ac(), "background": held(40) + 0.05 * np.sin(np.arange(40) / 3.0)[:, None],
             "times": [10, 14], "directions": np.array([[0.0, 1.0], [0.0, -1.0]]),
             "max_amplitude": 2.0, "pulse_steps": 1, "tol": 0.05, "n_grid": 4, "window": 5,
             "extension": 10, "seeds": es.Uniform(8), "rng": 0, "progress": None},
    positional=("system", "background"), aliases={"seeds": ("n",)})
row("echo_index", es.echo_index,
    lambda: {"system": ac(), "inputs": held(120), "seeds": es.Uniform(12), "window": 10,
             "extension": 30, "grouping": es.SingleLinkage(), "confidence": 0.95,
             "schedule": es.Forward(), "rng": 0, "progress": _progress},
    positional=("system", "inputs"), aliases={"seeds": ("n",)})
row("echo_index (callable inputs)", es.echo_index,
    lambda: {"system": ac(), "inputs": lambda a, b: held(b - a), "n_steps": 80,
             "seeds": es.Uniform(12), "window": 10, "max_steps": 300, "rng": 0},
    positional=("system", "inputs"), aliases={"seeds": ("n",)})
row("echo_indices", es.echo_indices,
    lambda: {"system": ac(), "inputs": rand(2, 80, 2, scale=0.05), "seeds": es.Uniform(8),
             "window": 10, "extension": 20, "grouping": es.SingleLinkage(),
             "confidence": 0.9, "schedule": es.Forward(), "rng": 0, "progress": _progress},
    positional=("system", "inputs"), aliases={"seeds": ("n",)})
row("echo_index_vs_amplitude", es.echo_index_vs_amplitude,
    lambda: {"system": ac(), "inputs": held(80), "amplitudes": [0.5, 1.0],
             "seeds": es.Uniform(8), "window": 10, "rng": 0},
    positional=("system", "inputs", "amplitudes"), aliases={"seeds": ("n",)})
row("basins_2d", es.basins_2d,
    lambda: {"system": ac(), "inputs": held(100), "center": np.zeros(2), "axes": np.eye(2),
             "extent": 1.0, "resolution": 4, "window": 10},
    positional=("system", "inputs"))
row("boundary_solution", es.boundary_solution,
    lambda: {"system": ac(), "inputs": held(400), "a": np.array([0.5, -1.0]),
             "b": np.array([0.5, 1.0]), "echo": echo(), "max_bisections": 30,
             "separated": 0.01},
    positional=("system", "inputs", "a", "b", "echo"))
row("separatrix_divergence", es.separatrix_divergence,
    lambda: {"system": ac(), "inputs": held(400), "boundary": boundary(), "n": 4,
             "radius": 1e-10, "rng": 0},
    positional=("system", "inputs", "boundary"))
row("fate", es.fate,
    lambda: {"system": ac(), "inputs": held(400), "states": rand(3, 2), "echo": echo()},
    positional=("system", "inputs", "states", "echo"))
row("group_responses", es.group_responses,
    lambda: {"window": np.concatenate([np.zeros((3, 5, 2)), np.ones((3, 5, 2))]),
             "separation": 100.0},
    positional=("window",), finite=False)  # inf: the gap ratio of a single group
row("index_distribution", es.index_distribution, lambda: {"results": echoes()},
    positional=("results",))
@functools.cache
def noise_unit():
    """One bistable unit x -> tanh(2.5 x + u) and its excitable network."""
    unit = es.ESN([[2.5]], [[1.0]])
    return unit, es.excitable_network(unit, max_amplitude=4.0, tol=0.01, n_grid=4,
                                      seeds=es.Uniform(8), rng=0)


row("noise_robustness", es.noise_robustness,
    lambda: {"system": noise_unit()[0], "noise": es.InputNoise(0.8),
             "network": noise_unit()[1], "n_samples": 4, "n_steps": 10, "check_every": 2,
             "confidence": 0.9, "rng": 0, "progress": _progress},
    positional=("system", "noise"), examples=10)
row("robustness_curve", es.robustness_curve,
    lambda: {"system": noise_unit()[0], "sigmas": [0.5, 0.8], "noise": "input",
             "network": noise_unit()[1], "n_samples": 2, "n_steps": 5, "check_every": 1,
             "confidence": 0.9, "score": lambda noise, rng: 1.0, "rng": 0,
             "progress": _progress},
    positional=("system", "sigmas"), examples=10)
row("noise_tolerance", es.noise_tolerance,
    lambda: {"system": noise_unit()[0], "network": noise_unit()[1], "rate": 1e-3},
    positional=("system", "network"), examples=10)
row("task_robustness", es.task_robustness,
    lambda: {"result": ff_result(), "sigmas": [0.1], "noise": "state", "network": None,
             "n_samples": 2, "n_steps": 5, "check_every": 1, "rng": 0, "progress": _progress},
    positional=("result", "sigmas"), examples=5)
row("InputNoise", es.InputNoise, lambda: {"sigma": 0.1}, positional=("sigma",))
row("StateNoise", es.StateNoise, lambda: {"sigma": 0.1}, positional=("sigma",))
row("CovarianceNoise", es.CovarianceNoise, lambda: {"cov": np.eye(2) * 0.01, "on": "input"},
    positional=("cov",))
row("wilson_interval", es.wilson_interval,
    lambda: {"count": 3, "total": 10, "confidence": 0.95},
    positional=("count", "total", "confidence"))
row("lyapunov_spectrum", es.lyapunov_spectrum,
    lambda: {"system": esn(), "inputs": rand(30, 2), "x0": rand(4, seed=1), "n_exponents": 2,
             "transient": 5, "rng": 0, "renormalize_every": 2, "progress": _progress},
    positional=("system", "inputs", "x0"))
row("maximal_lyapunov_exponent", es.maximal_lyapunov_exponent,
    lambda: {"system": esn(), "inputs": rand(30, 2), "x0": rand(4, seed=1), "transient": 5,
             "rng": 0, "renormalize_every": 2, "progress": _progress},
    positional=("system", "inputs", "x0"), finite=False)  # -inf: a saturated network
row("switching_boundary", es.switching_boundary,
    lambda: {"system": ac(), "alphabet": np.array(es.ASHWIN_CENI_INPUTS), "max_steps": 50,
             "seeds": es.Uniform(8), "rng": 0},
    positional=("system", "alphabet"), aliases={"seeds": ("n",)})
row("switching_scan", es.switching_scan,
    lambda: {"system": ac(), "alphabet": np.array(es.ASHWIN_CENI_INPUTS),
             "min_runs_a": [2, 5], "max_runs_b": [1, 3], "p_continue": (0.5, 0.5),
             "periodic": False, "n_steps": 100, "n_samples": 6, "schedule": es.Forward(),
             "rng": 0, "progress": _progress, "window": 10},
    positional=("system", "alphabet", "min_runs_a", "max_runs_b"))

# analysis: fixed points, attractors, ENA, seeds -------------------------------------------------
row("Newton", es.Newton,
    lambda: {"tol": 1e-10, "max_iter": 50, "linear": "auto", "krylov_dim": 10, "window": 3,
             "min_decrease": 0.1, "radius": 0.3, "xtol": 1e-12},
    then=use_option)
row("SlowPoints", es.SlowPoints, lambda: {"tol": 1e-10, "gtol": 1e-12, "max_iter": 50},
    then=use_option)
row("Deflation", es.Deflation, lambda: {"power": 2.0, "shift": 1.0}, then=use_option)
row("FullSpectrum", es.FullSpectrum, lambda: {"margin": 1e-8}, then=use_option)
row("LeadingSpectrum", es.LeadingSpectrum,
    lambda: {"tol": 1e-10, "margin": 1e-8, "max_dim": 8, "max_restarts": 5}, then=use_option)
row("Adaptive", es.Adaptive,
    lambda: {"batch": 8, "target_unseen": 1.0, "max_seeds": 32, "max_time": 5.0,
             "strategies": ("perturb", "between"), "spread": 0.5,
             "deflation": es.Deflation()},
    then=use_option)
row("find_fixed_points", es.find_fixed_points,
    lambda: {"system": ac(), "u": np.array(U_A), "seeds": es.Uniform(8),
             "solver": es.Newton(), "adaptive": es.Adaptive(batch=8, max_seeds=24),
             "dedup_tol": 1e-6, "n_modes": 2, "spectrum": es.FullSpectrum(), "rng": 0,
             "workers": 1, "progress": _progress},
    positional=("system", "u", "seeds"), aliases={"seeds": ("n",)})
row("find_attractors", es.find_attractors,
    lambda: {"system": ac(), "u": np.array(U_A), "seeds": es.Uniform(8), "transient": 100,
             "window": 8, "tol": 1e-6, "refine": True, "rng": 0},
    positional=("system", "u", "seeds"), aliases={"seeds": ("n",)})
row("attractors_from_fixed_points", es.attractors_from_fixed_points,
    lambda: {"fixed_points": fixed_points(), "tol": 1e-6}, positional=("fixed_points",))
row("classify_states", es.classify_states,
    lambda: {"system": ac(), "states": rand(4, 2), "attractors": attractors(),
             "u": np.array(U_A), "n_steps": 50, "max_steps": 500, "tol": 1e-6},
    positional=("system", "states", "attractors"))
row("saddle_connections", es.saddle_connections,
    lambda: {"system": ac(), "fixed_points": fixed_points(), "attractors": attractors(),
             "eps": 1e-4, "max_steps": 2000},
    positional=("system", "fixed_points", "attractors"))
row("excitable_network", es.excitable_network,
    lambda: {"system": ac(), "attractors": attractors().points,
             "trajectory": es.simulate(ac(), held(30), np.zeros(2)), "inputs": held(30),
             "directions": np.array([[1.0, 0.0], [0.0, -1.0]]), "baseline": np.array(U_A),
             "pulse_steps": 1, "max_amplitude": 1.0, "tol": 0.02, "n_grid": 4,
             "settle_steps": 50, "seeds": es.Uniform(8), "rng": 0, "progress": _progress},
    positional=("system",), aliases={"seeds": ("n",)})
row("pulse_fates", es.pulse_fates,
    lambda: {"system": ac(), "nodes": attractors(), "starts": [0, 1],
             "directions": np.array([[0.0, 1.0], [0.0, -1.0]]), "amplitudes": [0.5, 2.0],
             "baseline": np.array(U_A), "pulse_steps": 1, "settle_steps": 50,
             "max_steps": 500},
    positional=("system", "nodes", "starts", "directions", "amplitudes"))
row("seed_states", es.seed_states,
    lambda: {"system": ac(), "n_seeds": 5, "trajectory": rand(10, 2), "noise": 0.05,
             "box": (-1.0, 1.0), "rng": 0},
    positional=("system", "n_seeds"))
row("seed_states (box)", es.seed_states,
    lambda: {"system": ac(), "n_seeds": 5, "box": (-1.0, 1.0), "rng": 0},
    positional=("system", "n_seeds"))
row("Uniform", es.Uniform, lambda: {"n": 5, "box": (-1.0, 1.0)}, then=use_seeds)
row("AroundTrajectory", es.AroundTrajectory,
    lambda: {"trajectory": rand(10, 2), "n": 5, "noise": 0.05}, then=use_seeds)
row("Sampled", es.Sampled, lambda: {"sampler": _sample, "n": 5}, then=use_seeds)

# sweep, io --------------------------------------------------------------------------------------
row("Grid", es.Grid, lambda: {"axes": {"a": [1.0, 2.0], "b": [0.5]}}, positional=("axes",),
    extra={"axes": [{}, {"a": []}, {"": [1]}, {"a": [1, 1]}, {"a": [[1, 2]]},
                    {"a": [float("nan")]}, {1: [1]}, {"a": "abc"}, {"a b": [1]},
                    {"a": [None]}, {"a": np.zeros((2, 2))}]},
    then=use_grid)
row("sweep", es.sweep,
    lambda: {"analysis": _point, "grid": {"a": [1.0, 2.0], "b": [0.5]}, "client": "inprocess",
             "store": scratch(), "rng": 0, "chunk_size": 1, "time_limit": None,
             "overwrite": False, "metadata": {"x": 1}, "progress": _progress, "timeout": 1.0},
    positional=("analysis", "grid"), aliases={"grid": ("axes",)})
row("sweep (time limit)", es.sweep,  # each point in a worker process: the analysis importable
    lambda: {"analysis": functools.partial(
        sweep_point, {"system": {"n_state": 3, "n_input": 1}, "input": {"n_steps": 20},
                      "analysis": {"kind": "lyapunov"}}),
        "grid": {"leak": [0.5]}, "client": "inprocess", "rng": 0, "time_limit": 30.0},
    positional=("analysis", "grid"), examples=4,
    unfuzzed=dict.fromkeys(("analysis", "grid", "client", "rng"), "the row above"))
row("open_sweep", es.open_sweep, lambda: {"store": sweep_store()}, positional=("store",))
row("save", es.save,
    lambda: {"obj": esn(), "path": scratch() + ".npz", "overwrite": False,
             "metadata": {"a": [1, "b"]}},
    positional=("obj", "path"))
row("load", es.load, lambda: {"path": model_file()}, positional=("path",))
row("read_metadata", es.read_metadata, lambda: {"path": model_file()}, positional=("path",))
row("save_result", es.save_result,
    lambda: {"result": fixed_points(), "path": scratch() + ".npz",
             "extra": {"inputs": np.zeros((3, 2))}, "metadata": {"a": 1}, "overwrite": False},
    positional=("result", "path"))
row("save_results", es.save_results,
    lambda: {"path": scratch() + ".npz", "arrays": {"a": np.zeros(3), "b": np.arange(2)},
             "metadata": {"a": 1}, "overwrite": False},
    positional=("path", "arrays"))
row("load_results", es.load_results, lambda: {"path": results_file()}, positional=("path",))

# tasks: the flip-flop study ---------------------------------------------------------------------
row("FlipFlopConfig", es.FlipFlopConfig,
    lambda: {"n_bits": 2, "n_state": 10, "spectral_radius": 0.2, "density": 1.0,
             "input_scale": 1.0, "feedback_scale": 1.0, "bias_scale": 0.0, "leak": 1.0,
             "pulse_prob": 0.02, "pulse_amplitude": 1.0, "train_steps": 600,
             "test_steps": 300, "settle": 5, "training": es.Ridge(washout=50)},
    then=use_config)
row("Ridge", es.Ridge,
    lambda: {"washout": 20, "regularization": 1e-6, "noise": 0.01,
             "output_activation": "tanh"},
    then=use_training)
row("Force", es.Force, lambda: {"washout": 20, "delta": 1.0}, then=use_training)
row("BPTT", es.BPTT,
    lambda: {"epochs": 2, "batch_size": 2, "trial_steps": 16, "pulse_prob": 0.1, "lr": 1e-2,
             "output_activation": "tanh"},
    then=use_training)
row("CompareConfig", es.CompareConfig,
    lambda: {"task": ff_config(), "trainings": (es.Ridge(washout=50),), "amplitudes": (0.5,),
             "echo_steps": 50, "echo_samples": 8, "n_fixed_point_seeds": 16})
row("compare_training", es.compare_training,
    lambda: {"config": es.CompareConfig(task=ff_config(), trainings=(es.Ridge(washout=50),),
                                        amplitudes=(0.5,), echo_steps=50, echo_samples=8,
                                        n_fixed_point_seeds=8),
             "n_seeds": 1, "rng": 0, "progress": _progress},
    positional=("config",), examples=5)
row("flipflop", es.flipflop,
    lambda: {"n_bits": 2, "n_steps": 30, "pulse_prob": 0.1, "pulse_amplitude": 1.0,
             "pulse_steps": 1, "initial_pulse": True, "rng": 0},
    positional=("n_bits", "n_steps"))
row("pulse_onsets", es.pulse_onsets, lambda: {"inputs": es.flipflop(2, 30, rng=0)[0]},
    positional=("inputs",))
row("flipflop_score", es.flipflop_score,
    lambda: {"outputs": rand(30, 2), "targets": es.flipflop(2, 30, rng=0)[1],
             "inputs": es.flipflop(2, 30, rng=0)[0], "settle": 3},
    positional=("outputs", "targets", "inputs"))
row("error_episodes", es.error_episodes,
    lambda: {"wrong_mask": rand(20, 2) > 0.3}, positional=("wrong_mask",))
row("flipflop_network", es.flipflop_network, lambda: {"config": ff_config(), "rng": 0},
    positional=("config", "rng"), then=use_map)
row("train_flipflop", es.train_flipflop,
    lambda: {"config": ff_config(), "esn": es.flipflop_network(ff_config(), 0),
             "inputs": es.flipflop(2, 100, rng=0)[0], "targets": es.flipflop(2, 100, rng=0)[1],
             "rng": 0, "progress": _progress},
    positional=("config", "esn", "inputs", "targets"), then=use_trained)
row("evaluate_flipflop", es.evaluate_flipflop,
    lambda: {"config": ff_config(), "trained": ff_result().trained,
             "inputs": es.flipflop(2, 50, rng=1)[0], "targets": es.flipflop(2, 50, rng=1)[1],
             "seconds": {"train": 1.0}, "progress": _progress},
    positional=("config", "trained", "inputs", "targets"))
row("flipflop_job", es.flipflop_job, lambda: {"config": ff_config(), "rng": 0,
                                              "progress": _progress},
    positional=("config",), examples=8)
row("analyse_flipflop", es.analyse_flipflop,
    lambda: {"result": ff_result(), "n_seeds": 8, "rng": 0, "progress": _progress},
    positional=("result",), examples=6)
row("explain_errors", es.explain_errors,
    lambda: {"trained": ff_result().trained, "inputs": ff_result().inputs,
             "targets": ff_result().targets, "network": ff_explanation().network,
             "settle": 5, "decode_margin": 0.5, "x0": np.zeros(10), "rng": 0},
    positional=("trained", "inputs", "targets", "network"))
row("flip_transitions", es.flip_transitions,
    lambda: {"explanation": ff_explanation(), "trained": ff_result().trained,
             "amplitude": 1.0},
    positional=("explanation", "trained"))
row("config_dict", es.config_dict, lambda: {"config": ff_config()}, positional=("config",))
row("ena_summary", es.ena_summary,
    lambda: {"net": ff_explanation().network, "task_states": ff_explanation().task_states,
             "decoded": ff_explanation().decoded, "pulse_amplitude": 1.0},
    positional=("net", "task_states", "decoded", "pulse_amplitude"))

# tasks: any task as an automaton ---------------------------------------------------------------
row("Task", es.Task,
    lambda: {"name": "toggle", "outputs": [[-1.0], [1.0]], "events": [[1.0]],
             "transitions": [[1], [0]], "initial": 0, "pulse_steps": 1, "event_prob": 0.1,
             "state_names": ("a", "b"), "event_names": ("e",), "decode_radius": 0.5},
    positional=("name", "outputs", "events", "transitions"), then=use_task)
row("FlipFlopTask", es.FlipFlopTask,
    lambda: {"name": "ff", "outputs": [[-1.0], [1.0]], "events": [[1.0], [-1.0]],
             "transitions": [[1, 0], [1, 0]], "initial": None, "pulse_steps": 1,
             "event_prob": 0.1, "state_names": ("-", "+"), "event_names": ("+0", "-0"),
             "decode_radius": 0.5, "initial_pulse": True},
    positional=("name", "outputs", "events", "transitions"), then=use_task)
row("counter_task", es.counter_task,
    lambda: {"k": 3, "code": "one-hot", "amplitude": 1.0, "radius": 0.9, "event_prob": 0.1,
             "pulse_steps": 1}, positional=("k",), then=use_task)
row("set_memory_task", es.set_memory_task,
    lambda: {"k": 3, "amplitude": 1.0, "event_prob": 0.1, "pulse_steps": 1},
    positional=("k",), then=use_task)
row("parity_task", es.parity_task,
    lambda: {"amplitude": 1.0, "event_prob": 0.1, "pulse_steps": 1}, then=use_task)
row("flipflop_task", es.flipflop_task,
    lambda: {"n_bits": 2, "amplitude": 1.0, "pulse_prob": 0.1, "pulse_steps": 1,
             "initial_pulse": True}, positional=("n_bits",), then=use_task)
row("TaskConfig", es.TaskConfig,
    lambda: {"task": es.counter_task(3), "n_state": 10, "spectral_radius": 0.2,
             "density": 1.0, "input_scale": 1.0, "feedback_scale": 1.0, "bias_scale": 0.0,
             "leak": 1.0, "train_steps": 600, "test_steps": 300, "settle": 5,
             "training": es.Ridge(washout=50)})
row("task_esn", es.task_esn, lambda: {"config": task_config(), "rng": 0},
    positional=("config", "rng"), then=use_map)
row("task_job", es.task_job, lambda: {"config": task_config(), "rng": 0,
                                      "progress": _progress},
    positional=("config",), examples=8)
row("analyse_task", es.analyse_task,
    lambda: {"result": task_result(), "n_seeds": 8, "amplitudes": [1.0], "echo_steps": 50,
             "echo_samples": 8, "rng": 0, "progress": _progress},
    positional=("result",), examples=6)
row("prime", es.prime,
    lambda: {"trained": task_result().trained, "task": task_config().task, "state": 1,
             "steps": 20}, positional=("trained", "task", "state"))
row("task_network", es.task_network,
    lambda: {"trained": task_result().trained, "task": task_config().task, "network": None,
             "trajectory": None, "inputs": None, "rng": 0, "seeds": es.Uniform(16),
             "tol": 0.05},
    positional=("trained", "task", "network"))
row("task_flips", es.task_flips,
    lambda: {"read": es.task_network(task_result().trained, task_config().task, rng=0,
                                     seeds=es.Uniform(16))},
    positional=("read",))
row("explain_task_errors", es.explain_task_errors,
    lambda: {"trained": task_result().trained, "task": task_config().task,
             "run": task_result().run, "network": None, "settle": 5, "x0": None, "rng": 0,
             "seeds": es.Uniform(16)},
    positional=("trained", "task", "run", "network"))

# -- what needs no row of its own ----------------------------------------------------------------

PRODUCED_BY = {
    # results: built by the function that returns them (the good call of its row)
    "DataEchoIndex": "echo_index_from_trajectories",
    "NonautonomousNetwork": "nonautonomous_network", "PulseEdge": "nonautonomous_network",
    "AttractorContinuation": "continue_attractors", "ContinuationEvent": "continue_attractors",
    "ContractionCertificate": "contraction_certificate", "ESPConditions": "esp_conditions",
    "LargeAmplitude": "large_amplitude_threshold", "UASPCertificate": "uasp_certificate",
    "AmplitudeSweep": "echo_index_vs_amplitude", "Basins": "basins_2d",
    "BoundarySolution": "boundary_solution", "EchoIndex": "echo_index",
    "EchoIndices": "echo_indices", "LyapunovSpectrum": "lyapunov_spectrum",
    "SwitchingBoundary": "switching_boundary", "SwitchingScan": "switching_scan",
    "Attractors": "find_attractors", "Edge": "excitable_network",
    "ExcitableNetwork": "excitable_network", "Transition": "excitable_network",
    "Completeness": "find_fixed_points", "FixedPoints": "find_fixed_points",
    "SaddleConnections": "saddle_connections", "ErrorEpisode": "error_episodes",
    "ErrorExplanation": "explain_errors", "Explanation": "explain_errors",
    "Flip": "flip_transitions", "FlipFlopAnalysis": "analyse_flipflop",
    "FlipFlopResult": "flipflop_job", "FlipFlopScore": "flipflop_score",
    "TrainingComparison": "compare_training", "TrainingRun": "compare_training",
    "TaskRun": "Task", "TaskScore": "Task", "TaskNetwork": "task_network",
    "TaskTransition": "task_network", "TaskErrors": "explain_task_errors",
    "TaskResult": "task_job", "TaskAnalysis": "analyse_task",
    "NoiseRobustness": "noise_robustness", "RobustnessCurve": "robustness_curve",
    # abstract bases: their subclasses have rows
    "DrivenMap": "ESN", "Record": "All", "Schedule": "Forward", "Seeds": "Uniform",
    "Training": "Ridge", "NoiseModel": "InputNoise",
    # exceptions: raised by the library, checked by every row
    "EchoscopeError": "simulate", "FileFormatError": "load",
    "NonFiniteStateError": "simulate", "SweepError": "sweep",
}


# -- what is left out (see "values left out of a row" above) --------------------------------------

SLOW_SIZES = {
    ("train_bptt", "epochs"), ("train_rnn", "epochs"), ("continue_attractors", "transient"),
    ("find_attractors", "transient"), ("classify_states", "n_steps"),
    ("classify_states", "max_steps"), ("excitable_network", "settle_steps"),
    ("pulse_fates", "settle_steps"), ("pulse_fates", "max_steps"),
    ("saddle_connections", "max_steps"), ("BPTT", "epochs"),
    ("noise_robustness", "n_steps"), ("robustness_curve", "n_steps"),
    ("task_robustness", "n_steps"),
}
"""(row, parameter) pairs whose huge integers only cost time: left out."""

LEFT_OUT = {
    # (row, parameter): (which values, where the bug is) -- each in the fuzz report
    ("sweep", "time_limit"): (lambda v: isinstance(v, numbers.Real) and v > 0,
                              "none: the row below runs limits (an importable analysis)"),
    ("compare_training", "config"): (lambda v: v is None, "none: the defaults take minutes"),
    ("flipflop_job", "config"): (lambda v: v is None, "none: the defaults take a while"),
    ("task_job", "config"): (lambda v: v is None, "none: the defaults take a while"),
}


def _apply_exclusions() -> None:
    by_name = {row.name: row for row in ROWS}
    for name, param in SLOW_SIZES:
        by_name[name].exclude[param] = huge_int
    for (name, param), (test, where) in LEFT_OUT.items():
        if test is EVERYTHING:
            by_name[name].unfuzzed[param] = f"left out until {where} validates it"
            continue
        old = by_name[name].exclude.get(param)
        by_name[name].exclude[param] = test if old is None else either(old, test)


_apply_exclusions()
