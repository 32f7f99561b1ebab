"""Tumor–immune effector dynamics: models, regimens, the batched integrator, calibration, response.

Examples
--------
>>> import immunoprecise as ip
>>> tr = ip.simulate("cartmath2021", t_end=100, regimen="CAR-T 1e6 cells d42")
>>> bool(tr.eradicated[0])
True
"""

from immunoprecise.dynamics.calibration import Calibration, calibrate
from immunoprecise.dynamics.equilibria import Equilibrium, classify, kuznetsov_equilibria
from immunoprecise.dynamics.model import DosingInput, Model, Parameter, ParameterSet, State
from immunoprecise.dynamics.models import MODEL_IDS, get_model
from immunoprecise.dynamics.regimen import Dose, Regimen, RegimenItem, RegimenSyntaxError
from immunoprecise.dynamics.response import ResponseAssessment, assess_response
from immunoprecise.dynamics.simulate import simulate
from immunoprecise.dynamics.trajectories import Trajectories

__all__ = [
    "MODEL_IDS",
    "Calibration",
    "Dose",
    "DosingInput",
    "Equilibrium",
    "Model",
    "Parameter",
    "ParameterSet",
    "Regimen",
    "RegimenItem",
    "RegimenSyntaxError",
    "ResponseAssessment",
    "State",
    "Trajectories",
    "assess_response",
    "calibrate",
    "classify",
    "get_model",
    "kuznetsov_equilibria",
    "simulate",
]
