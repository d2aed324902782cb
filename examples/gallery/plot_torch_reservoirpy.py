"""
PyTorch and reservoirpy models
==============================

Every analysis in echoscope works on a *driven map* ``x[k] = G(u[k], x[k-1])`` with batched
states and a Jacobian. ``from_torch`` turns a one-layer ``torch.nn.RNN``, ``GRU`` or ``LSTM``
(or any cell ``cell(input, hx) -> h``) into one, with Jacobians by vectorised autograd, on a
float64 copy (your module is left untouched). ``from_reservoirpy`` reads a reservoirpy 0.4
``Reservoir`` or ``Reservoir >> Ridge`` model, with feedback, into an echo state network that
gives the same states.

This needs the extras ``torch`` and ``reservoirpy`` (both in ``echoscope[all]``).
"""

import numpy as np
import torch
from reservoirpy.nodes import Reservoir, Ridge

import echoscope as es
from echoscope.plotting import plot_fixed_points

# %%
# A PyTorch RNN trained on the flip-flop
# --------------------------------------
# fixed-point-finder's example network (Golub & Sussillo 2018): a 16-unit tanh ``nn.RNN``
# trained by backpropagation through time on 3-bit flip-flop trials. ``train_rnn`` trains it
# (Adam, float64) and returns the torch module with its readout; ``trained.map`` is the cell
# as a driven map.

rng = np.random.default_rng(0)
trials = [es.tasks.flipflop(3, 64, pulse_prob=0.1, rng=rng) for _ in range(128)]
trained = es.train_rnn("rnn", [u for u, _ in trials], [y for _, y in trials], n_state=16,
                       epochs=600, batch_size=32, lr=1e-2, rng=1)
u, y = es.tasks.flipflop(3, 2000, pulse_prob=0.05, rng=2)
states, z = es.run_trained(trained, u)
print(f"test accuracy {es.flipflop_score(z, y, u).accuracy:.2%}")

seeds = es.AroundTrajectory(states, 512, noise=0.5)
fps = es.find_fixed_points(trained.map, np.zeros(3), seeds, adaptive=None, rng=3)
print(fps.summary())
fig = plot_fixed_points(fps, states, title="fixed points of a trained torch.nn.RNN (16 units)")

# %%
# Any torch module
# ----------------
# An untrained ``nn.GRU`` works the same way: its Jacobian at a state is exact (autograd),
# not a finite difference.

gru = es.from_torch(torch.nn.GRU(2, 8))
x = np.zeros(8)
print(gru, "Jacobian", gru.jacobian(np.zeros(2), x).shape)

# %%
# A reservoirpy model
# -------------------
# A reservoir and a ridge readout, trained by reservoirpy to predict a sine one step ahead,
# become a ``TrainedESN``. Its states agree with reservoirpy's own run to rounding, and the
# reservoir can be analysed like any echoscope network: here its conditional Lyapunov
# exponents under the sine (negative: it forgets its initial state).

t = np.linspace(0, 20 * np.pi, 2000)[:, None]
reservoir = Reservoir(100, lr=0.5, sr=0.9, seed=4)
model = reservoir >> Ridge(ridge=1e-6)
model.fit(np.sin(t[:-1]), np.sin(t[1:]), warmup=100)
ours = es.from_reservoirpy(model)
reservoir.reset()  # back to the zero state
theirs = reservoir.run(np.sin(t[:300]))
mine = es.simulate(ours.esn, np.sin(t[:300]), np.zeros(100))
print(type(ours).__name__, "largest state difference to reservoirpy:",
      float(np.abs(mine - theirs).max()))
lyap = es.lyapunov_spectrum(ours.esn, np.sin(t[:1000]), np.zeros(100), n_exponents=3,
                            transient=200)
print("the three largest conditional Lyapunov exponents:", np.round(lyap.exponents, 4))
