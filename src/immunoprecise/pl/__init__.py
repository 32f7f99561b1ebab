"""Plotting: figures of an immune profile and a patient record (``pl``, as in scanpy).

Every function draws with matplotlib's object-oriented API on a :class:`~matplotlib.figure.Figure`
of its own (or into the ``ax`` given) and returns the figure; nothing touches pyplot's global
state, so the functions are safe to call from threads and importing the package has no side
effects. :func:`figure_svg` turns a figure into an inline ``<svg>`` for HTML reports.

Examples
--------
>>> import immunoprecise as ip
>>> from immunoprecise import pl
>>> record = ip.read_patient(ip.data.example_path("fl_relapsed.json"))
>>> svg = pl.figure_svg(pl.immunogram(ip.profile(record)))
>>> svg.startswith("<svg")
True
"""

from immunoprecise.pl._cutpoint import cutpoint_scan
from immunoprecise.pl._effector_suppressor import effector_suppressor
from immunoprecise.pl._immunogram import immunogram
from immunoprecise.pl._roc import forest, roc
from immunoprecise.pl._survival import kaplan_meier
from immunoprecise.pl._svg import figure_svg
from immunoprecise.pl._trajectories import regimen_comparison, trajectories
from immunoprecise.pl._trial import effector_tumor, spider, waterfall
from immunoprecise.pl._tumor_burden import tumor_burden

__all__ = [
    "cutpoint_scan",
    "effector_suppressor",
    "effector_tumor",
    "figure_svg",
    "forest",
    "immunogram",
    "kaplan_meier",
    "regimen_comparison",
    "roc",
    "spider",
    "trajectories",
    "tumor_burden",
    "waterfall",
]
