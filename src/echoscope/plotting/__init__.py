"""Pictures of echoscope results: the only place matplotlib is imported.

Every function takes result objects or arrays and returns a ``matplotlib.figure.Figure`` built
without pyplot (no global state, no display needed); save it with ``fig.savefig(path)``. Pass
``ax=`` to draw into an Axes of a figure of your own (its figure is returned).
"""

from .basins import plot_basins, plot_boundary
from .comparison import plot_training_comparison
from .continuation import plot_continuation
from .echo import plot_amplitude_sweep, plot_echo_index, plot_switching_scan
from .ena import plot_ena
from .errors import CAUSE_COLORS, plot_explained_errors
from .fixed_points import plot_fixed_points
from .from_data import plot_echo_index_from_data
from .noise import plot_robustness_curve
from .nonautonomous import plot_pulse_thresholds, plot_threshold_sweep
from .outputs import plot_outputs
from .report import Report, ReportSection, model_report
from .sweep import plot_sweep
from .task import plot_task_network

__all__ = ["CAUSE_COLORS", "plot_ena", "plot_explained_errors", "plot_fixed_points",
           "plot_outputs", "plot_amplitude_sweep", "plot_basins", "plot_boundary",
           "plot_echo_index", "plot_echo_index_from_data", "plot_switching_scan",
           "plot_continuation", "plot_sweep", "plot_training_comparison", "plot_pulse_thresholds",
           "plot_threshold_sweep", "plot_task_network", "plot_robustness_curve", "Report",
           "ReportSection", "model_report"]
