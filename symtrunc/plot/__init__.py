"""Pictures of the truncation steps (extra ``plot``, matplotlib) and the exact plane geometry
behind them (:mod:`symtrunc.plot.polygon`, no matplotlib)."""

from symtrunc.plot.figures import class_colors, plot_decision_regions, plot_step, plot_steps

__all__ = ["class_colors", "plot_decision_regions", "plot_step", "plot_steps"]
