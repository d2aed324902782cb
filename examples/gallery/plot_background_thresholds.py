"""
Thresholds that move: a flip-flop under a background input
==========================================================

Under a time-varying background (a slow signal on which the pulses arrive) the attractors of a
network are local point attractors, the stable responses that ``echo_index`` finds under that
input, and an excitability threshold depends on when the pulse comes.
``nonautonomous_network(system, background)`` builds this network: its nodes are the
responses, and for each response, direction and pulse time the threshold comes from batched
bisection against the boundary between the responses.

A 3-bit flip-flop echo state network (100 units, ridge regression with feedback) is trained,
then a slow sine of amplitude B (period 100 steps, one phase per channel) is added to every
input channel. As B grows the thresholds start to follow the background's phase, responses
merge, and once the echo index is 1 no pulse can switch anything: the memory is gone. See
:doc:`/reading/nonautonomous`.

This example makes the README's figure ``docs/background-thresholds.png``
(``python docs/readme_figures.py``).
"""

import numpy as np

from echoscope import Uniform, nonautonomous_network
from echoscope.plotting import plot_threshold_sweep
from echoscope.tasks.flipflop_study import FlipFlopConfig, flipflop_job

SIZES = (0.0, 0.1, 0.2, 0.25, 0.3, 0.4)  # background amplitudes B
N_STEPS = 300  # background length: onsets over its second period, then time to settle
PERIOD = 100
ONSETS = np.arange(75, 175, 5)  # one period of the background


def background(size: float, n_bits: int) -> np.ndarray:
    """B sin(2 pi k / P + 2 pi j / n_bits) on channel j."""
    k = np.arange(N_STEPS)[:, None]
    return size * np.sin(2 * np.pi * k / PERIOD + 2 * np.pi * np.arange(n_bits) / n_bits)


def task_thresholds(trained, net) -> np.ndarray:
    """The thresholds of the task's switching pulses: from each response, the pulse against
    each bit it holds (its readout's sign over the final window), at every onset."""
    bits = np.sign(trained.output(net.echo.responses[:, -1]))  # (responses, n_bits)
    against = 2 * np.arange(bits.shape[1]) + (bits > 0)  # -u_j (2j + 1) for a bit held at +
    return np.take_along_axis(net.thresholds, against[:, :, None], axis=1)


# %%
# Train the network
# -----------------

config = FlipFlopConfig(n_state=100, train_steps=5000, test_steps=1000)
result = flipflop_job(config, rng=0)
system = result.trained.closed_loop()
print(f"flip-flop: {config.n_bits} bits, {config.n_state} units, test accuracy "
      f"{result.score.accuracy:.3f}")

# %%
# Thresholds against the pulse time, for each background
# ------------------------------------------------------
# 20 onsets over one period of the background, every response and every pulse direction.
# "task pulses failing": the pulses the task would send (against the bit a response holds,
# amplitude 1) whose threshold is above 1.

networks = [nonautonomous_network(system, background(size, config.n_bits), times=ONSETS,
                                  max_amplitude=2.0, tol=1e-2, n_grid=8, seeds=Uniform(128),
                                  rng=0)
            for size in SIZES]
amplitude = config.pulse_amplitude
print(f"{'B':>5} {'echo index':>10} {'switches':>9} {'min':>6} {'median':>7} {'max':>6}"
      f" {'task pulses failing':>20}")
for size, net in zip(SIZES, networks):
    finite = net.thresholds[np.isfinite(net.thresholds)]
    cells = (f"{finite.min():6.3f} {np.median(finite):7.3f} {finite.max():6.3f}"
             if finite.size else f"{'-':>6} {'-':>7} {'-':>6}")
    task = task_thresholds(result.trained, net)
    failing = f"{np.mean(task > amplitude):.0%} of {task.size}"
    print(f"{size:5.2f} {net.echo.index:10d} {finite.size:9d} {cells} {failing:>20}")
fig = plot_threshold_sweep(networks, SIZES, amplitude=amplitude)
