"""One self-contained HTML page about a trained network (``echoscope report MODEL``): the
network, its test performance, fixed points, the excitable network attractor with every edge,
the explained errors, the echo index against the input amplitude and the certificates, each
with a sentence saying what it means. Figures are embedded as PNG data, so the page needs no
network and no other file."""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import os
from collections.abc import Callable

import numpy as np

from .._result import Result
from .._validation import as_rng, check_callable, check_int, param_error
from .._version import __version__
from ..analysis.certificates import esp_conditions, large_amplitude_threshold, uasp_certificate
from ..analysis.seeds import Uniform
from ..analysis.transitions import echo_index_vs_amplitude
from ..systems.esn import TrainedESN
from .echo import plot_amplitude_sweep
from .ena import direction_names, edge_color, plot_ena
from .errors import plot_explained_errors
from .fixed_points import plot_fixed_points
from .outputs import plot_outputs

__all__ = ["Report", "ReportSection", "model_report"]

AMPLITUDES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # the sweep's factors of the input
ECHO_STEPS = 1000  # steps of the test input driven in the echo-index sweep
UASP_POINTS = 8  # stable fixed points certified, at most


@dataclasses.dataclass(frozen=True, eq=False)
class ReportSection:
    """One section of a ``Report``.

    Attributes
    ----------
    title : str
        The heading.
    meaning : str
        What the section's numbers mean, in a sentence or two, for a reader new to them.
    findings : tuple of str
        What was found, one sentence each.
    table : tuple
        ``(header, rows)``: column names and rows of cells (str), or ``()`` for none.
    figures : tuple of bytes
        PNG images.
    """

    title: str
    meaning: str
    findings: tuple
    table: tuple = ()
    figures: tuple = ()


@dataclasses.dataclass(frozen=True, eq=False)
class Report(Result):
    """A report on a network: sections in order, written as one HTML file by ``write``.

    Attributes
    ----------
    title : str
        The page's title.
    sections : tuple of ReportSection
        The sections, in order.
    """

    title: str
    sections: tuple

    def summary(self) -> dict:
        """JSON-ready: the title, and each section's title and findings.

        Returns
        -------
        dict
            ``title``, ``sections`` (a list of ``{"title", "findings", "n_figures"}``).
        """
        return {"title": self.title,
                "sections": [{"title": s.title, "findings": list(s.findings),
                              "n_figures": len(s.figures)} for s in self.sections]}

    def arrays(self) -> dict:
        """No arrays: a report is text and images.

        Returns
        -------
        dict
            Empty.
        """
        return {}

    def __repr__(self) -> str:
        return (f"Report({self.title!r}, {len(self.sections)} sections, "
                f"{sum(len(s.figures) for s in self.sections)} figures)")

    @property
    def html(self) -> str:
        """The page: one HTML document, figures embedded as PNG data, no script."""
        esc = html.escape
        parts = [
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(self.title)}</title>", f"<style>{_STYLE}</style>", "</head>",
            "<body>", f"<h1>{esc(self.title)}</h1>",
            f'<p class="by">Written by echoscope {esc(__version__)}.</p>',
            '<nav><ol>' + "".join(f'<li><a href="#s{i}">{esc(s.title)}</a></li>'
                                  for i, s in enumerate(self.sections)) + "</ol></nav>",
        ]
        for i, s in enumerate(self.sections):
            parts.append(f'<section id="s{i}"><h2>{esc(s.title)}</h2>')
            parts.append(f'<p class="meaning">{esc(s.meaning)}</p>')
            if s.findings:
                parts.append("<ul>" + "".join(f"<li>{esc(f)}</li>" for f in s.findings)
                             + "</ul>")
            if s.table:
                header, rows = s.table
                parts.append("<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>"
                                                          for h in header)
                             + "</tr></thead><tbody>")
                parts += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                          for row in rows]
                parts.append("</tbody></table>")
            for j, png in enumerate(s.figures):
                data = base64.b64encode(png).decode("ascii")
                parts.append(f'<figure><img src="data:image/png;base64,{data}" '
                             f'alt="{esc(s.title)}, figure {j + 1}"></figure>')
            parts.append("</section>")
        parts += ["</body>", "</html>"]
        return "\n".join(parts) + "\n"

    def write(self, path, *, overwrite: bool = False) -> None:
        """Write the page to ``path`` (refused if a file is there, unless ``overwrite``).

        Parameters
        ----------
        path : str or os.PathLike
            The HTML file.
        overwrite : bool, default False
            Replace a file already at ``path``.
        """
        path = os.fspath(path)
        if not isinstance(overwrite, bool):
            raise param_error("Report.write", "overwrite", "True or False", overwrite,
                              kind=TypeError)
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"Report.write: {path} exists; pass overwrite=True to "
                                  "replace it.")
        tmp = f"{path}.partial"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(self.html)
        os.replace(tmp, path)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ccc; }
.by { color: #666; } .meaning { background: #f3f6fa; padding: .6rem .8rem;
border-left: 3px solid #4a78b0; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
th { background: #eee; } img { max-width: 100%; height: auto; }
figure { margin: 1rem 0; }
"""


def model_report(model, *, metadata: dict | None = None, n_seeds: int = 256,
                 amplitudes=AMPLITUDES, rng=None, progress: Callable | None = None) -> Report:
    """Analyse a trained network and gather what it does and how into a ``Report``.

    For a flip-flop network (``metadata`` of ``echoscope flipflop``'s model file, with its
    ``"config"``) the report tests the network on a fresh test sequence of the task and
    explains its errors; for any other trained network it analyses the closed loop at zero
    input. Either way: the network, its fixed points and saddles, the excitable network
    attractor (every edge, its threshold and direction), the echo index of the driven closed
    loop against the amplitude of the input, and the certificates of the echo state property
    (the matrix conditions, the amplitude above which it is proved along each input, the
    radius of input that every stable point survives).

    Parameters
    ----------
    model : TrainedESN
        The network (``echoscope.io.load`` of a saved model).
    metadata : dict, optional
        The model file's metadata (``read_metadata(path)["metadata"]``): with
        ``{"task": "flipflop", "config": {...}}`` the flip-flop's test and error explanation
        run too.
    n_seeds : int >= 2, default 256
        Seeds of the fixed-point search.
    amplitudes : sequence of float > 0, default (0.125, ..., 16)
        Factors of the input in the echo-index sweep.
    rng : None, int, SeedSequence or Generator
        Split between the test sequence, the seeds and the sweep.
    progress : callable ``(stage, done, total)``, optional
        Called as ``("report", k, 4)`` when the k-th of its stages (the test, the fixed points
        and the excitable network, the echo index, the certificates) ends.

    Returns
    -------
    Report
    """
    owner = "model_report"
    if not isinstance(model, TrainedESN):
        raise param_error(owner, "model", "a TrainedESN (a model trained by echoscope)", model,
                          kind=TypeError)
    if metadata is not None and not isinstance(metadata, dict):
        raise param_error(owner, "metadata", "a dict or None", metadata, kind=TypeError)
    n_seeds = check_int(owner, "n_seeds", n_seeds, low=2, high=1_000_000)
    amps = np.asarray(amplitudes, dtype=float) if not isinstance(amplitudes, (str, bytes)) \
        else np.array([np.nan])
    if amps.ndim != 1 or amps.size == 0 or amps.size > 64 or \
            not np.all(np.isfinite(amps) & (amps > 0)):
        raise param_error(owner, "amplitudes", "1 to 64 finite amplitudes > 0", amplitudes)
    progress = check_callable(owner, "progress", progress, "(stage, done, total)")
    config = _flipflop_config(owner, model, metadata or {})
    test_rng, seed_rng, sweep_rng = as_rng(owner, rng).spawn(3)
    stages = ("test", "fixed points", "echo index", "certificates")
    done = {}

    def stage(name):
        done[name] = True
        if progress is not None:
            progress("report", len(done), len(stages))

    sections = [_network_section(model, config)]
    if config is not None:
        from ..tasks.flipflop_study import analyse_flipflop, evaluate_flipflop, flipflop

        inputs, targets = flipflop(config.n_bits, config.test_steps, pulse_prob=config.pulse_prob,
                                   pulse_amplitude=config.pulse_amplitude, rng=test_rng)
        result = evaluate_flipflop(config, model, inputs, targets)
        sections.append(_test_section(result))
        stage("test")
        analysis = analyse_flipflop(result, n_seeds=n_seeds, rng=seed_rng)
        fps, connections, net = analysis.fixed_points, analysis.connections, \
            analysis.explanation.network
        sections.append(_fixed_points_section(fps, connections, net, _trajectory(model, inputs)))
        sections.append(_ena_section(net, config.pulse_amplitude, analysis.explanation))
        sections.append(_errors_section(analysis.explanation, targets))
        drive = inputs[:ECHO_STEPS]
        amplitude = config.pulse_amplitude
    else:
        stage("test")
        fps, connections, net, drive = _generic_analysis(model, n_seeds, seed_rng)
        sections.append(_fixed_points_section(fps, connections, net, None))
        sections.append(_ena_section(net, None, None))
        amplitude = None
    stage("fixed points")
    sections.append(_echo_section(model, drive, amps, sweep_rng))
    stage("echo index")
    sections.append(_certificate_section(model, net, amplitude))
    stage("certificates")
    title = ("flip-flop network" if config is not None else "trained network") + \
        f": {model.esn.n_state} units"
    return Report(title, tuple(sections))


def _flipflop_config(owner, model, metadata):
    """The flip-flop settings in the metadata, checked against the model, or None."""
    if metadata.get("task") != "flipflop":
        return None
    from ..tasks.flipflop_study import FlipFlopConfig

    given = metadata.get("config")
    keys = ("n_bits", "pulse_prob", "pulse_amplitude", "test_steps", "settle")
    if not isinstance(given, dict):
        raise param_error(owner, "metadata", "a flip-flop model's metadata with a 'config' "
                          "dict", metadata)
    try:
        config = FlipFlopConfig(**{k: given[k] for k in keys if k in given},
                                n_state=model.esn.n_state)
    except (TypeError, ValueError) as err:
        raise ValueError(f"The 'metadata' parameter of {owner} holds a flip-flop config that "
                         f"is not valid: {err}") from None
    if config.n_bits != model.esn.n_input or config.n_bits != model.n_output:
        raise ValueError(f"The 'metadata' parameter of {owner} describes a {config.n_bits}-bit "
                         f"flip-flop; the model has {model.esn.n_input} inputs and "
                         f"{model.n_output} outputs.")
    return config


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _trajectory(model, inputs):
    from ..training.run import run_trained

    return run_trained(model, inputs[:2000])[0]


def _network_section(model, config) -> ReportSection:
    esn = model.esn
    from ..systems.esn import spectral_radius

    radius = spectral_radius(esn.w)
    feedback = esn.w_fb is not None and np.any(esn.w_fb)
    rows = [("units", str(esn.n_state)), ("inputs", str(esn.n_input)),
            ("outputs", str(model.n_output)), ("leak", f"{esn.leak:g}"),
            ("spectral radius of W", f"{radius:.4g}"),
            ("activation", str(getattr(esn.activation, "name", esn.activation))),
            ("output feedback", "yes" if feedback else "no"),
            ("readout", str(getattr(model.readout.activation, "name",
                                    model.readout.activation)))]
    findings = [f"x(t+1) = (1 - a) x(t) + a phi(W x(t) + W_in u(t+1) "
                f"{'+ W_fb y(t) ' if feedback else ''}+ b), y = g(W_out x + b_out), with "
                f"{esn.n_state} units."]
    if config is not None:
        findings.append(f"Trained on the {config.n_bits}-bit flip-flop: pulses of amplitude "
                        f"{config.pulse_amplitude:g} with probability {config.pulse_prob:g} per "
                        "step and channel set the matching output to the pulse's sign.")
    return ReportSection(
        "The network",
        "An echo state network: a fixed random recurrent reservoir driven by the input, and a "
        "trained linear readout whose output is fed back into the reservoir, so that in closed "
        "loop the network is an autonomous map driven only by its input.",
        tuple(findings), (("property", "value"), tuple(rows)))


def _test_section(result) -> ReportSection:
    score = result.score
    steps = result.inputs.shape[0]
    findings = (f"Per-bit sign accuracy {100 * score.accuracy:.2f}% over {steps} test steps "
                f"(bits: {', '.join(f'{100 * a:.2f}%' for a in score.per_bit)}), NRMSE "
                f"{result.nrmse:.4f}.",
                f"{len(score.episodes)} error episodes (stretches where an output has the wrong "
                "sign)." if score.episodes else "No error episode: every output kept its sign.")
    fig = plot_outputs(result.targets[:2000], result.outputs[:2000],
                       episodes=[e for e in score.episodes if e.end <= 2000],
                       title="the first 2,000 test steps: targets (dashed) and outputs")
    return ReportSection(
        "Test performance",
        "The trained network runs in closed loop on a fresh pulse sequence it has never seen; "
        "an output is right when its sign matches the last pulse on its channel, outside a "
        "few settling steps after each pulse.",
        findings, figures=(_png(fig),))


def _generic_analysis(model, n_seeds, rng):
    from ..analysis.attractors import saddle_connections
    from ..analysis.ena import excitable_network
    from ..analysis.fixed_points import find_fixed_points

    loop = model.closed_loop()
    seed_rng, ena_rng, drive_rng = rng.spawn(3)
    fps = find_fixed_points(loop, None, Uniform(n_seeds), rng=seed_rng)
    connections = saddle_connections(loop, fps)
    net = excitable_network(loop, seeds=Uniform(n_seeds), rng=ena_rng)
    drive = np.random.default_rng(drive_rng).uniform(-1.0, 1.0, (ECHO_STEPS, loop.n_input))
    return fps, connections, net, drive


def _fixed_points_section(fps, connections, net, trajectory) -> ReportSection:
    counts = fps.summary()
    saddles = ", ".join(f"{n} of index {i}" for i, n in counts["saddles"].items()) or "none"
    kinds = net.nodes.kinds.tolist()
    findings = [
        f"{counts['stable']} stable fixed points; saddles: {saddles}; {counts['slow']} slow "
        "points.",
        f"Attractors found by simulation: {kinds.count('fixed')} fixed, "
        f"{kinds.count('periodic')} periodic, {kinds.count('aperiodic')} aperiodic.",
        f"Completeness: {fps.completeness.describe()}",
    ]
    fig = plot_fixed_points(fps, trajectory, connections=connections, attractors=net.nodes,
                            title="fixed points of the closed loop at zero input")
    return ReportSection(
        "Fixed points and saddles",
        "A fixed point is a state the closed loop keeps when the input is zero. A stable one "
        "is a memory; a saddle of index k repels along k directions, and the states on its "
        "stable manifold separate the basins of the memories. The completeness estimate says "
        "how likely it is that fixed points were missed by the search.",
        tuple(findings), figures=(_png(fig),))


def _ena_section(net, amplitude, explanation) -> ReportSection:
    names = direction_names(net.directions)
    labels = [str(i) for i in range(len(net.attractors))]
    if explanation is not None:
        labels = [f"{i}: " + ("?" if d < 0 else "".join(
            "+" if v > 0 else "-" for v in explanation.task_states[d]))
                  for i, d in enumerate(explanation.decoded)]
    meaning_of = {"tab:red": "above the pulse amplitude: the task's pulse cannot cross it",
                  "tab:orange": "below a quarter of the pulse amplitude: small perturbations "
                                "may cross it"}
    rows = tuple((labels[e.source], labels[e.target], names[e.direction],
                  f"{e.threshold:.4f}", meaning_of.get(edge_color(e.threshold, amplitude), ""))
                 for e in sorted(net.edges, key=lambda e: (e.source, e.direction)))
    findings = [f"{len(net.attractors)} attractors, {len(net.edges)} edges; "
                f"{len(net.no_switch)} (attractor, direction) pairs switch nowhere up to "
                f"amplitude {net.max_amplitude:g}."]
    if amplitude is not None:
        high = sum(e.threshold > amplitude for e in net.edges)
        findings.append(f"{high} edges need more than the task's pulse amplitude "
                        f"{amplitude:g}." if high else "Every edge is crossed by the task's "
                        "pulse amplitude.")
    kwargs = {}
    if explanation is not None:
        kwargs = dict(decoded=explanation.decoded, task_states=explanation.task_states)
    fig = plot_ena(net, labels=labels, amplitude=amplitude,
                   title="excitable network attractor: thresholds of the input pulses", **kwargs)
    return ReportSection(
        "The excitable network attractor",
        "The graph of attractors joined by the input pulses that switch between them: an edge "
        "i -> j in direction +u0 says that a pulse along +u0 of at least the threshold moves "
        "the network from attractor i to attractor j. Thresholds far below the pulse amplitude "
        "mean fragile memories; thresholds above it mean switches the task asks for but the "
        "network cannot make.",
        tuple(findings), (("from", "to", "pulse", "threshold", "note"), rows),
        figures=(_png(fig),))


def _errors_section(explanation, targets) -> ReportSection:
    counts = {c: n for c, n in explanation.counts().items() if n}
    findings = [", ".join(f"{n} {c}" for c, n in counts.items()) + "."] if counts else \
        ["No error to explain."]
    findings += [e.text for e in explanation.explanations[:8]]
    figures = ()
    if explanation.explanations:
        figures = (_png(plot_explained_errors(explanation, targets)),)
    spurious = explanation.spurious.tolist()
    missing = [explanation.task_states[i].astype(int).tolist() for i in explanation.missing]
    if spurious or missing:
        findings.append(f"Attractors that decode to no task state: {spurious or 'none'}; task "
                        f"states without an attractor: {missing or 'none'}.")
    return ReportSection(
        "The errors, explained",
        "Every error episode of the test is read off the excitable network: a pulse below "
        "its threshold (missed switch), noise or a weak pulse across a low threshold "
        "(spurious switch), a pulse that lands on the wrong attractor, or a spurious attractor "
        "that the network falls into.",
        tuple(findings), figures=figures)


def _echo_section(model, drive, amplitudes, rng) -> ReportSection:
    loop = model.closed_loop()
    sweep = echo_index_vs_amplitude(loop, drive, amplitudes, seeds=Uniform(64), rng=rng)
    rows = tuple((f"{a:g}", str(int(i)) if i >= 0 else "undefined (chaotic)",
                  "yes" if c else "no")
                 for a, i, c in zip(sweep.amplitudes, sweep.index, sweep.converged))
    return ReportSection(
        "The echo index against the input amplitude",
        "The echo index counts the stable responses that coexist under one input: 1 is the "
        "echo state property (the input alone sets the state), k > 1 means k memories survive "
        "the input. A memory network keeps several under weak inputs and is forced to one "
        "response by strong ones.",
        (f"Under the test input scaled by A = {', '.join(f'{a:g}' for a in amplitudes)}: "
         f"echo index {', '.join(str(int(i)) for i in sweep.index)}.",),
        (("amplitude A", "echo index", "converged"), rows),
        figures=(_png(plot_amplitude_sweep(sweep, title="echo index of the closed loop under "
                                                         "A x the test input")),))


def _certificate_section(model, net, amplitude) -> ReportSection:
    loop = model.closed_loop()
    conditions = esp_conditions(loop)
    rows = [(r.name, f"{r.value:.4g}", f"< {r.threshold:g}", "holds" if r.holds else "fails",
             r.kind) for r in conditions.rows]
    findings = [r.sentence for r in conditions.rows]
    for k in range(loop.n_input):
        for sign in (1.0, -1.0):
            direction = np.zeros(loop.n_input)
            direction[k] = sign
            large = large_amplitude_threshold(loop, direction)
            findings.append(f"Along {'+' if sign > 0 else '-'}u{k}: {large.statement}"
                            if large.certified else f"Along {'+' if sign > 0 else '-'}u{k}: "
                            f"{large.reason}")
    stable = [i for i, kind in enumerate(net.nodes.kinds) if kind == "fixed"][:UASP_POINTS]
    for i in stable:
        cert = uasp_certificate(loop, np.zeros(loop.n_input), net.attractors[i])
        findings.append(f"Attractor {i}: {cert.statement if cert.certified else cert.reason}")
    return ReportSection(
        "Certificates",
        "Proofs, not estimates: a sufficient matrix condition that holds proves the echo state "
        "property for every input; the large-amplitude certificate proves echo index 1 above "
        "an input amplitude; a uniformly attracting stable point survives every input within "
        "its radius (so the memory cannot be erased by inputs that small).",
        tuple(findings), (("condition", "value", "needed", "result", "kind"), tuple(rows)))
